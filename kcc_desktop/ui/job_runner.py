"""One background job at a time for a tab, and what a user sees of it.

The Export and Import tabs both show long work the same way: a progress bar with count, rate and time
left, a status line, a Cancel action that stops after the batch in flight, and ``busy_changed`` so the
tab can re-evaluate its actions. This holds that behaviour once; the tab keeps its own widgets and layout.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar

from .worker import JobFn, ProgressMeter, Worker


class JobRunner(QObject):
    busy_changed = Signal(bool)
    progressed = Signal()   # after each progress report: for tabs that repaint rows while the job runs
    ended = Signal()        # the job is over (finished, failed or cancelled), before busy_changed(False)

    def __init__(self, progress: QProgressBar, status_label: QLabel, cancel_action: QAction, *,
                 cancelling_text: str, parent: QObject) -> None:
        super().__init__(parent)
        self.progress, self.status_label, self.cancel_action = progress, status_label, cancel_action
        self.cancelling_text = cancelling_text
        self.worker: Worker | None = None
        self.meter = ProgressMeter()
        cancel_action.setEnabled(False)
        cancel_action.triggered.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def run(self, what: str, fn: JobFn, on_done) -> Worker:
        """Starts ``fn(progress, cancel)`` on a worker thread; ``on_done(result)`` runs on the GUI thread."""
        self.worker = Worker(fn, self)
        self.worker.progress.connect(self.on_worker_progress)
        self.worker.finished.connect(on_done)
        self.worker.failed.connect(self.status_label.setText)   # already in plain words
        self.worker.done.connect(self.on_worker_done)
        self.meter.restart()
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self.progress.show()
        self.status_label.setText(what)
        self.worker.start()
        self.cancel_action.setEnabled(True)
        self.busy_changed.emit(True)
        return self.worker

    def on_worker_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{self.meter.text(done, total)} — {text}".replace("%", "%%"))
        elif text:   # no total known (e.g. paging through a fetch): just what was done so far
            self.progress.setFormat(text.replace("%", "%%"))
        self.progressed.emit()

    def on_worker_done(self) -> None:
        self.cancel_action.setEnabled(False)
        self.progress.hide()
        self.ended.emit()
        self.busy_changed.emit(False)

    def cancel(self) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.status_label.setText(self.cancelling_text)

    def shutdown(self, wait_ms: int = 30000) -> None:
        """For the window's close: stop after the batch in flight and wait for the thread."""
        if self.busy:
            self.worker.cancel()
            self.worker.wait(wait_ms)
