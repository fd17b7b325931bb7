"""Payments both ways: KCC's prepayment allocations go up; receipts and supplier payments come back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kcc_desktop.connectors.base import DocKind
from tests.helpers.qbo_connector import (
    BANK_ID,
    customer,
    invoice,
    key,
    make_package,
    receipt,
    sign_in,
    vendor,
)


def all_payments(package, since=None):
    pages = list(package.list_payments(since))
    assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
    return [payment for page in pages for payment in page.payments]


def make_invoice(package, cust, number, net="100.00", kind=DocKind.SALES_INVOICE):
    [result] = package.create_documents([invoice(number, cust, net=net, kind=kind)], key())
    assert result.ok, result.messages
    return result.remote_id


def bookkeeper_post(qb, entity: str, body: dict) -> dict:
    """Something a person does in QBO, through their own python-quickbooks client."""
    return qb.create_object(entity, json.dumps(body))[entity]


def test_receipts_and_supplier_payments_come_back_with_their_allocations(qbo_package):
    cust, supp = customer(qbo_package), vendor(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-P1")
    bill = make_invoice(qbo_package, supp, "BILL-P1", kind=DocKind.PURCHASE_INVOICE)

    results = qbo_package.create_payments(
        [receipt(inv, "50.00"),                                          # contact looked up from the invoice
         receipt(bill, "120.00", contact_id=supp, kind=DocKind.PURCHASE_INVOICE)], key())
    assert len(results) == 2 and all(r.ok for r in results), [r.messages for r in results]

    payments = {p.kind: p for p in all_payments(qbo_package)}
    got = payments["receipt"]
    assert got.remote_id == results[0].remote_id
    assert got.amount == Decimal("50.00") and got.unapplied == Decimal("0.00")
    assert got.allocations[0].document_remote_id == inv and got.allocations[0].document_number == "INV-P1"
    assert got.allocations[0].amount == Decimal("50.00")
    assert got.bank_account_id == BANK_ID and got.bank_account_code == "1200"
    assert got.contact_remote_id == cust and got.contact_name == "Acme Garden Supplies"
    assert got.date == date(2026, 1, 20) and got.status == "AUTHORISED" and got.currency == "GBP"
    assert got.updated_at.tzinfo == UTC
    paid = payments["supplier_payment"]
    assert paid.allocations[0].document_number == "BILL-P1" and paid.amount == Decimal("120.00")
    assert qbo_package.find_document(DocKind.SALES_INVOICE, "INV-P1").amount_due == Decimal("70.00")
    assert qbo_package.find_document(DocKind.PURCHASE_INVOICE, "BILL-P1").status == "PAID"


def test_an_overpayment_shows_as_unapplied(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-OVER", net="10.00")       # 12.00 gross
    qb = qbo_sandbox.bookkeeper()
    bookkeeper_post(qb, "Payment", {"CustomerRef": {"value": cust}, "TotalAmt": "20.00",
                                    "Line": [{"Amount": "12.00", "LinkedTxn": [{"TxnId": inv, "TxnType": "Invoice"}]}]})
    [got] = all_payments(qbo_package)
    assert got.amount == Decimal("20.00") and got.unapplied == Decimal("8.00")
    assert [a.amount for a in got.allocations] == [Decimal("12.00")]


def test_credit_memo_applications_never_come_back(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-CM", net="100.00")          # 120.00
    memo = make_invoice(qbo_package, cust, "CM-1", net="25.00", kind=DocKind.SALES_CREDIT)   # 30.00
    memo2 = make_invoice(qbo_package, cust, "CM-2", net="10.00", kind=DocKind.SALES_CREDIT)  # 12.00
    qb = qbo_sandbox.bookkeeper()
    # Applying a credit note to an invoice: a Payment of 0 with an Invoice line and a CreditMemo line.
    credit_only = bookkeeper_post(qb, "Payment", {"CustomerRef": {"value": cust}, "TotalAmt": "0", "Line": [
        {"Amount": "30.00", "LinkedTxn": [{"TxnId": inv, "TxnType": "Invoice"}]},
        {"Amount": "30.00", "LinkedTxn": [{"TxnId": memo, "TxnType": "CreditMemo"}]}]})
    # Cash plus a credit note: only the cash is a receipt for KCC.
    mixed = bookkeeper_post(qb, "Payment", {"CustomerRef": {"value": cust}, "TotalAmt": "50.00", "Line": [
        {"Amount": "62.00", "LinkedTxn": [{"TxnId": inv, "TxnType": "Invoice"}]},
        {"Amount": "12.00", "LinkedTxn": [{"TxnId": memo2, "TxnType": "CreditMemo"}]}]})

    payments = all_payments(qbo_package)

    assert credit_only["Id"] not in {p.remote_id for p in payments}
    [got] = payments
    assert got.remote_id == mixed["Id"] and got.amount == Decimal("50.00")
    assert [(a.document_remote_id, a.amount) for a in got.allocations] == [(inv, Decimal("50.00"))]
    assert got.allocations and all(a.document_number != "CM-2" for a in got.allocations)


def test_pages_follow_startposition_and_maxresults(qbo_sandbox, vtime):
    sign_in(qbo_sandbox)
    package = make_package(qbo_sandbox, vtime, page_size=2)
    cust = customer(package)
    inv = make_invoice(package, cust, "INV-PAGES", net="1000.00")
    results = package.create_payments([receipt(inv, f"{n}.00", contact_id=cust) for n in range(1, 6)], key())
    assert len(results) == 5 and all(r.ok for r in results)

    pages = list(package.list_payments(None))

    assert [len(p.payments) for p in pages] == [2, 2, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    assert [p.amount for page in pages for p in page.payments] == [Decimal(f"{n}.00") for n in range(1, 6)]


def test_only_payments_changed_since_the_watermark(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-W", net="1000.00")
    [old] = qbo_package.create_payments([receipt(inv, "10.00", contact_id=cust)], key())
    watermark = qbo_sandbox.clock.advance(minutes=5)
    qbo_sandbox.clock.advance(seconds=1)
    [new] = qbo_package.create_payments([receipt(inv, "20.00", contact_id=cust)], key())

    since = all_payments(qbo_package, watermark)

    assert [p.remote_id for p in since] == [new.remote_id]
    assert since[0].updated_at > watermark
    assert {p.remote_id for p in all_payments(qbo_package)} == {old.remote_id, new.remote_id}


def test_a_deleted_payment_comes_back_as_deleted(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-DEL")
    [made] = qbo_package.create_payments([receipt(inv, "30.00", contact_id=cust)], key())
    watermark = qbo_sandbox.clock.advance(minutes=5)
    qbo_sandbox.clock.advance(seconds=1)
    qb = qbo_sandbox.bookkeeper()
    row = qb.get_single_object("Payment", made.remote_id)["Payment"]
    qb.delete_object("Payment", json.dumps({"Id": row["Id"], "SyncToken": row["SyncToken"]}))

    since = all_payments(qbo_package, watermark)

    deleted = [p for p in since if p.remote_id == made.remote_id]
    assert len(deleted) == 1 and deleted[0].status == "DELETED"
    assert deleted[0].allocations == () and deleted[0].updated_at >= watermark
    assert qbo_sandbox.count("/cdc", method="GET") == 1


def test_a_watermark_older_than_cdc_allows_is_clamped(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-OLD")
    [made] = qbo_package.create_payments([receipt(inv, "5.00", contact_id=cust)], key())
    ancient = datetime(2020, 1, 1, tzinfo=UTC)
    assert [p.remote_id for p in all_payments(qbo_package, ancient)] == [made.remote_id]


def test_credit_note_allocations_are_not_sent(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    memo = make_invoice(qbo_package, cust, "CM-X", kind=DocKind.SALES_CREDIT)
    before = qbo_sandbox.api_requests()
    [result] = qbo_package.create_payments([receipt(memo, "10.00", contact_id=cust, kind=DocKind.SALES_CREDIT)],
                                           key())
    assert not result.ok and "not sent to QuickBooks" in result.messages[0]
    assert qbo_sandbox.api_requests() == before


@pytest.mark.parametrize("page_size", [1000])
def test_no_payments_is_one_empty_last_page(qbo_package, page_size):
    pages = list(qbo_package.list_payments(datetime.now(UTC) - timedelta(days=1)))
    assert len(pages) == 1 and pages[0].payments == [] and pages[0].has_more is False
    assert qbo_package.page_size == page_size


def test_bank_account_given_by_id_or_by_account_number(qbo_package):
    cust = customer(qbo_package)
    inv = make_invoice(qbo_package, cust, "INV-BANK", net="100.00")
    by_id, by_number = receipt(inv, "1.00", contact_id=cust), receipt(inv, "2.00", contact_id=cust)
    by_id.bank_account_id, by_id.bank_account_code = "", BANK_ID
    by_number.bank_account_id, by_number.bank_account_code = "", "1200"
    results = qbo_package.create_payments([by_id, by_number], key())
    assert len(results) == 2 and all(r.ok for r in results), [r.messages for r in results]
    assert {p.bank_account_id for p in all_payments(qbo_package)} == {BANK_ID}


def test_invoice_numbers_of_a_page_are_looked_up_in_one_query(qbo_package, qbo_sandbox):
    """120 payments of 120 invoices: one Payment page, one Invoice look-up (an IN-list of 120 ids, not
    100 + 20), one BillPayment page."""
    cust = customer(qbo_package)
    docs = [invoice(f"INV-L{n:03d}", cust, net="10.00") for n in range(120)]
    ids = []
    for n in range(0, len(docs), 30):
        results = qbo_package.create_documents(docs[n:n + 30], key())
        assert results and all(r.ok for r in results)
        ids += [r.remote_id for r in results]
    for n in range(0, len(ids), 30):
        paid = qbo_package.create_payments([receipt(i, "12.00", contact_id=cust) for i in ids[n:n + 30]], key())
        assert paid and all(r.ok for r in paid)
    all_payments(qbo_package)                      # reads the company's base currency and accounts once
    before = qbo_sandbox.count("/query")

    got = all_payments(qbo_package)

    assert len(got) == 120 and {p.allocations[0].document_number for p in got} == {d.number for d in docs}
    assert qbo_sandbox.count("/query") - before == 3
