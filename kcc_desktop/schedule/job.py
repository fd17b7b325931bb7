"""The scheduled job itself: which program runs ``scheduled-run`` on which company file, how often.

Every OS definition is generated from one ``Job`` and read back into one, so ``schedule status`` reports
what is really registered, whichever scheduler holds it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import APP_NAME
from .interval import Interval, IntervalError

JOB_NAME = "sync"                    # kcc-desktop-sync.timer, uk.co.kcc.desktop.sync, "KCC Desktop\Scheduled sync"
RUN_COMMAND = "scheduled-run"

# Non-secret settings the job carries from the shell that registered it: folders and sandbox roots. Secrets
# (KCC_QBO_CLIENT_SECRET, tokens) never go into a definition: the run reads them from the keyring.
CARRIED_ENV = ("KCC_DATA_DIR", "KCC_LOG_DIR", "KCC_XERO_URL", "KCC_QBO_URL", "PYTHON_KEYRING_BACKEND")


@dataclass(frozen=True)
class Job:
    program: tuple[str, ...]                 # how to start kcc-desktop: the app, or python -m kcc_desktop
    db: str                                  # the company file (absolute path) or database URL
    every: Interval
    export: bool = True
    import_: bool = True
    env: tuple[tuple[str, str], ...] = ()    # CARRIED_ENV values, where the OS scheduler can carry them
    name: str = JOB_NAME                     # tests register uniquely named jobs beside a real one

    @property
    def run_args(self) -> list[str]:
        """The arguments after the program: ``--db FILE scheduled-run --export --import --every 30m``."""
        flags = (["--export"] if self.export else []) + (["--import"] if self.import_ else [])
        return ["--db", self.db, RUN_COMMAND, *flags, "--every", self.every.text]

    @property
    def argv(self) -> list[str]:
        return [*self.program, *self.run_args]

    @property
    def what(self) -> str:
        return " and ".join(w for w, on in (("export", self.export), ("import", self.import_)) if on)

    @property
    def description(self) -> str:
        return f"{APP_NAME} scheduled sync: {self.what} {self.every.words}"


def program_for_this_install() -> tuple[str, ...]:
    """The installed app when running from the bundle, else this Python with ``-m kcc_desktop``."""
    if getattr(sys, "frozen", False):
        return (sys.executable,)
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    if os.name == "nt" and windowless.exists():   # no console window flashing up every half hour
        python = windowless
    return (str(python), "-m", "kcc_desktop")


def make_job(db: str, every: Interval, *, export: bool, import_: bool, name: str = JOB_NAME,
             program: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Job:
    """A job for the company file ``db`` (already resolved); neither ``export`` nor ``import_`` means both."""
    if not export and not import_:
        export = import_ = True
    environ = os.environ if environ is None else environ
    env = tuple((key, environ[key]) for key in CARRIED_ENV if environ.get(key))
    return Job(program=tuple(program or program_for_this_install()), db=db, every=every, export=export,
               import_=import_, env=env, name=name)


def job_from_argv(argv: Sequence[str], env: Mapping[str, str] | None = None, name: str = JOB_NAME) -> Job | None:
    """Reads a definition's command line back into a Job; None when it is not one this app wrote."""
    args = list(argv)
    try:
        at = args.index("--db")
        db = args[at + 1]
        if args[at + 2] != RUN_COMMAND:
            return None
        rest = args[at + 3:]
        every = Interval.parse(rest[rest.index("--every") + 1])
    except (ValueError, IndexError, IntervalError):
        return None
    env = env or {}
    return Job(program=tuple(args[:at]), db=db, every=every, export="--export" in rest, import_="--import" in rest,
               env=tuple((k, env[k]) for k in CARRIED_ENV if env.get(k)), name=name)
