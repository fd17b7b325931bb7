"""Bank transactions that leave credit behind: RECEIVE-/SPEND-OVERPAYMENT create an Overpayment,
RECEIVE-/SPEND-PREPAYMENT a Prepayment, each of the transaction's total, later allocated to invoices.

Neither ever appears in GET /Payments or GET /Overpayments as a payment: a prepayment is read from
GET /Prepayments, with its allocations (spec, Prepayment; BankTransaction.PrepaymentID). A prepayment's
lines may carry VAT (LineAmountTypes Exclusive or Inclusive); an overpayment's never do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..json_types import JSONObject, Record
from .books import CreditCollection, XeroBooks
from .documents import HUNDRED, ZERO, tax_rate
from .masters import Ctx, contact_ref, find, resolve_contact, unknown_tax_type
from .organisation import currency_of, lock_error
from .payments import bank_account
from .serial import money, new_id, parse_date, to_decimal

CREDITS: dict[str, tuple[CreditCollection, str]] = {
    "RECEIVE-OVERPAYMENT": ("overpayments", "OverpaymentID"), "SPEND-OVERPAYMENT": ("overpayments", "OverpaymentID"),
    "RECEIVE-PREPAYMENT": ("prepayments", "PrepaymentID"), "SPEND-PREPAYMENT": ("prepayments", "PrepaymentID")}


def _lines(books: XeroBooks, raws: list[Any], amount_types: str, prepayment: bool,
           errors: list[str]) -> list[Record]:
    lines = []
    for raw in raws:
        raw = raw or {}
        try:
            qty = to_decimal(raw.get("Quantity")) or Decimal(1)
            unit = to_decimal(raw.get("UnitAmount"))
            amount = money(qty * unit) if unit is not None else money(to_decimal(raw.get("LineAmount")) or ZERO)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        tax_type = str(raw.get("TaxType") or "NONE") if prepayment and amount_types != "NoTax" else "NONE"
        if tax_type not in books["tax_rates"]:
            errors.append(unknown_tax_type(tax_type))
            continue
        rate = tax_rate(books, tax_type)
        if amount_types == "Inclusive":
            tax = money(amount * rate / (HUNDRED + rate))
        else:
            tax = money(amount * rate / HUNDRED) if amount_types == "Exclusive" else ZERO
        line: Record = {"LineItemID": new_id(), "Description": raw.get("Description", ""), "Quantity": qty,
                        "UnitAmount": amount / qty if qty else amount, "LineAmount": amount, "TaxAmount": tax,
                        "TaxType": tax_type, "Tracking": [], "_net": amount - tax if amount_types == "Inclusive"
                        else amount}
        code = raw.get("AccountCode")
        if prepayment and code:
            account = find(books["accounts"], code, "Code")
            if account is None:
                errors.append(f"Account code '{code}' is not a valid code for this document.")
            else:
                line["AccountCode"] = account["Code"]
        lines.append(line)
    return lines


def save_bank_transaction(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    """What overpayments and prepayments need: the transaction and the credit it leaves."""
    errors: list[str] = []
    typ = str(el.get("Type") or "")
    if typ not in CREDITS:
        return None, [f"Bank transaction type '{typ}' is not supported by the sandbox "
                      "(RECEIVE-/SPEND-OVERPAYMENT and RECEIVE-/SPEND-PREPAYMENT are)"]
    coll, id_key = CREDITS[typ]
    prepayment = coll == "prepayments"
    contact, contact_errors = resolve_contact(books, el.get("Contact"), ctx)
    errors += contact_errors
    bank = bank_account(books, el.get("BankAccount"), errors)
    amount_types = str(el.get("LineAmountTypes") or ("Exclusive" if prepayment else "NoTax"))
    if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
        errors.append(f"LineAmountTypes '{amount_types}' is not valid")
        amount_types = "NoTax"
    lines = _lines(books, el.get("LineItems") or [], amount_types, prepayment, errors)
    nets: list[Decimal] = [line.pop("_net") for line in lines]
    taxes: list[Decimal] = [line["TaxAmount"] for line in lines]
    sub, tax = sum(nets, ZERO), sum(taxes, ZERO)
    total = sub + tax
    if total <= 0:
        errors.append(f"An {'prepayment' if prepayment else 'overpayment'} must be for an amount greater than zero")
    when: date | None
    try:
        when = parse_date(el.get("Date")) or ctx.now.date()
    except ValueError as exc:
        errors.append(str(exc))
        when = None
    locked = lock_error(books, when, "document")
    if locked:
        errors.append(locked)
    currency, rate = currency_of(books, {"CurrencyCode": el.get("CurrencyCode") or (bank or {}).get("CurrencyCode"),
                                        "CurrencyRate": el.get("CurrencyRate")}, None, errors)
    if errors or contact is None or bank is None:
        return None, errors
    common: Record = {"Type": typ, "Contact": contact_ref(contact), "Date": when, "Status": "AUTHORISED",
                      "LineAmountTypes": amount_types, "LineItems": lines, "SubTotal": sub, "TotalTax": tax,
                      "Total": total, "CurrencyCode": currency, "CurrencyRate": rate, "HasAttachments": False,
                      "UpdatedDateUTC": ctx.now}
    credit: Record = {**common, id_key: new_id(), "RemainingCredit": total, "AppliedAmount": ZERO,
                      "Allocations": [], "_payments": []}
    credit["Reference"] = el.get("Reference", "")
    tx: Record = {**common, "BankTransactionID": new_id(), "IsReconciled": False, "Reference": el.get("Reference", ""),
                  "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]},
                  id_key: credit[id_key]}
    books[coll][credit[id_key]] = credit
    books["bank_transactions"][tx["BankTransactionID"]] = tx
    return tx, []
