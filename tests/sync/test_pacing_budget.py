"""Desks sharing one company share one pacing budget in the store: what one desk has in flight or made
within the minute counts against every desk on the organisation (other organisations are apart)."""

from __future__ import annotations

from kcc_desktop.connectors.pacing import Pacer, PacingPolicy
from kcc_desktop.connectors.transport import Place
from kcc_desktop.sync.pacing_budget import StoreBudget

TINY = PacingPolicy("Xero", in_flight=2, per_window=3)


def _try(budget, pacer):
    place, wait, _others = budget.store.retrying(lambda s: budget._try(s, pacer=pacer, batch=False))
    return place, wait


def test_calls_in_flight_at_one_desk_hold_back_the_other(store):
    pacer = Pacer(TINY)
    desk_a, desk_b = StoreBudget(store, "xero", "org-1"), StoreBudget(store, "xero", "org-1")
    first, second = desk_a.acquire(pacer, False), desk_a.acquire(pacer, False)
    place, wait = _try(desk_b, pacer)
    assert place == 0 and wait > 0                  # two in flight at desk A: desk B may not send a third
    assert _try(StoreBudget(store, "xero", "org-2"), pacer)[0] > 0   # another organisation is counted apart
    desk_a.release(first)
    place, _ = _try(desk_b, pacer)
    assert place > 0                                # one finished: desk B goes
    desk_a.release(second)
    desk_b.release(Place(place, 1))


def test_the_minute_counts_every_desks_calls(store):
    pacer = Pacer(TINY)
    desks = [StoreBudget(store, "xero", "org-1") for _ in range(3)]
    for desk in desks:                              # one call each: the organisation's three for the minute
        desk.release(desk.acquire(pacer, False))
    place, wait = _try(desks[0], pacer)
    assert place == 0 and 0 < wait <= pacer.window   # the fourth waits until the first leaves the window


def test_each_place_says_how_many_of_the_windows_calls_are_other_desks(store):
    pacer = Pacer(PacingPolicy("Xero", in_flight=5, per_window=60))
    desk_a, desk_b = StoreBudget(store, "xero", "org-1"), StoreBudget(store, "xero", "org-1")
    for _ in range(2):
        desk_a.release(desk_a.acquire(pacer, False))
    flying = desk_a.acquire(pacer, False)
    assert flying.others == 0                    # desk A's own calls are its pacer's to count
    b = desk_b.acquire(pacer, False)
    assert b.others == 3                         # two finished within the window and one in flight
    assert StoreBudget(store, "xero", "org-2").acquire(pacer, False).others == 0   # another organisation
    desk_a.release(flying)
    assert desk_a.acquire(pacer, False).others == 1   # desk B's call, still in flight
    desk_b.release(b)
