"""Upload Data against the QuickBooks Online sandbox over HTTP: each object once, the ledger's totals to the
penny, no stock or cost-of-sale account anywhere, few requests, and feedback in words.

The sandbox is read back the way a bookkeeper's tools would (python-quickbooks queries).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import Company, Document, ExportFeedback, ExportItem, NominalCode, StockItem, TaxCode
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from tests.helpers.ledger import add_cos_and_stock_documents, build_qbo_ledger

INVENTORY_ASSET_ID = "6"     # seed: Inventory Asset (AcctNum 1001)
DOC_ENTITIES = {"sales_invoice": "Invoice", "purchase_invoice": "Bill", "sales_credit": "CreditMemo",
                "purchase_credit": "VendorCredit"}


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


def never_exported_accounts(qb) -> set[str]:
    """QBO accounts no line may reach: inventory assets, and those numbered like the ledger's stock (1001)
    and cost-of-sale (5100) nominals (stock and cost of sale stay in KCC)."""
    return {a["Id"] for a in rows(qb, "Account")
            if a.get("AccountSubType") == "Inventory" or a.get("AcctNum") in ("1001", "5100")}


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


def test_upload_puts_each_object_in_quickbooks_once_with_the_ledgers_totals(qbo_exporting, qbo_sync_sandbox,
                                                                            qbo_bookkeeper):
    store, package = qbo_exporting
    info = build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    before = qbo_sync_sandbox.writes()
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0 and summary.held == 0, [(f.item_label, f.message) for f in feedback(store)]
    assert summary.pending == 0
    # Companies: customers as Customers, suppliers as Vendors, the supplier named like a customer too.
    customers = {c["DisplayName"] for c in rows(qbo_bookkeeper, "Customer")}
    vendors = [v["DisplayName"] for v in rows(qbo_bookkeeper, "Vendor")]
    assert {"Acme Tools Ltd", "Bloggs Hardware"} <= customers
    assert "Widget Supplies plc" in vendors and any(v.startswith("Acme Tools Ltd") for v in vendors)
    # Stock items: NonInventory or Service, never Inventory; stock stays in KCC.
    qbo_items = {i["Id"]: i for i in rows(qbo_bookkeeper, "Item")}
    ours = [i for i in qbo_items.values() if i["Name"] in ("W-100", "CHILD-1")]
    assert sorted(i["Name"] for i in ours) == ["CHILD-1", "W-100"]
    assert ours and all(i["Type"] in ("NonInventory", "Service") and not i.get("AssetAccountRef") for i in ours)
    # Documents: each once, totals equal to the ledger's to the penny.
    docs = remote_docs(qbo_bookkeeper)
    keys = [(d["_entity"], d["DocNumber"]) for d in docs]
    assert sorted(keys) == sorted(set(keys)) == sorted(ledger_docs(store))
    assert {(d["_entity"], d["DocNumber"]): Decimal(str(d["TotalAmt"])) for d in docs} == ledger_docs(store)
    # No line posts to stock or cost of sale, directly or through its item.
    banned = never_exported_accounts(qbo_bookkeeper)
    used = set().union(*(line_accounts(qbo_bookkeeper, d, qbo_items) for d in docs))
    assert INVENTORY_ASSET_ID in banned and used and not used & banned
    # PI-0002's line coded to the stock nominal by mistake went to the default purchases account.
    pi2 = next(d for d in docs if d["DocNumber"] == "PI-0002")
    assert len(line_accounts(qbo_bookkeeper, pi2, qbo_items)) == 2 and pi2["Line"] and all(
        "AccountBasedExpenseLineDetail" in line for line in pi2["Line"])
    # Tax: QuickBooks TaxCode ids (not Xero tax types), the mapped one for each ledger code on both sides.
    by_name = {i["Name"]: i["Id"] for i in qbo_items.values()}
    wanted = {by_name["W-100"]: "1", by_name["CHILD-1"]: "2"}      # T1 -> 20.0% S, T5 -> 5.0% R
    for d in docs:
        for line in d["Line"]:
            detail = line.get("SalesItemLineDetail") or line.get("ItemBasedExpenseLineDetail") \
                or line.get("AccountBasedExpenseLineDetail")
            if detail is None:
                continue   # a SubTotalLine
            item = (detail.get("ItemRef") or {}).get("value")
            assert detail["TaxCodeRef"]["value"] == wanted.get(item, "1"), (d["DocNumber"], line)
    # The prepayment allocation: one Payment linked to the invoice, for the allocated amount.
    invoice = next(d for d in docs if d["DocNumber"] == info["prepaid_invoice"] and d["_entity"] == "Invoice")
    payments = rows(qbo_bookkeeper, "Payment")
    assert len(payments) == 1
    [line] = payments[0]["Line"]
    assert [(t["TxnId"], t["TxnType"]) for t in line["LinkedTxn"]] == [(invoice["Id"], "Invoice")]
    assert Decimal(str(payments[0]["TotalAmt"])) == Decimal("20.00")
    assert Decimal(str(invoice["Balance"])) == Decimal(str(invoice["TotalAmt"])) - Decimal("20.00")
    # Requests: one batch per 30 of a kind, plus the dependencies' own batches.
    writes = {k: n - before.get(k, 0) for k, n in qbo_sync_sandbox.writes().items() if n - before.get(k, 0)}
    # batches: contacts, items, invoices+bills, credit notes; the supplier named like a customer goes again
    # as "Acme Tools Ltd (Supplier)"; the allocation is one Payment.
    assert writes == {"batch": 4, "vendor": 1, "payment": 1}, writes
    assert "Acme Tools Ltd (Supplier)" in vendors
    rows_after = items(store)
    assert rows_after and all(r.status == "exported" and r.confirmed and r.remote_id for r in rows_after)
    # Re-running creates nothing and sends nothing.
    again = svc.upload(svc.pending_ids(), package)
    assert (again.exported, again.requests) == (0, 0)
    assert len(remote_docs(qbo_bookkeeper)) == len(docs) and len(rows(qbo_bookkeeper, "Payment")) == 1


def test_thirty_one_invoices_take_two_batches(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
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
    ids = [i.id for i in items(store) if i.item_type == "sales_invoice"]
    before = qbo_sync_sandbox.writes()
    summary = svc.upload(ids, package)      # their customers and items go first without being asked
    assert summary.failed == 0 and summary.exported == 31 + 2 + 2
    writes = {k: n - before.get(k, 0) for k, n in qbo_sync_sandbox.writes().items() if n - before.get(k, 0)}
    # 2 customers: 1 batch; 2 items: 1 batch; 31 invoices: a batch of 30 and one single save.
    assert writes == {"batch": 3, "invoice": 1}, writes
    remote = {d["DocNumber"]: Decimal(str(d["TotalAmt"])) for d in rows(qbo_bookkeeper, "Invoice")}
    assert len(remote) == 31 == len(rows(qbo_bookkeeper, "Invoice"))
    assert remote == {n: t for (e, n), t in ledger_docs(store).items() if e == "Invoice"}


def test_a_missing_mapping_gives_one_feedback_row_and_nothing_else_changes(qbo_exporting, qbo_sync_sandbox,
                                                                           qbo_bookkeeper):
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
    writes = qbo_sync_sandbox.writes()
    summary = svc.upload([i.id for i in items(store) if i.reference == "SI-SVC"], package)
    assert (summary.exported, summary.failed) == (0, 1)
    [fb] = feedback(store)
    assert fb.nominal_code == "4010" and "Mapping tab" in fb.advice and "SI-SVC" in fb.item_label
    assert [(i.id, i.status, i.attempt_key) for i in items(store)] == before
    assert qbo_sync_sandbox.writes() == writes
    assert "SI-SVC" not in {d["DocNumber"] for d in rows(qbo_bookkeeper, "Invoice")}


def assert_each_once_with_ledger_totals(store, bookkeeper) -> None:
    docs = remote_docs(bookkeeper)
    keys = [(d["_entity"], d["DocNumber"]) for d in docs]
    assert sorted(keys) == sorted(set(keys)) == sorted(ledger_docs(store))
    assert {(d["_entity"], d["DocNumber"]): Decimal(str(d["TotalAmt"])) for d in docs} == ledger_docs(store)
    names = [c["DisplayName"] for c in rows(bookkeeper, "Customer") + rows(bookkeeper, "Vendor")]
    assert len(names) == len(set(names))
    assert sorted(i["Name"] for i in rows(bookkeeper, "Item") if i["Name"] in ("W-100", "CHILD-1")) == [
        "CHILD-1", "W-100"]
    assert len(rows(bookkeeper, "Payment")) == 1
    everything = items(store)
    assert everything and all(i.status == "exported" and i.remote_id for i in everything)


def test_a_connection_dropped_after_commit_creates_nothing_twice(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    # Each kind in turn: its first write is cut after QuickBooks saved it; the retry carries the same
    # requestid, so QuickBooks answers with what it saved instead of saving again.
    for kinds in (("company",), ("stock_item",), tuple(DOC_ENTITIES), ("prepayment_allocation",)):
        qbo_sync_sandbox.faults(drop_after_commit_count=1)
        summary = svc.upload([i.id for i in items(store, status="pending") if i.item_type in kinds], package)
        assert summary.failed == 0 and summary.exported, (kinds, summary.text)
    assert qbo_sync_sandbox.stats()["faults"]["dropped"] == 4
    assert_each_once_with_ledger_totals(store, qbo_bookkeeper)


def test_a_write_lost_every_time_is_found_by_the_next_run_after_a_restart(qbo_exporting, qbo_sync_sandbox,
                                                                          qbo_bookkeeper):
    from kcc_desktop.sync.export import rules as export_rules

    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    docs = [i.id for i in items(store) if i.item_type in DOC_ENTITIES]
    assert svc.upload([i.id for i in items(store) if i.item_type in ("company", "stock_item")], package).ok
    qbo_sync_sandbox.faults(drop_after_commit_count=20)          # every answer lost: the run stops with the reason
    stopped = svc.upload(docs, package)
    assert stopped.stopped and "nothing will be created twice" in stopped.stopped
    stuck = items(store, status="pending")
    assert stuck and all(i.attempt_key for i in stuck if i.item_type in DOC_ENTITIES)
    qbo_sync_sandbox.faults(replace=True)
    export_rules.SENT_KEYS.clear()                  # a new process: documents are looked up by number
    rerun = ExportService(store)
    summary = rerun.upload(rerun.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0, summary.text
    assert_each_once_with_ledger_totals(store, qbo_bookkeeper)
    assert rerun.upload(rerun.pending_ids(), package).requests == 0     # and running again sends nothing


def test_a_changed_company_and_item_are_updated_not_created_again(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "ACME")).email = "ledger@acme.example"
        s.scalar(select(StockItem).where(StockItem.code == "W-100")).price = Decimal("21.50")
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0 and summary.exported == 2
    [acme] = [c for c in rows(qbo_bookkeeper, "Customer") if c["DisplayName"] == "Acme Tools Ltd"]
    assert acme["PrimaryEmailAddr"]["Address"] == "ledger@acme.example"
    [w100] = [i for i in rows(qbo_bookkeeper, "Item") if i["Name"] == "W-100"]
    assert Decimal(str(w100["UnitPrice"])) == Decimal("21.50")
    assert json.dumps(w100, default=str).count("Inventory Asset") == 0


def test_accounts_without_numbers_are_used_by_their_id(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    """Many QuickBooks companies use no account numbers: such an account is mapped and sent by its Id."""
    store, package = qbo_exporting
    income = qbo_bookkeeper.create_object("Account", json.dumps(
        {"Name": "Consulting Income", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"}))["Account"]
    costs = qbo_bookkeeper.create_object("Account", json.dumps(
        {"Name": "Stationery", "AccountType": "Expense", "AccountSubType": "OfficeGeneralAdministrativeExpenses"}))
    costs = costs["Account"]
    # QuickBooks sales lines go through a product or service: the bookkeeper's own one for consulting.
    qbo_bookkeeper.create_object("Item", json.dumps({"Name": "Consulting", "Type": "Service",
                                                 "IncomeAccountRef": {"value": income["Id"]}}))
    mapping = MappingService(store, "quickbooks")
    mapping.fetch(package)
    build_qbo_ledger(store, invoices=2)
    with store.transaction() as s:
        nominals = {n.code: n for n in s.scalars(select(NominalCode))}
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        supp = s.scalar(select(Company).where(Company.code == "SUPP"))
        L = service.LineInput
        service.create_document(s, "sales_invoice", acme, "SI-CONS", date(2026, 3, 2),
                                [L(Decimal("2.5"), Decimal("86.667"), description="Advice",
                                   nominal_id=nominals["4010"].id, tax_code_id=t1)])
        service.create_document(s, "purchase_invoice", supp, "PI-STAT", date(2026, 3, 3),
                                [L(Decimal(3), Decimal("4.155"), description="Pens",
                                   nominal_id=nominals["7500"].id, tax_code_id=t1)])
    mapping.set_mapping(NOMINAL, nominals["4010"].id, income["Id"])
    mapping.set_mapping(NOMINAL, nominals["7500"].id, costs["Id"])
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0, [(f.item_label, f.message) for f in feedback(store)]
    docs = {d["DocNumber"]: d for d in remote_docs(qbo_bookkeeper)}
    qbo_items = {i["Id"]: i for i in rows(qbo_bookkeeper, "Item")}
    assert line_accounts(qbo_bookkeeper, docs["SI-CONS"], qbo_items) == {income["Id"]}
    assert line_accounts(qbo_bookkeeper, docs["PI-STAT"], qbo_items) == {costs["Id"]}
    totals = {n: t for (_e, n), t in ledger_docs(store).items()}
    assert Decimal(str(docs["SI-CONS"]["TotalAmt"])) == totals["SI-CONS"]
    assert Decimal(str(docs["PI-STAT"]["TotalAmt"])) == totals["PI-STAT"]


def test_pre_check_and_upload_name_what_quickbooks_refuses(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    from kcc_desktop.sync.precheck import OK, run_precheck

    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        odd = Company(code="ODD", name="Smith: Garden Rooms", kind="customer")
        s.add(odd)
        s.flush()
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        w100 = s.scalar(select(StockItem.id).where(StockItem.code == "W-100"))
        for company, number in ((acme, "SI-2026-0001-LONG-NUMBER"), (odd, "SI-ODD")):
            service.create_document(s, "sales_invoice", company, number, date(2026, 3, 5),
                                    [service.LineInput(Decimal(1), Decimal("10.00"), stock_item_id=w100,
                                                       tax_code_id=t1)])
    svc = ExportService(store)
    checked = run_precheck(store, svc.pending_ids(), provider="quickbooks")
    by_ref = {i.reference: checked[i.id] for i in items(store)}
    assert "at most 21 characters" in by_ref["SI-2026-0001-LONG-NUMBER"]
    assert "colon" in by_ref["ODD"]
    assert by_ref["SI-0001"] == OK
    summary = svc.upload(svc.pending_ids(), package)
    pending = {i.reference for i in items(store, status="pending")}
    assert pending == {"SI-2026-0001-LONG-NUMBER", "ODD", "SI-ODD"}
    assert summary.failed == 2 and summary.held == 1
    labels = {f.item_label: f.message for f in feedback(store)}
    assert "longer than QuickBooks allows" in labels["Invoice SI-2026-0001-LONG-NUMBER"]
    assert "colon" in labels["Company ODD"].lower()                     # QuickBooks' own words
    assert labels["Invoice SI-ODD"].startswith("Not sent: Company ODD could not be uploaded")
    assert {d["DocNumber"] for d in rows(qbo_bookkeeper, "Invoice")} == {"SI-0001", "SI-0002"}


def test_rollup_transactions_keep_the_ledgers_totals(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    from kcc_desktop.sync.options import OptionsService

    store, package = qbo_exporting
    OptionsService(store).update(use_rollup_transactions=True)
    build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0, [(f.item_label, f.message) for f in feedback(store)]
    assert_each_once_with_ledger_totals(store, qbo_bookkeeper)
    invoices = rows(qbo_bookkeeper, "Invoice")
    assert any(len([line for line in d["Line"] if line["DetailType"] == "SalesItemLineDetail"]) < 3 for d in invoices)


def test_a_lost_bill_is_found_by_number_and_supplier_not_another_suppliers_bill(qbo_exporting, qbo_sync_sandbox,
                                                                                qbo_bookkeeper):
    from kcc_desktop.sync.export import rules as export_rules

    store, package = qbo_exporting
    # The bookkeeper already has another supplier's bill numbered PI-0001 (bill numbers are per supplier).
    other = qbo_bookkeeper.create_object("Vendor", json.dumps({"DisplayName": "Other Supplier Ltd"}))["Vendor"]
    qbo_bookkeeper.create_object("Bill", json.dumps({
        "VendorRef": {"value": other["Id"]}, "DocNumber": "PI-0001", "TxnDate": "2026-01-02",
        "Line": [{"Amount": "99.00", "DetailType": "AccountBasedExpenseLineDetail",
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "15"}, "TaxCodeRef": {"value": "1"}}}]}))
    build_qbo_ledger(store, invoices=2)
    svc = ExportService(store)
    assert svc.upload([i.id for i in items(store) if i.item_type in ("company", "stock_item")], package).ok
    qbo_sync_sandbox.faults(drop_after_commit_count=20)
    assert svc.upload([i.id for i in items(store) if i.item_type in DOC_ENTITIES], package).stopped
    qbo_sync_sandbox.faults(replace=True)
    export_rules.SENT_KEYS.clear()
    rerun = ExportService(store)
    summary = rerun.upload(rerun.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0, summary.text
    bills = [b for b in rows(qbo_bookkeeper, "Bill") if b["DocNumber"] == "PI-0001"]
    supp = next(v["Id"] for v in rows(qbo_bookkeeper, "Vendor") if v["DisplayName"] == "Widget Supplies plc")
    assert sorted(b["VendorRef"]["value"] for b in bills) == sorted([other["Id"], supp])   # ours once, theirs kept
    [pi] = items(store, reference="PI-0001")
    assert pi.remote_id == next(b["Id"] for b in bills if b["VendorRef"]["value"] == supp)


class Killed(BaseException):
    """The process died between QuickBooks' answer and saving it."""


@pytest.mark.parametrize("phase", ["company", "sales_invoice"])
@pytest.mark.parametrize("restart", [False, True], ids=["same-process-replay", "after-restart-lookup"])
def test_killed_mid_upload_then_rerun_creates_nothing_twice(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper, phase,
                                                            restart):
    from kcc_desktop.sync.export import rules as export_rules

    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)

    def die(ids):
        if any(i.item_type == phase for i in items(store) if i.id in ids):
            raise Killed()
    svc.after_send = die
    with pytest.raises(Killed):
        svc.upload(svc.pending_ids(), package)
    left = items(store, status="pending", item_type=phase)
    assert left and all(i.attempt_key for i in left)
    if restart:
        export_rules.SENT_KEYS.clear()       # a new process: look each object up by name or number
    rerun = ExportService(store)
    summary = rerun.upload(rerun.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0, summary.text
    assert_each_once_with_ledger_totals(store, qbo_bookkeeper)
    # The supplier named like a customer is linked to its own vendor record, not to the customer.
    vendors = {v["DisplayName"]: v["Id"] for v in rows(qbo_bookkeeper, "Vendor")}
    [acme_s] = items(store, reference="ACME-S")
    assert acme_s.remote_id == vendors["Acme Tools Ltd (Supplier)"]


def test_cost_of_sale_and_stock_never_reach_quickbooks(qbo_exporting, qbo_sync_sandbox, qbo_bookkeeper):
    """Issue 20: lines coded to cost of sale and to stock, and stock items, through a full export: no line
    reaches an inventory, stock or cost-of-sale account (directly or through its item), the items are
    NonInventory or Service with no asset account, and nothing but the documents and what they need is
    written (no journal entry)."""
    store, package = qbo_exporting
    build_qbo_ledger(store, invoices=2)
    add_cos_and_stock_documents(store)
    svc = ExportService(store)
    before = qbo_sync_sandbox.writes()
    summary = svc.upload(svc.pending_ids(), package)
    assert (summary.failed, summary.held, summary.pending) == (0, 0, 0), [f.message for f in feedback(store)]
    docs = remote_docs(qbo_bookkeeper)
    assert {(d["_entity"], d["DocNumber"]): Decimal(str(d["TotalAmt"])) for d in docs} == ledger_docs(store)
    qbo_items = {i["Id"]: i for i in rows(qbo_bookkeeper, "Item")}
    ours = [i for i in qbo_items.values() if i["Name"] in ("W-100", "CHILD-1")]
    assert len(ours) == 2
    assert ours and all(i["Type"] in ("NonInventory", "Service") and not i.get("AssetAccountRef") for i in ours)
    banned = never_exported_accounts(qbo_bookkeeper)
    for number in ("SI-COS", "PI-COS"):
        doc = next(d for d in docs if d["DocNumber"] == number)
        used = line_accounts(qbo_bookkeeper, doc, qbo_items)
        assert used and not used & banned, (number, used)
    everything = set().union(*(line_accounts(qbo_bookkeeper, d, qbo_items) for d in docs))
    assert everything and not everything & banned
    writes = {k for k, n in qbo_sync_sandbox.writes().items() if n - before.get(k, 0)}
    assert writes and not {w for w in writes if "journal" in w.lower()}, writes
