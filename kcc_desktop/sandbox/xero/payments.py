"""Money movements: payments (and their deletion), and allocations of credit notes, overpayments and
prepayments to invoices (the bank transactions that create overpayments and prepayments: ``banking.py``).

As in Xero, allocating a credit note, an overpayment or a prepayment to an invoice is not a Payment; only
cash leaving or entering the bank is. A refund of one is a Payment of type ARCREDITPAYMENT /
AROVERPAYMENTPAYMENT / ARPREPAYMENTPAYMENT (AP* for suppliers).

Payments and allocations are refused on or before a lock date. A payment on a document in another
currency is in that currency, at the rate sent or the day rate; ``BankAmount`` is what reached the bank.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..json_types import JSONObject, Record
from .books import CreditCollection, SettledCollection, XeroBooks
from .documents import CREDIT_NOTE, INVOICE, ZERO, find_document, payments_of, refresh_amounts
from .masters import Ctx, find
from .organisation import base_currency, day_rate, lock_error
from .serial import money, new_id, parse_date, to_decimal

_SOURCE_KEY: dict[CreditCollection, str] = {"credit_notes": "CreditNoteID", "overpayments": "OverpaymentID",
                                            "prepayments": "PrepaymentID"}
_SOURCE_LABEL: dict[CreditCollection, str] = {"credit_notes": "Credit Note", "overpayments": "Overpayment",
                                              "prepayments": "Prepayment"}
# What a payment keeps of the document it settles: (member name, id key).
_LINKS: dict[SettledCollection, tuple[str, str]] = {
    "invoices": ("Invoice", "InvoiceID"), "credit_notes": ("CreditNote", "CreditNoteID"),
    "overpayments": ("Overpayment", "OverpaymentID"), "prepayments": ("Prepayment", "PrepaymentID")}
EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                 "ACCPAYCREDIT": "APCREDITPAYMENT", "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT",
                 "SPEND-OVERPAYMENT": "APOVERPAYMENTPAYMENT", "RECEIVE-PREPAYMENT": "ARPREPAYMENTPAYMENT",
                 "SPEND-PREPAYMENT": "APPREPAYMENTPAYMENT"}
# Which invoices a credit can be allocated to.
ALLOCATES_TO = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY", "RECEIVE-OVERPAYMENT": "ACCREC",
                "SPEND-OVERPAYMENT": "ACCPAY", "RECEIVE-PREPAYMENT": "ACCREC", "SPEND-PREPAYMENT": "ACCPAY"}


def bank_account(books: XeroBooks, ref: JSONObject | None, errors: list[str]) -> Record | None:
    ref = ref or {}
    key = ref.get("AccountID") or ref.get("Code")
    if not key:
        errors.append("Account code or ID must be specified")
        return None
    acc = books["accounts"].get(key) or find(books["accounts"], key, "Code")
    if acc is None:
        errors.append("Account could not be found")
    elif acc["Status"] != "ACTIVE":
        errors.append(f"Account code '{acc['Code']}' has been archived, or has been deleted.")
    elif not (acc["Type"] == "BANK" or acc.get("EnablePaymentsToAccount")):
        errors.append("Payments can only be made to or from bank accounts, or accounts with "
                      "'Enable payments to this account' ticked.")
    else:
        return acc
    return None


def _amount(el: JSONObject, errors: list[str]) -> Decimal | None:
    try:
        amount = to_decimal(el.get("Amount"))
    except ValueError as exc:
        errors.append(str(exc))
        return None
    if amount is None or amount <= 0:
        errors.append("Payment amount must be greater than zero")
        return None
    return money(amount)


def refresh_credit(books: XeroBooks, coll: CreditCollection, op: Record, now: datetime) -> None:
    """An overpayment's or prepayment's applied amount, remaining credit and status."""
    link, key = _LINKS[coll]
    refunds: list[Decimal] = [p["Amount"] for p in payments_of(books, op, link, key)
                              if p["Status"] == "AUTHORISED"]
    allocated: list[Decimal] = [a["Amount"] for a in op["Allocations"]]
    refunded, applied = sum(refunds, ZERO), sum(allocated, ZERO)
    op["AppliedAmount"] = applied
    op["RemainingCredit"] = op["Total"] - applied - refunded
    status = "PAID" if op["RemainingCredit"] <= 0 else "AUTHORISED"
    if status != op["Status"]:
        op["Status"], op["UpdatedDateUTC"] = status, now


def refresh_target(books: XeroBooks, coll: SettledCollection, doc: Record, now: datetime) -> None:
    if coll in ("overpayments", "prepayments"):
        refresh_credit(books, "prepayments" if coll == "prepayments" else "overpayments", doc, now)
    else:
        refresh_amounts(books, INVOICE if coll == "invoices" else CREDIT_NOTE, doc, now)


def _target(books: XeroBooks, el: JSONObject, errors: list[str]) -> tuple[SettledCollection, Record] | None:
    """The document a payment settles: an invoice, a credit note (refund) or an overpayment (refund)."""
    coll: SettledCollection
    if el.get("Invoice"):
        ref = el["Invoice"].get("InvoiceID") or el["Invoice"].get("InvoiceNumber")
        doc = find_document(books, INVOICE, ref)
        coll, label = "invoices", "Invoice"
    elif el.get("CreditNote"):
        ref = el["CreditNote"].get("CreditNoteID") or el["CreditNote"].get("CreditNoteNumber")
        doc = find_document(books, CREDIT_NOTE, ref)
        coll, label = "credit_notes", "Credit Note"
    elif el.get("Overpayment"):
        doc = books["overpayments"].get(el["Overpayment"].get("OverpaymentID") or "")
        coll, label = "overpayments", "Overpayment"
    elif el.get("Prepayment"):
        doc = books["prepayments"].get(el["Prepayment"].get("PrepaymentID") or "")
        coll, label = "prepayments", "Prepayment"
    else:
        errors.append("You must specify either an Invoice, Credit Note, Prepayment or Overpayment for the payment")
        return None
    if doc is None:
        errors.append(f"{label} could not be found")
        return None
    return coll, doc


def save_payment(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    """PUT/POST /Payments: create one; POST /Payments/{id} {"Status": "DELETED"} deletes one."""
    pid = ctx.path_id or el.get("PaymentID")
    if pid and not ctx.create_only:
        return delete_payment(books, pid, el, ctx)
    errors: list[str] = []
    target = _target(books, el, errors)
    account = bank_account(books, el.get("Account"), errors)
    amount = _amount(el, errors)
    try:
        date = parse_date(el.get("Date")) or ctx.now.date()
    except ValueError as exc:
        errors.append(str(exc))
        date = None
    if target:
        coll, doc = target
        if doc["Status"] not in ("AUTHORISED", "PAID"):
            errors.append("Payments can only be made against Authorised documents")
        elif amount is not None:
            due = doc["AmountDue"] if coll == "invoices" else doc["RemainingCredit"]
            if amount > due:
                errors.append(EXCEEDS)
    locked = lock_error(books, date, "payment")
    if locked:
        errors.append(locked)
    if errors or target is None or account is None or amount is None:
        return None, errors
    coll, doc = target
    rate, bank_amount = _in_the_bank(books, doc, account, amount, el, errors)
    if errors:
        return None, errors
    link = _LINKS[coll]
    rec: Record = {
        "PaymentID": new_id(), "Date": date, "Amount": amount, "BankAmount": bank_amount, "CurrencyRate": rate,
        "Reference": el.get("Reference", ""), "IsReconciled": bool(el.get("IsReconciled", False)),
        "Status": "AUTHORISED", "PaymentType": PAYMENT_TYPES[doc["Type"]], "UpdatedDateUTC": ctx.now,
        "Account": {"AccountID": account["AccountID"], "Code": account["Code"]},
        link[0]: _link(doc, link[1]), "HasAccount": True, "HasValidationErrors": False,
    }
    books["payments"][rec["PaymentID"]] = rec
    doc.setdefault("_payments", []).append(rec["PaymentID"])
    refresh_target(books, coll, doc, ctx.now)
    doc["UpdatedDateUTC"] = ctx.now
    return rec, []


def _in_the_bank(books: XeroBooks, doc: Record, account: Record, amount: Decimal, el: JSONObject,
                 errors: list[str]) -> tuple[Decimal, Decimal]:
    """(CurrencyRate, BankAmount): a payment is in its document's currency, at the rate sent or the day
    rate; a bank account in the base currency receives the converted amount (spec, Payment.BankAmount)."""
    currency = doc.get("CurrencyCode") or base_currency(books)
    base = base_currency(books)
    if currency == base:
        return Decimal("1"), amount
    try:
        given = to_decimal(el.get("CurrencyRate"))
    except ValueError as exc:
        errors.append(str(exc))
        given = None
    rate = given if given is not None and given > 0 else day_rate(books, currency)
    bank_currency = account.get("CurrencyCode") or base
    if bank_currency == currency:
        return rate, amount
    if bank_currency != base:
        errors.append(f"A payment in {currency} must go through a bank account in {currency} or {base}.")
    return rate, money(amount / rate)


def _link(doc: Record, key: str) -> Record:
    """What a payment keeps of its document, so ``where`` can filter on Invoice.InvoiceNumber etc."""
    out = {key: doc[key], "Type": doc["Type"],
           "Contact": {"ContactID": doc["Contact"]["ContactID"], "Name": doc["Contact"]["Name"]}}
    for number in ("InvoiceNumber", "CreditNoteNumber"):
        if doc.get(number):
            out[number] = doc[number]
    return out


def payment_target(books: XeroBooks, pay: Record) -> tuple[SettledCollection, Record | None] | None:
    """The collection and document a payment settled (the document None if it is gone)."""
    for coll, (key, idk) in _LINKS.items():
        if pay.get(key):
            return coll, books[coll].get(pay[key][idk])
    return None


def delete_payment(books: XeroBooks, pid: str, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    pay = books["payments"].get(pid)
    if pay is None:
        return None, ["Payment could not be found"]
    if el.get("Status") != "DELETED":
        return None, ["Payments can only be deleted: send Status DELETED"]
    if pay["Status"] == "DELETED":
        return None, ["This payment has already been deleted"]
    locked = lock_error(books, pay["Date"], "payment")
    if locked:
        return None, [locked]
    pay["Status"], pay["UpdatedDateUTC"] = "DELETED", ctx.now
    target = payment_target(books, pay)
    if target is not None and target[1] is not None:
        coll, doc = target[0], target[1]
        refresh_target(books, coll, doc, ctx.now)
        doc["UpdatedDateUTC"] = ctx.now  # the invoice owes money again: it changed too
    return pay, []


def allocate(books: XeroBooks, coll: CreditCollection, source_id: str, el: JSONObject,
             ctx: Ctx) -> tuple[Record | None, list[str]]:
    """PUT /CreditNotes|Overpayments|Prepayments/{id}/Allocations: apply credit to an invoice."""
    source = (find_document(books, CREDIT_NOTE, source_id) if coll == "credit_notes"
              else books[coll].get(source_id))
    if source is None:
        return None, [f"{_SOURCE_LABEL[coll]} could not be found"]
    errors: list[str] = []
    inv_ref = (el.get("Invoice") or {}).get("InvoiceID") or (el.get("Invoice") or {}).get("InvoiceNumber")
    inv = find_document(books, INVOICE, inv_ref)
    amount = _amount(el, errors)
    try:
        date = parse_date(el.get("Date")) or ctx.now.date()
    except ValueError as exc:
        errors.append(str(exc))
        date = None
    if inv is None:
        errors.append("Invoice could not be found")
    if source["Status"] != "AUTHORISED":
        errors.append("Only authorised credit can be allocated" if source["Status"] != "PAID"
                      else "The amount allocated exceeds the remaining credit")
    if inv is not None:
        if inv["Type"] != ALLOCATES_TO[source["Type"]]:
            errors.append("The document type cannot be allocated this credit")
        elif inv["Contact"]["ContactID"] != source["Contact"]["ContactID"]:
            errors.append("The credit and the invoice must be for the same contact")
        elif inv["Status"] != "AUTHORISED":
            errors.append("Allocations can only be made against Authorised documents")
        elif amount is not None and amount > inv["AmountDue"]:
            errors.append(EXCEEDS)
        elif inv.get("CurrencyCode") != source.get("CurrencyCode"):
            errors.append("The credit and the invoice must be in the same currency")
    locked = lock_error(books, date, "allocation")
    if locked:
        errors.append(locked)
    if amount is not None and source["Status"] == "AUTHORISED" and amount > source["RemainingCredit"]:
        errors.append("The amount allocated exceeds the remaining credit")
    if errors or inv is None:
        return None, errors
    alloc: Record = {"AllocationID": new_id(), "Amount": amount, "Date": date, "IsDeleted": False,
             "Invoice": {"InvoiceID": inv["InvoiceID"]}}
    source["Allocations"].append(alloc)
    inv.setdefault("_credits", []).append([coll, source[_SOURCE_KEY[coll]]])
    refresh_target(books, coll, source, ctx.now)
    refresh_amounts(books, INVOICE, inv, ctx.now)
    source["UpdatedDateUTC"] = inv["UpdatedDateUTC"] = ctx.now
    return alloc, []
