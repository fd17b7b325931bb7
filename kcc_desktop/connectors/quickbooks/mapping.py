"""Plain values -> python-quickbooks objects for the QuickBooks Online connector, and the value rules
(amounts, dates, references, query literals) both directions share.

Nothing here does I/O: lookups the mapping needs (account ids by code, item ids by code) arrive as
plain dicts, so every rule is testable on its own. No SDK object leaves the connector. What comes
back (QuickBooks' JSON -> plain values) is in ``remote.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from quickbooks.objects.base import EmailAddress, LinkedTxn, Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.vendor import Vendor
from quickbooks.objects.vendorcredit import VendorCredit

from ..base import (
    ContactIn,
    DocKind,
    DocumentIn,
    ItemIn,
    LineIn,
    MalformedResponse,
    PaymentIn,
)
from .vat import TaxRates, qty_and_price, tax_detail

Row = dict[str, Any]   # one JSON object as QuickBooks sends it (a query row, a saved record, a Fault)

ENTITY = {
    DocKind.SALES_INVOICE: Invoice,
    DocKind.PURCHASE_INVOICE: Bill,
    DocKind.SALES_CREDIT: CreditMemo,
    DocKind.PURCHASE_CREDIT: VendorCredit,
}
# Path segment of the QBO web app's page for each transaction.
WEB_PAGE = {
    DocKind.SALES_INVOICE: "invoice",
    DocKind.PURCHASE_INVOICE: "bill",
    DocKind.SALES_CREDIT: "creditmemo",
    DocKind.PURCHASE_CREDIT: "vendorcredit",
}
SALES_KINDS = (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT)

CENT = Decimal("0.01")
# QBO field limits (characters).
DISPLAY_NAME_MAX = 500
ITEM_NAME_MAX = 100
DOC_NUMBER_MAX = 21
# Key prefix in ``item_ids`` for "the item that posts to this income account code".
ACCOUNT_ITEM = "@account:"


class MappingError(Exception):
    """One element cannot be expressed in QBO terms (unknown account code, ...): a per-element failure."""


# --- values ---------------------------------------------------------------------------------------

def to_decimal(value: Any) -> Decimal:
    """Amounts read back (``use_decimal=True`` gives Decimal; whole numbers arrive as int)."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise MalformedResponse(f"QuickBooks sent {value!r} where an amount belongs.")
    try:
        # str() of a float keeps its shortest repr, never binary noise.
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise MalformedResponse(f"QuickBooks sent {value!r} where an amount belongs.") from exc


def money(value: Decimal) -> Decimal:
    """Exact amount to send; the SDK's encoder writes Decimals as strings, so no float ever appears."""
    return Decimal(format(Decimal(value), "f"))


def qbo_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def parse_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise MalformedResponse(f"QuickBooks sent {value!r} where a date belongs.") from exc


def parse_datetime(value: Any) -> datetime:
    """QBO timestamps look like ``2026-01-05T10:33:39-08:00``; returned as UTC."""
    text = str(value or "")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedResponse(f"QuickBooks sent {value!r} where a timestamp belongs.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def query_timestamp(value: datetime) -> str:
    """A UTC timestamp literal for QBO queries and cdc."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def quote(value: str) -> str:
    """A string literal for the QBO query language (backslash-escaped quotes)."""
    return "'" + value.replace("'", "\\'") + "'"


def ref(value: str, name: str | None = None) -> Ref:
    r = Ref()
    r.value = str(value)
    r.name = name or None
    r.type = None
    return r


def ref_value(obj: Any) -> str:
    if obj is None:
        return ""
    if isinstance(obj, dict):
        return str(obj.get("value") or "")
    return str(getattr(obj, "value", "") or "")


def ref_name(obj: Any) -> str:
    if obj is None:
        return ""
    if isinstance(obj, dict):
        return str(obj.get("name") or "")
    return str(getattr(obj, "name", "") or "")


# --- outgoing -------------------------------------------------------------------------------------

def prune(obj: Any, drop: tuple[str, ...] = ()) -> Any:
    """Clear the SDK's placeholder defaults ("" dates, 0 balances, empty lists) before sending.

    The SDK serialises every attribute that is not None, so a new Invoice would otherwise carry
    ``"DueDate": ""`` and read-only fields such as ``Balance``.
    """
    for name in drop:
        if hasattr(obj, name):
            setattr(obj, name, None)
    for name, value in list(vars(obj).items()):
        if name.startswith("_"):
            continue
        if value == "" or value == []:
            setattr(obj, name, None)
        elif isinstance(value, list):
            for element in value:
                if hasattr(element, "__dict__"):
                    prune(element)
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            prune(value)
    return obj


_CONTACT_READONLY = ("Balance", "BalanceWithJobs", "Level", "Job", "IsProject", "BillWithParent",
                     "Taxable", "FullyQualifiedName", "Vendor1099", "BillRate")


def build_contact(contact: ContactIn, sync_token: str | None = None) -> Customer | Vendor:
    """A Customer when the contact buys from us, else a Vendor (QBO keeps them apart)."""
    name = contact.name.strip()
    if not name:
        raise MappingError("The contact has no name; QuickBooks needs a display name.")
    if len(name) > DISPLAY_NAME_MAX:
        raise MappingError(f"The contact name is longer than QuickBooks allows ({DISPLAY_NAME_MAX} characters).")
    obj: Customer | Vendor = Customer() if contact.is_customer or not contact.is_supplier else Vendor()
    obj.DisplayName = name
    obj.CompanyName = name
    if contact.email:
        email = EmailAddress()
        email.Address = contact.email
        obj.PrimaryEmailAddr = email
    if contact.currency:
        obj.CurrencyRef = ref(contact.currency)
    if isinstance(obj, Vendor) and contact.account_number:
        obj.AcctNum = contact.account_number
    if contact.remote_id:
        # Sparse update: only the fields above change; QBO wants the current SyncToken.
        obj.Id = contact.remote_id
        obj.SyncToken = sync_token or "0"
        obj.sparse = True
        obj.CurrencyRef = None  # currency cannot change once a contact has transactions
    return prune(obj, _CONTACT_READONLY)


def kind_name(name: str, entity: str) -> str:
    """The display name of a contact whose plain name a record of the other kind already holds."""
    suffix = " (Supplier)" if entity == "Vendor" else " (Customer)"
    return name.strip()[:DISPLAY_NAME_MAX - len(suffix)] + suffix


def contact_entity(contact: ContactIn) -> str:
    return "Customer" if contact.is_customer or not contact.is_supplier else "Vendor"


def build_item(item: ItemIn, account_ids: dict[str, str], item_type: str = "NonInventory",
               sync_token: str | None = None) -> Item:
    """Never an Inventory item: stock quantities and valuation stay in KCC."""
    code = item.code.strip()
    if not code:
        raise MappingError("The item has no code; QuickBooks needs a name for it.")
    if len(code) > ITEM_NAME_MAX:
        raise MappingError(f"The item code is longer than QuickBooks allows ({ITEM_NAME_MAX} characters).")
    obj = Item()
    obj.Name = code
    obj.Sku = code
    obj.Type = item_type
    obj.TrackQtyOnHand = False
    obj.Description = item.description or None
    obj.UnitPrice = money(item.sales_price)
    obj.PurchaseDesc = item.description or None
    obj.PurchaseCost = money(item.purchase_cost)
    income = account_id(account_ids, item.sales_account, "sales") if item.sales_account else None
    expense = account_id(account_ids, item.purchase_account, "purchase") if item.purchase_account else None
    if income is None and expense is None:
        raise MappingError(f"Item {code} has neither a sales nor a purchase account; set one in the mapping.")
    obj.IncomeAccountRef = ref(income) if income else None
    obj.ExpenseAccountRef = ref(expense) if expense else None
    if item.remote_id:
        obj.Id = item.remote_id
        obj.SyncToken = sync_token or "0"
        obj.sparse = True
        obj.Type = None  # an item's type cannot be changed by an update
    return prune(obj, ("FullyQualifiedName", "Level", "SubItem", "Taxable"))


def account_id(account_ids: dict[str, str], code: str, what: str) -> str:
    found = account_ids.get(code.strip())
    if not found:
        raise MappingError(
            f"There is no account with code {code} in the QuickBooks chart of accounts ({what} account). "
            "Check the account mapping or give the account that number in QuickBooks.")
    return found


def line_amount(line: LineIn) -> Decimal:
    """Net line amount; computed (rounded half-up per line) when the ledger left it at zero."""
    if line.line_amount:
        return money(line.line_amount)
    gross = line.quantity * line.unit_amount
    if line.discount_rate:
        gross = gross * (Decimal(100) - line.discount_rate) / Decimal(100)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


def _net_unit_price(line: LineIn) -> Decimal:
    # QBO has no per-line discount on these lines: send the discounted unit price.
    if not line.discount_rate:
        return money(line.unit_amount)
    return money((line.unit_amount * (Decimal(100) - line.discount_rate) / Decimal(100)).normalize())


def _priced(detail: SalesItemLineDetail | ItemBasedExpenseLineDetail, line: LineIn, amount: Decimal) -> None:
    """Qty and UnitPrice only where they multiply to the amount exactly (see ``vat.qty_and_price``)."""
    found = qty_and_price(money(line.quantity), _net_unit_price(line), amount)
    detail.Qty, detail.UnitPrice = (money(found[0]), money(found[1])) if found else (None, None)


def _sales_line(line: LineIn, item_ids: dict[str, str]) -> SalesItemLine:
    out = SalesItemLine()
    out.Description = line.description or None
    out.Amount = line_amount(line)
    detail = SalesItemLineDetail()
    _priced(detail, line, out.Amount)
    if line.item_code:
        item_id = item_ids.get(line.item_code)
        if not item_id:
            raise MappingError(f"Item {line.item_code} is not in QuickBooks yet; export the item first.")
    else:
        # QBO sales lines post through a product/service, never straight to an account: use one whose
        # income account is the line's account.
        item_id = item_ids.get(ACCOUNT_ITEM + line.account_code)
        if not item_id:
            raise MappingError(
                f"Line '{line.description}' has no item, and no QuickBooks product or service posts to "
                f"account {line.account_code or '(none)'}. Give the line an item, or create a service "
                "item with that income account in QuickBooks.")
    detail.ItemRef = ref(item_id)
    if line.tax_code:
        detail.TaxCodeRef = ref(line.tax_code)
    out.SalesItemLineDetail = prune(detail, ("TaxInclusiveAmt",))
    return prune(out, ("LineNum",))


def _expense_line(line: LineIn, account_ids: dict[str, str], item_ids: dict[str, str]
                  ) -> AccountBasedExpenseLine | ItemBasedExpenseLine:
    amount = line_amount(line)
    if line.account_code:
        out = AccountBasedExpenseLine()
        detail = AccountBasedExpenseLineDetail()
        detail.AccountRef = ref(account_id(account_ids, line.account_code, "line"))
        if line.tax_code:
            detail.TaxCodeRef = ref(line.tax_code)
        out.AccountBasedExpenseLineDetail = prune(detail, ("TaxInclusiveAmt", "BillableStatus"))
    elif line.item_code:
        out = ItemBasedExpenseLine()
        detail = ItemBasedExpenseLineDetail()
        item_id = item_ids.get(line.item_code)
        if not item_id:
            raise MappingError(f"Item {line.item_code} is not in QuickBooks yet; export the item first.")
        detail.ItemRef = ref(item_id)
        _priced(detail, line, amount)
        if line.tax_code:
            detail.TaxCodeRef = ref(line.tax_code)
        out.ItemBasedExpenseLineDetail = prune(detail, ("TaxInclusiveAmt", "BillableStatus"))
    else:
        raise MappingError(f"Line '{line.description}' has neither an account code nor an item.")
    out.Description = line.description or None
    out.Amount = amount
    return prune(out, ("LineNum",))


_DOC_READONLY = ("Balance", "HomeBalance", "HomeTotalAmt", "Deposit", "TotalAmt", "RemainingCredit",
                 "ExchangeRate", "InvoiceLink", "PrintStatus", "EmailStatus", "AllowIPNPayment",
                 "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment", "FreeFormAddress",
                 "ApplyTaxAfterDiscount")


def build_document(doc: DocumentIn, account_ids: dict[str, str], item_ids: dict[str, str],
                   rates: TaxRates | None = None) -> Invoice | Bill | CreditMemo | VendorCredit:
    """Invoice, Bill, CreditMemo or VendorCredit with DocNumber = the ledger's number, and the ledger's VAT
    per rate (``rates``: the tax codes' rates, see ``vat.py``)."""
    if not doc.lines:
        raise MappingError(f"Document {doc.number} has no lines.")
    if len(doc.number) > DOC_NUMBER_MAX:
        raise MappingError(f"Document number {doc.number} is longer than QuickBooks allows ({DOC_NUMBER_MAX}).")
    if not doc.contact_remote_id:
        raise MappingError(f"The contact of {doc.number} is not in QuickBooks yet; export the contact first.")
    obj = ENTITY[doc.kind]()
    obj.DocNumber = doc.number
    obj.TxnDate = qbo_date(doc.date)
    obj.PrivateNote = doc.reference or None
    if doc.currency:
        obj.CurrencyRef = ref(doc.currency)
    if doc.kind in SALES_KINDS:
        obj.CustomerRef = ref(doc.contact_remote_id, doc.contact_name)
        obj.Line = [_sales_line(line, item_ids) for line in doc.lines]
    else:
        obj.VendorRef = ref(doc.contact_remote_id, doc.contact_name)
        obj.Line = [_expense_line(line, account_ids, item_ids) for line in doc.lines]
    if doc.kind in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE):
        obj.DueDate = qbo_date(doc.due_date)
    # Lines are net; QBO works the VAT out per rate from each line's TaxCodeRef. One TaxLine per rate with
    # the ledger's VAT for that rate makes it keep the ledger's per-line rounding (see vat.py).
    obj.GlobalTaxCalculation = "TaxExcluded"
    sales = doc.kind in SALES_KINDS
    detail = tax_detail([(line.tax_code, line_amount(line), money(line.tax_amount)) for line in doc.lines],
                        sales, rates or {})
    obj.TxnTaxDetail = prune(detail) if detail is not None else None
    return prune(obj, _DOC_READONLY)


def build_payment(payment: PaymentIn, contact_id: str, applied: Decimal | None = None) -> Payment | BillPayment:
    """A customer Payment against an Invoice, or a BillPayment (cheque) against a Bill. ``applied``: what the
    line applies (at most the document's open balance); the rest of the amount stays unapplied."""
    if payment.document_kind not in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE):
        raise MappingError("Credit-note payments and allocations are not sent to QuickBooks.")
    bank = payment.bank_account_id or payment.bank_account_code
    if not bank:
        raise MappingError("The payment has no bank account; choose one in the mapping.")
    if not contact_id:
        raise MappingError("The paid document's contact could not be found in QuickBooks.")
    linked = LinkedTxn()
    linked.TxnId = payment.document_remote_id
    linked.TxnLineId = None
    amount = money(payment.amount)
    on_line = amount if applied is None else money(applied)
    if payment.document_kind == DocKind.SALES_INVOICE:
        linked.TxnType = "Invoice"
        line = PaymentLine()
        line.Amount = on_line
        line.LinkedTxn = [linked]
        obj: Payment | BillPayment = Payment()
        obj.CustomerRef = ref(contact_id)
        obj.DepositToAccountRef = ref(bank)
        obj.PaymentRefNum = payment.reference[:21] or None
        obj.PrivateNote = payment.stamp or None   # KCC's stamp, where QuickBooks keeps a payment's memo
        obj.TotalAmt = amount
        obj.TxnDate = qbo_date(payment.date)
        obj.Line = [line] if on_line > 0 else []
        return prune(obj, ("UnappliedAmt", "ExchangeRate", "TxnStatus"))
    linked.TxnType = "Bill"
    line = BillPaymentLine()
    line.Amount = on_line
    line.LinkedTxn = [linked]
    obj = BillPayment()
    obj.VendorRef = ref(contact_id)
    obj.PayType = "Check"
    check = CheckPayment()
    check.BankAccountRef = ref(bank)
    check.PrintStatus = "NotSet"
    obj.CheckPayment = check
    obj.TotalAmt = amount
    obj.TxnDate = qbo_date(payment.date)
    obj.DocNumber = payment.reference[:21] or None
    obj.PrivateNote = payment.reference or None
    obj.Line = [line] if on_line > 0 else []
    return prune(obj)
