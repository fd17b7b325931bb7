"""Background work for the window: a job runs on a QThread, the GUI hears about it through signals.

    worker = Worker(lambda progress, cancel: service.upload(ids, package, progress=progress, cancel=cancel))
    worker.progress.connect(on_progress)     # (done, total, text), already throttled
    worker.finished.connect(on_done)         # (summary): whatever the job returned
    worker.failed.connect(on_failed)         # (message): plain words, safe to show
    worker.start()
    ...
    worker.cancel()                          # sets the threading.Event the job checks between batches

Rules the job must keep (see STYLE.md "Threads"): it opens its own session (``store.session()``),
never touches the GUI, and returns plain values or ids, never ORM objects bound to its session.

Why two QObjects: the job object lives in the worker thread, and ``Worker`` (the object callers connect
to) lives in the GUI thread and re-emits. So any slot, lambda included, runs on the GUI thread; a lambda
connected straight to an object living in another thread would run there.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

log = logging.getLogger(__name__)

# progress(done, total, text) and cancel: what a job receives.
ProgressFn = Callable[[int, int, str], None]
JobFn = Callable[[ProgressFn, threading.Event], Any]

PROGRESS_INTERVAL = 0.05  # seconds: at most ~20 progress signals a second reach the GUI

# While a job allocates hundreds of thousands of objects, Python's full garbage collections scan the
# whole heap holding the GIL, and the GUI thread stalls for 100 ms or more (measured: the Export tab on
# 100,000 rows). Freezing what exists when a job starts keeps those scans to the job's own objects.
# Unfreezing at the job's end put the whole heap back in reach of the next automatic full collection,
# which then ran on the GUI thread as the tab refreshed (50-90 ms here for ~140,000 objects). So the
# heap stays frozen after a job; once no job has run for GC_RELEASE_MS, one deliberate collection
# reclaims any cycles that died meanwhile and the survivors (long-lived by then) are frozen again, so
# later automatic collections only ever scan what is new.
GC_RELEASE_MS = 3000
_gc_lock = threading.Lock()
_gc_jobs = 0
_gc_generation = 0      # bumped by every job start: a release scheduled before it is stale


def _gc_job_started() -> None:
    global _gc_jobs, _gc_generation
    with _gc_lock:
        if _gc_jobs == 0:
            gc.freeze()
        _gc_jobs += 1
        _gc_generation += 1


def _gc_job_ended() -> None:
    global _gc_jobs
    with _gc_lock:
        _gc_jobs = max(0, _gc_jobs - 1)
        if _gc_jobs:
            return
        generation = _gc_generation
    QTimer.singleShot(GC_RELEASE_MS, lambda: _gc_release(generation))


def _gc_release(generation: int | None = None) -> None:
    """Collect what died while frozen, then freeze the survivors again (GUI thread, no job running)."""
    with _gc_lock:
        if _gc_jobs or (generation is not None and generation != _gc_generation):
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def plain_message(exc: BaseException) -> str:
    """An expected failure's own message; for anything else, what happened and what to do."""
    from ..connectors.base import ConnectorError

    expected = (ConnectorError,)
    try:
        from ..ledger.errors import LedgerError

        expected += (LedgerError,)
    except ImportError:  # pragma: no cover - the ledger always ships
        pass
    if isinstance(exc, expected):
        return str(exc)
    return (f"Something went wrong in the background ({type(exc).__name__}: {exc}). Nothing more was sent; "
            "what was saved stays saved. Try again, and if it keeps happening send the log file to support.")


class _Job(QObject):
    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    errored = Signal(str)

    def __init__(self, fn: JobFn, cancel: threading.Event) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = cancel
        self._last = 0.0

    def _progress(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self.progressed.emit(int(done), int(total), str(text))

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self._progress, self._cancel)
        except BaseException as exc:
            log.exception("background job failed")
            self.errored.emit(plain_message(exc))
        else:
            self.succeeded.emit(result)


class Worker(QObject):
    """One background job. Create it on the GUI thread, connect, ``start()``; keep a reference until done."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    done = Signal()  # after finished or failed, when the thread has stopped

    def __init__(self, fn: JobFn, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._thread = QThread()
        self._job = _Job(fn, self.cancel_event)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        # Queued: the job lives in the worker thread, this object in the GUI thread.
        self._job.progressed.connect(self._on_progressed)
        self._job.succeeded.connect(self._on_succeeded)
        self._job.errored.connect(self._on_errored)
        self._running = False

    def start(self) -> Worker:
        self._running = True
        _gc_job_started()
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Asks the job to stop after what is in flight (the job checks the event between batches)."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def is_running(self) -> bool:
        return self._running

    def wait(self, ms: int = 30000) -> bool:
        """Blocks until the thread ends (for shutdown); True if it ended."""
        return self._thread.wait(ms)

    @Slot(int, int, str)
    def _on_progressed(self, done: int, total: int, text: str) -> None:
        self.progress.emit(done, total, text)

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self._stop()
        self.finished.emit(result)
        self.done.emit()

    @Slot(str)
    def _on_errored(self, message: str) -> None:
        self._stop()
        self.failed.emit(message)
        self.done.emit()

    def _stop(self) -> None:
        if self._running:
            _gc_job_ended()
        self._running = False
        self._thread.quit()
        self._thread.wait()


def run_in_background(fn: JobFn, *, parent: QObject | None = None,
                      on_finished: Callable[[object], None] | None = None,
                      on_failed: Callable[[str], None] | None = None,
                      on_progress: Callable[[int, int, str], None] | None = None) -> Worker:
    """Start ``fn`` on a worker thread with the given callbacks (all called on the GUI thread)."""
    worker = Worker(fn, parent)
    if on_progress:
        worker.progress.connect(on_progress)
    if on_finished:
        worker.finished.connect(on_finished)
    if on_failed:
        worker.failed.connect(on_failed)
    return worker.start()


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
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
