"""The demo company: deterministic, balanced, realistic, and the bulk path posts exactly what the services would."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kcc_desktop import models as ledger_models
from kcc_desktop.cli import main
from kcc_desktop.demo.company import build_demo
from kcc_desktop.ledger import service as L
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.models import (
    Allocation,
    Company,
    Document,
    DocumentLine,
    JournalLine,
    NominalCode,
    Payment,
    StockItem,
    TaxCode,
)
from kcc_desktop.store import open_store

N = 200
LEDGER_TABLES = {"company", "nominal_code", "tax_code", "bank_account", "stock_item", "document", "document_line",
                 "payment", "allocation", "journal_entry", "journal_line"}


def _demo(path, documents=N, seed=7, bulk=True):
    store = open_store(path)
    with store.transaction() as s:
        summary = build_demo(s, documents, seed, bulk=bulk)
    return store, summary


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store, _ = _demo(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    yield store
    store.close()


def test_same_seed_gives_identical_books_and_another_seed_does_not(tmp_path, demo_store, digests):
    again, _ = _demo(tmp_path / "again.sqlite")
    other, _ = _demo(tmp_path / "other.sqlite", seed=8)
    try:
        first = digests(demo_store)
        assert digests(again) == first
        different = digests(other)
        for table in ("document", "document_line", "journal_line", "payment", "allocation"):
            assert different[table] != first[table], table
    finally:
        again.close()
        other.close()


def test_bulk_path_writes_exactly_what_the_ledger_services_write(tmp_path, digests):
    bulk, _ = _demo(tmp_path / "bulk.sqlite", documents=120, seed=11)
    slow, _ = _demo(tmp_path / "services.sqlite", documents=120, seed=11, bulk=False)
    try:
        # The ledger's own tables (the export queue, if its listener is installed, sees only ORM flushes).
        ledger = {t.name for t in ledger_models.Base.metadata.sorted_tables if t.name in LEDGER_TABLES}
        a, b = digests(bulk), digests(slow)
        assert ledger == LEDGER_TABLES
        assert {t: a[t] for t in ledger} == {t: b[t] for t in ledger}, [t for t in ledger if a[t] != b[t]]
        with bulk.session() as s:  # and the comparison is over real content, not two empty files
            assert s.scalar(select(func.count()).select_from(JournalLine)) > 1000
            assert s.scalar(select(func.count()).select_from(Allocation)) > 50
    finally:
        bulk.close()
        slow.close()


def test_demo_trial_balance_balances_and_outstanding_is_gross_less_allocations(demo_store):
    with demo_store.session() as s:
        tb = trial_balance(s)
        assert tb.total_debit == tb.total_credit > 0
        allocated_to = dict(s.execute(select(Allocation.document_id, func.sum(Allocation.amount))
                                      .group_by(Allocation.document_id)).all())
        allocated_from = dict(s.execute(select(Allocation.credit_note_id, func.sum(Allocation.amount))
                                        .where(Allocation.credit_note_id.is_not(None))
                                        .group_by(Allocation.credit_note_id)).all())
        docs = s.scalars(select(Document)).all()
        assert len(docs) == N
        for doc in docs:
            if doc.kind.endswith("invoice"):
                expected = doc.gross_total - allocated_to.get(doc.id, 0)
            else:
                expected = -(doc.gross_total - allocated_from.get(doc.id, 0))
            assert L.outstanding(s, doc.id) == expected, doc.number
        # Customers' balances add up to the debtors and prepayment control accounts.
        rows = {r.code: r.debit - r.credit for r in tb.rows}
        customers = s.scalars(select(Company.id).where(Company.kind == "customer")).all()
        assert sum(L.company_balance(s, c) for c in customers) == rows.get("1100", 0) + rows.get("2300", 0)


def test_demo_company_has_what_the_integration_needs(demo_store):
    with demo_store.session() as s:
        companies = s.scalars(select(Company)).all()
        customers = [c for c in companies if c.kind == "customer"]
        assert len(customers) == 50 and len(companies) - len(customers) == 20
        assert any(not c.is_account for c in customers) and any(c.is_account for c in customers)
        assert sum(1 for c in customers if c.currency == "EUR") == 2
        assert sum(1 for c in companies if not c.email) == 2
        assert s.scalar(select(func.count()).select_from(StockItem)) == 200
        rates = {t.code: t.rate for t in s.scalars(select(TaxCode))}
        assert {rates["T1"], rates["T5"], rates["T0"]} == {D(20), D(5), D(0)}
        item_taxes = set(s.scalars(select(TaxCode.code).join(StockItem, StockItem.tax_code_id == TaxCode.id)))
        assert {"T1", "T5", "T0"} <= item_taxes
        kinds = dict(s.execute(select(Document.kind, func.count()).group_by(Document.kind)).all())
        assert set(kinds) == {"sales_invoice", "sales_credit", "purchase_invoice", "purchase_credit"}
        assert kinds["sales_invoice"] > N * 0.7 and kinds["purchase_invoice"] > N * 0.05
        nominals = {n.id: n.code for n in s.scalars(select(NominalCode))}
        line_nominals = {nominals[i] for i in s.scalars(select(DocumentLine.nominal_id).distinct())}
        assert "4905" in line_nominals  # delivery lines
        assert s.scalar(select(func.count()).where(DocumentLine.discount_rate > 0)) > 0
        pay_kinds = set(s.scalars(select(Payment.kind).distinct()))
        assert pay_kinds == {"receipt", "supplier_payment", "prepayment"}
        assert set(s.scalars(select(Payment.source).distinct())) == {"ledger"}
        assert s.scalar(select(func.count()).where(Allocation.credit_note_id.is_not(None))) > 0
        posted = {nominals[i] for i in s.scalars(select(JournalLine.nominal_id).distinct())}
        assert {"1001", "5100"} <= posted  # stock and cost of sale are posted


def test_demo_command_builds_a_file_and_refuses_one_with_books(tmp_path, capsys):
    path = tmp_path / "cli.sqlite"
    assert main(["--db", str(path), "demo", "--documents", "30", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "30 documents" in out and "50 customers" in out
    assert main(["--db", str(path), "demo", "--documents", "30"]) == 1
    err = capsys.readouterr().err
    assert "already has books" in err and "--db" in err
    store = open_store(path)
    try:
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Document)) == 30
    finally:
        store.close()


def test_demo_command_queues_the_bulk_written_documents_for_export(tmp_path):
    from kcc_desktop.models import ExportItem

    path = tmp_path / "queued.sqlite"
    assert main(["--db", str(path), "demo", "--documents", "40", "--seed", "4"]) == 0
    store = open_store(path)
    try:
        with store.session() as s:
            queued = dict(s.execute(select(ExportItem.item_type, func.count()).group_by(ExportItem.item_type)).all())
            documents = s.scalar(select(func.count()).select_from(Document))
            assert sum(queued.get(k, 0) for k in ("sales_invoice", "sales_credit", "purchase_invoice",
                                                  "purchase_credit")) == documents == 40
            assert queued["company"] == 70
    finally:
        store.close()


def test_demo_refuses_a_file_with_the_integration_enabled(tmp_path):
    from kcc_desktop.ledger.errors import LedgerError
    from kcc_desktop.models import AppSetting

    store = open_store(tmp_path / "guarded.sqlite")
    try:
        with store.transaction() as s:
            s.add(AppSetting(key=L.INTEGRATION_ENABLED_KEY, value="1"))
        with pytest.raises(LedgerError, match="payment guard"), store.transaction() as s:
            build_demo(s, 10, 1)
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Company)) == 0
    finally:
        store.close()
