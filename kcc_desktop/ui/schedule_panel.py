"""The Mapping tab's "Scheduled sync" option: turn the OS-scheduled sync of this company file on and off.

On: the operating system's scheduler runs Upload Data, Fetch Payments and Create & Allocate every 30
minutes (``schedule.make_job``), with no program of KCC's left running. Off: the definition is removed.
Talking to the OS scheduler (systemctl, launchctl, schtasks) can take a moment, so ``status``,
``install`` and ``remove`` run in a ``worker.Worker``; a refusal (``SchedulerError``) is shown in its
own plain words and the box goes back to what is really registered. Not offered in demo mode: the demo's
sandbox lives only while the window is open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout

from ..context import AppContext
from ..schedule import Interval, Scheduler, ScheduleStatus, make_job, scheduler_for_platform
from .worker import JobFn, ProgressFn, Worker

EVERY = "30m"


class SchedulePanel(QGroupBox):
    message = Signal(str)      # what was done, or why not (for the tab's messages box)

    def __init__(self, ctx: AppContext, scheduler: Scheduler | None = None, parent=None) -> None:
        super().__init__("Scheduled sync", parent)
        self.setObjectName("schedule_panel")
        self.ctx = ctx
        self.scheduler_factory: Callable[[], Scheduler] = (lambda: scheduler) if scheduler else scheduler_for_platform
        self.worker: Worker | None = None
        self.status: ScheduleStatus | None = None
        self.check = QCheckBox(f"Sync every {Interval.parse(EVERY).words.removeprefix('every ')}")
        self.check.setObjectName("schedule_enabled")
        self.check.setAccessibleName("Scheduled sync")
        self.check.setToolTip("Upload Data, Fetch Payments and Create & Allocate Payments run on their own, started "
                              "by the operating system's scheduler, even when this window is closed")
        self.check.clicked.connect(self.on_check_clicked)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setAccessibleName("Scheduled sync state")
        layout = QVBoxLayout(self)
        layout.addWidget(self.check)
        layout.addWidget(self.state_label)
        if ctx.demo:
            self.check.setEnabled(False)
            self.check.setToolTip("Not in the demo: its sandbox runs only while the window is open.")
            self.state_label.setText("Not available in the demo: a schedule needs a real company file and "
                                     "a real connection.")
        else:
            self.state_label.setText("Checking the scheduler…")
            self.check.setEnabled(False)
            self._run(lambda _p, _c: self.scheduler_factory().status(), self.on_status)

    # --- jobs -----------------------------------------------------------------------------------------

    def _run(self, fn: JobFn, on_done: Callable[[Any], None]) -> Worker:
        worker = Worker(fn, owner=self)
        worker.finished.connect(on_done)
        worker.failed.connect(self.on_failed)
        worker.done.connect(self.on_done)
        self.worker = worker
        return worker.start()

    def on_done(self) -> None:
        self.worker = None
        self.check.setEnabled(not self.ctx.demo)

    def on_status(self, status: ScheduleStatus) -> None:
        self.status = status
        mine = status.installed and status.job is not None and status.job.db == self.ctx.store.label
        self.check.setChecked(mine)   # registered for this file, running or not: unticking removes it
        if not status.installed:
            self.state_label.setText("Off: nothing is registered with the " + status.scheduler + ".")
        elif not mine:
            other = status.job.db if status.job else "another company file"
            self.state_label.setText(f"Off for this company file: the {status.scheduler} runs the sync for {other}. "
                                     "Turning it on here replaces that one.")
        else:
            words = f"On: {status.job.what} {status.job.every.words}" if status.job else "On"
            if not status.active:
                words = f"Registered but not running: {status.detail}"
            self.state_label.setText(words + (f". Next run: {status.next_run}." if status.next_run else "."))

    def on_failed(self, message: str) -> None:
        self.state_label.setText(message)
        self.message.emit(f"Scheduled sync: {message}")
        if self.status is not None:   # back to what is really registered
            self.check.setChecked(self.status.installed and self.status.job is not None
                                  and self.status.job.db == self.ctx.store.label)
        else:
            self.check.setChecked(False)

    # --- the user's click -----------------------------------------------------------------------------

    def on_check_clicked(self, on: bool) -> None:
        if self.worker is not None or self.ctx.demo:
            return
        self.check.setEnabled(False)
        factory, db = self.scheduler_factory, self.ctx.store.label
        if on:
            self.state_label.setText("Registering the scheduled sync…")

            def install(_progress: ProgressFn, _cancel: threading.Event) -> ScheduleStatus:
                scheduler = factory()
                said = scheduler.install(make_job(db, Interval.parse(EVERY), export=True, import_=True))
                _progress(1, 1, said)
                return scheduler.status()
            worker = self._run(install, self.on_changed)
        else:
            self.state_label.setText("Removing the scheduled sync…")

            def remove(_progress: ProgressFn, _cancel: threading.Event) -> ScheduleStatus:
                scheduler = factory()
                scheduler.remove()
                return scheduler.status()
            worker = self._run(remove, self.on_changed)
        worker.progress.connect(lambda _d, _t, text: self.message.emit(text))

    def on_changed(self, status: ScheduleStatus) -> None:
        self.on_status(status)
        self.message.emit(f"Scheduled sync: {self.state_label.text()}")
