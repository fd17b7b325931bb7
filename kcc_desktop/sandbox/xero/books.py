"""The shape of one Xero organisation's books as the sandbox keeps them (and saves them).

Each collection maps an id (a TaxType for tax rates) to a record in Xero's own JSON shape; the
``Collection`` names let code pick a collection by name and still be checked.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, TypedDict

from ..json_types import Record

Collection: TypeAlias = Literal["accounts", "tax_rates", "contacts", "items", "invoices", "credit_notes",
                                "payments", "overpayments", "bank_transactions"]
DocumentCollection: TypeAlias = Literal["invoices", "credit_notes"]
CreditCollection: TypeAlias = Literal["credit_notes", "overpayments"]
"""Where credit that can be allocated to an invoice lives."""
SettledCollection: TypeAlias = Literal["invoices", "credit_notes", "overpayments"]
"""What a Payment can settle: an invoice, or (a refund) a credit note or an overpayment."""


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
    bank_transactions: dict[str, Record]
    counters: dict[str, int]   # last number given, by document type (ACCREC, ACCRECCREDIT)


def credit_collection(name: str) -> CreditCollection:
    """A saved ``_credits`` entry's collection name, checked."""
    if name == "credit_notes":
        return "credit_notes"
    if name == "overpayments":
        return "overpayments"
    raise ValueError(f"not a collection of credits: {name!r}")
