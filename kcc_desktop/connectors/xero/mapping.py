"""Plain values <-> xero-python models. No I/O here.

Money: the SDK serialises every amount with ``float()``. A Decimal already rounded to 2 places (4
for unit amounts with ``unitdp=4``) survives that exactly (``float`` keeps the shortest repr), so
every amount is quantised here before it reaches the SDK. The SDK reads amounts back as Decimal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xero_python.accounting.models import (
    Account,
    Contact,
    CreditNote,
    CurrencyCode,
    Invoice,
    Item,
    LineAmountTypes,
    LineItem,
    Payment,
    Purchase,
)

from ..base import (
    Allocation,
    ContactIn,
    DocKind,
    DocumentIn,
    ItemIn,
    LineIn,
    PaymentIn,
    RemoteAccount,
    RemoteBankAccount,
    RemoteDocument,
    RemotePayment,
    RemoteTaxRate,
    Result,
    find_stamp,
)
from .discounts import lines_for_xero

CENT = Decimal("0.01")
UNIT4 = Decimal("0.0001")

INVOICE_TYPES = {DocKind.SALES_INVOICE: "ACCREC", DocKind.PURCHASE_INVOICE: "ACCPAY"}
CREDIT_TYPES = {DocKind.SALES_CREDIT: "ACCRECCREDIT", DocKind.PURCHASE_CREDIT: "ACCPAYCREDIT"}
KIND_OF_TYPE = {v: k for k, v in {**INVOICE_TYPES, **CREDIT_TYPES}.items()}

RECEIPT_TYPES = {"ACCRECPAYMENT"}
SUPPLIER_PAYMENT_TYPES = {"ACCPAYPAYMENT"}
# Never synced: ARCREDITPAYMENT / APCREDITPAYMENT (cash refunds of credit notes) and
# AROVERPAYMENTPAYMENT / ARPREPAYMENTPAYMENT (and AP*): refunds of overpayments and prepayments, money
# going back the other way. The overpayment itself comes from GET /Overpayments (remote_overpayment).
OVERPAYMENT_KINDS = {"RECEIVE-OVERPAYMENT": "receipt", "AROVERPAYMENT": "receipt",
                     "SPEND-OVERPAYMENT": "supplier_payment", "APOVERPAYMENT": "supplier_payment"}
OVERPAYMENT_PREFIX = "overpayment:"   # RemotePayment.remote_id of an overpayment: never a PaymentID
PREPAYMENT_KINDS = {"RECEIVE-PREPAYMENT": "receipt", "ARPREPAYMENT": "receipt",
                    "SPEND-PREPAYMENT": "supplier_payment", "APPREPAYMENT": "supplier_payment"}
PREPAYMENT_PREFIX = "prepayment:"     # RemotePayment.remote_id of a prepayment


class ElementError(ValueError):
    """One element cannot be sent as it stands (e.g. an unknown currency); reported as its Result."""


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def needs_unitdp4(lines: list[LineIn]) -> bool:
    return any(Decimal(line.unit_amount) != money(line.unit_amount) for line in lines)


def currency(code: str) -> CurrencyCode:
    try:
        return CurrencyCode(code.upper())
    except ValueError:
        raise ElementError(f"Currency {code!r} is not one Xero knows.") from None


def is_credit(kind: DocKind) -> bool:
    return kind in CREDIT_TYPES


# --- out ----------------------------------------------------------------------------------------------

def contact_model(c: ContactIn) -> Contact:
    model = Contact(name=c.name, email_address=c.email or None, account_number=c.account_number or None,
                    default_currency=currency(c.currency) if c.currency else None)
    if c.remote_id:
        model.contact_id = c.remote_id
    return model


def item_model(i: ItemIn) -> Item:
    # Item Name is at most 50 characters in Xero; the full text goes in Description.
    model = Item(code=i.code, name=(i.description or i.code)[:50], description=i.description or None,
                 purchase_description=i.description or None,
                 is_sold=True, is_purchased=True,
                 sales_details=Purchase(unit_price=money(i.sales_price), account_code=i.sales_account or None),
                 purchase_details=Purchase(unit_price=money(i.purchase_cost),
                                           account_code=i.purchase_account or None))
    if i.remote_id:
        model.item_id = i.remote_id
    return model


def line_model(line: LineIn, unitdp4: bool) -> LineItem:
    unit = Decimal(line.unit_amount).quantize(UNIT4 if unitdp4 else CENT, rounding=ROUND_HALF_UP)
    model = LineItem(description=line.description, quantity=Decimal(line.quantity).quantize(UNIT4),
                     unit_amount=unit, account_code=line.account_code or None, tax_type=line.tax_code or None,
                     item_code=line.item_code or None)
    if line.discount_rate:
        model.discount_rate = money(line.discount_rate)
    return model


def _doc_contact(d: DocumentIn) -> Contact:
    return Contact(contact_id=d.contact_remote_id) if d.contact_remote_id else Contact(name=d.contact_name)


def document_needs_unitdp4(d: DocumentIn) -> bool:
    return needs_unitdp4(lines_for_xero(d))


def document_model(d: DocumentIn, unitdp4: bool) -> Invoice | CreditNote:
    lines = lines_for_xero(d)   # discounts only where Xero applies them (discounts.py)
    common = {"contact": _doc_contact(d), "date": d.date, "line_amount_types": LineAmountTypes("Exclusive"),
              "line_items": [line_model(line, unitdp4) for line in lines], "reference": d.reference or None,
              "currency_code": currency(d.currency), "status": "AUTHORISED" if d.authorised else "DRAFT"}
    if is_credit(d.kind):
        return CreditNote(type=CREDIT_TYPES[d.kind], credit_note_number=d.number or None, **common)
    # An authorised sales invoice needs a due date; default to the invoice date.
    return Invoice(type=INVOICE_TYPES[d.kind], invoice_number=d.number or None,
                   due_date=d.due_date or d.date, **common)


def payment_model(p: PaymentIn) -> Payment:
    account = Account(account_id=p.bank_account_id) if p.bank_account_id else Account(code=p.bank_account_code)
    # KCC's stamp goes in the Reference, the one text Xero keeps on a payment and filters on.
    reference = " ".join(t for t in (p.reference, p.stamp) if t)
    model = Payment(account=account, date=p.date, amount=money(p.amount), reference=reference or None)
    if is_credit(p.document_kind):
        model.credit_note = CreditNote(credit_note_id=p.document_remote_id)
    else:
        model.invoice = Invoice(invoice_id=p.document_remote_id)
    return model


# --- back ---------------------------------------------------------------------------------------------

def _messages(errors: Any) -> list[str]:
    out = []
    for e in errors or []:
        msg = getattr(e, "message", None) if not isinstance(e, dict) else e.get("Message")
        if msg:
            out.append(str(msg))
    return out


def element_result(key: str, element: Any, id_attr: str, number_attr: str | None = None,
                   with_total: bool = False) -> Result:
    """A Result from one element of a ``summarizeErrors=false`` response."""
    status = (getattr(element, "status_attribute_string", None) or "").upper()
    messages = _messages(getattr(element, "validation_errors", None))
    failed = status == "ERROR" or bool(getattr(element, "has_errors", False)) \
        or bool(getattr(element, "has_validation_errors", False)) or bool(messages)
    if not failed and status == "WARNING":
        messages = [f"Warning: {m}" for m in _messages(getattr(element, "warnings", None))]
    remote_id = getattr(element, id_attr, None) or ""
    if failed and not messages:
        messages = ["Xero refused this element without saying why."]
    total = getattr(element, "total", None) if with_total else None
    if total is not None and not isinstance(total, Decimal):
        total = Decimal(str(total))
    return Result(key=key, ok=not failed, remote_id="" if failed else str(remote_id),
                  remote_number=str(getattr(element, number_attr, None) or "") if number_attr else "",
                  messages=messages, total=total if not failed else None)


def error_messages(data: Any) -> list[str]:
    """Every message in a Xero 400 body (``Elements[].ValidationErrors[]``), falling back to ``Message``."""
    out: list[str] = []
    if isinstance(data, dict):
        for element in data.get("Elements") or []:
            if isinstance(element, dict):
                for msg in _messages(element.get("ValidationErrors")):
                    if msg not in out:
                        out.append(msg)
        if not out:
            for k in ("Detail", "Message", "message", "detail", "title"):
                if data.get(k):
                    out.append(str(data[k]))
                    break
    return out


def enum_value(value: Any, default: str = "") -> str:
    if value is None:
        return default
    return str(getattr(value, "value", value))


def remote_account(a: Any) -> RemoteAccount:
    return RemoteAccount(id=str(a.account_id or ""), code=str(a.code or ""), name=str(a.name or ""),
                         type=enum_value(a.type), status=str(a.status or "ACTIVE"), tax_type=str(a.tax_type or ""))


def remote_bank_account(a: Any) -> RemoteBankAccount:
    return RemoteBankAccount(id=str(a.account_id or ""), code=str(a.code or ""), name=str(a.name or ""),
                             currency=enum_value(a.currency_code, "GBP"), status=str(a.status or "ACTIVE"))


def remote_tax_rate(t: Any) -> RemoteTaxRate:
    rate = t.effective_rate if t.effective_rate is not None else t.display_tax_rate
    return RemoteTaxRate(code=str(t.tax_type or ""), name=str(t.name or ""),
                         rate=Decimal(str(rate if rate is not None else 0)), status=str(t.status or "ACTIVE"))


def _dec(value: Any) -> Decimal:
    if value is None:
        return Decimal("0")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _doc_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def base_total(total: Decimal, rate: Any) -> Decimal:
    """A document's total in the organisation's currency: Xero's CurrencyRate is units of the document's
    currency per unit of the base currency (spec, Invoice.CurrencyRate; 1 for a base-currency document)."""
    r = _dec(rate)
    return total if r in (0, 1) else (total / r).quantize(Decimal("0.01"))


def remote_invoice(inv: Any) -> RemoteDocument:
    total = _dec(inv.total)
    return RemoteDocument(remote_id=str(inv.invoice_id), kind=KIND_OF_TYPE[enum_value(inv.type)],
                          number=str(inv.invoice_number or ""),
                          total=total, amount_due=_dec(inv.amount_due), status=enum_value(inv.status),
                          reference=str(inv.reference or ""),
                          contact_remote_id=str(getattr(inv.contact, "contact_id", "") or ""),
                          date=_doc_date(inv.date), currency=enum_value(inv.currency_code),
                          base_total=base_total(total, inv.currency_rate),
                          updated_at=_utc(inv.updated_date_utc) if inv.updated_date_utc else None)


def remote_credit_note(cn: Any) -> RemoteDocument:
    total = _dec(cn.total)
    return RemoteDocument(remote_id=str(cn.credit_note_id), kind=KIND_OF_TYPE[enum_value(cn.type)],
                          number=str(cn.credit_note_number or ""), total=total,
                          amount_due=_dec(cn.remaining_credit), status=enum_value(cn.status),
                          reference=str(cn.reference or ""),
                          contact_remote_id=str(getattr(cn.contact, "contact_id", "") or ""),
                          date=_doc_date(cn.date), currency=enum_value(cn.currency_code),
                          base_total=base_total(total, cn.currency_rate),
                          updated_at=_utc(cn.updated_date_utc) if cn.updated_date_utc else None)


def payment_kind(p: Any) -> str | None:
    """"receipt", "supplier_payment", or None for what never syncs (credit-note payments)."""
    if getattr(p, "credit_note", None) is not None:
        return None
    ptype = str(p.payment_type or "")
    if ptype in RECEIPT_TYPES:
        return "receipt"
    if ptype in SUPPLIER_PAYMENT_TYPES:
        return "supplier_payment"
    return None


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def remote_payment(p: Any, kind: str) -> RemotePayment:
    inv = p.invoice
    amount = _dec(p.amount)
    allocations: tuple[Allocation, ...] = ()
    if inv is not None and inv.invoice_id:
        allocations = (Allocation(str(inv.invoice_id), str(inv.invoice_number or ""), amount),)
    contact = getattr(inv, "contact", None) if inv is not None else None
    account = p.account
    d = p.date if isinstance(p.date, date) else date(1970, 1, 1)
    if isinstance(d, datetime):
        d = d.date()
    return RemotePayment(
        remote_id=str(p.payment_id), kind=kind, date=d, amount=amount,
        currency=enum_value(getattr(inv, "currency_code", None)) if inv is not None else "",
        bank_account_code=str(getattr(account, "code", "") or ""),
        bank_account_id=str(getattr(account, "account_id", "") or ""),
        reference=str(p.reference or ""), status=str(p.status or ""), stamp=find_stamp(p.reference),
        contact_remote_id=str(getattr(contact, "contact_id", "") or ""),
        contact_name=str(getattr(contact, "name", "") or ""),
        allocations=allocations, unapplied=Decimal("0") if allocations else amount,
        updated_at=_utc(p.updated_date_utc))


def overpayment_kind(o: Any) -> str | None:
    return OVERPAYMENT_KINDS.get(enum_value(o.type))


def prepayment_kind(p: Any) -> str | None:
    return PREPAYMENT_KINDS.get(enum_value(p.type))


def guid(value: str) -> str:
    """An id as it may go inside ``Guid("...")``: hex digits and dashes only."""
    if not value or any(c not in "0123456789abcdefABCDEF-" for c in value):
        raise ValueError(f"{value!r} is not a Xero id")
    return value


def remote_prepayment(p: Any, kind: str, bank: Any | None) -> RemotePayment:
    """A Prepayment, like an Overpayment: one payment of its Total (VAT included) through ``bank``,
    allocated to the invoices it settled; what remains is on account."""
    return remote_overpayment(p, kind, bank, PREPAYMENT_PREFIX + str(p.prepayment_id))


def remote_overpayment(o: Any, kind: str, bank: Any | None, remote_id: str = "") -> RemotePayment:
    """An Overpayment as one payment: its Total came in (or went out) through ``bank`` (the account of
    the bank transaction that created it); its allocations pay invoices; what remains is on account.
    Refunds of it (AROVERPAYMENTPAYMENT) are not counted here: they never sync."""
    by_invoice: dict[str, tuple[str, Decimal]] = {}
    for a in o.allocations or []:
        inv = a.invoice
        if getattr(a, "is_deleted", False) or inv is None or not inv.invoice_id:
            continue
        # Two allocations to one invoice become one: the import allocates each invoice once.
        number, amount = by_invoice.get(str(inv.invoice_id), (str(inv.invoice_number or ""), Decimal(0)))
        by_invoice[str(inv.invoice_id)] = (number, amount + _dec(a.amount))
    allocations = tuple(Allocation(i, number, amount) for i, (number, amount) in by_invoice.items())
    d = o.date if isinstance(o.date, date) else date(1970, 1, 1)
    if isinstance(d, datetime):
        d = d.date()
    status = str(o.status or "")
    contact = o.contact
    return RemotePayment(
        remote_id=remote_id or OVERPAYMENT_PREFIX + str(o.overpayment_id), kind=kind, date=d, amount=_dec(o.total),
        currency=enum_value(o.currency_code), bank_account_code=str(getattr(bank, "code", "") or ""),
        bank_account_id=str(getattr(bank, "account_id", "") or ""), reference=str(o.reference or ""),
        status="DELETED" if status in ("VOIDED", "DELETED") else "AUTHORISED",
        contact_remote_id=str(getattr(contact, "contact_id", "") or ""),
        contact_name=str(getattr(contact, "name", "") or ""), allocations=allocations,
        unapplied=_dec(o.remaining_credit), updated_at=_utc(o.updated_date_utc))


def where_equals(field_name: str, value: str) -> str:
    """A Xero ``where`` clause ``Field=="value"`` with the value's quotes and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field_name}=="{escaped}"'
