"""How a tab shows its background job: one at a time, with progress, a status line and Cancel.

The Export and Import tabs both show long work the same way: a progress bar with count, rate and time
left, a status line, a Cancel action that stops after the batch in flight, and ``busy_changed`` so the
tab can re-evaluate its actions. ``JobRunner`` holds that behaviour once over a ``worker.Worker``; the tab
keeps its own widgets and layout. ``CoalescedRefresh`` repaints a grid a few times a second while a job
reports, never once per row; ``ProgressMeter`` writes the bar's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar

from .worker import JobFn, Worker


class JobRunner(QObject):
    busy_changed = Signal(bool)
    progressed = Signal()   # after each progress report: for tabs that repaint rows while the job runs
    ended = Signal()        # the job is over (finished, failed or cancelled), before busy_changed(False)

    def __init__(self, progress: QProgressBar, status_label: QLabel, cancel_action: QAction, *,
                 cancelling_text: str, parent: QObject) -> None:
        super().__init__(parent)
        self.progress, self.status_label, self.cancel_action = progress, status_label, cancel_action
        self.cancelling_text = cancelling_text
        self.worker: Worker | None = None   # the running job's, until it is done
        self.meter = ProgressMeter()
        cancel_action.setEnabled(False)
        cancel_action.triggered.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def run(self, what: str, fn: JobFn, on_done: Callable[[Any], None]) -> Worker:
        """Starts ``fn(progress, cancel)`` on a worker thread; ``on_done(result)`` runs on the GUI thread."""
        worker = Worker(fn, owner=self)
        worker.progress.connect(self.on_worker_progress)
        worker.finished.connect(on_done)
        worker.failed.connect(self.status_label.setText)   # already in plain words
        worker.done.connect(self.on_worker_done)
        self.worker = worker
        self.meter.restart()
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self.progress.show()
        self.status_label.setText(what)
        worker.start()
        self.cancel_action.setEnabled(True)
        self.busy_changed.emit(True)
        return worker

    def on_worker_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{self.meter.text(done, total)} — {text}".replace("%", "%%"))
        elif text:   # no total known (e.g. paging through a fetch): just what was done so far
            self.progress.setFormat(text.replace("%", "%%"))
        self.progressed.emit()

    def on_worker_done(self) -> None:
        self.worker = None
        self.cancel_action.setEnabled(False)
        self.progress.hide()
        self.ended.emit()
        self.busy_changed.emit(False)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status_label.setText(self.cancelling_text)


class CoalescedRefresh(QObject):
    """Many ``request()`` calls within ``interval_ms`` become one call of ``fn`` on the GUI thread.

    Refresh grids this way while a job reports progress: never once per row.
    """

    def __init__(self, fn: Callable[[], None], interval_ms: int = 150, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def request(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Run now if a refresh is waiting (e.g. when the job finished)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fn()

    def cancel(self) -> None:
        """Drop a waiting refresh (the caller is about to refresh everything itself)."""
        self._timer.stop()

    @Slot()
    def _fire(self) -> None:
        self._fn()


class ProgressMeter:
    """Counts, rate and time left for a progress bar's text: "120 of 1,000 · 40/s · about 22 s left"."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()

    def restart(self) -> None:
        self._start = self._clock()

    def text(self, done: int, total: int) -> str:
        elapsed = max(self._clock() - self._start, 1e-6)
        parts = [f"{done:,} of {total:,}"]
        if done > 0 and elapsed > 0.2:
            rate = done / elapsed
            parts.append(f"{rate:,.0f}/s" if rate >= 1 else f"{rate * 60:,.1f}/min")
            left = (total - done) / rate if rate > 0 else 0
            if done < total:
                parts.append(f"about {_duration(left)} left")
        return " · ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, sec = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
