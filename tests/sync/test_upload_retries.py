"""Upload Data sends each batch once: only the connector's transport sends again (connectors/transport.py).

The Xero sandbox counts the requests one batch costs when a failure persists; the pacer waits in
virtual time so the transport's backoff and Retry-After cost nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.pacing import XERO_POLICY, Pacer
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.models import ExportItem
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.export import ExportService
from tests.helpers.ledger import build_ledger

SENDS = 3    # the transport's documented sends for one request


class VirtualTime:
    """A monotonic clock that only its own sleeps move: waiting costs no real time."""

    def __init__(self) -> None:
        self.t = 10_000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def _one_company(store) -> list[int]:
    with store.session() as s:
        return [s.scalars(select(ExportItem.id).where(ExportItem.item_type == "company")
                          .order_by(ExportItem.id)).first()]


def _package(store):
    clock = VirtualTime()
    return connect_mod.open_package(DbSettingsStore(store), TokenStore(), timeout=5, connect_timeout=2,
                                    pacer=Pacer(XERO_POLICY, clock=clock, sleep=clock.sleep))


def test_a_batch_whose_failure_persists_costs_three_requests_and_stops_the_run(xero_exporting, xero_sync_sandbox):
    store, _ = xero_exporting
    build_ledger(store, invoices=1)
    package = _package(store)
    xero_sync_sandbox.faults(error_rate=1.0)
    before = xero_sync_sandbox.stats()["requests"]

    summary = ExportService(store).upload(_one_company(store), package)

    assert xero_sync_sandbox.stats()["requests"] - before == SENDS == summary.requests
    assert "nothing will be created twice" in summary.stopped and summary.exported == 0


def test_a_batch_throttled_throughout_costs_three_requests_and_stops_the_run(xero_exporting, xero_sync_sandbox):
    store, _ = xero_exporting
    build_ledger(store, invoices=1)
    package = _package(store)
    xero_sync_sandbox.faults(forced_429=10)
    before = xero_sync_sandbox.stats()["requests"]
    ids = _one_company(store)

    summary = ExportService(store).upload(ids, package)

    assert xero_sync_sandbox.stats()["requests"] - before == SENDS == summary.requests
    assert "limiting how fast" in summary.stopped and summary.exported == 0
    with store.session() as s:   # refused before the package took it: pending, sent afresh next time
        [item] = s.scalars(select(ExportItem).where(ExportItem.id.in_(ids))).all()
        assert item.status == "pending" and item.attempt_key is None
