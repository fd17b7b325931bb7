"""Upload Data, the connection check and the payments import against a real-like QuickBooks company.

The sandbox works VAT out per rate and rounds once per rate; the ledger rounds per line. Whatever the
documents, every TotalAmt QuickBooks keeps equals the ledger's total (a property test over random
documents: several lines at one rate, discounts, three VAT rates, credit notes, bills)."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kcc_desktop.cli import main
from kcc_desktop.ledger import service
from kcc_desktop.models import (
    BankAccount,
    Company,
    Document,
    ExportFeedback,
    ExportItem,
    ImportedPayment,
    NominalCode,
    RemoteLink,
    TaxCode,
)
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.mapping import BANK, MappingService
from kcc_desktop.sync.payments_import import PaymentsImport
from tests.helpers.connect import open_package

ENTITY = {"sales_invoice": "Invoice", "sales_credit": "CreditMemo", "purchase_invoice": "Bill",
          "purchase_credit": "VendorCredit"}
_numbers = itertools.count(1)

line_st = st.fixed_dictionaries({
    "quantity": st.decimals(min_value=Decimal("0.5"), max_value=Decimal("60"), places=2),
    "price": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=3),
    "discount": st.sampled_from([Decimal(0), Decimal(0), Decimal("2.5"), Decimal("5"), Decimal("10"), Decimal("12.5")]),
    "tax": st.sampled_from(["T1", "T1", "T1", "T5", "T0"]),
})
doc_st = st.tuples(st.sampled_from(list(ENTITY)), st.lists(line_st, min_size=1, max_size=6))


def _companies(store) -> dict[str, int]:
    with store.transaction() as s:
        found = {c.kind: c.id for c in s.scalars(select(Company).where(Company.code.in_(["PROP-C", "PROP-S"])))}
        if not found:
            cust = Company(code="PROP-C", name="Property Test Customer", kind="customer")
            supp = Company(code="PROP-S", name="Property Test Supplier", kind="supplier")
            s.add_all([cust, supp])
            s.flush()
            found = {"customer": cust.id, "supplier": supp.id}
        return found


def _document(store, kind: str, lines: list[dict], day: date = date(2026, 6, 1), number: str = "") -> int:
    companies = _companies(store)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t = {x.code: x.id for x in s.scalars(select(TaxCode))}
        sales = kind.startswith("sales")
        company = s.get(Company, companies["customer" if sales else "supplier"])
        items = [service.LineInput(quantity=ln["quantity"], unit_price=ln["price"], description="Goods",
                                   nominal_id=n["4010" if sales else "5000"], tax_code_id=t[ln["tax"]],
                                   discount_rate=ln["discount"]) for ln in lines]
        return service.create_document(s, kind, company, number or f"P{next(_numbers):05d}", day, items).id


def _stored_totals(store, qb, ids: list[int]) -> list[tuple[Decimal, Decimal]]:
    """(ledger gross total, QuickBooks' stored TotalAmt) of each document."""
    out = []
    with store.session() as s:
        for doc_id in ids:
            doc = s.get(Document, doc_id)
            link = s.scalar(select(RemoteLink).where(
                RemoteLink.provider == "quickbooks", RemoteLink.object_id == doc_id,
                RemoteLink.object_type == doc.kind))
            assert link is not None, f"{doc.number} was not exported"
            row = qb.get_single_object(ENTITY[doc.kind], link.remote_id)[ENTITY[doc.kind]]
            out.append((doc.gross_total, Decimal(str(row["TotalAmt"]))))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(doc_st, min_size=1, max_size=3))
def test_every_total_quickbooks_keeps_is_the_ledgers(qbo_exporting, qbo_bookkeeper, docs):
    store, package = qbo_exporting
    ids = [_document(store, kind, lines) for kind, lines in docs]
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0, summary.text
    for ledger_total, stored in _stored_totals(store, qbo_bookkeeper, ids):
        assert stored == ledger_total


def test_the_demo_invoice_that_differs_per_rate_keeps_the_ledgers_total(qbo_exporting, qbo_bookkeeper):
    store, package = qbo_exporting
    # Three lines of 10.03 at 20%: the ledger has 6.03 VAT (per line); per rate it is 6.02.
    doc = _document(store, "sales_invoice", [{"quantity": Decimal(1), "price": Decimal("10.03"),
                                              "discount": Decimal(0), "tax": "T1"}] * 3)
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    assert _stored_totals(store, qbo_bookkeeper, [doc]) == [(Decimal("36.12"), Decimal("36.12"))]


def test_check_lists_what_a_real_company_would_refuse(qbo_exporting, qbo_sync_sandbox, tmp_db_path, capsys):
    store, _package = qbo_exporting
    closed = date.today().replace(day=1) - timedelta(days=1)     # books closed at the end of last month
    qbo_sync_sandbox.control("company", {"book_close_date": closed.isoformat(), "custom_txn_numbers": False})
    mapping = MappingService(store, "quickbooks")
    with store.session() as s:
        dep = s.scalar(select(BankAccount.id).where(BankAccount.code == "DEP"))
    mapping.set_mapping(BANK, dep, None)                          # nothing receives Undeposited Funds
    _document(store, "sales_invoice", [{"quantity": Decimal(1), "price": Decimal("5"), "discount": Decimal(0),
                                        "tax": "T1"}], day=closed)
    _document(store, "sales_invoice", [{"quantity": Decimal(1), "price": Decimal("5"), "discount": Decimal(0),
                                        "tax": "T1"}], day=closed + timedelta(days=1),
              number="WEB-ORDER-2026-0000123")                   # 22 characters: one more than QuickBooks keeps

    assert main(["--db", str(tmp_db_path), "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    codes = {p["code"]: p for p in report["problems"]}
    assert {"lock_date", "numbers_not_kept", "number_too_long", "undeposited_funds_unmapped"} <= set(codes)
    assert "WEB-ORDER-2026-0000123" in codes["number_too_long"]["message"]
    assert "QuickBooks' closing date" in codes["lock_date"]["message"]
    assert "1 pending document" in codes["lock_date"]["message"]
    assert "Undeposited Funds" in codes["undeposited_funds_unmapped"]["message"]


def test_check_names_multicurrency_off_for_foreign_documents(qbo_exporting, tmp_db_path, capsys):
    from kcc_desktop.sync.options import OptionsService

    store, _package = qbo_exporting
    OptionsService(store).update(multicurrency=True)
    with store.transaction() as s:
        s.add(Company(code="EURO", name="Euro Kunde GmbH", kind="customer", currency="EUR"))
        s.flush()
        euro = s.scalar(select(Company).where(Company.code == "EURO"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        n = s.scalar(select(NominalCode.id).where(NominalCode.code == "4010"))
        service.create_document(s, "sales_invoice", euro, "EU-1", date(2026, 6, 1),
                                [service.LineInput(quantity=Decimal(1), unit_price=Decimal(9), description="x",
                                                   nominal_id=n, tax_code_id=t1)])
    assert main(["--db", str(tmp_db_path), "check", "--json"]) == 1
    codes = {p["code"] for p in json.loads(capsys.readouterr().out)["problems"]}
    assert "package_multicurrency_off" in codes


def _exported_invoice(store, package, quantity: int, price: str) -> tuple[int, tuple[str, str]]:
    """A 20% invoice uploaded: (ledger id, (its QuickBooks id, its customer's))."""
    doc = _document(store, "sales_invoice", [{"quantity": Decimal(quantity), "price": Decimal(price),
                                              "discount": Decimal(0), "tax": "T1"}])
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    with store.session() as s:
        link = s.scalar(select(RemoteLink).where(RemoteLink.object_type == "sales_invoice",
                                                 RemoteLink.object_id == doc))
        cust = s.scalar(select(RemoteLink.remote_id).where(RemoteLink.object_type == "company"))
    return doc, (link.remote_id, cust)


def _bookkeeper_receipt(qb, paid_for: tuple[str, str], amount: str, deposit: str = "") -> dict:
    """A receipt the bookkeeper records in QuickBooks for the whole ``amount`` (no ``deposit``: no bank chosen)."""
    invoice_id, customer_id = paid_for
    body = {"CustomerRef": {"value": customer_id}, "TotalAmt": amount, "TxnDate": "2026-06-02",
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]}
    if deposit:
        body["DepositToAccountRef"] = {"value": deposit}
    return qb.create_object("Payment", json.dumps(body))["Payment"]


def test_receipts_in_undeposited_funds_import_once_it_is_mapped(qbo_exporting, qbo_bookkeeper):
    store, package = qbo_exporting
    doc, paid_for = _exported_invoice(store, package, 2, "15")
    mapping = MappingService(store, "quickbooks")
    with store.session() as s:
        dep = s.scalar(select(BankAccount.id).where(BankAccount.code == "DEP"))
    assert mapping.row(BANK, dep).remote_code == "1230"          # Apply Default Setup proposed it
    mapping.set_mapping(BANK, dep, None)
    paid = _bookkeeper_receipt(qbo_bookkeeper, paid_for, "36.00")  # no bank chosen
    assert paid["DepositToAccountRef"]["name"] == "Undeposited Funds"

    imports = PaymentsImport(store, "quickbooks")
    imports.fetch(package)
    made = imports.create_and_allocate(imports.ready_ids())
    assert (made.created, made.failed) == (0, 1)
    with store.session() as s:
        [row] = s.scalars(select(ImportedPayment).where(ImportedPayment.remote_id == paid["Id"]))
        assert row.status.startswith("Not created: bank account 1230 (Undeposited Funds) in QuickBooks is not mapped")
    mapping.set_mapping(BANK, dep, "1230")                        # Undeposited Funds -> the ledger's DEP
    made = imports.create_and_allocate(imports.ready_ids())
    assert (made.created, made.failed) == (1, 0)
    with store.session() as s:
        assert service.outstanding(s, doc) == 0 and service.bank_balance(s, dep) == Decimal("36.00")


def test_a_void_found_on_a_later_fetch_is_offered_for_reversal(qbo_exporting, qbo_bookkeeper):
    from quickbooks.objects.payment import Payment

    store, package = qbo_exporting
    doc, paid_for = _exported_invoice(store, package, 1, "50")
    paid = _bookkeeper_receipt(qbo_bookkeeper, paid_for, "60.00", deposit="8")
    imports = PaymentsImport(store, "quickbooks")
    imports.fetch(package)
    assert imports.create_and_allocate(imports.ready_ids()).created == 1

    Payment.get(paid["Id"], qb=qbo_bookkeeper).void(qb=qbo_bookkeeper)
    fresh = open_package(store)
    imports.fetch(fresh)
    [row_id] = imports.deleted_imported_ids()
    with store.session() as s:
        assert s.get(ImportedPayment, row_id).status == ("Voided in QuickBooks: use Reverse Deleted Payments to "
                                                         "undo it in the ledger")
        assert service.outstanding(s, doc) == 0                    # nothing changes before the user confirms
    assert imports.reverse_deleted([row_id]) == 1
    with store.session() as s:
        assert service.outstanding(s, doc) == Decimal("60.00")
        assert s.get(ImportedPayment, row_id).status.startswith("Voided in QuickBooks; reversed")


def test_a_company_that_is_both_uploads_both_sides_and_its_bill(qbo_exporting, qbo_bookkeeper):
    store, package = qbo_exporting
    with store.transaction() as s:
        both = Company(code="HART", name="Hartley Joinery", kind="customer", trades_both_ways=True)
        s.add(both)
        s.flush()
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        line = [service.LineInput(quantity=Decimal(2), unit_price=Decimal("12.50"), description="Oak",
                                  nominal_id=n["5000"], tax_code_id=t1)]
        service.create_document(s, "purchase_invoice", both, "HJ-100", date(2026, 6, 3), line)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0, summary.text
    vendors = qbo_bookkeeper.query("SELECT * FROM Vendor WHERE DisplayName = 'Hartley Joinery (Supplier)'")
    [vendor] = vendors["QueryResponse"]["Vendor"]
    bills = qbo_bookkeeper.query("SELECT * FROM Bill WHERE DocNumber = 'HJ-100'")["QueryResponse"]["Bill"]
    assert [b["VendorRef"]["value"] for b in bills] == [vendor["Id"]]
    customers = qbo_bookkeeper.query("SELECT * FROM Customer WHERE DisplayName = 'Hartley Joinery'")
    assert len(customers["QueryResponse"]["Customer"]) == 1
    with store.session() as s:    # Upload Data tells the user the name rule
        notes = [f.message for f in s.scalars(select(ExportFeedback).where(ExportFeedback.item_label.contains("HART")))]
    assert any("\u201cHartley Joinery (Supplier)\u201d" in n for n in notes), notes


def test_a_company_numbering_its_own_invoices_keeps_its_number_beside_the_ledgers(qbo_exporting, qbo_sync_sandbox):
    store, package = qbo_exporting
    qbo_sync_sandbox.control("company", {"custom_txn_numbers": False})
    doc = _document(store, "sales_invoice", [{"quantity": Decimal(1), "price": Decimal("5"), "discount": Decimal(0),
                                              "tax": "T1"}])
    svc = ExportService(store)
    assert svc.upload(svc.pending_ids(), package).failed == 0
    with store.session() as s:
        number = s.get(Document, doc).number
        item = s.scalar(select(ExportItem).where(ExportItem.item_type == "sales_invoice", ExportItem.object_id == doc))
        notes = [f.message for f in s.scalars(select(ExportFeedback).where(ExportFeedback.export_item_id == item.id))]
    assert item.remote_number != number            # QuickBooks' own number, shown in the Exported grid
    assert notes == [f"QuickBooks numbered it {item.remote_number}, not {number}: custom transaction numbers are off "
                     "there (Account and settings \u2192 Sales). Turn them on so it keeps the ledger's numbers."]
