"""The export queue: what a ledger change queues, what it never queues, one pending row per object."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from kcc_desktop.ledger import service
from kcc_desktop.models import (
    Company,
    Document,
    ExportItem,
    ExportStatus,
    JournalLine,
    NominalCode,
    StockItem,
    TaxCode,
)
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import SKIP_QUEUE, enqueue_all, install_queue_listeners
from tests.helpers.ledger import build_ledger


@pytest.fixture(autouse=True)
def _listeners():
    install_queue_listeners()


def queued(store, status=ExportStatus.PENDING):
    with store.session() as s:
        return [(e.item_type, e.reference, e.action) for e in s.scalars(
            select(ExportItem).where(ExportItem.status == status).order_by(ExportItem.id))]


def test_new_ledger_objects_are_queued_with_their_grid_columns(store):
    info = build_ledger(store, invoices=1, lines_per_invoice=2)
    rows = queued(store)
    assert [r[:2] for r in rows] == [
        ("company", "ACME"), ("company", "BLOGGS"), ("company", "SUPP"), ("stock_item", "W-100"),
        ("stock_item", "CHILD-1"), ("sales_invoice", "SI-0001"), ("sales_credit", "SC-0001"),
        ("purchase_invoice", "PI-0001")]
    with store.session() as s:
        inv = s.scalar(select(ExportItem).where(ExportItem.reference == "SI-0001"))
        doc = s.get(Document, info["docs"]["SI-0001"])
        assert (inv.company_name, inv.doc_date, inv.amount, inv.currency) == (
            "Acme Tools Ltd", date(2026, 1, 10), doc.gross_total, "GBP")
        assert inv.queued_at.tzinfo is not None and inv.action == "create"


def test_a_change_keeps_one_pending_row_and_shows_the_new_name(store):
    build_ledger(store, invoices=0)
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        acme.name = "Acme Tools (UK) Ltd"
    with store.session() as s:
        rows = s.scalars(select(ExportItem).where(ExportItem.item_type == "company",
                                                  ExportItem.reference == "ACME")).all()
    assert len(rows) == 1 and rows[0].company_name == "Acme Tools (UK) Ltd"


def test_changed_company_or_item_already_exported_is_queued_as_an_update(store):
    build_ledger(store, invoices=0)
    with store.transaction() as s:
        s.execute(ExportItem.__table__.update().values(status=ExportStatus.EXPORTED))
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "ACME")).email = "new@acme.example"
        s.scalar(select(StockItem).where(StockItem.code == "W-100")).price = Decimal("21.00")
        s.scalar(select(Company).where(Company.code == "SUPP")).name = "Widget Supplies plc"  # same value: no change
    assert queued(store) == [("company", "ACME", "update"), ("stock_item", "W-100", "update")]


def test_stock_postings_and_credit_note_allocations_are_never_queued_prepayment_allocations_are(store):
    info = build_ledger(store, invoices=1, lines_per_invoice=1)
    with store.transaction() as s:
        s.execute(ExportItem.__table__.delete())
        inv = s.get(Document, info["docs"]["SI-0001"])
        cn = s.get(Document, info["docs"]["SC-0001"])
        bloggs = s.get(Company, info["companies"][1])
        service.allocate_credit_note(s, cn, inv, Decimal("5.00"))
        bank = s.scalar(select(service.BankAccount).where(service.BankAccount.code == "CUR"))
        inv2 = service.create_document(s, "sales_invoice", bloggs, "SI-9", date(2026, 2, 1),
                                       [service.LineInput(Decimal(1), Decimal("50"), stock_item_id=info["items"][0])])
        pre = service.record_payment(s, "prepayment", bloggs, bank, Decimal("100"), date(2026, 2, 1))
        service.allocate_prepayment(s, pre, inv2, Decimal("20.00"))
        # stock and cost-of-sale journal lines exist in the ledger...
        stock = s.scalar(select(NominalCode.id).where(NominalCode.code == "1001"))
        assert s.scalar(select(func.count()).select_from(JournalLine).where(JournalLine.nominal_id == stock)) > 0
    rows = queued(store)
    # ...but only the new invoice and the prepayment's allocation reach the queue.
    assert [r[:2] for r in rows] == [("sales_invoice", "SI-9"), ("prepayment_allocation", "SI-9")]


def test_only_export_stock_on_invoices_queues_items_with_their_documents(store):
    OptionsService(store).set("only_export_stock_on_invoices", True)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        for code in ("USED", "UNUSED"):
            s.add(StockItem(code=code, description=code, price=Decimal(5), cost=Decimal(1), sales_nominal_id=n["4000"],
                            purchase_nominal_id=n["5000"], stock_nominal_id=n["1001"],
                            cost_of_sale_nominal_id=n["5100"], tax_code_id=t1))
        c = Company(code="C", name="C Ltd", kind="customer")
        s.add(c)
    assert [r[1] for r in queued(store)] == ["C"]
    with store.transaction() as s:
        used = s.scalar(select(StockItem).where(StockItem.code == "USED"))
        service.create_document(s, "sales_invoice", s.scalar(select(Company)), "SI-1", date(2026, 1, 1),
                                [service.LineInput(Decimal(1), Decimal(5), stock_item_id=used.id)])
    assert [r[1] for r in queued(store)] == ["C", "SI-1", "USED"]


def test_enqueue_all_queues_bulk_rows_once_and_fast(store):
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        c = Company(code="BULK", name="Bulk Ltd", kind="customer")
        s.add(c)
        s.flush()
        rows = [{"kind": "sales_invoice", "number": f"B{i:06d}", "company_id": c.id, "date": date(2026, 1, 1),
                 "currency": "GBP", "reference": "", "net_total": Decimal(10), "tax_total": Decimal(2),
                 "gross_total": Decimal(12)} for i in range(20000)]
        s.execute(insert(Document), rows)
    assert queued(store) == []
    with store.transaction() as s:
        added = enqueue_all(s)     # its speed is timed by benchmarks/bench_demo.py (115,000 rows), not here
    assert added == 20001
    with store.transaction() as s:
        assert enqueue_all(s) == 0
    with store.session() as s:
        assert s.scalar(select(func.sum(ExportItem.amount)).where(ExportItem.item_type == "sales_invoice")) \
            == Decimal(12) * 20000
