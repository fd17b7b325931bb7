"""What every OS scheduler backend shares: the tool runner, the error it raises, the status it reports."""

from __future__ import annotations

import abc
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .job import JOB_NAME, Job

# Runs an OS tool (systemctl, launchctl, schtasks) and returns what it did; tests can record the calls.
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_tool(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Runs ``argv`` with its output captured. A missing tool comes back as exit code 127, like a shell."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(list(argv), 124, "", f"{argv[0]} did not answer within a minute")


def tool_said(result: subprocess.CompletedProcess[str]) -> str:
    """The tool's own words, one line, for an error message."""
    text = (result.stderr or result.stdout or "").strip()
    return " ".join(text.split()) or f"exit code {result.returncode}"


class SchedulerError(Exception):
    """The OS scheduler refused or could not be reached; the message says what happened and what to do."""


@dataclass(frozen=True)
class ScheduleStatus:
    """What ``schedule status`` shows, and what the window's options read."""

    scheduler: str                 # "systemd user timer", "launchd agent", "Task Scheduler"
    installed: bool                # a definition is registered (its file or task exists)
    active: bool                   # the OS says it will run it
    job: Job | None = None         # what the definition runs, read back from it
    where: str = ""                # the definition's file, or the task's name
    next_run: str = ""             # as the OS tool says it, when it says
    detail: str = ""               # plain words when something is off

    @property
    def text(self) -> str:
        if not self.installed:
            return f"No scheduled sync is registered with the {self.scheduler}."
        what = f"{self.job.what} {self.job.every.words}" if self.job else "a sync"
        state = "is active" if self.active else "is registered but not active"
        parts = [f"Scheduled sync ({what}) {state} in the {self.scheduler}: {self.where}."]
        if self.job:
            parts.append(f"Company file: {self.job.db}.")
        if self.next_run:
            parts.append(f"Next run: {self.next_run}.")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler, "installed": self.installed, "active": self.active,
                "every": self.job.every.text if self.job else None,
                "export": self.job.export if self.job else None,
                "import": self.job.import_ if self.job else None,
                "db": self.job.db if self.job else None,
                "where": self.where, "next_run": self.next_run or None, "detail": self.detail or None}


class Scheduler(abc.ABC):
    """One OS scheduler. ``definitions`` is pure (what would be registered); the rest drive the OS tool."""

    label = ""

    @abc.abstractmethod
    def definitions(self, job: Job) -> dict[str, str]:
        """The file name and text of each definition ``install`` registers for ``job``."""

    @abc.abstractmethod
    def install(self, job: Job) -> str:
        """Registers (or replaces) the job; returns a sentence saying what was done."""

    @abc.abstractmethod
    def status(self, name: str = JOB_NAME) -> ScheduleStatus: ...

    @abc.abstractmethod
    def remove(self, name: str = JOB_NAME) -> bool:
        """Unregisters the job; False when there was none."""
