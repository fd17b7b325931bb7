"""The window's turn (sync.gil.gui_turn): while a grid paints, workers wait at their next yield_gil, so the
paint's hundreds of calls into Python do not each queue for the GIL behind them (issue 17)."""

from __future__ import annotations

import sys
import threading

import pytest

from kcc_desktop.sync import gil


def _worker(go: threading.Event, passed: threading.Event) -> threading.Thread:
    def run() -> None:
        go.wait()
        gil.yield_gil()
        passed.set()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_worker_waits_at_yield_gil_until_the_window_has_had_its_turn(monkeypatch):
    monkeypatch.setattr(gil, "MAX_PARK", 60.0)
    go, passed = threading.Event(), threading.Event()
    thread = _worker(go, passed)
    with gil.gui_turn():
        go.set()
        # half a second is hundreds of yield_gil calls' worth: a worker not held would be through
        held = not passed.wait(0.5)
    thread.join()
    assert held and passed.is_set()


def test_outside_the_windows_turn_a_worker_goes_straight_on():
    go, passed = threading.Event(), threading.Event()
    thread = _worker(go, passed)
    go.set()
    assert passed.wait(30)
    thread.join()


def test_a_turn_that_never_ends_holds_a_worker_at_most_max_park(monkeypatch):
    monkeypatch.setattr(gil, "MAX_PARK", 0.05)
    go, passed = threading.Event(), threading.Event()
    with gil.gui_turn():
        thread = _worker(go, passed)
        go.set()
        assert passed.wait(30)   # still inside the turn: the worker went on after MAX_PARK
    thread.join()


def test_nested_turns_keep_workers_waiting_until_the_outer_one_ends_and_restore_the_switch_interval(monkeypatch):
    monkeypatch.setattr(gil, "MAX_PARK", 60.0)
    before = sys.getswitchinterval()
    go, passed = threading.Event(), threading.Event()
    thread = _worker(go, passed)
    with gil.gui_turn():
        # CPython keeps the interval in whole microseconds: 0.0001 reads back as 9.999...e-05
        assert sys.getswitchinterval() == pytest.approx(gil.GUI_SWITCH_INTERVAL) and before > gil.GUI_SWITCH_INTERVAL
        with gil.gui_turn():   # a paint inside a paint
            pass
        go.set()
        held_after_inner = not passed.wait(0.5)
    thread.join()
    assert held_after_inner and passed.is_set()
    assert sys.getswitchinterval() == before
