"""A hung test fails within the set time, and the failure names it and shows where each thread stood."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HUNG = '''
import threading

def test_waits_for_a_reply_that_never_comes():
    nobody_answers = threading.Event()
    nobody_answers.wait()

def test_ends():
    assert True
'''


@pytest.mark.parametrize("workers", ["2", "0"])
def test_a_hung_test_fails_naming_itself_with_every_threads_stack_and_the_rest_still_run(tmp_path, workers):
    (tmp_path / "test_hung.py").write_text(HUNG)
    env = dict(os.environ, KCC_TEST_HANG_AFTER="3", PYTHONPATH=str(ROOT))
    for outer in ("KCC_TEST_HANG_DIR", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        env.pop(outer, None)   # the inner run is a run of its own, not one of this run's workers
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.helpers.hangs", "-p", "no:cacheprovider",
                          "-n", workers, "-q", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    where = 'test_hung.py", line 6 in test_waits_for_a_reply_that_never_comes'   # nobody_answers.wait()
    assert where in out, out
    if workers != "0":   # under xdist the stacks are in the failure report and the other test still ran
        summary = run.stdout[run.stdout.index("FAILURES"):]
        assert "crashed while running 'test_hung.py::test_waits_for_a_reply_that_never_comes'" in summary, out
        assert "it ran past 3 s (a hang)" in summary and where in summary, out
        assert "/_pytest/" not in summary, summary
        assert "1 failed, 1 passed" in run.stdout, out
