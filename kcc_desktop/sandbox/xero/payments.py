"""Money movements: payments (and their deletion), credit-note and overpayment allocations, and
bank transactions that create overpayments.

As in Xero, allocating a credit note or an overpayment to an invoice is not a Payment; only cash
leaving or entering the bank is. A refund of a credit note or an overpayment is a Payment of type
ARCREDITPAYMENT / AROVERPAYMENTPAYMENT (AP* for suppliers).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..json_types import JSONObject, Record
from .books import CreditCollection, SettledCollection, XeroBooks
from .documents import CREDIT_NOTE, INVOICE, ZERO, find_document, payments_of, refresh_amounts
from .masters import Ctx, contact_ref, find, resolve_contact
from .serial import money, new_id, parse_date, to_decimal

_SOURCE_KEY: dict[CreditCollection, str] = {"credit_notes": "CreditNoteID", "overpayments": "OverpaymentID"}
# What a payment keeps of the document it settles: (member name, id key).
_LINKS: dict[SettledCollection, tuple[str, str]] = {
    "invoices": ("Invoice", "InvoiceID"), "credit_notes": ("CreditNote", "CreditNoteID"),
    "overpayments": ("Overpayment", "OverpaymentID")}
EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                 "ACCPAYCREDIT": "APCREDITPAYMENT", "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT",
                 "SPEND-OVERPAYMENT": "APOVERPAYMENTPAYMENT"}
# Which invoices a credit can be allocated to.
ALLOCATES_TO = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY",
                "RECEIVE-OVERPAYMENT": "ACCREC", "SPEND-OVERPAYMENT": "ACCPAY"}


def _bank_account(books: XeroBooks, ref: JSONObject | None, errors: list[str]) -> Record | None:
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


def refresh_overpayment(books: XeroBooks, op: Record, now: datetime) -> None:
    refunds: list[Decimal] = [p["Amount"] for p in payments_of(books, op, "Overpayment", "OverpaymentID")
                              if p["Status"] == "AUTHORISED"]
    allocated: list[Decimal] = [a["Amount"] for a in op["Allocations"]]
    refunded, applied = sum(refunds, ZERO), sum(allocated, ZERO)
    op["AppliedAmount"] = applied
    op["RemainingCredit"] = op["Total"] - applied - refunded
    status = "PAID" if op["RemainingCredit"] <= 0 else "AUTHORISED"
    if status != op["Status"]:
        op["Status"], op["UpdatedDateUTC"] = status, now


def refresh_target(books: XeroBooks, coll: SettledCollection, doc: Record, now: datetime) -> None:
    if coll == "overpayments":
        refresh_overpayment(books, doc, now)
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
    account = _bank_account(books, el.get("Account"), errors)
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
    if errors or target is None or account is None:
        return None, errors
    coll, doc = target
    link = _LINKS[coll]
    rec: Record = {
        "PaymentID": new_id(), "Date": date, "Amount": amount, "BankAmount": amount, "CurrencyRate": Decimal("1"),
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
    pay["Status"], pay["UpdatedDateUTC"] = "DELETED", ctx.now
    target = payment_target(books, pay)
    if target is not None and target[1] is not None:
        coll, doc = target[0], target[1]
        refresh_target(books, coll, doc, ctx.now)
        doc["UpdatedDateUTC"] = ctx.now  # the invoice owes money again: it changed too
    return pay, []


def allocate(books: XeroBooks, coll: CreditCollection, source_id: str, el: JSONObject,
             ctx: Ctx) -> tuple[Record | None, list[str]]:
    """PUT /CreditNotes/{id}/Allocations or /Overpayments/{id}/Allocations: apply credit to an invoice."""
    source = (find_document(books, CREDIT_NOTE, source_id) if coll == "credit_notes"
              else books["overpayments"].get(source_id))
    if source is None:
        return None, [f"{'Credit Note' if coll == 'credit_notes' else 'Overpayment'} could not be found"]
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


def save_bank_transaction(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    """Only what overpayments need: RECEIVE-/SPEND-OVERPAYMENT create an Overpayment of the total."""
    errors: list[str] = []
    typ = el.get("Type")
    if typ not in ("RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT"):
        return None, [f"Bank transaction type '{typ}' is not supported by the sandbox "
                      "(RECEIVE-OVERPAYMENT and SPEND-OVERPAYMENT are)"]
    contact, contact_errors = resolve_contact(books, el.get("Contact"), ctx)
    errors += contact_errors
    bank = _bank_account(books, el.get("BankAccount"), errors)
    lines = []
    for raw in el.get("LineItems") or []:
        try:
            qty = to_decimal(raw.get("Quantity")) or Decimal(1)
            unit = to_decimal(raw.get("UnitAmount"))
            amount = money(qty * unit) if unit is not None else money(to_decimal(raw.get("LineAmount")) or ZERO)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        lines.append({"LineItemID": new_id(), "Description": raw.get("Description", ""), "Quantity": qty,
                      "UnitAmount": amount / qty if qty else amount, "LineAmount": amount,
                      "TaxAmount": ZERO, "TaxType": "NONE", "Tracking": []})
    amounts: list[Decimal] = [line["LineAmount"] for line in lines]
    total = sum(amounts, ZERO)
    if total <= 0:
        errors.append("An overpayment must be for an amount greater than zero")
    try:
        date = parse_date(el.get("Date")) or ctx.now.date()
    except ValueError as exc:
        errors.append(str(exc))
        date = None
    if errors or contact is None or bank is None:
        return None, errors
    op_type = typ
    overpayment: Record = {
        "OverpaymentID": new_id(), "Type": op_type, "Contact": contact_ref(contact), "Date": date,
        "Status": "AUTHORISED", "LineAmountTypes": "NoTax", "LineItems": lines, "SubTotal": total,
        "TotalTax": ZERO, "Total": total, "RemainingCredit": total, "AppliedAmount": ZERO, "Allocations": [],
        "CurrencyCode": "GBP", "CurrencyRate": Decimal("1"), "HasAttachments": False, "UpdatedDateUTC": ctx.now,
        "Reference": el.get("Reference", ""), "_payments": [],
    }
    tx: Record = {
        "BankTransactionID": new_id(), "Type": typ, "Contact": contact_ref(contact), "Date": date,
        "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]},
        "Status": "AUTHORISED", "LineAmountTypes": "NoTax", "LineItems": lines, "SubTotal": total,
        "TotalTax": ZERO, "Total": total, "IsReconciled": False, "CurrencyCode": "GBP", "HasAttachments": False,
        "Reference": el.get("Reference", ""), "UpdatedDateUTC": ctx.now,
        "OverpaymentID": overpayment["OverpaymentID"],
    }
    books["overpayments"][overpayment["OverpaymentID"]] = overpayment
    books["bank_transactions"][tx["BankTransactionID"]] = tx
    return tx, []
