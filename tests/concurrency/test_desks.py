"""Several desks on one company at once (SQLite here; PostgreSQL when KCC_TEST_ENGINE=postgresql): three
``export --all`` and two ``import`` processes started together. Nothing twice in the package, nothing lost,
no receipt twice in the ledger, no "database is locked", no 429 drawn (the pacing budget is shared)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from kcc_desktop.models import Document, ExportItem, Payment
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.payments_import import PaymentsImport
from tests.helpers.desks import desk_env, duplicates, run_desks
from tests.helpers.ledger import build_ledger


def _xero(sandbox, package, what: str) -> list[dict]:
    token = package.tokens.access_token()
    return sandbox.api(f"{what}?page=1", package.tenant_id, token)[what]


def test_three_desks_export_and_two_import_at_once(xero_exporting, xero_sync_sandbox, xero_bookkeeper, company_db,
                                                    tmp_path, _temporary_keyring):
    store, package = xero_exporting
    build_ledger(store, invoices=12, lines_per_invoice=2)
    env = desk_env(_temporary_keyring.file_path, tmp_path, xero_sync_sandbox.root)
    xero_sync_sandbox.faults(latency=0.05)   # requests overlap, as over a real connection

    first = run_desks(company_db, [["export", "--all", "--json"]] * 3, env)

    for code, err in first:
        assert code == 0 and "Traceback" not in err and "locked" not in err, err
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ExportItem).where(ExportItem.status == "pending")) == 0
        numbers = sorted(s.scalars(select(Document.number)))
    invoices = _xero(xero_sync_sandbox, package, "Invoices")
    credits = _xero(xero_sync_sandbox, package, "CreditNotes")
    assert duplicates([f"{i['Type']} {i['InvoiceNumber']}" for i in invoices]) == []      # no bill twice
    assert sorted([i["InvoiceNumber"] for i in invoices] + [c["CreditNoteNumber"] for c in credits]) == numbers
    assert duplicates([c["Name"] for c in _xero(xero_sync_sandbox, package, "Contacts")]) == []
    assert duplicates([i["Code"] for i in _xero(xero_sync_sandbox, package, "Items")]) == []

    # The bookkeeper records two receipts; two desks import while a third exports.
    paid = [i for i in invoices if i["Type"] == "ACCREC"][:2]
    for inv in paid:
        xero_bookkeeper.pay(inv["InvoiceID"], Decimal("1.00"))
    with store.session() as s:
        before = s.scalar(select(func.count()).select_from(Payment)) or 0
    second = run_desks(company_db, [["import", "--json"], ["import", "--json"], ["export", "--all", "--json"]], env)

    for code, err in second:
        assert code == 0 and "Traceback" not in err and "locked" not in err, err
    with store.session() as s:
        assert (s.scalar(select(func.count()).select_from(Payment)) or 0) == before + 2   # each receipt once
    assert PaymentsImport(store, "xero").ready_ids() == []
    assert ExportService(store).pending_ids() == []
    assert xero_sync_sandbox.stats()["by_status"].get("429", 0) == 0   # one budget for the three desks
