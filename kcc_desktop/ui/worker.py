"""Background work for the window: every job runs through ``Worker``, on its own QThread.

    worker = Worker(job, owner=self)         # job(progress, cancel) -> result, called on the worker thread
    worker.progress.connect(on_progress)     # (done, total, text), at most ~20 a second
    worker.finished.connect(on_finished)     # (result): whatever the job returned
    worker.failed.connect(on_failed)         # (message): plain words, safe to show
    worker.done.connect(on_done)             # after finished or failed, once the thread has stopped
    worker.start()
    ...
    worker.cancel()                          # sets the threading.Event the job checks between batches

Tabs that show a job (progress bar, Cancel) do it through ``job_runner.JobRunner``; this module is the
one way a job starts. Rules the job keeps (STYLE.md "Threads"): it opens its own sessions, never
touches the GUI, and returns plain values or ids, never ORM objects bound to its session.

Why two QObjects: the job object lives in the worker thread, and ``Worker`` (the object callers connect
to) lives in the GUI thread and re-emits, so every slot, lambdas included, runs on the GUI thread.

Lifetime. The thread quits itself as soon as the job returns, so ``wait()`` needs nothing from the GUI
thread; ``finished`` or ``failed``, then ``done``, are emitted once it has stopped, and the Worker then
deletes itself. A running Worker is kept alive by this module, not by its owner: the owner (the tab or
dialog that started it) may be deleted first, and then the job is cancelled and its result goes nowhere,
but its thread still runs to its end instead of being destroyed mid-batch (which aborts the process).
Closing the window asks ``running_under(window)`` which jobs to cancel and wait for; ``wait_for_all`` is
the app's last word before it exits, so no thread outlives it.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

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
    from ..errors import PlainError
    from ..ledger.errors import LedgerError
    from ..models import MissingRecord
    from ..schedule import SchedulerError, SyncBusy
    from ..store import StoreError
    from ..sync.mapping_types import MappingError
    from ..sync.options import OptionError

    expected = (ConnectorError, LedgerError, PlainError, SyncBusy, SchedulerError, MappingError, OptionError,
                StoreError, MissingRecord)
    if isinstance(exc, expected):
        return str(exc)
    return (f"Something went wrong in the background ({type(exc).__name__}: {exc}). Nothing more was sent; "
            "what was saved stays saved. Try again, and if it keeps happening send the log file to support.")


@dataclass
class _Outcome:
    """What the job came to: written by the worker thread before it ends, read by the GUI thread after."""

    result: Any = None
    error: str | None = None   # the failure in plain words


class _Job(QObject):
    """Lives in the worker thread: runs the job, reports, and ends its thread when the job returns."""

    progressed = Signal(int, int, str)

    def __init__(self, fn: JobFn, cancel: threading.Event, outcome: _Outcome) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = cancel
        self._outcome = outcome
        self._last = 0.0

    def _progress(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self.progressed.emit(done, total, text)

    @Slot()
    def run(self) -> None:
        try:
            self._outcome.result = self._fn(self._progress, self._cancel)
        except BaseException as exc:
            log.exception("background job failed")
            self._outcome.error = plain_message(exc)
        finally:
            # QThread.quit() is thread-safe: the thread's event loop ends once this slot returns, so the
            # thread stops without waiting for the GUI thread (which may be the one waiting for it).
            thread = self.thread()
            app = QCoreApplication.instance()
            if app is not None:
                # Destroyed on the GUI thread (Worker._on_thread_finished), never in this one: a Python
                # QObject destroyed here takes Qt's connection lock and then waits for the GIL, while the GUI
                # thread, holding the GIL, may wait for that lock in connect(): a deadlock (seen in the suite).
                self.moveToThread(app.thread())
            if thread is not None:
                thread.quit()


_running: set[Worker] = set()   # every started Worker until its thread has stopped


class Worker(QObject):
    """One background job. Create it on the GUI thread, connect, ``start()``. It deletes itself after
    ``done``: keep no reference to it past that (``is_running()`` and ``cancelled`` stay readable)."""

    progress = Signal(int, int, str)
    finished = Signal(object)   # the thread has stopped; is_running() is already False
    failed = Signal(str)
    done = Signal()             # right after finished or failed
    # cancel() was called: for jobs that wait on something the event cannot reach (a question to the user)
    cancel_requested = Signal()

    def __init__(self, fn: JobFn, owner: QObject | None = None) -> None:
        super().__init__()   # no parent: see "Lifetime" above
        self.owner = owner
        self.cancel_event = threading.Event()
        self._running = False
        self._orphaned = False
        self._thread = QThread()
        self._thread.setObjectName("kcc-worker")
        self._outcome = _Outcome()
        self._job = _Job(fn, self.cancel_event, self._outcome)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        # Queued: the job lives in the worker thread, this object in the GUI thread; progress reports
        # therefore all arrive before the thread's end.
        self._job.progressed.connect(self._on_progressed)
        self._thread.finished.connect(self._on_thread_finished)  # queued: the GUI side of the ending
        if owner is not None:
            owner.destroyed.connect(self._on_owner_destroyed)

    def start(self) -> Worker:
        _running.add(self)
        self._running = True
        _gc_job_started()
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Asks the job to stop after what is in flight (the job checks the event between batches)."""
        first = not self.cancel_event.is_set()
        self.cancel_event.set()
        if first and self._running and not self._orphaned:
            self.cancel_requested.emit()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def is_running(self) -> bool:
        """True from ``start()`` until the thread has stopped and the GUI side heard of it."""
        return self._running

    def wait(self, ms: int = 30000) -> bool:
        """Blocks until the thread ends; True if it did. The result signals arrive once events run."""
        return self._running is False or self._thread.wait(ms)

    @Slot(int, int, str)
    def _on_progressed(self, done: int, total: int, text: str) -> None:
        if not self._orphaned:
            self.progress.emit(done, total, text)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread.wait()   # at once: the thread has left its event loop
        self._running = False
        _running.discard(self)
        _gc_job_ended()
        outcome, self._outcome = self._outcome, _Outcome()   # the result is the receivers', not ours
        if not self._orphaned:
            if outcome.error is not None:
                self.failed.emit(outcome.error)
            else:
                self.finished.emit(outcome.result)
            self.done.emit()
        self._job.deleteLater()   # it came back to this thread as it ended (see _Job.run)
        self._thread.deleteLater()
        self.deleteLater()

    @Slot()
    def _on_owner_destroyed(self) -> None:
        """The tab or dialog that started the job is gone: stop after the batch in flight, tell no one."""
        self._orphaned = True
        self.owner = None
        self.cancel()


def _owned_by(obj: QObject | None, root: QObject) -> bool:
    while obj is not None:
        if obj is root:
            return True
        obj = obj.parent()
    return False


def running_under(root: QObject) -> list[Worker]:
    """The running jobs started by ``root`` or anything inside it (a window's tabs, dialogs, menus)."""
    return [w for w in list(_running) if w.is_running() and _owned_by(w.owner, root)]


def wait_for_all(ms: int = 30000) -> bool:
    """Cancel every job still running and wait for its thread (the app, after its event loop): True if
    none is left. The jobs stop after their batch in flight; what they saved stays saved."""
    deadline = time.monotonic() + ms / 1000
    for worker in list(_running):
        worker.cancel()
    return all(worker.wait(max(0, int((deadline - time.monotonic()) * 1000))) for worker in list(_running))
