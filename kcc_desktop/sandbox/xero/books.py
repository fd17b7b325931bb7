"""The shape of one Xero organisation's books as the sandbox keeps them (and saves them).

Each collection maps an id (a TaxType for tax rates) to a record in Xero's own JSON shape; the
``Collection`` names let code pick a collection by name and still be checked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, TypeAlias, TypedDict

from ..json_types import Record

Collection: TypeAlias = Literal["accounts", "tax_rates", "contacts", "items", "invoices", "credit_notes",
                                "payments", "overpayments", "prepayments", "bank_transactions", "currencies"]
DocumentCollection: TypeAlias = Literal["invoices", "credit_notes"]
CreditCollection: TypeAlias = Literal["credit_notes", "overpayments", "prepayments"]
"""Where credit that can be allocated to an invoice lives."""
SettledCollection: TypeAlias = Literal["invoices", "credit_notes", "overpayments", "prepayments"]
"""What a Payment can settle: an invoice, or (a refund) a credit note, an overpayment or a prepayment."""


class XeroBooks(TypedDict):
    tenant_id: str
    tenant_name: str
    organisation: Record
    accounts: dict[str, Record]
    tax_rates: dict[str, Record]
    contacts: dict[str, Record]
    items: dict[str, Record]
    invoices: dict[str, Record]
    credit_notes: dict[str, Record]
    payments: dict[str, Record]
    overpayments: dict[str, Record]
    prepayments: dict[str, Record]
    bank_transactions: dict[str, Record]
    currencies: dict[str, Record]   # Code -> {"Code", "Description"}: the base currency and those added
    rates: dict[str, Decimal]       # Code -> the day rate (units per one of the base currency), XE.com's stand-in
    counters: dict[str, int]   # last number given, by document type (ACCREC, ACCRECCREDIT)
    # Lower-cased document number -> ids of the documents that carry it, per collection: a number is
    # checked in constant time, whatever the organisation holds (entries may be stale: checked on use).
    number_index: dict[str, dict[str, list[str]]]
    approved: dict[str, int]   # "ACCREC 2026-03" -> invoices approved dated that month (plan limits)


def credit_collection(name: str) -> CreditCollection:
    """A saved ``_credits`` entry's collection name, checked."""
    if name == "credit_notes":
        return "credit_notes"
    if name == "overpayments":
        return "overpayments"
    if name == "prepayments":
        return "prepayments"
    raise ValueError(f"not a collection of credits: {name!r}")
