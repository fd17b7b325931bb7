"""QuickBooks' JSON -> plain values: documents and payments read back, and the words of its Faults.

Nothing here does I/O. Rows arrive as the plain dicts QuickBooks' queries and batches answer with;
the value rules (amounts, dates, references) are shared with ``mapping.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..base import Allocation, DocKind, RemoteDocument, RemotePayment, find_stamp
from .mapping import SALES_KINDS, Row, parse_date, parse_datetime, ref_name, ref_value, to_decimal

# --- documents and payments -------------------------------------------------------------------------------------

def remote_document(kind: DocKind, data: Row) -> RemoteDocument:
    """A document read back (a plain JSON dict from a query)."""
    total = to_decimal(data.get("TotalAmt"))
    if kind == DocKind.SALES_CREDIT:
        due = to_decimal(data.get("RemainingCredit", data.get("Balance")))
    else:
        due = to_decimal(data.get("Balance", total))
    status = "PAID" if due == 0 and total != 0 else "AUTHORISED"
    if str(data.get("PrivateNote", "")).startswith("Voided") or data.get("TxnStatus") == "Voided":
        status = "VOIDED"
    contact = data.get("CustomerRef") if kind in SALES_KINDS else data.get("VendorRef")
    meta = data.get("MetaData") or {}
    return RemoteDocument(
        remote_id=str(data["Id"]), kind=kind, number=str(data.get("DocNumber") or ""), total=total,
        amount_due=due, status=status, reference=str(data.get("PrivateNote") or ""),
        contact_remote_id=ref_value(contact),
        date=parse_date(data["TxnDate"]) if data.get("TxnDate") else None,
        currency=ref_value(data.get("CurrencyRef")), base_total=home_total(data, total),
        updated_at=parse_datetime(meta["LastUpdatedTime"]) if meta.get("LastUpdatedTime") else None,
    )


def home_total(data: Row, total: Decimal) -> Decimal:
    """The total in the company's home currency: ``HomeTotalAmt`` where QuickBooks sends it, else the total at
    ``ExchangeRate`` (home currency per unit of the document's: Intuit API reference, Invoice.ExchangeRate)."""
    if data.get("HomeTotalAmt") is not None:
        return to_decimal(data.get("HomeTotalAmt"))
    rate = to_decimal(data.get("ExchangeRate") or 1)
    return total if rate in (0, 1) else (total * rate).quantize(Decimal("0.01"))


@dataclass
class PaymentContext:
    """What turning a QBO payment into a RemotePayment needs besides the payment itself."""

    base_currency: str = "GBP"
    account_codes: dict[str, str] = field(default_factory=dict)   # account id -> AcctNum
    doc_numbers: dict[tuple[str, str], str] = field(default_factory=dict)  # (TxnType, id) -> DocNumber


_ALLOCATABLE = {"Payment": "Invoice", "BillPayment": "Bill"}


def linked_ids(entity: str, data: Row) -> list[str]:
    """Ids of the invoices (or bills) a payment is applied to."""
    want = _ALLOCATABLE[entity]
    return [str(t.get("TxnId")) for line in data.get("Line") or [] for t in line.get("LinkedTxn") or []
            if t.get("TxnType") == want]


def remote_payment(entity: str, data: Row, ctx: PaymentContext) -> RemotePayment | None:
    """A receipt or supplier payment, or None when it only moves credit (never synced).

    Only lines linked to an Invoice/Bill count as allocations. A QBO payment that applies a credit memo
    carries the invoice line *and* a CreditMemo line with TotalAmt covering only the cash; the cash is
    what KCC records, so invoice lines are trimmed to the cash actually received.
    """
    want = _ALLOCATABLE[entity]
    total = to_decimal(data.get("TotalAmt"))
    unapplied = to_decimal(data.get("UnappliedAmt"))
    if is_voided(data):
        return voided_payment(entity, data, ctx)
    doc_lines: list[tuple[str, Decimal]] = []
    credit_applied = Decimal("0")
    for line in data.get("Line") or []:
        amount = to_decimal(line.get("Amount"))
        for txn in line.get("LinkedTxn") or []:
            if txn.get("TxnType") == want:
                doc_lines.append((str(txn.get("TxnId")), amount))
            else:
                credit_applied += amount
            break  # one line applies one transaction
    if credit_applied:
        cash = total - unapplied
        trimmed = []
        for txn_id, amount in doc_lines:
            take = min(amount, cash)
            if take > 0:
                trimmed.append((txn_id, take))
                cash -= take
        doc_lines = trimmed
    if not doc_lines and total == 0:
        return None  # only a credit application: credit-note allocations never sync
    if entity == "Payment":
        kind, contact = "receipt", data.get("CustomerRef")
        bank = data.get("DepositToAccountRef")
        reference = data.get("PaymentRefNum") or data.get("PrivateNote") or ""
    else:
        kind, contact = "supplier_payment", data.get("VendorRef")
        pay = data.get("CheckPayment") or {}
        bank = pay.get("BankAccountRef") if pay else (data.get("CreditCardPayment") or {}).get("CCAccountRef")
        reference = data.get("DocNumber") or data.get("PrivateNote") or ""
    bank_id = ref_value(bank)
    meta = data.get("MetaData") or {}
    return RemotePayment(
        remote_id=str(data["Id"]),
        kind=kind,
        date=parse_date(data.get("TxnDate")),
        amount=total,
        currency=ref_value(data.get("CurrencyRef")) or ctx.base_currency,
        bank_account_code=ctx.account_codes.get(bank_id, ""),
        bank_account_id=bank_id,
        reference=str(reference),
        status="AUTHORISED",
        contact_remote_id=ref_value(contact),
        contact_name=ref_name(contact),
        allocations=tuple(Allocation(txn_id, ctx.doc_numbers.get((want, txn_id), ""), amount)
                          for txn_id, amount in doc_lines),
        unapplied=unapplied,
        updated_at=parse_datetime(meta.get("LastUpdatedTime")),
        stamp=find_stamp(str(data.get("PrivateNote") or "")),
    )


def is_voided(data: Row) -> bool:
    """A voided payment stays in QuickBooks with a zero total, no applied lines and the note "Voided"
    (Intuit API reference, Payment: void operation); a live payment of nothing is not a thing QuickBooks keeps."""
    if str(data.get("PrivateNote") or "").startswith("Voided") or data.get("TxnStatus") == "Voided":
        return True
    return to_decimal(data.get("TotalAmt")) == 0 and not any(line.get("Amount") for line in data.get("Line") or [])


def voided_payment(entity: str, data: Row, ctx: PaymentContext) -> RemotePayment:
    """A voided payment: offered for reversal like a deleted one."""
    meta = data.get("MetaData") or {}
    contact = data.get("CustomerRef") if entity == "Payment" else data.get("VendorRef")
    return RemotePayment(
        remote_id=str(data["Id"]), kind="receipt" if entity == "Payment" else "supplier_payment",
        date=parse_date(data.get("TxnDate") or meta.get("LastUpdatedTime") or "1970-01-01"), amount=Decimal("0"),
        currency=ref_value(data.get("CurrencyRef")) or ctx.base_currency, bank_account_code="", bank_account_id="",
        reference=str(data.get("PaymentRefNum") or data.get("DocNumber") or ""), status="VOIDED",
        contact_remote_id=ref_value(contact), contact_name=ref_name(contact), allocations=(),
        unapplied=Decimal("0"), updated_at=parse_datetime(meta.get("LastUpdatedTime")))


def deleted_payment(entity: str, data: Row, base_currency: str) -> RemotePayment:
    """A payment cdc reports as deleted: only its id and time survive."""
    meta = data.get("MetaData") or {}
    return RemotePayment(
        remote_id=str(data["Id"]), kind="receipt" if entity == "Payment" else "supplier_payment",
        date=parse_date(data.get("TxnDate") or meta.get("LastUpdatedTime") or "1970-01-01"),
        amount=to_decimal(data.get("TotalAmt")), currency=base_currency, bank_account_code="",
        bank_account_id="", reference="", status="DELETED", contact_remote_id="", contact_name="",
        allocations=(), unapplied=Decimal("0"), updated_at=parse_datetime(meta.get("LastUpdatedTime")),
    )


def fault_messages(fault: Row | None) -> list[str]:
    """QBO's own words for each error of a Fault: Message, then Detail when it adds anything."""
    out = []
    for err in (fault or {}).get("Error") or []:
        message = str(err.get("Message") or "").strip()
        detail = str(err.get("Detail") or "").strip()
        text = message if not detail or detail == message else f"{message}: {detail}" if message else detail
        out.append(text or f"QuickBooks error {err.get('code', '')}".strip())
    return out or ["QuickBooks refused the request without saying why."]


def fault_codes(fault: Row | None) -> list[int]:
    codes = []
    for err in (fault or {}).get("Error") or []:
        try:
            codes.append(int(err.get("code")))
        except (TypeError, ValueError):
            codes.append(0)
    return codes
