"""macOS: a launchd agent in ``~/Library/LaunchAgents``, loaded with ``launchctl bootstrap gui/UID``.

launchd never starts a job again while it is running. Intervals on the clock use
``StartCalendarInterval`` (a run missed while the Mac slept happens when it wakes); others use
``StartInterval``. The agent runs in the user's login session, where the Keychain holding the tokens is.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path
from typing import Any

from .. import APP_ID
from .base import Runner, Scheduler, SchedulerError, ScheduleStatus, run_tool, tool_said
from .job import JOB_NAME, Job, job_from_argv


def label(name: str = JOB_NAME) -> str:
    return f"{APP_ID}.{name}"


def agents_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def plist_dict(job: Job) -> dict[str, Any]:
    plist: dict[str, Any] = {
        "Label": label(job.name),
        "ProgramArguments": job.argv,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "RunAtLoad": False,
    }
    if job.every.on_the_clock:
        if job.every.minute_step is not None:     # every N minutes: the minutes of each hour
            plist["StartCalendarInterval"] = [{"Minute": m} for m in range(0, 60, job.every.minute_step)]
        else:
            plist["StartCalendarInterval"] = [{"Hour": h, "Minute": m} for h, m in job.every.times_of_day()]
    else:
        plist["StartInterval"] = job.every.seconds
    if job.env:
        plist["EnvironmentVariables"] = dict(job.env)
    return plist


def render_plist(job: Job) -> str:
    return plistlib.dumps(plist_dict(job), fmt=plistlib.FMT_XML, sort_keys=False).decode("utf-8")


class LaunchdScheduler(Scheduler):
    label = "launchd agent"

    def __init__(self, runner: Runner = run_tool, directory: Path | None = None, uid: int | None = None) -> None:
        self.runner = runner
        self.directory = directory or agents_dir()
        if uid is None:
            uid = os.getuid() if hasattr(os, "getuid") else 0
        self.domain = f"gui/{uid}"          # the user's login session, where agents run

    def definitions(self, job: Job) -> dict[str, str]:
        return {f"{label(job.name)}.plist": render_plist(job)}

    def install(self, job: Job) -> str:
        path = self.directory / f"{label(job.name)}.plist"
        self.directory.mkdir(parents=True, exist_ok=True)
        before = path.read_text(encoding="utf-8") if path.exists() else None
        self.runner(["launchctl", "bootout", f"{self.domain}/{label(job.name)}"])   # an older one, if loaded
        path.write_text(render_plist(job), encoding="utf-8")
        result = self.runner(["launchctl", "bootstrap", self.domain, str(path)])
        if result.returncode != 0:
            if before is None:        # leave things as they were: the older agent back, or none
                path.unlink(missing_ok=True)
            else:
                path.write_text(before, encoding="utf-8")
                self.runner(["launchctl", "bootstrap", self.domain, str(path)])
            raise SchedulerError(f"launchctl could not load the scheduled sync: {tool_said(result)}.")
        return f"Scheduled sync registered: {job.what} {job.every.words} ({path})."

    def status(self, name: str = JOB_NAME) -> ScheduleStatus:
        path = self.directory / f"{label(name)}.plist"
        if not path.exists():
            return ScheduleStatus(self.label, installed=False, active=False, where=str(path))
        plist = plistlib.loads(path.read_bytes())
        job = job_from_argv(plist.get("ProgramArguments", []), plist.get("EnvironmentVariables"), name)
        result = self.runner(["launchctl", "print", f"{self.domain}/{label(name)}"])
        if result.returncode != 0:
            return ScheduleStatus(self.label, installed=True, active=False, job=job, where=str(path),
                                  detail=f"launchd has not loaded it: {tool_said(result)}.")
        last = re.search(r"last exit code = (.+)", result.stdout)
        return ScheduleStatus(self.label, installed=True, active=True, job=job, where=str(path),
                              detail=f"Last exit code: {last.group(1).strip()}." if last else "")

    def remove(self, name: str = JOB_NAME) -> bool:
        path = self.directory / f"{label(name)}.plist"
        if not path.exists():
            return False
        self.runner(["launchctl", "bootout", f"{self.domain}/{label(name)}"])
        path.unlink(missing_ok=True)
        return True
