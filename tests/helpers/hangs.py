"""A test that hangs fails within minutes, naming itself and where every thread stood, instead of holding the
run until CI's own limit ends it with nothing said.

Each test arms ``faulthandler.dump_traceback_later(exit=True)``: past ``HANG_AFTER`` seconds the stacks of
all threads go to a file and the process ends. Under pytest-xdist the controller reports the test as crashed
(and starts a new worker, so the rest of the suite still runs); the ``pytest_handlecrashitem`` hook below adds
the stacks to that report, so they are in the failure summary, the part of a CI log anyone reads. Without
xdist the stacks go to stderr.

No test here takes 20 seconds on a 2-core machine; five minutes is a hang, not a slow machine.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import tempfile
from pathlib import Path

import pytest

HANG_AFTER = float(os.environ.get("KCC_TEST_HANG_AFTER", "300"))   # the variable is for this plugin's own test
_DIR_ENV = "KCC_TEST_HANG_DIR"
# Frames of pytest's own machinery, the same under every test: left out of the report.
_MACHINERY = ("/_pytest/", "/pluggy/", "/execnet/", "/xdist/", "<string>")


def _stack_file(worker: str) -> Path:
    return Path(os.environ[_DIR_ENV]) / f"{worker}.txt"


_stderr: int | None = None   # without xdist: the terminal's stderr, kept before the tests' capture takes fd 2


def pytest_configure(config: pytest.Config) -> None:
    global _stderr
    # Set in the controller before pytest-xdist starts its workers, which inherit it.
    if _DIR_ENV not in os.environ:
        os.environ[_DIR_ENV] = tempfile.mkdtemp(prefix="kcc-test-hangs-")
    if not os.environ.get("PYTEST_XDIST_WORKER") and _stderr is None:
        _stderr = os.dup(sys.__stderr__.fileno())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    with open(_stack_file(worker), "w") if worker else open(_stderr or 2, "w", closefd=False) as out:
        faulthandler.dump_traceback_later(HANG_AFTER, exit=True, file=out)
        try:
            return (yield)
        finally:
            faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: object) -> None:
    """pytest-xdist, in the controller: a worker died in ``crashitem``; its stacks, if it hung, join the report."""
    node = getattr(report, "node", None)
    worker = getattr(getattr(node, "gateway", None), "id", "")
    path = _stack_file(worker) if worker and _DIR_ENV in os.environ else None
    stacks = path.read_text(errors="replace").strip() if path is not None and path.exists() else ""
    stacks = "\n".join(line for line in stacks.splitlines() if not any(m in line for m in _MACHINERY))
    if stacks:
        report.longrepr = f"{report.longrepr}\nit ran past {HANG_AFTER:g} s (a hang); every thread then:\n{stacks}"
