"""Value rules every QuickBooks sandbox entity shares: money rounding, numbers as the SDK sends them,
dropping the SDK's empty defaults, references and dates."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import errors

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
READ_ONLY = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status", "Balance", "BalanceWithJobs",
             "TotalAmt", "HomeTotalAmt", "HomeBalance", "RemainingCredit", "UnappliedAmt", "LinkedTxn",
             "TxnTaxDetail", "FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"}
# Payments carry TotalAmt as input; documents have it computed.
PAYMENT_INPUT = {"TotalAmt", "LinkedTxn"}
ITEM_TYPES = {"Inventory", "Service", "NonInventory"}
ACCOUNT_TYPES = {"Bank", "Other Current Asset", "Fixed Asset", "Other Asset", "Accounts Receivable", "Equity",
                 "Expense", "Other Expense", "Cost of Goods Sold", "Accounts Payable", "Credit Card",
                 "Long Term Liability", "Other Current Liabilities", "Income", "Other Income"}
GBP = {"value": "GBP", "name": "British Pound Sterling"}


def money(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any, element: str) -> Decimal:
    """Accept what python-quickbooks sends (strings) and what others send (JSON numbers)."""
    if isinstance(value, bool) or value is None:
        raise errors.invalid_value(element, f"{element}: a number is required")
    try:
        d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise errors.invalid_value(element, f"{element}: {value!r} is not a number") from None
    if not d.is_finite():
        raise errors.invalid_value(element, f"{element}: {value!r} is not a number")
    return d


def clean(value: Any) -> Any:
    """Drop None and "" members: the SDK sends every unset attribute as a default ("" or None)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items() if v is not None and v != ""}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def ref_id(obj: dict[str, Any] | None, key: str) -> str | None:
    ref = (obj or {}).get(key)
    if isinstance(ref, dict):
        ref = ref.get("value")
    return None if ref in (None, "") else str(ref)


def parse_date(value: Any, element: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise errors.invalid_value(element, f"{element}: {value!r} is not a date (YYYY-MM-DD)") from None
