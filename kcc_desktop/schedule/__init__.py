"""Scheduled sync without a home-made daemon: the operating system's own scheduler runs
``kcc-desktop scheduled-run`` (systemd user timer on Linux, launchd agent on macOS, Task Scheduler on
Windows), the run takes the company file's sync lock, and records what it did for the window.

Qt-free. The window uses ``scheduler_for_platform()`` (status/install/remove, for the on/off option),
``SyncLock`` around its own uploads, and ``last_run``/``unseen_failure`` to show the last run.
"""

from __future__ import annotations

import sys

from .base import Scheduler, SchedulerError, ScheduleStatus
from .interval import Interval, IntervalError
from .job import JOB_NAME, Job, make_job
from .lock import BUSY_EXIT_CODE, LockHolder, SyncBusy, SyncLock, sync_running
from .record import RunRecord, last_run, mark_seen, unseen_failure


def scheduler_for_platform(platform: str = sys.platform) -> Scheduler:
    """The OS scheduler of this computer (``platform`` as in ``sys.platform``)."""
    if platform == "win32":
        from .taskscheduler import WindowsTaskScheduler

        return WindowsTaskScheduler()
    if platform == "darwin":
        from .launchd import LaunchdScheduler

        return LaunchdScheduler()
    from .systemd import SystemdUserScheduler

    return SystemdUserScheduler()


__all__ = [
    "BUSY_EXIT_CODE", "JOB_NAME", "Interval", "IntervalError", "Job", "LockHolder", "RunRecord", "ScheduleStatus",
    "Scheduler", "SchedulerError", "SyncBusy", "SyncLock", "last_run", "make_job", "mark_seen",
    "scheduler_for_platform", "sync_running", "unseen_failure",
]
