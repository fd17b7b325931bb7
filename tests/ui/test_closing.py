"""Closing the window while an upload or an import runs: the job is cancelled, the batch in flight is
saved, the thread stops and the window goes, with the ledger and the package agreeing.

The real window, against the Xero sandbox over HTTP with latency injected, so a batch is still in flight
when the window is closed. The tests wait on conditions, never on time.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import date
from decimal import Decimal
from types import FrameType

import pytest
from shiboken6 import isValid
from sqlalchemy import func, select

from kcc_desktop.context import AppContext
from kcc_desktop.models import ExportItem, ImportedPayment, Payment
from kcc_desktop.sync.export.rules import PIPELINE
from kcc_desktop.ui.export_tab import ExportTab
from kcc_desktop.ui.import_tab import ImportTab
from kcc_desktop.ui.main_window import MainWindow
from kcc_desktop.ui.worker import Worker, running_under
from tests.helpers.books import connected_bulk_books
from tests.helpers.connect import open_package
from tests.helpers.grids import wait_tab

INVOICES = 300   # six Xero batches of 50: twice the batches an upload keeps in flight (PIPELINE)


@pytest.fixture
def connected_books(store, xero_sync_sandbox):
    """The company file signed in to the sandbox, accounts mapped, and a ledger of many invoices."""
    connected_bulk_books(store, INVOICES)
    return store


def open_window(qtbot, store) -> MainWindow:
    window = MainWindow(AppContext(store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def in_flight(store, item_type: str) -> int:
    """Items of that type whose request has left (its idempotency key is stored) or has been saved."""
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(ExportItem).where(
            ExportItem.item_type == item_type,
            (ExportItem.attempt_key.is_not(None)) | (ExportItem.status == "exported"))) or 0


def invoices_in_xero(xero_sync_sandbox, store) -> list[dict]:
    package = open_package(store)
    token = package.tokens.access_token()
    return xero_sync_sandbox.api("Invoices", package.tenant_id, token)["Invoices"]


def wait_until_gone(qtbot, window: MainWindow, worker: Worker) -> None:
    """The window closes once its job has stopped; then the job's thread and Worker are gone too."""
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not worker.is_running() and running_under(window) == []
    qtbot.waitUntil(lambda: not isValid(worker), timeout=5_000)   # the Worker deleted itself


def test_closing_during_an_upload_saves_the_batches_in_flight_and_sends_nothing_more(
        qtbot, connected_books, xero_sync_sandbox):
    store = connected_books
    assert INVOICES // 50 > PIPELINE
    xero_sync_sandbox.faults(latency=1.0)   # each request takes a second: batches are on the wire when the user closes
    window = open_window(qtbot, store)
    tab = window.typed_tab("Export", ExportTab)
    assert tab is not None and window.current_tab() is tab
    wait_tab(qtbot, tab)   # the grids load off the GUI thread
    tab.pending_grid.selectAll()
    summaries = []
    tab.upload_finished.connect(summaries.append)
    tab.upload_action.trigger()
    worker = tab.worker
    assert worker is not None and worker.is_running()
    qtbot.waitUntil(lambda: in_flight(store, "sales_invoice") > 0, timeout=30_000)

    window.close()                                # the user closes the window mid-upload
    assert window.isVisible() and window.statusBar().currentMessage() == "Closing after the batch in progress…"
    assert worker.cancelled and not window.centralWidget().isEnabled()

    wait_until_gone(qtbot, window, worker)
    [summary] = summaries
    assert summary.cancelled and summary.failed == 0
    with store.session() as s:
        items = s.scalars(select(ExportItem).where(ExportItem.item_type == "sales_invoice")).all()
    sent = {i.reference: i.remote_id for i in items if i.status == "exported"}
    waiting = [i for i in items if i.status == "pending"]
    assert sent and waiting and len(sent) + len(waiting) == INVOICES      # stopped part-way, nothing lost
    assert sent and all(sent.values())                                    # what was sent has its Xero id
    assert waiting and all(i.attempt_key is None for i in waiting)         # the rest was never sent
    xero_sync_sandbox.faults(latency=0)
    in_xero = invoices_in_xero(xero_sync_sandbox, store)
    numbers = [d["InvoiceNumber"] for d in in_xero if d["InvoiceNumber"].startswith("BULK-")]
    assert len(numbers) == len(set(numbers))                              # nothing created twice
    assert {d["InvoiceNumber"]: d["InvoiceID"] for d in in_xero if d["InvoiceNumber"] in sent} == sent
    assert set(numbers) == set(sent)                                      # and nothing unrecorded


@pytest.fixture
def paid_books(connected_books, xero_sync_sandbox):
    """The books uploaded, and every BULK invoice paid in Xero by the bookkeeper (12.00 each)."""
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client
    from kcc_desktop.sync.export import ExportService

    store = connected_books
    exporter = ExportService(store)
    assert exporter.upload(exporter.pending_ids(), open_package(store)).failed == 0
    with store.session() as s:
        invoices = dict(s.execute(select(ExportItem.reference, ExportItem.remote_id).where(
            ExportItem.item_type == "sales_invoice", ExportItem.reference.like("BULK-%"))).tuples().all())
    bookkeeper = XeroBookkeeper(xero_sdk_client(dict(xero_sync_sandbox), xero_login(dict(xero_sync_sandbox))))
    bookkeeper.pay_many([(remote_id, Decimal("12.00")) for remote_id in invoices.values()], date(2026, 2, 2),
                        "BACS")
    return store


def fetched(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(ImportedPayment)) or 0


def test_closing_during_fetch_payments_keeps_the_pages_fetched_and_stops(qtbot, paid_books, xero_sync_sandbox):
    store = paid_books
    xero_sync_sandbox.faults(latency=1.0)
    window = open_window(qtbot, store)
    importer = window.typed_tab("Import", ImportTab)
    assert importer is not None
    window.select_tab("Import")                                       # shown the first time: it fetches
    worker = importer.worker
    assert worker is not None and worker.is_running()
    qtbot.waitUntil(lambda: fetched(store) > 0, timeout=30_000)       # the first page of 100 is saved

    window.close()
    wait_until_gone(qtbot, window, worker)
    with store.session() as s:
        remote_ids = list(s.scalars(select(ImportedPayment.remote_id)))
        created = s.scalar(select(func.count()).select_from(Payment)) or 0
    assert 0 < len(remote_ids) < INVOICES and len(remote_ids) % 100 == 0   # whole pages, then it stopped
    assert len(remote_ids) == len(set(remote_ids))                    # each payment once
    assert created == 0                                               # fetching creates nothing


def job_thread_blocked_in(function: str) -> bool:
    """A thread is inside ``function`` and waiting in an SQL statement (for the lock this test holds)."""
    for frame in sys._current_frames().values():
        names = []
        current: FrameType | None = frame
        while current is not None:
            names.append(current.f_code.co_name)
            current = current.f_back
        if function in names and "do_execute" in names:
            return True
    return False


def test_closing_during_create_and_allocate_finishes_the_batch_begun_and_leaves_the_rest(
        qtbot, paid_books, tmp_db_path):
    from kcc_desktop.ledger.trial_balance import trial_balance
    from kcc_desktop.sync.payments_import import BATCH

    store = paid_books
    window = open_window(qtbot, store)
    importer = window.typed_tab("Import", ImportTab)
    assert importer is not None
    with qtbot.waitSignal(importer.fetch_finished, timeout=30_000):
        window.select_tab("Import")
    wait_tab(qtbot, importer)
    assert importer.model.rowCount() == INVOICES > BATCH
    importer.grid.selectAll()

    # Someone else writing to the company file holds the first batch at its first statement, so the
    # window is certainly closed while that batch is in flight.
    other = sqlite3.connect(tmp_db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        importer.create_allocate_action.trigger()
        worker = importer.worker
        assert worker is not None
        qtbot.waitUntil(lambda: job_thread_blocked_in("create_and_allocate"), timeout=10_000)
        window.close()
        assert worker.cancelled and window.isVisible()
    finally:
        other.execute("ROLLBACK")
        other.close()

    wait_until_gone(qtbot, window, worker)
    with store.session() as s:
        rows = s.scalars(select(ImportedPayment)).all()
        payments = s.scalars(select(Payment)).all()
        tb = trial_balance(s)
    created = [r for r in rows if r.ledger_payment_id is not None]
    assert len(created) == BATCH == len(payments)                    # the batch begun, whole, and no more
    assert created and all(r.status == "Payment created and allocated" for r in created)
    assert rows and all(r.status == "Ready to create" for r in rows if r.ledger_payment_id is None)
    assert {p.id for p in payments} == {r.ledger_payment_id for r in created}   # each its own, none lost
    assert len({p.remote_id for p in payments}) == len(payments)                 # none twice
    assert tb.total_debit == tb.total_credit
