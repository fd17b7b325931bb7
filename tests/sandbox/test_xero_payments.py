"""Payments, deletions, credit-note and overpayment allocations, as a bookkeeper records them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from xero_python.accounting import Account, CreditNote, Invoice, Overpayment, Payment, Payments
from xero_python.exceptions import AccountingBadRequestException

from kcc_desktop.sandbox.testing import XeroBookkeeper, sandbox_call

from .xero_builders import TODAY, D, contact, create_invoice, credit_note, line


@pytest.fixture
def keeper(xero):
    return XeroBookkeeper(xero)


def _inv(xero, api_tid=None, amount="100.00", **kw):
    return create_invoice(xero, contact(xero, kw.pop("who", "Acme Ltd")), lines=[line(unit=amount)], **kw)


def test_full_payment_marks_paid(xero, keeper):
    inv = _inv(xero)  # 120.00 with VAT
    pid = keeper.pay(inv.invoice_id, "120.00", TODAY, reference="BACS 1")
    got = xero.accounting.get_invoice(xero.tenant_id, inv.invoice_id).invoices[0]
    assert got.status == "PAID" and got.amount_due == 0 and got.amount_paid == D("120.00")
    assert got.fully_paid_on_date is not None and [str(p.payment_id) for p in got.payments] == [pid]
    pay = xero.accounting.get_payment(xero.tenant_id, pid).payments[0]
    assert pay.payment_type == "ACCRECPAYMENT" and pay.status == "AUTHORISED" and pay.amount == D("120.00")
    assert pay.invoice.invoice_id == inv.invoice_id and pay.account.code == "090"


def test_part_payment_then_too_much_is_refused(xero, keeper):
    inv = _inv(xero)
    keeper.pay(inv.invoice_id, "20.50", TODAY)
    got = xero.accounting.get_invoice(xero.tenant_id, inv.invoice_id).invoices[0]
    assert got.status == "AUTHORISED" and got.amount_due == D("99.50") and got.amount_paid == D("20.50")
    with pytest.raises(AccountingBadRequestException) as exc:
        xero.accounting.create_payment(xero.tenant_id, Payment(
            invoice=Invoice(invoice_id=inv.invoice_id), account=Account(code="090"), amount=D("99.51"), date=TODAY))
    assert exc.value.reason == "Payment amount exceeds the amount outstanding on this document"


def test_batch_of_payments_one_per_invoice(xero, keeper):
    cid = contact(xero)
    a = create_invoice(xero, cid, lines=[line(unit="10.00")])
    b = create_invoice(xero, cid, lines=[line(unit="20.00")])
    ids = keeper.pay_many([(a.invoice_id, "12.00"), (b.invoice_id, "24.00")], TODAY, reference="Remittance 7")
    assert len(set(ids)) == 2
    pays = xero.accounting.get_payments(xero.tenant_id, where='Reference=="Remittance 7"').payments
    assert {p.invoice.invoice_number for p in pays} == {a.invoice_number, b.invoice_number}


def test_payment_on_draft_and_to_non_bank_account_refused(xero):
    inv = _inv(xero, status="DRAFT")
    res = xero.accounting.create_payments(xero.tenant_id, Payments(payments=[
        Payment(invoice=Invoice(invoice_id=inv.invoice_id), account=Account(code="090"), amount=D("1"), date=TODAY),
        Payment(invoice=Invoice(invoice_number="INV-9999"), account=Account(code="090"), amount=D("1"), date=TODAY),
        Payment(invoice=Invoice(invoice_id=inv.invoice_id), account=Account(code="200"), amount=D("1"), date=TODAY),
    ]), summarize_errors=False).payments
    messages = [p.validation_errors[0].message for p in res]
    assert messages[0] == "Payments can only be made against Authorised documents"
    assert messages[1] == "Invoice could not be found"
    assert messages[2].startswith("Payments can only be made to or from bank accounts")


def test_delete_payment_restores_amount_due(xero, keeper):
    api, tid = xero.accounting, xero.tenant_id
    inv = _inv(xero)
    pid = keeper.pay(inv.invoice_id, "120.00", TODAY)
    before = api.get_payment(tid, pid).payments[0].updated_date_utc
    keeper.delete_payment(pid)
    pay = api.get_payment(tid, pid).payments[0]
    assert pay.status == "DELETED" and pay.updated_date_utc > before
    got = api.get_invoice(tid, inv.invoice_id).invoices[0]
    assert got.status == "AUTHORISED" and got.amount_due == D("120.00") and got.payments == []
    with pytest.raises(AccountingBadRequestException):
        keeper.delete_payment(pid)


def test_payments_query_paging_and_modified_since(xero, xero_urls, keeper):
    api, tid = xero.accounting, xero.tenant_id
    inv = _inv(xero, amount="1000.00")
    ids = keeper.pay_many([(inv.invoice_id, "1.00")], TODAY)
    # Later payments are saved seconds after the first, as If-Modified-Since compares to the second.
    sandbox_call(xero_urls, "advance-clock", {"seconds": 2})
    ids += keeper.pay_many([(inv.invoice_id, "1.00")] * 4, TODAY)
    first = api.get_payment(tid, ids[0]).payments[0].updated_date_utc
    page = api.get_payments(tid, page=2, page_size=2)
    assert len(page.payments) == 2 and page.pagination.item_count == 5 and page.pagination.page_count == 3
    keeper.delete_payment(ids[1])
    changed = api.get_payments(tid, if_modified_since=first)
    assert {str(p.payment_id) for p in changed.payments} == set(ids[1:])
    assert [p.status for p in api.get_payments(tid, where='Status=="DELETED"').payments] == ["DELETED"]
    future = datetime.now(UTC) + timedelta(days=1)
    assert api.get_payments(tid, if_modified_since=future).payments == []


def test_credit_note_allocation_is_not_a_payment(xero, keeper):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[line(unit="100.00")])
    cn = credit_note(xero, cid, amount="30.00")
    assert cn.credit_note_number == "CN-0001" and cn.remaining_credit == D("30.00")
    keeper.allocate_credit_note(cn.credit_note_id, inv.invoice_id, "30.00", TODAY)
    got = api.get_invoice(tid, inv.invoice_id).invoices[0]
    assert got.amount_credited == D("30.00") and got.amount_due == D("90.00") and got.amount_paid == 0
    assert [c.applied_amount for c in got.credit_notes] == [D("30.00")]
    cn_now = api.get_credit_note(tid, cn.credit_note_id).credit_notes[0]
    assert cn_now.status == "PAID" and cn_now.remaining_credit == 0 and len(cn_now.allocations) == 1
    assert api.get_payments(tid).payments == []  # no ACCRECPAYMENT appears for an allocation


def test_credit_note_over_allocation_and_refund(xero, keeper):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[line(unit="10.00")])  # 12.00 due
    cn = credit_note(xero, cid, amount="50.00")
    with pytest.raises(AccountingBadRequestException) as exc:
        keeper.allocate_credit_note(cn.credit_note_id, inv.invoice_id, "13.00", TODAY)
    assert exc.value.reason == "Payment amount exceeds the amount outstanding on this document"
    refund = api.create_payment(tid, Payment(credit_note=CreditNote(credit_note_id=cn.credit_note_id),
                                             account=Account(code="090"), amount=D("50.00"), date=TODAY))
    assert refund.payments[0].payment_type == "ARCREDITPAYMENT"
    assert [p.payment_type for p in api.get_payments(tid).payments] == ["ARCREDITPAYMENT"]


def test_overpayment_received_allocated_and_refunded(xero, keeper):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[line(unit="100.00")])  # 120.00
    keeper.pay(inv.invoice_id, "120.00", TODAY)
    op_id = keeper.receive_overpayment(cid, "30.00", TODAY)  # the customer paid 150 for a 120 invoice
    op = api.get_overpayment(tid, op_id).overpayments[0]
    assert op.type == "RECEIVE-OVERPAYMENT" and op.remaining_credit == D("30.00") and op.status == "AUTHORISED"
    later = create_invoice(xero, cid, lines=[line(unit="20.00")])  # 24.00
    keeper.allocate_overpayment(op_id, later.invoice_id, "24.00", TODAY)
    got = api.get_invoice(tid, later.invoice_id).invoices[0]
    assert got.status == "PAID" and got.amount_credited == D("24.00")
    assert got.overpayments[0].applied_amount == D("24.00")
    refund = api.create_payment(tid, Payment(overpayment=Overpayment(overpayment_id=op_id),
                                             account=Account(code="090"), amount=D("6.00"), date=TODAY))
    assert refund.payments[0].payment_type == "AROVERPAYMENTPAYMENT"
    types = sorted(p.payment_type for p in api.get_payments(tid).payments)
    assert types == ["ACCRECPAYMENT", "AROVERPAYMENTPAYMENT"]
    assert api.get_overpayment(tid, op_id).overpayments[0].status == "PAID"


def test_bill_payment_type(xero, keeper):
    cid = contact(xero, "Supplier Ltd")
    bill = create_invoice(xero, cid, type_="ACCPAY", lines=[line(unit="50.00", account="300", tax="INPUT2")])
    pid = keeper.pay(bill.invoice_id, "60.00", TODAY)
    assert xero.accounting.get_payment(xero.tenant_id, pid).payments[0].payment_type == "ACCPAYPAYMENT"
