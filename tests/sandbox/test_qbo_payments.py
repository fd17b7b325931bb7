"""Recording customer receipts and supplier payments, as a bookkeeper would in QBO."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.base import LinkedTxn
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from tests.helpers.qbo_builders import (
    BANK,
    PURCHASES,
    ZERO_RATED,
    balance,
    expense_line,
    make_credit_memo,
    make_customer,
    make_invoice,
    make_payment,
    make_vendor,
    ref,
    sales_line,
)


@pytest.fixture
def customer(qb):
    return make_customer(qb, "Halifax Homeware")


def test_payment_against_one_invoice_settles_it(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "120.00")])  # 144.00 with VAT
    pay = make_payment(qb, customer, "144.00", [(inv, "144.00")])
    assert pay.TotalAmt == Decimal("144.00") and pay.UnappliedAmt == Decimal("0.00")
    got = Invoice.get(inv.Id, qb=qb)
    assert got.Balance == Decimal("0.00")
    assert [(lt.TxnId, lt.TxnType) for lt in got.LinkedTxn] == [(pay.Id, "Payment")]
    assert got.SyncToken == "1"  # QBO's own change to the invoice bumps SyncToken too
    assert Customer.get(customer.Id, qb=qb).Balance == Decimal("0.00")


def test_payment_across_several_invoices(qb, customer):
    a = make_invoice(qb, customer, [sales_line(1, "50.00", ZERO_RATED)])
    b = make_invoice(qb, customer, [sales_line(1, "70.00", ZERO_RATED)])
    c = make_invoice(qb, customer, [sales_line(1, "30.00", ZERO_RATED)])
    pay = make_payment(qb, customer, "120.00", [(a, "50.00"), (b, "70.00")])
    assert len(pay.Line) == 2 and pay.UnappliedAmt == Decimal("0.00")
    assert (balance(qb, a), balance(qb, b), balance(qb, c)) == (Decimal("0.00"), Decimal("0.00"), Decimal("30.00"))
    assert Customer.get(customer.Id, qb=qb).Balance == Decimal("30.00")


def test_part_payment_leaves_a_balance(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "100.00", ZERO_RATED)])
    make_payment(qb, customer, "40.00", [(inv, "40.00")])
    make_payment(qb, customer, "25.50", [(inv, "25.50")])
    assert balance(qb, inv) == Decimal("34.50")


def test_overpayment_becomes_unapplied_amount(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "100.00", ZERO_RATED)])
    pay = make_payment(qb, customer, "150.00", [(inv, "100.00")])
    assert pay.UnappliedAmt == Decimal("50.00") and balance(qb, inv) == Decimal("0.00")
    assert Customer.get(customer.Id, qb=qb).Balance == Decimal("-50.00")


def test_line_above_the_open_balance_is_refused_not_capped(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "80.00", ZERO_RATED)], doc_number="OVER-1")
    with pytest.raises(QuickbooksException) as err:
        make_payment(qb, customer, "90.00", [(inv, "90.00")])
    assert err.value.error_code == 6000 and "has only 80.00 open" in err.value.detail
    make_payment(qb, customer, "80.00", [(inv, "80.00")])
    # A line against an invoice already paid in full is refused too, never silently dropped.
    with pytest.raises(QuickbooksException) as err:
        make_payment(qb, customer, "5.00", [(inv, "5.00")])
    assert "already paid in full" in err.value.detail
    assert balance(qb, inv) == Decimal("0.00") and Customer.get(customer.Id, qb=qb).Balance == Decimal("0.00")


def test_unlinked_payment_is_all_unapplied(qb, customer):
    pay = make_payment(qb, customer, "25.00")
    assert pay.UnappliedAmt == Decimal("25.00") and pay.Line == []


def test_applied_more_than_received_is_refused(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "100.00", ZERO_RATED)])
    with pytest.raises(QuickbooksException) as err:
        make_payment(qb, customer, "50.00", [(inv, "60.00")])
    assert err.value.error_code == 6000
    assert balance(qb, inv) == Decimal("100.00")


def test_credit_memo_application(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "100.00", ZERO_RATED)])
    cm = make_credit_memo(qb, customer, "30.00")
    # The customer pays 70 and the 30 credit note covers the rest, in one Payment.
    pay = make_payment(qb, customer, "70.00", [(inv, "100.00"), (cm, "30.00")])
    assert pay.UnappliedAmt == Decimal("0.00")
    assert [line.LinkedTxn[0].TxnType for line in pay.Line] == ["Invoice", "CreditMemo"]
    assert balance(qb, inv) == Decimal("0.00")
    from quickbooks.objects.creditmemo import CreditMemo
    assert CreditMemo.get(cm.Id, qb=qb).RemainingCredit == Decimal("0.00")
    # A credit memo can only be used up to what is left on it.
    inv2 = make_invoice(qb, customer, [sales_line(1, "10.00", ZERO_RATED)])
    with pytest.raises(QuickbooksException) as err:
        make_payment(qb, customer, "0", [(inv2, "10.00"), (cm, "10.00")])
    assert err.value.error_code == 6000


def test_deleting_a_payment_reopens_the_invoice(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "60.00", ZERO_RATED)])
    pay = make_payment(qb, customer, "60.00", [(inv, "60.00")])
    assert balance(qb, inv) == Decimal("0.00")
    # The invoice has a payment linked, so it cannot go first.
    current = Invoice.get(inv.Id, qb=qb)
    with pytest.raises(QuickbooksException) as err:
        current.delete(qb=qb)
    assert err.value.error_code == 6000
    result = pay.delete(qb=qb)  # POST /payment?operation=delete
    assert result["Payment"]["status"] == "Deleted" and result["Payment"]["Id"] == pay.Id
    assert balance(qb, inv) == Decimal("60.00")
    assert Invoice.get(inv.Id, qb=qb).LinkedTxn == []
    with pytest.raises(ObjectNotFoundException):
        Payment.get(pay.Id, qb=qb)


def test_payment_update_reapplies(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "60.00", ZERO_RATED)])
    pay = make_payment(qb, customer, "20.00", [(inv, "20.00")])
    r = qb.update_object("Payment", json.dumps({
        "Id": pay.Id, "SyncToken": pay.SyncToken, "sparse": True, "TotalAmt": "60.00",
        "Line": [{"Amount": "60.00", "LinkedTxn": [{"TxnId": inv.Id, "TxnType": "Invoice"}]}]}))
    assert r["Payment"]["SyncToken"] == "1" and Decimal(str(r["Payment"]["UnappliedAmt"])) == 0
    assert balance(qb, inv) == Decimal("0.00")


def test_void_payment_releases_the_invoice(qb, customer):
    inv = make_invoice(qb, customer, [sales_line(1, "60.00", ZERO_RATED)])
    pay = make_payment(qb, customer, "60.00", [(inv, "60.00")])
    pay.void(qb=qb)
    got = Payment.get(pay.Id, qb=qb)
    assert got.TotalAmt == Decimal("0.00") and got.PrivateNote == "Voided"
    assert balance(qb, inv) == Decimal("60.00")


def test_payment_faults(qb, customer):
    other = make_customer(qb, "Someone Else Ltd")
    inv = make_invoice(qb, other, [sales_line(1, "10.00", ZERO_RATED)])
    with pytest.raises(QuickbooksException) as err:
        make_payment(qb, customer, "10.00", [(inv, "10.00")])
    assert err.value.error_code == 6000  # another customer's invoice
    ghost = Invoice()
    ghost.Id = "9999"
    with pytest.raises(ValidationException) as err:
        make_payment(qb, customer, "10.00", [(ghost, "10.00")])
    assert err.value.error_code == 2500


def test_bill_payment_by_cheque(qb):
    v = make_vendor(qb, "Bradford Boxes")
    bill = Bill()
    bill.VendorRef = v.to_ref()
    bill.Line = [expense_line("50.00", PURCHASES)]
    bill = bill.save(qb=qb)
    bp = BillPayment()
    bp.VendorRef = v.to_ref()
    bp.PayType = "Check"
    bp.TotalAmt = "60.00"
    bp.CheckPayment = CheckPayment()
    bp.CheckPayment.BankAccountRef = ref(BANK)
    line = BillPaymentLine()
    line.Amount = "60.00"
    lt = LinkedTxn()
    lt.TxnId, lt.TxnType = bill.Id, "Bill"
    line.LinkedTxn = [lt]
    bp.Line = [line]
    saved = bp.save(qb=qb)
    assert saved.TotalAmt == Decimal("60.00")
    assert Bill.get(bill.Id, qb=qb).Balance == Decimal("0.00")
    assert [lt.TxnType for lt in Bill.get(bill.Id, qb=qb).LinkedTxn] == ["BillPayment"]
