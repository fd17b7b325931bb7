"""The import posts in bulk, yet the ledger ends up exactly as if each document had gone through
``service.create_document`` (ids, lines, journal, new companies), and the export queue holds the same
entries as the services' flushes would have queued. New companies are created a chunk at a time and let
go (a file naming 200,000 of them must stay within the import's memory)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kcc_desktop.commands.demo import build_demo_file
from kcc_desktop.ledger import csv_staging
from kcc_desktop.ledger.csv_import import import_documents
from kcc_desktop.models import Base, Company, Document, ExportItem, JournalLine, UTCDateTime
from kcc_desktop.store import open_store
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.orders_csv import codes_of, write_orders

LEDGER_TABLES = {"company", "nominal_code", "tax_code", "bank_account", "stock_item", "document", "document_line",
                 "payment", "allocation", "journal_entry", "journal_line"}


def queue_contents(store) -> list[tuple]:
    """The export queue's entries, whatever order they were queued in (ids and times left out)."""
    table = ExportItem.__table__
    cols = [c for c in table.c if c.name != "id" and not isinstance(c.type, UTCDateTime)]
    with store.session() as s:
        return sorted(s.execute(select(*cols)).all(), key=repr)


@pytest.mark.parametrize("stock_on_invoices", [False, True], ids=["all-stock", "only-stock-on-invoices"])
def test_bulk_import_writes_what_the_services_write(tmp_path, digests, stock_on_invoices, monkeypatch):
    install_queue_listeners()
    monkeypatch.setattr(csv_staging, "_COMPANIES", 4)   # the file's 6 new companies come in two chunks
    held: list[int] = []   # Company objects the import's session holds at each flush

    def count_companies(session: Session, _context: object) -> None:
        held.append(sum(isinstance(obj, Company) for obj in (*session.new, *session.identity_map.values())))

    stores = {}
    for name in ("bulk", "services"):
        store = stores[name] = open_store(tmp_path / f"{name}.sqlite")
        OptionsService(store).update(only_export_stock_on_invoices=stock_on_invoices)
        build_demo_file(store, 40, seed=5)   # the demo's books, already queued for export
    try:
        orders = write_orders(tmp_path / "orders.csv", codes_of(stores["bulk"]), 300, seed=9, interleave=True)
        event.listen(Session, "after_flush", count_companies)
        try:
            bulk = import_documents(stores["bulk"], orders)
        finally:
            event.remove(Session, "after_flush", count_companies)
        assert held == [4, 2]   # one flush a chunk, and each chunk let go before the next
        slow = import_documents(stores["services"], orders, bulk=False)
        assert bulk.ok, bulk.text()
        assert bulk.text() == slow.text()
        assert bulk.imported == 300 and bulk.companies_created_count == 6
        a, b = digests(stores["bulk"]), digests(stores["services"])
        ledger = {t.name for t in Base.metadata.sorted_tables if t.name in LEDGER_TABLES}
        assert ledger == LEDGER_TABLES
        assert {t: a[t] for t in ledger} == {t: b[t] for t in ledger}, [t for t in ledger if a[t] != b[t]]
        assert queue_contents(stores["bulk"]) == queue_contents(stores["services"])
        with stores["bulk"].session() as s:   # real content, not two empty files
            assert s.scalar(select(func.count()).select_from(Document)) == 340
            assert s.scalar(select(func.count()).select_from(JournalLine)) > 1500
            assert s.scalar(select(func.count()).where(Company.code.like("NEW%"))) == 6
            queued = s.scalar(select(func.count()).select_from(ExportItem)
                              .where(ExportItem.item_type.in_(("sales_invoice", "sales_credit", "purchase_invoice",
                                                               "purchase_credit"))))
            assert queued == 340
            items = s.scalar(select(func.count()).where(ExportItem.item_type == "stock_item"))
            # With the option, only items on documents are queued: the import's documents add theirs.
            assert (items < 200) if stock_on_invoices else (items == 200)
    finally:
        for store in stores.values():
            store.close()
