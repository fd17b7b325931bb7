"""Upload Data against the QuickBooks Online sandbox over HTTP: each object once, the ledger's totals to the
penny, no stock or cost-of-sale account anywhere, few requests, and feedback in words.

The sandbox is read back the way a bookkeeper's tools would (python-quickbooks queries).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import Company, Document, ExportFeedback, ExportItem, NominalCode, StockItem, TaxCode
from kcc_desktop.sync.exporter import ExportService
from kcc_desktop.sync.mapping import NOMINAL, MappingService

from .qbo_export_fixtures import (  # noqa: F401 - fixtures
    DOC_ENTITIES, bookkeeper, build_qbo_ledger, qbo, qbo_export_server, qbo_exporting,
)

INVENTORY_ASSET_ID = "6"     # seed: Inventory Asset (AcctNum 1001)


def rows(qb, entity: str) -> list[dict]:
    data = qb.query(f"SELECT * FROM {entity} STARTPOSITION 1 MAXRESULTS 1000")
    return data["QueryResponse"].get(entity, [])


def items(store, **where) -> list[ExportItem]:
    with store.session() as s:
        q = select(ExportItem).order_by(ExportItem.id)
        for k, v in where.items():
            q = q.where(getattr(ExportItem, k) == v)
        return s.scalars(q).all()


def feedback(store) -> list[ExportFeedback]:
    with store.session() as s:
        return s.scalars(select(ExportFeedback).order_by(ExportFeedback.id)).all()


def ledger_docs(store) -> dict[tuple[str, str], Decimal]:
    """(QBO entity, number) -> gross total, for every ledger document."""
    with store.session() as s:
        return {(DOC_ENTITIES[d.kind], d.number): d.gross_total for d in s.scalars(select(Document))}


def remote_docs(qb) -> list[dict]:
    return [dict(r, _entity=e) for e in DOC_ENTITIES.values() for r in rows(qb, e)]


def never_exported_accounts(store) -> set[str]:
    """QBO account ids no line may use: Inventory Asset, and whatever the ledger's stock and cost-of-sale
    nominals are mapped to (a user may map them; nothing may use them)."""
    mapping = MappingService(store, "quickbooks")
    out = {INVENTORY_ASSET_ID}
    with store.session() as s:
        for n in s.scalars(select(NominalCode).where(NominalCode.code.in_(("1001", "5100")))):
            try:
                out.add(account_id(store, mapping.resolve_nominal(n.id)))
            except Exception:  # noqa: BLE001 - unmapped: nothing to look for
                pass
    return out


def account_id(store, code: str) -> str:
    from kcc_desktop.models import PackageAccount

    with store.session() as s:
        row = s.scalar(select(PackageAccount).where(PackageAccount.provider == "quickbooks",
                                                    PackageAccount.category == "account",
                                                    PackageAccount.code == code))
        return row.remote_id if row is not None and getattr(row, "remote_id", None) else code


def line_accounts(qb, doc: dict, items_by_id: dict[str, dict]) -> set[str]:
    """Every account a document's lines post to (through an item's income/expense account too)."""
    out = set()
    for line in doc.get("Line", []):
        for key in ("SalesItemLineDetail", "ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"):
            detail = line.get(key) or {}
            if "AccountRef" in detail:
                out.add(detail["AccountRef"]["value"])
            if "ItemRef" in detail:
                item = items_by_id[detail["ItemRef"]["value"]]
                for ref in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
                    if item.get(ref):
                        out.add(item[ref]["value"])
    return out


def test_upload_puts_each_object_in_quickbooks_once_with_the_ledgers_totals(qbo_exporting, qbo, bookkeeper):
    store, package = qbo_exporting
    info = build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    before = qbo.writes()
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0 and summary.held == 0, [(f.item_label, f.message) for f in feedback(store)]
    assert summary.pending == 0
    # Companies: customers as Customers, suppliers as Vendors, the supplier named like a customer too.
    customers = {c["DisplayName"] for c in rows(bookkeeper, "Customer")}
    vendors = [v["DisplayName"] for v in rows(bookkeeper, "Vendor")]
    assert {"Acme Tools Ltd", "Bloggs Hardware"} <= customers
    assert "Widget Supplies plc" in vendors and any(v.startswith("Acme Tools Ltd") for v in vendors)
    # Stock items: NonInventory or Service, never Inventory; stock stays in KCC.
    qbo_items = {i["Id"]: i for i in rows(bookkeeper, "Item")}
    ours = [i for i in qbo_items.values() if i["Name"] in ("W-100", "CHILD-1")]
    assert sorted(i["Name"] for i in ours) == ["CHILD-1", "W-100"]
    assert all(i["Type"] in ("NonInventory", "Service") and not i.get("AssetAccountRef") for i in ours)
    # Documents: each once, totals equal to the ledger's to the penny.
    docs = remote_docs(bookkeeper)
    keys = [(d["_entity"], d["DocNumber"]) for d in docs]
    assert sorted(keys) == sorted(set(keys)) == sorted(ledger_docs(store))
    assert {(d["_entity"], d["DocNumber"]): Decimal(str(d["TotalAmt"])) for d in docs} == ledger_docs(store)
    # No line posts to stock or cost of sale, directly or through its item.
    banned = never_exported_accounts(store)
    used = set().union(*(line_accounts(bookkeeper, d, qbo_items) for d in docs))
    assert used and not used & banned
    # The prepayment allocation: one Payment linked to the invoice, for the allocated amount.
    invoice = next(d for d in docs if d["DocNumber"] == info["prepaid_invoice"] and d["_entity"] == "Invoice")
    payments = rows(bookkeeper, "Payment")
    assert len(payments) == 1
    [line] = payments[0]["Line"]
    assert line["LinkedTxn"][0] == {"TxnId": invoice["Id"], "TxnType": "Invoice"} or (
        line["LinkedTxn"][0]["TxnId"], line["LinkedTxn"][0]["TxnType"]) == (invoice["Id"], "Invoice")
    assert Decimal(str(payments[0]["TotalAmt"])) == Decimal("20.00")
    assert Decimal(str(invoice["Balance"])) == Decimal(str(invoice["TotalAmt"])) - Decimal("20.00")
    # Requests: one batch per 30 of a kind, plus the dependencies' own batches.
    writes = {k: n - before.get(k, 0) for k, n in qbo.writes().items() if n - before.get(k, 0)}
    # batches: contacts, items, invoices+bills, credit notes; the supplier named like a customer goes again
    # as "Acme Tools Ltd (Supplier)"; the allocation is one Payment.
    assert writes == {"batch": 4, "vendor": 1, "payment": 1}, writes
    assert "Acme Tools Ltd (Supplier)" in vendors
    rows_after = items(store)
    assert all(r.status == "exported" and r.confirmed and r.remote_id for r in rows_after)
    # Re-running creates nothing and sends nothing.
    again = svc.upload(svc.pending_ids(), package)
    assert (again.exported, again.requests) == (0, 0)
    assert len(remote_docs(bookkeeper)) == len(docs) and len(rows(bookkeeper, "Payment")) == 1


def test_thirty_one_invoices_take_two_batches(qbo_exporting, qbo, bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
        for k in range(29):
            service.create_document(s, "sales_invoice", acme, f"SI-B{k:03d}", date(2026, 2, 1) + timedelta(days=k),
                                    [service.LineInput(Decimal(k + 1), Decimal("19.99"), stock_item_id=w100.id,
                                                       discount_rate=Decimal("12.5"))])
    svc = ExportService(store)
    ids = [i.id for i in items(store) if i.item_type in ("sales_invoice", "company", "stock_item")]
    before = qbo.writes()
    summary = svc.upload(ids, package)
    assert summary.failed == 0 and summary.exported == len(ids)
    writes = {k: n - before.get(k, 0) for k, n in qbo.writes().items() if n - before.get(k, 0)}
    # 31 invoices: 2 batches; their 2 customers: 1 batch; 2 items: 1 batch.
    assert writes == {"batch": 4}, writes
    remote = {d["DocNumber"]: Decimal(str(d["TotalAmt"])) for d in rows(bookkeeper, "Invoice")}
    assert len(remote) == 31 == len(rows(bookkeeper, "Invoice"))
    assert remote == {n: t for (e, n), t in ledger_docs(store).items() if e == "Invoice"}


def test_a_missing_mapping_gives_one_feedback_row_and_nothing_else_changes(qbo_exporting, qbo, bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    with store.transaction() as s:
        services = s.scalar(select(NominalCode).where(NominalCode.code == "4010"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        service.create_document(s, "sales_invoice", acme, "SI-SVC", date(2026, 3, 1),
                                [service.LineInput(Decimal(2), Decimal("45.00"), description="Fitting",
                                                   nominal_id=services.id, tax_code_id=t1)])
    MappingService(store, "quickbooks").set_mapping(NOMINAL, services.id, None)
    before = [(i.id, i.status, i.attempt_key) for i in items(store)]
    writes = qbo.writes()
    summary = svc.upload([i.id for i in items(store) if i.reference == "SI-SVC"], package)
    assert (summary.exported, summary.failed) == (0, 1)
    [fb] = feedback(store)
    assert fb.nominal_code == "4010" and "Mapping tab" in fb.advice and "SI-SVC" in fb.item_label
    assert [(i.id, i.status, i.attempt_key) for i in items(store)] == before
    assert qbo.writes() == writes
    assert "SI-SVC" not in {d["DocNumber"] for d in rows(bookkeeper, "Invoice")}


def test_a_connection_dropped_after_commit_creates_nothing_twice(qbo_exporting, qbo, bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=3)
    # Contacts, items, invoices+bills, credit notes and the payment: each cut after QuickBooks saved it.
    qbo.faults(drop_after_commit_count=5)
    svc = ExportService(store)
    first = svc.upload(svc.pending_ids(), package)
    for _ in range(5):     # each cut stops the run; Upload Data again as the message says
        if first.pending == 0:
            break
        first = svc.upload(svc.pending_ids(), package)
    assert first.pending == 0 and all(i.status == "exported" for i in items(store))
    assert qbo.stats()["faults"]["dropped"] >= 1
    docs = remote_docs(bookkeeper)
    keys = [(d["_entity"], d["DocNumber"]) for d in docs]
    assert sorted(keys) == sorted(set(keys)) == sorted(ledger_docs(store))
    assert {(d["_entity"], d["DocNumber"]): Decimal(str(d["TotalAmt"])) for d in docs} == ledger_docs(store)
    names = [c["DisplayName"] for c in rows(bookkeeper, "Customer") + rows(bookkeeper, "Vendor")]
    assert len(names) == len(set(names))
    assert [i["Name"] for i in rows(bookkeeper, "Item")].count("W-100") == 1
    assert len(rows(bookkeeper, "Payment")) == 1


def test_a_changed_company_and_item_are_updated_not_created_again(qbo_exporting, qbo, bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "ACME")).email = "ledger@acme.example"
        s.scalar(select(StockItem).where(StockItem.code == "W-100")).price = Decimal("21.50")
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0 and summary.exported == 2
    [acme] = [c for c in rows(bookkeeper, "Customer") if c["DisplayName"] == "Acme Tools Ltd"]
    assert acme["PrimaryEmailAddr"]["Address"] == "ledger@acme.example"
    [w100] = [i for i in rows(bookkeeper, "Item") if i["Name"] == "W-100"]
    assert Decimal(str(w100["UnitPrice"])) == Decimal("21.50")
    assert json.dumps(w100, default=str).count("Inventory Asset") == 0
