"""Xero overpayments come back through ``list_payments``; refunds of overpayments never do.

In Xero, money beyond an invoice is a RECEIVE-OVERPAYMENT bank transaction creating an Overpayment,
then allocated to the invoice; it never shows in GET /Payments. A bookkeeper records them here through
xero-python over HTTP, exactly as in Xero, and the connector reads them back over HTTP.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    Contact,
    LineAmountTypes,
    LineItem,
    Overpayment,
    Payment,
    Payments,
)

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, LineIn

D = Decimal
ON = date(2026, 3, 2)


@pytest.fixture
def bookkeeper(sandbox):
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

    return XeroBookkeeper(xero_sdk_client(sandbox.urls, xero_login(sandbox.urls)))


def _invoice(package, contact_id: str, number: str, kind=DocKind.SALES_INVOICE, account="200", tax="OUTPUT2"):
    [r] = package.create_documents([DocumentIn(
        number, kind, number, contact_id, "", ON, ON, "GBP",
        [LineIn("Widgets", D(1), D("100.00"), account, tax)])], f"doc-{number}")
    assert r.ok, r.messages
    return r.remote_id


def _all(package, since):
    return {p.remote_id: p for page in package.list_payments(since) for p in page.payments}


def test_an_overpayment_is_listed_with_its_allocation_bank_and_what_remains(package, sandbox, bookkeeper):
    [cust] = package.upsert_contacts([ContactIn(key="c", name="Overpaying Ltd")], "op-cust")
    inv = _invoice(package, cust.remote_id, "OP-1001")                  # 120.00 with VAT
    start = datetime.now(UTC) - timedelta(seconds=5)
    op = bookkeeper.receive_overpayment(cust.remote_id, D("145.00"), ON, "Paid too much")
    bookkeeper.allocate_overpayment(op, inv, D("120.00"), ON)
    # 5.00 of the rest goes back to the customer: an AROVERPAYMENTPAYMENT, money going the other way.
    api, tenant = bookkeeper.client.accounting, bookkeeper.client.tenant_id
    refund = api.create_payments(tenant, Payments(payments=[Payment(
        overpayment=Overpayment(overpayment_id=op), account=Account(code="090"), amount=D("5.00"), date=ON)]),
        summarize_errors=False).payments[0]
    assert refund.payment_type == "AROVERPAYMENTPAYMENT" and not refund.validation_errors
    before = {k: sandbox.count(k) for k in ("GET /Payments", "GET /Overpayments", "GET /BankTransactions")}

    got = _all(package, start)

    assert set(got) == {f"overpayment:{op}"}               # the refund is not a receipt: left out
    p = got[f"overpayment:{op}"]
    assert (p.kind, p.amount, p.unapplied, p.status, p.date) == ("receipt", D("145.00"), D("20.00"), "AUTHORISED", ON)
    assert [(a.document_remote_id, a.document_number, a.amount) for a in p.allocations] == [
        (inv, "OP-1001", D("120.00"))]
    assert (p.bank_account_code, p.contact_remote_id, p.contact_name) == ("090", cust.remote_id, "Overpaying Ltd")
    assert p.currency == "GBP" and p.reference == "Paid too much" and p.updated_at.tzinfo is not None
    assert p.bank_account_id                               # the bank transaction's account, read by its id
    # One page of payments, one of overpayments (pageCount says there is no more), one bank look-up.
    assert {k: sandbox.count(k) - n for k, n in before.items()} == \
        {"GET /Payments": 1, "GET /Overpayments": 1, "GET /BankTransactions": 1}


def test_a_later_allocation_lists_the_overpayment_again(package, sandbox, bookkeeper):
    [cust] = package.upsert_contacts([ContactIn(key="c", name="Twice Allocated Ltd")], "op2-cust")
    first, second = _invoice(package, cust.remote_id, "OP-2001"), _invoice(package, cust.remote_id, "OP-2002")
    op = bookkeeper.receive_overpayment(cust.remote_id, D("150.00"), ON)
    bookkeeper.allocate_overpayment(op, first, D("120.00"), ON)
    seen = _all(package, None)[f"overpayment:{op}"]
    assert seen.unapplied == D("30.00")

    bookkeeper.allocate_overpayment(op, second, D("30.00"), ON)
    again = _all(package, seen.updated_at)

    assert list(again) == [f"overpayment:{op}"] and again[f"overpayment:{op}"].updated_at > seen.updated_at
    assert [(a.document_number, a.amount) for a in again[f"overpayment:{op}"].allocations] == \
        [("OP-2001", D("120.00")), ("OP-2002", D("30.00"))]
    assert again[f"overpayment:{op}"].unapplied == 0


def test_a_supplier_overpayment_is_a_supplier_payment(package, sandbox, bookkeeper):
    [sup] = package.upsert_contacts([ContactIn(key="s", name="Overpaid Supplies", is_customer=False,
                                               is_supplier=True)], "op-sup")
    api, tenant = bookkeeper.client.accounting, bookkeeper.client.tenant_id
    tx = api.create_bank_transactions(tenant, BankTransactions(bank_transactions=[BankTransaction(
        type="SPEND-OVERPAYMENT", contact=Contact(contact_id=sup.remote_id), bank_account=Account(code="090"),
        date=ON, line_amount_types=LineAmountTypes.NOTAX,
        line_items=[LineItem(description="Paid ahead", line_amount=D("40.00"))])])).bank_transactions[0]

    got = _all(package, None)[f"overpayment:{tx.overpayment_id}"]

    assert (got.kind, got.amount, got.unapplied, got.allocations) == ("supplier_payment", D("40.00"), D("40.00"), ())
    assert got.bank_account_code == "090" and got.contact_name == "Overpaid Supplies"
