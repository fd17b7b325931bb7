"""The claims' heartbeat never deadlocks with the upload it keeps alive. bench_desks.py's one QuickBooks desk on
PostgreSQL ended with "deadlock detected ... while locking tuple in relation export_item": the batch being
saved had locked some of its rows (``still_mine``) and waited for one the heartbeat's renewal held, while
the renewal waited for one the save held. The user saw "stayed locked by another desk or program"."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from kcc_desktop.models import ExportItem, ExportStatus
from kcc_desktop.sync.export.claims import LEASE, Claims
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.engines import engine_under_test
from tests.helpers.ledger import build_ledger


def _waiting(watch) -> int:
    n = watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")).scalar()
    watch.rollback()
    return int(n)


def _leases(s, ids) -> dict:
    return dict(s.execute(select(ExportItem.id, ExportItem.claim_until).where(ExportItem.id.in_(ids))).tuples().all())


def test_the_renewal_does_not_wait_for_the_rows_a_batch_being_saved_holds(store):
    """A batch being saved holds its rows; the heartbeat renews meanwhile. It must renew every other claim at
    once and leave the held rows (they are being saved, or are renewed at the next beat), never wait for
    them: a renewal waiting there while holding rows the save asks for next is the deadlock."""
    if engine_under_test() != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time, and still_mine takes no row locks there")
    install_queue_listeners()
    build_ledger(store, invoices=3)
    clock = lambda: datetime.now(UTC)   # noqa: E731
    claims = Claims(store, clock)
    with store.session() as s:
        pending = list(s.scalars(select(ExportItem.id).where(ExportItem.status == ExportStatus.PENDING)
                                 .order_by(ExportItem.id)))
    assert len(pending) >= 3
    held = {pending[0], pending[len(pending) // 2], pending[-1]}   # wherever the renewal's scan starts
    assert claims.take(pending) == set(pending)
    with store.session() as s:
        before = _leases(s, pending)

    saving = store.session()
    saving.begin()
    assert claims.still_mine(saving, held) == held
    outcome: list[object] = []

    def renew() -> None:
        try:
            outcome.append(claims.renew())
        except BaseException as exc:   # reported by the assertions below
            outcome.append(exc)

    renewal = threading.Thread(target=renew)
    renewal.start()
    with store.engine.connect() as watch:
        while renewal.is_alive() and not _waiting(watch):
            pass
        waited = renewal.is_alive()
    saving.commit()   # lets a waiting renewal go, so the thread ends either way
    saving.close()
    renewal.join()
    assert not waited, "the renewal waited for the rows of the batch being saved"
    assert outcome == [len(pending) - len(held)]
    with store.session() as s:
        after = _leases(s, pending)
    assert pending and all(after[i] > before[i] for i in pending if i not in held)
    assert held and all(after[i] == before[i] for i in held)
    assert after and all(until > clock() + LEASE / 2 for until in after.values())
