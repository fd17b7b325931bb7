"""Desks started together read the organisation's settings once (``org_settings.read_shared``), on both engines.

Each test plays two desks as threads on one company store; the "package" is a function that counts how
often it is asked and hands back settings that say who read them (their base currency).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from kcc_desktop.connectors.base import OrganisationSettings
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.org_settings import LEASE, cached_settings, read_shared

RUN_STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A desk's clock that moves only when told: reads take no time unless a test says so."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _package(currency: str, asked: list[str], *, before=None, error: Exception | None = None):
    def read() -> OrganisationSettings:
        asked.append(currency)
        if before is not None:
            before()
        if error is not None:
            raise error
        return OrganisationSettings(base_currency=currency, currencies=frozenset({currency}),
                                    lock_date=date(2026, 3, 31))
    return read


def _announce(store, began: datetime) -> None:
    """Another desk's read, begun at ``began``, as that desk announced it."""
    DbSettingsStore(store).set("package.settings.xero.reading", f"{began.isoformat()} {(began + LEASE).isoformat()}")


def _run(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_desk_started_before_anothers_read_waits_for_it_and_asks_the_package_nothing(store):
    asked: list[str] = []
    a_reading, b_waiting = threading.Event(), threading.Event()
    results: dict[str, OrganisationSettings] = {}

    def a_reads() -> None:   # desk A's read is in the package's hands until desk B is seen waiting for it
        a_reading.set()
        assert b_waiting.wait(60)

    def desk_a() -> None:
        results["a"] = read_shared(store, "xero", _package("EUR", asked, before=a_reads), RUN_STARTED,
                                   clock=Clock(RUN_STARTED + timedelta(seconds=1)))

    def b_pauses(_seconds: float) -> None:
        b_waiting.set()

    a = _run(desk_a)
    assert a_reading.wait(60)
    # Desk B began its run with A (before A's read began), so A's answer is as fresh as its own would be.
    b = read_shared(store, "xero", _package("USD", asked), RUN_STARTED, clock=Clock(RUN_STARTED + timedelta(seconds=2)),
                    pause=b_pauses)
    a.join(60)
    assert asked == ["EUR"]                     # one read between the two desks
    assert b.base_currency == "EUR" and b.lock_date == date(2026, 3, 31) and b == results["a"]
    kept = cached_settings(store, "xero")
    assert kept is not None and kept.base_currency == "EUR"


def test_a_copy_read_before_the_run_began_is_never_used(store):
    asked: list[str] = []
    read_shared(store, "xero", _package("EUR", asked), RUN_STARTED, clock=Clock(RUN_STARTED + timedelta(seconds=1)))
    # The user changes the organisation (say its lock date) and uploads again a second after that read
    # began: this run reads afresh.
    later = RUN_STARTED + timedelta(seconds=2)
    again = read_shared(store, "xero", _package("USD", asked), later, clock=Clock(later + timedelta(seconds=1)))
    assert asked == ["EUR", "USD"] and again.base_currency == "USD"
    kept = cached_settings(store, "xero")
    assert kept is not None and kept.base_currency == "USD"


def test_a_read_started_after_this_run_began_is_taken_as_it_is(store):
    asked: list[str] = []
    read_shared(store, "xero", _package("EUR", asked), RUN_STARTED, clock=Clock(RUN_STARTED + timedelta(seconds=1)))
    # A desk whose run began half a second before that read: the read is as fresh as its own would be.
    mine = read_shared(store, "xero", _package("USD", asked), RUN_STARTED + timedelta(milliseconds=500),
                       clock=Clock(RUN_STARTED + timedelta(seconds=3)))
    assert asked == ["EUR"] and mine.base_currency == "EUR"


def test_a_read_that_fails_lets_the_waiting_desk_read_for_itself(store):
    asked: list[str] = []
    a_reading, b_waiting = threading.Event(), threading.Event()
    failed: list[Exception] = []

    def a_reads() -> None:
        a_reading.set()
        assert b_waiting.wait(60)

    def desk_a() -> None:
        try:
            read_shared(store, "xero", _package("EUR", asked, before=a_reads, error=RuntimeError("no answer")),
                        RUN_STARTED, clock=Clock(RUN_STARTED + timedelta(seconds=1)))
        except RuntimeError as exc:
            failed.append(exc)

    a = _run(desk_a)
    assert a_reading.wait(60)
    b = read_shared(store, "xero", _package("USD", asked), RUN_STARTED, clock=Clock(RUN_STARTED + timedelta(seconds=2)),
                    pause=lambda _s: (b_waiting.set(), a.join(60)))
    assert [str(e) for e in failed] == ["no answer"]   # desk A's own run hears of its failure
    assert asked == ["EUR", "USD"] and b.base_currency == "USD"


def test_a_desk_that_died_mid_read_holds_the_others_back_only_until_its_lease_ends(store):
    asked: list[str] = []
    died_at = RUN_STARTED + timedelta(seconds=1)
    _announce(store, died_at)
    clock = Clock(RUN_STARTED + timedelta(seconds=2))
    pauses: list[float] = []

    def pause(seconds: float) -> None:   # time passes while the desk waits
        pauses.append(seconds)
        clock.at += timedelta(seconds=seconds)

    mine = read_shared(store, "xero", _package("USD", asked), RUN_STARTED, clock=clock, pause=pause)
    assert asked == ["USD"] and mine.base_currency == "USD"
    assert pauses and clock.at >= died_at + LEASE            # it waited for the lease, and no longer
    assert clock.at < died_at + LEASE + timedelta(seconds=1)


def test_a_read_under_way_since_before_this_run_is_not_waited_for(store):
    asked: list[str] = []
    began = RUN_STARTED - timedelta(seconds=5)
    _announce(store, began)

    def pause(_seconds: float) -> None:
        pytest.fail("waited for a read that began before this run")

    mine = read_shared(store, "xero", _package("USD", asked), RUN_STARTED, clock=Clock(RUN_STARTED), pause=pause)
    assert asked == ["USD"] and mine.base_currency == "USD"


def test_two_desks_announcing_at_once_read_once(store):
    """Both look, find nothing, and announce together: one wins, the other waits for it."""
    asked: list[str] = []
    barrier = threading.Barrier(2)
    results: list[OrganisationSettings] = []

    def desk(currency: str) -> None:
        barrier.wait(60)
        results.append(read_shared(store, "xero", _package(currency, asked), RUN_STARTED,
                                   clock=Clock(RUN_STARTED + timedelta(seconds=1)), pause=lambda _s: None))

    threads = [_run(lambda: desk("EUR")), _run(lambda: desk("USD"))]
    for t in threads:
        t.join(120)
    assert len(results) == 2 and len(asked) == 1
    assert {r.base_currency for r in results} == set(asked)


def test_of_two_desks_swapping_the_same_value_exactly_one_is_told_it_won(store):
    """The compare-and-set under the announcement, on each engine: a second insert of an absent key and a
    second swap from a value already swapped both report that they changed nothing (on PostgreSQL the insert
    was reported as done, so two desks announcing together both read the package)."""
    from kcc_desktop.settings_db import swap

    key = "package.settings.xero.reading"
    with store.transaction() as s:
        assert swap(s, store.is_postgres, key, None, "desk A") is True
    with store.transaction() as s:
        assert swap(s, store.is_postgres, key, None, "desk B") is False
        assert swap(s, store.is_postgres, key, "desk B", "desk B again") is False
        assert swap(s, store.is_postgres, key, "desk A", "") is True
    assert DbSettingsStore(store).get(key) == ""
