"""After rows written in bulk (the CSV import, the demo), what the services write next gets fresh ids on
either engine: PostgreSQL's id sequences do not see ids given explicitly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from kcc_desktop.ledger import service
from kcc_desktop.ledger.bulk_rows import BulkLine, BulkRows, ItemCosts
from kcc_desktop.models import Allocation, Company, Document, DocumentKind, DocumentLine, JournalEntry, Payment
from tests.helpers.ledger import add_company, add_item, bank, codes


def test_a_document_entered_by_hand_after_a_bulk_import_gets_a_new_id(store):
    with store.transaction() as s:
        cash = add_company(s, "CASH", "Cash Customer", is_account=False)
        item = add_item(s, "NUT", "5.00", "1.00")
        n, t = codes(s)
        writer = BulkRows(s, service.controls(s))
        costs = ItemCosts(item.id, item.stock_nominal_id, item.cost_of_sale_nominal_id, item.cost)
        for k in range(3):
            doc = writer.document(DocumentKind.SALES_INVOICE, f"B-{k}", cash.id, date(2026, 4, 1), None, "GBP", "",
                                  [BulkLine(costs, "Nuts", Decimal(2), Decimal("5.00"), Decimal(0), t["T1"].id,
                                            n["4000"].id, Decimal("10.00"), Decimal("2.00"))])
        pay = writer.payment("prepayment", cash.id, bank(s).id, date(2026, 4, 1), Decimal("12.00"), "GBP", "")
        writer.allocation(pay, None, doc, Decimal("12.00"), date(2026, 4, 1))
        writer.flush()
    with store.transaction() as s:   # by hand, in a later transaction, as a user would
        cash = s.scalar(select(Company).where(Company.code == "CASH"))
        inv = service.create_document(s, "sales_invoice", cash, "BY-HAND", date(2026, 4, 2),
                                      [service.LineInput(Decimal(1), Decimal("5.00"), stock_item_id=item.id)])
        pre = service.record_payment(s, "prepayment", cash, bank(s), Decimal("6.00"), date(2026, 4, 2))
        service.allocate_prepayment(s, pre, inv, Decimal("6.00"), date(2026, 4, 2))
    with store.session() as s:
        counts = {m.__name__: s.scalar(select(func.count()).select_from(m))
                  for m in (Document, DocumentLine, Payment, Allocation, JournalEntry)}
        assert s.scalar(select(Document.number).order_by(Document.id.desc()).limit(1)) == "BY-HAND"
    assert counts["Document"] == 4 and counts["Payment"] == 2 and counts["Allocation"] == 2
