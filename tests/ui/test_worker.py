"""The shared background worker: results, failures in plain words, cancel, and slots on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread
from shiboken6 import delete, isValid

from kcc_desktop.connectors.base import TransientError
from kcc_desktop.ui.job_runner import CoalescedRefresh, ProgressMeter
from kcc_desktop.ui.worker import Worker, running_under, wait_for_all


def test_finished_carries_the_result_and_slots_run_on_the_gui_thread(qtbot):
    seen = {}

    def job(progress, cancel):
        seen["job_thread"] = QThread.currentThread()
        for n in range(1, 4):
            progress(n, 3, f"step {n}")
        return {"answer": 42}
    worker = Worker(job)
    progress = []
    worker.progress.connect(lambda d, t, s: progress.append((d, t, QThread.currentThread())))
    with qtbot.waitSignal(worker.finished, timeout=5000) as done:
        worker.start()
    assert done.args == [{"answer": 42}]
    gui = QThread.currentThread()
    assert seen["job_thread"] is not gui
    assert progress[-1][:2] == (3, 3) and all(p[2] is gui for p in progress)
    qtbot.waitUntil(lambda: not worker.is_running())


def test_expected_failures_keep_their_words_unexpected_ones_say_what_to_do(qtbot):
    def fails(progress, cancel):
        raise TransientError("Could not send invoices: the connection to Xero failed.")
    worker = Worker(fails)
    with qtbot.waitSignal(worker.failed, timeout=5000) as failed:
        worker.start()
    assert failed.args[0].startswith("Could not send invoices: the connection to Xero failed.")

    worker = Worker(lambda progress, cancel: 1 / 0)
    with qtbot.waitSignal(worker.failed, timeout=5000) as failed:
        worker.start()
    assert "ZeroDivisionError" in failed.args[0] and "Try again" in failed.args[0]


def test_cancel_sets_the_event_the_job_checks(qtbot):
    started = threading.Event()

    def job(progress, cancel):
        started.set()
        assert cancel.wait(5)
        return "stopped"
    worker = Worker(job)
    with qtbot.waitSignal(worker.finished, timeout=5000) as done:
        worker.start()
        assert started.wait(5)
        worker.cancel()
    assert done.args == ["stopped"] and worker.cancelled


def test_a_job_outlives_its_deleted_owner_cancelled_and_heard_by_no_one(qtbot):
    # Deleting the tab that started a job must not destroy its running thread (that aborts the process).
    owner = QObject()
    started, release = threading.Event(), threading.Event()

    def job(progress, cancel):
        started.set()
        assert release.wait(5)
        return "done"
    worker = Worker(job, owner=owner)
    heard = []
    worker.finished.connect(heard.append)
    worker.failed.connect(heard.append)
    worker.start()
    assert started.wait(5) and running_under(owner) == [worker]
    delete(owner)                                 # as Qt deletes a closed tab with its children
    assert worker.cancelled and worker.is_running()
    release.set()
    qtbot.waitUntil(lambda: not isValid(worker), timeout=5000)   # stopped, then deleted itself
    assert heard == [] and not worker.is_running()


def test_wait_for_all_cancels_and_waits_for_every_job(qtbot):
    owner = QObject()
    started = threading.Event()

    def job(progress, cancel):
        started.set()
        return cancel.wait(5)
    results = []
    worker = Worker(job, owner=owner)
    worker.finished.connect(results.append)
    worker.start()
    assert started.wait(5)
    assert wait_for_all(5000)                     # returns once the thread has ended, without the GUI
    qtbot.waitUntil(lambda: results == [True])    # the job saw the cancel; its end reaches the GUI later
    assert running_under(owner) == []


def test_coalesced_refresh_runs_once_for_many_requests(qtbot):
    calls = []
    refresh = CoalescedRefresh(lambda: calls.append(1), interval_ms=20)
    for _ in range(50):
        refresh.request()
    qtbot.waitUntil(lambda: calls == [1])


def test_a_cancelled_refresh_never_runs_and_the_next_request_does(qtbot):
    """A job's end repaints everything itself: the live refresh then waiting is dropped, not run as well."""
    calls = []
    refresh = CoalescedRefresh(lambda: calls.append(len(calls)), interval_ms=20)
    refresh.request()
    refresh.cancel()
    marker = CoalescedRefresh(lambda: calls.append("later"), interval_ms=40)
    marker.request()   # due after the cancelled one would have been
    qtbot.waitUntil(lambda: calls == ["later"])
    refresh.request()
    qtbot.waitUntil(lambda: calls == ["later", 1])


def test_progress_meter_text():
    now = [0.0]
    meter = ProgressMeter(clock=lambda: now[0])
    now[0] = 10.0
    assert meter.text(100, 1000) == "100 of 1,000 · 10/s · about 1 min 30 s left"


def test_the_heap_stays_frozen_after_a_job_and_is_collected_once_when_idle(qtbot, monkeypatch):
    # Unfreezing as a job ends hands the whole heap to the next automatic full collection, which then
    # ran on the GUI thread as the tab refreshed (a 50-90 ms stall). The deferred release collects
    # what died meanwhile, then freezes the survivors again.
    import gc
    import weakref

    from kcc_desktop.ui import worker as worker_mod

    monkeypatch.setattr(worker_mod, "GC_RELEASE_MS", 50)

    class Node:
        pass
    cycle = Node()
    cycle.me = cycle                        # only the cyclic collector can free it
    gone = weakref.ref(cycle)
    worker = Worker(lambda progress, cancel: None)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()                      # the cycle is frozen with everything else
    del cycle
    assert gc.get_freeze_count() > 0        # still frozen right after the job
    gc.collect()
    assert gone() is not None               # a frozen cycle waits for the release...
    qtbot.waitUntil(lambda: gone() is None, timeout=3000)   # ...which comes when idle
    assert gc.get_freeze_count() > 0        # and the survivors are frozen again
