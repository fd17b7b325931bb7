"""Pacer rules on a fake clock: no real sleeping. (What happens on a 429 is the transport's: see
test_transport.py and test_retry_policy.py.)"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from kcc_desktop.connectors.base import RateLimited
from kcc_desktop.connectors.pacing import (
    QBO_POLICY,
    XERO_POLICY,
    Pacer,
    PacingPolicy,
    pacer_for,
    reset_pacers,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.wall = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        self.wall += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self.wall


def make(policy=XERO_POLICY, **kw):
    clock = FakeClock()
    return Pacer(policy, clock=clock, sleep=clock.sleep, now=clock.now, **kw), clock


def test_minute_window_holds_the_61st_call_until_the_first_leaves():
    pacer, clock = make()
    for _ in range(60):
        pacer.run(lambda: None)
    assert clock.sleeps == []
    pacer.run(lambda: None)
    assert sum(clock.sleeps) == pytest.approx(pacer.window)
    assert 60.0 < pacer.window <= 62.0      # a small margin over Xero's own window


def test_calls_spread_over_time_need_no_wait():
    pacer, clock = make()
    for _ in range(200):
        pacer.run(lambda: None)
        clock.t += 1.1            # under 60 a minute, margin included
    assert clock.sleeps == []


def test_time_scale_shrinks_the_window():
    pacer, clock = make(time_scale=1 / 60)
    for _ in range(61):
        pacer.run(lambda: None)
    assert sum(clock.sleeps) == pytest.approx(pacer.window)
    assert 1.0 < pacer.window < 1.1


def test_qbo_batch_window_is_separate_from_the_call_window():
    pacer, clock = make(QBO_POLICY)
    for _ in range(40):
        pacer.run(lambda: None, batch=True)
    pacer.run(lambda: None)              # a plain call is not held by the batch window
    assert clock.sleeps == []
    pacer.run(lambda: None, batch=True)  # the 41st batch is
    assert sum(clock.sleeps) == pytest.approx(pacer.window)


def test_a_slow_call_keeps_its_place_until_a_window_after_it_finished():
    # The package counts a call when it arrives, which may be late in a slow call: the 61st call
    # must wait for the first to have finished a whole window ago, not started one.
    pacer, clock = make()

    def slow():
        clock.t += 5.0
    pacer.run(slow)
    for _ in range(59):
        pacer.run(lambda: None)
    first_finished = 1005.0
    pacer.run(lambda: None)
    assert clock.t == pytest.approx(first_finished + pacer.window)


def test_calls_the_pacer_did_not_make_fill_its_window():
    # Another process used 57 of the minute's calls: the package says 2 remain after ours.
    pacer, clock = make()
    pacer.run(lambda: pacer.observe({"X-MinLimit-Remaining": "2", "X-DayLimit-Remaining": "4000"}))
    assert pacer.unseen == 57 and pacer.day_remaining == 4000
    pacer.run(lambda: None)
    pacer.run(lambda: None)
    assert clock.sleeps == []
    pacer.run(lambda: None)                 # the 61st call in the package's count waits a window
    assert sum(clock.sleeps) == pytest.approx(pacer.window)


def test_other_desks_calls_the_shared_budget_holds_are_not_taken_for_another_apps():
    # Three desks on one company: 57 of the minute's calls are the other desks', held in the shared budget
    # with their real times. Only what is beyond them (here 5) is another app's, stamped now.
    pacer, clock = make()
    pacer.run(lambda: pacer.observe({"X-MinLimit-Remaining": "2"}, known=52))
    assert pacer.unseen == 5
    pacer.run(lambda: pacer.observe({"X-MinLimit-Remaining": "1"}, known=57))
    assert pacer.unseen == 5 and clock.sleeps == []   # the desk's own pacer holds back nothing more
    for _ in range(53):
        pacer.run(lambda: None)
    assert clock.sleeps == []                         # its window: its own 55 and the other app's 5


def test_own_calls_in_flight_are_not_taken_for_someone_elses():
    # Three calls in flight together: the package's count for each includes only those that had
    # arrived; none of that may be mistaken for another app's calls.
    pacer, _ = make()
    pacer.run(lambda: pacer.observe({"X-MinLimit-Remaining": "59"}))   # the first goes alone
    together = threading.Barrier(3)
    remaining = iter(["58", "57", "56"])
    lock = threading.Lock()

    def call():
        together.wait(2)                    # all three in flight before any answer is read
        with lock:
            pacer.observe({"X-MinLimit-Remaining": next(remaining)})

    threads = [threading.Thread(target=pacer.run, args=(call,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3)
    assert not together.broken and pacer.unseen == 0


def test_the_first_call_after_a_quiet_window_goes_alone():
    pacer = Pacer(PacingPolicy("Xero", in_flight=5, per_window=60, window_seconds=1.0))
    first_in, helpers_started, helper_ran = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def first():
        first_in.set()
        helpers_started.wait(5)
        helper_ran.wait(0.2)                # a helper let past the pacer (wrongly) shows itself here
        order.append("first")

    def helper():
        order.append("helper")
        helper_ran.set()

    t = threading.Thread(target=pacer.run, args=(first,))
    t.start()
    assert first_in.wait(5)
    helpers = [threading.Thread(target=pacer.run, args=(helper,)) for _ in range(3)]
    for h in helpers:
        h.start()
    helpers_started.set()
    for th in [t, *helpers]:
        th.join(5)
    assert order == ["first", "helper", "helper", "helper"]   # nobody started while the first was out


def test_a_429_is_not_taken_for_someone_elses_calls():
    pacer, clock = make()
    pacer.run(lambda: pacer.observe({"X-MinLimit-Remaining": "0"}, counted=False))
    assert pacer.unseen == 0 and clock.sleeps == []


def test_a_daily_block_says_when_uploads_resume_and_holds_every_call_until_then():
    pacer, clock = make()
    calls = []
    e = pacer.block_for_day(3600)
    assert e.limit == "day" and e.resumes_at == clock.wall + timedelta(hours=1)
    assert re.fullmatch(r"Xero's daily limit is reached; uploads resume at \d\d:\d\d\.", e.message)
    assert e.resumes_at.astimezone().strftime("%H:%M") in e.message
    with pytest.raises(RateLimited):
        pacer.run(lambda: calls.append(1))
    assert calls == []                       # the call never went out
    clock.wall += timedelta(hours=1, seconds=1)
    pacer.run(lambda: calls.append(2))
    assert calls == [2]


def test_in_flight_limit_holds_extra_threads():
    pacer = Pacer(PacingPolicy("Xero", in_flight=2, per_window=1000))
    pacer.run(lambda: None)    # not a quiet window: no call goes alone
    changed = threading.Condition()
    state = {"now": 0, "max": 0, "done": 0}
    leave = threading.Semaphore(0)

    def call():
        with changed:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            changed.notify_all()
        leave.acquire(timeout=10)
        with changed:
            state["now"] -= 1
            state["done"] += 1
            changed.notify_all()

    threads = [threading.Thread(target=pacer.run, args=(call,)) for _ in range(5)]
    for t in threads:
        t.start()
    # Let them out one at a time: each time, the next waiting thread takes the freed place, never more.
    for k in range(5):
        with changed:
            assert changed.wait_for(lambda k=k: state["done"] == k and state["now"] == min(2, 5 - k), 10), state
        leave.release()
    for t in threads:
        t.join(10)
    assert state["done"] == 5 and state["max"] == 2


def test_one_shared_pacer_per_organisation():
    reset_pacers()
    assert pacer_for("xero", "t1") is pacer_for("xero", "t1")
    assert pacer_for("xero", "t1") is not pacer_for("xero", "t2")
    assert pacer_for("quickbooks", "r1").policy.batches_per_window == 40
    # A connector opened with a time scale shares (and re-scales) the organisation's pacer.
    shared = pacer_for("xero", "t1")
    assert pacer_for("xero", "t1", 1 / 60) is shared and 1.0 < shared.window < 1.1
    reset_pacers()


# --- against a time-scaled Xero sandbox (a "minute" is one second) ------------------------------------

def test_a_busy_run_stays_under_the_minute_limit_without_a_single_429(scaled):
    from concurrent.futures import ThreadPoolExecutor

    from kcc_desktop.connectors import connect as connect_mod

    sb, store, tokens = scaled
    # Another process (its own pacer) used a third of the "minute" just before: the package counts
    # those calls too, and the shared pacer must learn them from the response headers.
    other = connect_mod.open_package(store, tokens, pacer=Pacer(XERO_POLICY, time_scale=1 / 60), timeout=5)
    for _ in range(20):
        other.fetch_tax_rates()
    package = connect_mod.open_package(store, tokens, time_scale=1 / 60, timeout=5)
    before = sb.stats()["requests"]
    with ThreadPoolExecutor(max_workers=8) as pool:          # more threads than Xero allows in flight
        # lookups (GET) and reads of several kinds, all counted against the same organisation
        calls = [package.fetch_tax_rates, package.fetch_accounts, package.fetch_bank_accounts]
        results = list(pool.map(lambda i: calls[i % 3](), range(150)))
    stats = sb.stats()
    assert results and all(r is not None for r in results)
    assert stats["rate_limited"] == 0 and "429" not in stats["by_status"]
    assert stats["requests"] - before == 150
    assert package.pacer.throttled == 0 and package.pacer.waited > 0
    assert package.pacer.unseen >= 15   # the other process's calls (a few may have left the window)
