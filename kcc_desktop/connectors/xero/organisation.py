"""A Xero organisation's settings in our terms (``OrganisationSettings``): no I/O here.

- Lock dates: ``PeriodLockDate`` and ``EndOfYearLockDate`` (spec, Organisation); documents dated on or
  before the later one are refused when approved, so that is the lock date.
- Currencies: ``BaseCurrency`` and ``GET /Currencies`` (the base currency and those added).
- Plan limits: Xero's API has no "invoices left" figure. The plan is the Organisation's ``Class`` (spec:
  "Organisation Classes describe which plan the Xero organisation is on"); what Starter-type plans approve
  a month is documented by integrators, not by Xero's API docs: Auxo Workshop's Xero troubleshooting page
  (Starter / Early / Ignite: 20 invoices and 5 bills a month, by invoice date, "You have reached the
  limit of invoices you can approve.") and Link My Books' "Transaction limit error in Xero" (Ignite UK: 20
  invoices and 10 bills; Simple: 10 invoices). Kept here, in one table, to change when Xero does.
- Tax rates on accounts: ``TaxRate.CanApplyTo*`` against the ``Account.Class`` (spec).
- Archived contacts, with ``MergedToContactID`` for merged ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ..base import DocKind, OrganisationSettings, RemoteContact
from . import mapping as m

# Organisation.Class -> documents a month its plan approves, by kind (see the module docstring).
PLAN_CAPS: dict[str, dict[DocKind, int]] = {
    "STARTER": {DocKind.SALES_INVOICE: 20, DocKind.PURCHASE_INVOICE: 5},
    "IGNITE": {DocKind.SALES_INVOICE: 20, DocKind.PURCHASE_INVOICE: 10},
    "SIMPLE": {DocKind.SALES_INVOICE: 10},
}
APPROVED_STATUSES = ("AUTHORISED", "PAID", "VOIDED")   # an approval counts for good, even once voided

# TaxRate flag -> the account class it allows.
_CLASS_FLAGS = {"can_apply_to_assets": "ASSET", "can_apply_to_equity": "EQUITY", "can_apply_to_expenses": "EXPENSE",
                "can_apply_to_liabilities": "LIABILITY", "can_apply_to_revenue": "REVENUE"}
# What KCC's features use of a sign-in: broad or granular scopes, whichever the connection asked for.
_ACCOUNTING = ("accounting.", "offline_access")


def plan_caps(plan: str) -> dict[str, int]:
    return {kind.value: n for kind, n in PLAN_CAPS.get(plan.upper(), {}).items()}


def month_key(kind: DocKind | str, when: date) -> str:
    return f"{DocKind(kind).value} {when:%Y-%m}"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def lock_date(org: Any) -> tuple[date | None, str]:
    """(the later of the two lock dates, what Xero calls it)."""
    found = [(d, label) for d, label in ((_as_date(org.end_of_year_lock_date), "end of year lock date"),
                                         (_as_date(org.period_lock_date), "period lock date")) if d is not None]
    return max(found, key=lambda x: x[0]) if found else (None, "")


def remote_contact(c: Any) -> RemoteContact:
    return RemoteContact(str(c.contact_id or ""), str(c.name or ""), str(c.account_number or ""),
                         m.enum_value(c.contact_status, "ACTIVE"), str(getattr(c, "merged_to_contact_id", "") or ""))


def count_approved(invoices: Iterable[Any]) -> dict[str, int]:
    """Approved invoices and bills by "<kind> YYYY-MM" of their date."""
    out: dict[str, int] = {}
    for inv in invoices:
        when = _as_date(inv.date)
        kind = m.KIND_OF_TYPE.get(str(inv.type or ""))
        if when is None or kind not in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE):
            continue
        key = month_key(kind, when)
        out[key] = out.get(key, 0) + 1
    return out


def settings_from(org: Any, currencies: Iterable[Any], accounts: Iterable[Any], tax_rates: Iterable[Any],
                  archived: Iterable[Any], approved: dict[str, int], granted: Iterable[str],
                  asked: Iterable[str]) -> OrganisationSettings:
    base = m.enum_value(org.base_currency, "GBP")
    lock, label = lock_date(org)
    plan = m.enum_value(getattr(org, "_class", None))
    codes = {m.enum_value(c.code) for c in currencies if c.code is not None} | {base}
    account_classes = {str(a.code): m.enum_value(a._class) for a in accounts if a.code and a._class is not None}
    tax_classes = {str(t.tax_type): frozenset(cls for flag, cls in _CLASS_FLAGS.items() if getattr(t, flag, None))
                   for t in tax_rates if t.tax_type}
    return OrganisationSettings(
        base_currency=base, currencies=frozenset(codes), lock_date=lock, lock_date_label=label,
        granted_scopes=frozenset(granted),
        needed_scopes=frozenset(s for s in asked if s.startswith(_ACCOUNTING)),
        plan=plan, monthly_caps=plan_caps(plan), approved=approved if plan_caps(plan) else {},
        account_classes=account_classes, tax_classes=tax_classes,
        archived_contacts=tuple(remote_contact(c) for c in archived))
