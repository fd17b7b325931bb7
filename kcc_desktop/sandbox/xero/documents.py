"""Invoices and credit notes: line maths, validation, numbering and the amounts owed.

Xero taxes and rounds each line, then sums the rounded figures; the sandbox does the same so
a client that totals differently sees the same pennies of difference it would see in Xero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..json_types import JSONObject, Record
from .books import CreditCollection, DocumentCollection, XeroBooks, credit_collection
from .masters import Ctx, contact_ref, find, resolve_contact, unknown_tax_type
from .organisation import approval_error, currency_of, lock_error, note_approval, tax_on_account_error
from .serial import cut, money, new_id, parse_date, to_decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Kind:
    """What differs between invoices and credit notes."""

    coll: DocumentCollection
    id_key: str
    number_key: str
    types: tuple[str, str]  # (sales type, purchase type)
    prefix: str
    label: str

    @property
    def sales_type(self) -> str:
        return self.types[0]

    def is_sales(self, typ: str) -> bool:
        return typ == self.sales_type


INVOICE = Kind("invoices", "InvoiceID", "InvoiceNumber", ("ACCREC", "ACCPAY"), "INV-", "Invoice")
CREDIT_NOTE = Kind("credit_notes", "CreditNoteID", "CreditNoteNumber", ("ACCRECCREDIT", "ACCPAYCREDIT"), "CN-",
                   "Credit Note")

EDITABLE = {"DRAFT", "SUBMITTED", "AUTHORISED"}
STATUS_MOVES = {  # from -> statuses a client may set
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}


def tax_rate(books: XeroBooks, tax_type: str) -> Decimal:
    rate = books["tax_rates"][tax_type]
    components: list[Decimal] = [c["Rate"] for c in rate["TaxComponents"]]
    return sum(components, ZERO)


def _line(books: XeroBooks, kind: Kind, typ: str, status: str, amount_types: str, el: JSONObject, ctx: Ctx,
          errors: list[str]) -> Record:
    """One line: fill from item and account, then price, tax and round it."""
    line: dict[str, Any] = {"LineItemID": el.get("LineItemID") or new_id(), "Tracking": el.get("Tracking") or []}
    sales = kind.is_sales(typ)
    item = None
    if el.get("ItemCode"):
        item = find(books["items"], el["ItemCode"], "Code")
        if item is None:
            errors.append(f"Item code '{el['ItemCode']}' is not valid")
        else:
            line["ItemCode"] = item["Code"]
    details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails") or {}
    description = el.get("Description") or (item or {}).get("Description" if sales else "PurchaseDescription") \
        or (item or {}).get("Name")
    if description:
        line["Description"] = description
    code = el.get("AccountCode")
    account = None
    if el.get("AccountID") and not code:
        account = books["accounts"].get(el["AccountID"])
        code = account["Code"] if account else el["AccountID"]
    if not code:
        tracked_purchase = (item or {}).get("IsTrackedAsInventory") and not sales
        code = details.get("COGSAccountCode" if tracked_purchase else "AccountCode")
    if code:
        account = account or find(books["accounts"], code, "Code")
        if account is None or account["Type"] == "BANK" or account.get("SystemAccount"):
            errors.append(f"Account code '{code}' is not a valid code for this document.")
        elif account["Status"] != "ACTIVE":
            errors.append(f"Account code '{code}' has been archived, or has been deleted. "
                          "Each line item must reference a valid account.")
        else:
            line["AccountCode"], line["AccountID"] = account["Code"], account["AccountID"]
    elif status != "DRAFT":
        errors.append("Account code or ID must be specified")
    tax_type = el.get("TaxType") or details.get("TaxType") or (account or {}).get("TaxType") or "NONE"
    if amount_types == "NoTax":
        tax_type = "NONE"
    if tax_type not in books["tax_rates"]:
        errors.append(unknown_tax_type(tax_type))
        rate = ZERO
    else:
        rate = tax_rate(books, tax_type)
        refused = tax_on_account_error(books, tax_type, account) if account is not None else None
        if refused:
            errors.append(refused)
    line["TaxType"] = tax_type
    # Discounts are "only supported on ACCREC invoices - ACCPAY invoices and credit notes in Xero do not
    # support discounts" (spec, LineItem.DiscountRate / DiscountAmount): elsewhere they are ignored, as a
    # real organisation did with a demo credit note (25.92 where the discount gave 25.27).
    discounts = typ == "ACCREC"
    try:
        qty = to_decimal(el.get("Quantity"))
        unit = to_decimal(el.get("UnitAmount"))
        given_amount = to_decimal(el.get("LineAmount"))
        discount = (to_decimal(el.get("DiscountRate")) or ZERO) if discounts else ZERO
        discount_amount = (to_decimal(el.get("DiscountAmount")) or ZERO) if discounts and not discount else ZERO
    except ValueError as exc:
        errors.append(str(exc))
        return line
    qty = ZERO + (qty if qty is not None else Decimal(1))
    if unit is None:
        unit = details.get("UnitPrice")
    if unit is None and given_amount is not None:
        unit = given_amount / qty if qty else given_amount
    unit = cut(unit if unit is not None else ZERO, ctx.unitdp)
    # LineAmount = Quantity * UnitAmount * ((100 - DiscountRate)/100), or less DiscountAmount (spec, LineAmount)
    amount = money(qty * unit * (1 - discount / HUNDRED) - discount_amount)
    if amount_types == "Inclusive":
        tax = money(amount * rate / (HUNDRED + rate))
        net = amount - tax
    else:
        tax = money(amount * rate / HUNDRED) if amount_types == "Exclusive" else ZERO
        net = amount
    line.update({"Quantity": qty, "UnitAmount": unit, "LineAmount": amount, "TaxAmount": tax, "_net": net})
    if discount:
        line["DiscountRate"] = discount
    if discount_amount:
        line["DiscountAmount"] = discount_amount
    if discount or discount_amount:
        line["_discount"] = money(qty * unit) - amount
    return line


def next_number(books: XeroBooks, kind: Kind) -> str:
    counters = books["counters"]
    while True:
        counters[kind.sales_type] = counters.get(kind.sales_type, 0) + 1
        number = f"{kind.prefix}{counters[kind.sales_type]:04d}"
        if not _number_taken(books, kind, number, None):
            return number


def number_index(books: XeroBooks, kind: Kind) -> dict[str, list[str]]:
    """The collection's lower-cased numbers -> document ids, built once (state saved before it existed)."""
    index = books["number_index"].get(kind.coll)
    if index is None:
        index = books["number_index"][kind.coll] = {}
        for doc in books[kind.coll].values():
            if doc.get(kind.number_key):
                index.setdefault(doc[kind.number_key].lower(), []).append(doc[kind.id_key])
    return index


def _index_number(books: XeroBooks, kind: Kind, doc: Record) -> None:
    number = doc.get(kind.number_key)
    if number:
        ids = number_index(books, kind).setdefault(number.lower(), [])
        if doc[kind.id_key] not in ids:
            ids.append(doc[kind.id_key])


def _numbered(books: XeroBooks, kind: Kind, number: str) -> list[Record]:
    """The live documents (not deleted) that carry ``number`` now: the index may hold ids whose number
    has changed since, so each is checked."""
    low = number.lower()
    coll = books[kind.coll]
    return [doc for i in number_index(books, kind).get(low, ()) if (doc := coll.get(i)) is not None
            and doc.get(kind.number_key, "").lower() == low and doc["Status"] != "DELETED"]


def _number_taken(books: XeroBooks, kind: Kind, number: str, me: Record | None) -> bool:
    return any(d["Type"] == kind.sales_type and d is not me for d in _numbered(books, kind, number))


def find_document(books: XeroBooks, kind: Kind, ref: str | None) -> Record | None:
    """By id, or by number (numbers of deleted documents do not count)."""
    if not ref:
        return None
    doc = books[kind.coll].get(ref)
    if doc is None:
        found = _numbered(books, kind, ref)
        doc = found[0] if found else None
    return doc


def save_document(books: XeroBooks, kind: Kind, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    """Create (PUT) or create-or-update (POST) one invoice / credit note."""
    ref = ctx.path_id or el.get(kind.id_key)
    existing = None
    if ref and not ctx.create_only:
        existing = find_document(books, kind, ref)
        if existing is None:
            return None, [f"{kind.label} could not be found"]
    elif not ctx.create_only and el.get(kind.number_key) and el.get("Type") in (None, kind.sales_type):
        existing = find_document(books, kind, el[kind.number_key])  # POST updates by number, as Xero does
    errors: list[str] = []
    base = existing or {}
    typ = el.get("Type") or base.get("Type")
    if typ not in kind.types:
        return None, [f"{kind.label} Type must be one of {', '.join(kind.types)}" if typ else
                      f"The {kind.label} Type must be specified"]
    if existing and typ != existing["Type"]:
        errors.append(f"The {kind.label} Type cannot be changed")
    status = el.get("Status") or base.get("Status") or "DRAFT"
    if existing:
        if existing["Status"] not in EDITABLE:
            return None, [f"{kind.label} not of valid status for modification"]
        if status not in STATUS_MOVES[existing["Status"]]:
            errors.append(f"{kind.label} status cannot be changed from {existing['Status']} to {status}")
        if existing["Status"] == "AUTHORISED" and (existing.get("AmountPaid") or existing.get("AmountCredited")
                                                   or existing.get("AppliedAmount")):
            errors.append("This document cannot be edited as it has a payment or credit note allocated to it.")
    elif status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        errors.append(f"{kind.label} Status '{status}' is not valid for a new document")
    if status in ("DELETED", "VOIDED") and existing and not errors:
        locked = lock_error(books, existing["Date"]) if existing["Status"] == "AUTHORISED" else None
        if locked:
            return None, [locked]
        existing["Status"], existing["UpdatedDateUTC"] = status, ctx.now
        if status == "VOIDED":
            existing["AmountDue"] = ZERO
        return existing, []
    contact, contact_errors = (resolve_contact(books, el.get("Contact"), ctx) if "Contact" in el or not existing
                               else (books["contacts"].get(base["Contact"]["ContactID"]), []))
    errors += contact_errors
    try:
        date = parse_date(el.get("Date")) or base.get("Date") or ctx.now.date()
        due = parse_date(el.get("DueDate")) if "DueDate" in el else base.get("DueDate")
    except ValueError as exc:
        errors.append(str(exc))
        date, due = ctx.now.date(), None
    amount_types = el.get("LineAmountTypes") or base.get("LineAmountTypes") or "Exclusive"
    if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
        errors.append(f"LineAmountTypes '{amount_types}' is not valid")
        amount_types = "Exclusive"
    raw_lines = el.get("LineItems")
    if raw_lines is None and existing:
        raw_lines = [{k: v for k, v in line.items() if not k.startswith("_")} for line in existing["LineItems"]]
    lines = [_line(books, kind, typ, status, amount_types, raw or {}, ctx, errors) for raw in raw_lines or []]
    if not lines and status != "DRAFT":
        errors.append(f"{kind.label} must have at least one line item")
    number = el.get(kind.number_key) if kind.number_key in el else base.get(kind.number_key)
    if kind.is_sales(typ) and number and _number_taken(books, kind, number, existing):
        errors.append(f"{'Invoice' if kind is INVOICE else 'Credit Note'} # must be unique.")
    currency, rate = currency_of(books, el, existing, errors)
    # Drafts may sit in a locked period; approving (or changing an approved document) there is refused,
    # as is approving beyond the plan's monthly allowance (see organisation.py).
    approving = status == "AUTHORISED" and (existing is None or existing["Status"] != "AUTHORISED")
    if status == "AUTHORISED":
        locked = lock_error(books, date) or (lock_error(books, existing["Date"]) if existing
                                             and existing["Status"] == "AUTHORISED" else None)
        if locked:
            errors.append(locked)
    if approving and kind is INVOICE:
        capped = approval_error(books, typ, date)
        if capped:
            errors.append(capped)
    if errors or contact is None:
        return None, errors or ["Contact could not be found"]
    if kind.is_sales(typ) and not number:
        number = next_number(books, kind)
    nets: list[Decimal] = [ln.pop("_net") for ln in lines]
    taxes: list[Decimal] = [ln["TaxAmount"] for ln in lines]
    sub, tax = sum(nets, ZERO), sum(taxes, ZERO)
    rec = existing
    if rec is None:
        rec = {kind.id_key: new_id(), "HasAttachments": False, "HasErrors": False, "_payments": [], "_credits": []}
        if kind is INVOICE:
            rec.update({"AmountPaid": ZERO, "AmountCredited": ZERO})
        else:
            rec["Allocations"] = []
    rec.update({
        "Type": typ, "Status": status, "Contact": contact_ref(contact), "Date": date, "DueDate": due,
        "LineAmountTypes": amount_types, "LineItems": lines, "SubTotal": sub, "TotalTax": tax, "Total": sub + tax,
        "UpdatedDateUTC": ctx.now, "IsDiscounted": any("_discount" in ln for ln in lines),
        "CurrencyCode": currency, "CurrencyRate": rate,
    })
    if any("_discount" in ln for ln in lines):
        discounts: list[Decimal] = [ln.pop("_discount", ZERO) for ln in lines]
        rec["TotalDiscount"] = sum(discounts, ZERO)
    if number:
        rec[kind.number_key] = number
    for key in ("Reference", "Url", "SentToContact", "ExpectedPaymentDate", "PlannedPaymentDate"):
        if key in el:
            rec[key] = el[key]
    if kind is INVOICE:
        rec.setdefault("SentToContact", False)
    flag = "IsCustomer" if kind.is_sales(typ) else "IsSupplier"
    if status == "AUTHORISED" and not contact.get(flag):
        contact[flag] = True
    books[kind.coll][rec[kind.id_key]] = rec
    _index_number(books, kind, rec)
    if approving and kind is INVOICE:
        note_approval(books, typ, date)
    refresh_amounts(books, kind, rec, ctx.now)
    return rec, []


def save_invoice(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    return save_document(books, INVOICE, el, ctx)


def save_credit_note(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    return save_document(books, CREDIT_NOTE, el, ctx)


def payments_of(books: XeroBooks, doc: Record, link: str, key: str) -> list[Record]:
    """Payments made against ``doc`` (deleted ones too), via the ids the document keeps."""
    ids = doc.get("_payments")
    if ids is None:  # state saved before the index existed
        return [p for p in books["payments"].values() if (p.get(link) or {}).get(key) == doc[key]]
    return [books["payments"][pid] for pid in ids if pid in books["payments"]]


def credits_of(books: XeroBooks, inv: Record) -> list[tuple[CreditCollection, Record, Record]]:
    """(source collection, credit note, overpayment or prepayment, allocation) applied to invoice ``inv``."""
    out: list[tuple[CreditCollection, Record, Record]] = []
    seen: set[tuple[CreditCollection, str]] = set()
    sources: tuple[CreditCollection, ...] = ("credit_notes", "overpayments", "prepayments")
    if "_credits" not in inv:  # state saved before the index existed
        return [(c, src, a) for c in sources for src in books[c].values()
                for a in src.get("Allocations", []) if a["Invoice"]["InvoiceID"] == inv["InvoiceID"]]
    for name, sid in inv["_credits"]:
        coll = credit_collection(name)
        if (coll, sid) in seen or sid not in books[coll]:
            continue
        seen.add((coll, sid))
        source = books[coll][sid]
        out += [(coll, source, a) for a in source.get("Allocations", [])
                if a["Invoice"]["InvoiceID"] == inv["InvoiceID"]]
    return out


def refresh_amounts(books: XeroBooks, kind: Kind, doc: Record, now: datetime) -> None:
    """Recompute what is paid, credited and due, and PAID status, from payments and allocations."""
    key = kind.id_key
    payments: list[Decimal] = [p["Amount"] for p in payments_of(books, doc, kind.label.replace(" ", ""), key)
                               if p["Status"] == "AUTHORISED"]
    paid = sum(payments, ZERO)
    if kind is INVOICE:
        credits: list[Decimal] = [a["Amount"] for _, _, a in credits_of(books, doc)]
        credited = sum(credits, ZERO)
        doc["AmountPaid"], doc["AmountCredited"] = paid, credited
        outstanding = doc["Total"] - paid - credited
        if doc["Status"] in ("AUTHORISED", "PAID"):
            doc["AmountDue"] = outstanding
        elif doc["Status"] in ("DRAFT", "SUBMITTED"):
            doc["AmountDue"] = doc["Total"]
    else:
        allocated: list[Decimal] = [a["Amount"] for a in doc.get("Allocations", [])]
        applied = sum(allocated, ZERO)
        doc["AppliedAmount"] = applied
        outstanding = doc["Total"] - paid - applied
        doc["RemainingCredit"] = outstanding if doc["Status"] in ("AUTHORISED", "PAID") else doc["Total"]
    if doc["Status"] in ("AUTHORISED", "PAID"):
        was = doc["Status"]
        doc["Status"] = "PAID" if outstanding <= 0 and doc["Total"] > 0 else "AUTHORISED"
        if doc["Status"] == "PAID" and was != "PAID":
            doc["FullyPaidOnDate"] = now.date()
        elif doc["Status"] != "PAID":
            doc.pop("FullyPaidOnDate", None)
        if was != doc["Status"]:
            doc["UpdatedDateUTC"] = now
