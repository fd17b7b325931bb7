"""The interface the sync services use to talk to an accounting package.

Plain values in and out: no SDK object ever leaves a connector. Money is ``Decimal``; accounting dates
are ``date``; timestamps are timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

_Date = date   # ``DocumentIn`` has a field named ``date``: its other fields name the type by this alias


class DocKind(StrEnum):
    SALES_INVOICE = "sales_invoice"          # Xero ACCREC invoice / QBO Invoice
    PURCHASE_INVOICE = "purchase_invoice"    # Xero ACCPAY invoice / QBO Bill
    SALES_CREDIT = "sales_credit"            # Xero ACCRECCREDIT / QBO CreditMemo
    PURCHASE_CREDIT = "purchase_credit"      # Xero ACCPAYCREDIT / QBO VendorCredit


# --- KCC's stamp on what it creates ----------------------------------------------------------------

# Every payment (a prepayment allocation) KCC creates carries this stamp where the package keeps it (Xero:
# the payment's Reference; QuickBooks: its private note), so KCC knows its own upload when it reads it back,
# whether or not it ever saved the package's answer: ``KCC-<the company file's key>-<ledger id>``.
STAMP_RE = re.compile(r"KCC-[0-9a-f]{8}-\d+")


def make_stamp(file_key: str, object_id: int) -> str:
    return f"KCC-{file_key[:8].lower()}-{object_id}"


def find_stamp(text: str | None) -> str:
    """The stamp in a package's text field, or ""."""
    found = STAMP_RE.search(text or "")
    return found.group(0) if found else ""


# --- what the package has -------------------------------------------------------------------------

@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    base_currency: str = "GBP"


@dataclass(frozen=True)
class RemoteContact:
    """A contact (customer or supplier) the package already holds."""

    remote_id: str
    name: str
    account_number: str = ""
    status: str = "ACTIVE"   # ACTIVE, ARCHIVED (a merged contact is archived too)
    merged_to: str = ""      # the contact it was merged into, if it was

    @property
    def active(self) -> bool:
        return self.status.upper() == "ACTIVE"

    def to_json(self) -> dict[str, str]:
        return {"id": self.remote_id, "name": self.name, "account_number": self.account_number,
                "status": self.status, "merged_to": self.merged_to}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteContact:
        return cls(str(data.get("id") or ""), str(data.get("name") or ""), str(data.get("account_number") or ""),
                   str(data.get("status") or "ACTIVE"), str(data.get("merged_to") or ""))


def _str_map(data: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (data or {}).items()}


def _int_map(data: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in (data or {}).items()}


@dataclass(frozen=True)
class OrganisationSettings:
    """What the organisation's own settings let KCC send: read by ``kcc-desktop check`` and, from the copy
    kept at Get Nominal & Tax Accounts, by the pre-check, so a refusal is predicted before anything is sent.
    The defaults are what an organisation with no such setting allows."""

    base_currency: str = "GBP"
    currencies: frozenset[str] = frozenset({"GBP"})   # the currencies documents may be in (base included)
    lock_date: date | None = None       # documents dated on or before it are refused
    lock_date_label: str = ""           # what the package calls it: "period lock date", "closing date"
    document_numbers_kept: bool = True  # False: the package numbers documents itself, ignoring ours
    document_number_max: int = 255      # the longest document number the package keeps
    approvals_left: int | None = None   # invoices and bills the plan still lets this month approve; None: no cap
    granted_scopes: frozenset[str] = frozenset()   # what the sign-in allows (empty: the package does not say)
    needed_scopes: frozenset[str] = frozenset()    # what KCC's features need of it
    # The plan's monthly allowance of approved documents, by the month of the document's date (Xero's
    # Starter-type plans): DocKind value -> documents a month; and what is approved already, by
    # "<DocKind value> YYYY-MM". Empty: no such cap. (``approvals_left`` is for packages that count this month only.)
    plan: str = ""
    monthly_caps: Mapping[str, int] = field(default_factory=dict, hash=False)
    approved: Mapping[str, int] = field(default_factory=dict, hash=False)
    # Which tax rates each account may carry: account code -> its class ("REVENUE", "EXPENSE", "ASSET",
    # "LIABILITY", "EQUITY"), tax code -> the classes it may be used on. Empty: the package sets no such rule.
    account_classes: Mapping[str, str] = field(default_factory=dict, hash=False)
    tax_classes: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    archived_contacts: tuple[RemoteContact, ...] = ()   # documents to these are refused (merged: followed)

    @property
    def missing_scopes(self) -> frozenset[str]:
        return self.needed_scopes - self.granted_scopes if self.granted_scopes else frozenset()

    def to_json(self) -> dict[str, object]:
        return {"base_currency": self.base_currency, "currencies": sorted(self.currencies),
                "lock_date": self.lock_date.isoformat() if self.lock_date else None,
                "lock_date_label": self.lock_date_label, "document_numbers_kept": self.document_numbers_kept,
                "document_number_max": self.document_number_max, "approvals_left": self.approvals_left,
                "granted_scopes": sorted(self.granted_scopes), "needed_scopes": sorted(self.needed_scopes),
                "plan": self.plan, "monthly_caps": dict(self.monthly_caps), "approved": dict(self.approved),
                "account_classes": dict(self.account_classes),
                "tax_classes": {k: sorted(v) for k, v in self.tax_classes.items()},
                "archived_contacts": [c.to_json() for c in self.archived_contacts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrganisationSettings:
        lock = data.get("lock_date")
        return cls(base_currency=str(data.get("base_currency") or "GBP"),
                   currencies=frozenset(data.get("currencies") or ["GBP"]),
                   lock_date=date.fromisoformat(lock) if lock else None,
                   lock_date_label=str(data.get("lock_date_label") or ""),
                   document_numbers_kept=bool(data.get("document_numbers_kept", True)),
                   document_number_max=int(data.get("document_number_max") or 255),
                   approvals_left=None if data.get("approvals_left") is None else int(data["approvals_left"]),
                   granted_scopes=frozenset(data.get("granted_scopes") or []),
                   needed_scopes=frozenset(data.get("needed_scopes") or []),
                   plan=str(data.get("plan") or ""), monthly_caps=_int_map(data.get("monthly_caps")),
                   approved=_int_map(data.get("approved")), account_classes=_str_map(data.get("account_classes")),
                   tax_classes={str(k): frozenset(v) for k, v in (data.get("tax_classes") or {}).items()},
                   archived_contacts=tuple(RemoteContact.from_json(c) for c in data.get("archived_contacts") or []))

    def tax_refused_on(self, account_code: str, tax_code: str) -> bool:
        """Whether the package refuses this tax rate on this account (its class may not use it)."""
        cls = self.account_classes.get(account_code)
        allowed = self.tax_classes.get(tax_code)
        return cls is not None and allowed is not None and cls not in allowed

    def archived_contact(self, remote_id: str = "", name: str = "", account_number: str = "") -> RemoteContact | None:
        """The archived contact (not merged away) with this id, or this account number, or this exact name."""
        by_id, by_number, by_name = self._archived_index
        number = account_number.strip().casefold()
        found = (by_id.get(remote_id) if remote_id else None) or (by_number.get(number) if number else None)
        if found is None and name:
            found = by_name.get(name.strip().casefold())
        return found

    @cached_property
    def _archived_index(self) -> tuple[dict[str, RemoteContact], dict[str, RemoteContact], dict[str, RemoteContact]]:
        """Archived contacts (merged ones left out) by id, account number and name: the pre-check asks once a
        document, so a look-up must not read them all."""
        by_id: dict[str, RemoteContact] = {}
        by_number: dict[str, RemoteContact] = {}
        by_name: dict[str, RemoteContact] = {}
        for c in self.archived_contacts:
            if c.merged_to:
                continue
            by_id.setdefault(c.remote_id, c)
            if c.account_number.strip():
                by_number.setdefault(c.account_number.strip().casefold(), c)
            by_name.setdefault(c.name.strip().casefold(), c)
        return by_id, by_number, by_name

    def merged_into(self, remote_id: str) -> str:
        """Where a merged contact's documents go now ("" if it was not merged), followed to the end."""
        merged = {c.remote_id: c.merged_to for c in self.archived_contacts if c.merged_to}
        seen: set[str] = set()
        target = ""
        while remote_id in merged and remote_id not in seen:
            seen.add(remote_id)
            target = remote_id = merged[remote_id]
        return target


@dataclass(frozen=True)
class RemoteAccount:
    id: str
    code: str
    name: str
    type: str                # the package's own type: Xero "REVENUE", "BANK", ...; QBO "Income", "Bank", ...
    status: str = "ACTIVE"   # ACTIVE or ARCHIVED (deleted accounts simply stop appearing)
    tax_type: str = ""


@dataclass(frozen=True)
class RemoteTaxRate:
    code: str                # Xero TaxType ("OUTPUT2"); QBO TaxCode Id
    name: str
    rate: Decimal            # percent, e.g. Decimal("20")
    status: str = "ACTIVE"


@dataclass(frozen=True)
class RemoteBankAccount:
    id: str
    code: str
    name: str
    currency: str = "GBP"
    status: str = "ACTIVE"
    kind: str = ""           # "" a bank account; "clearing": money received, not yet banked (QBO Undeposited Funds)


# --- what the ledger sends ------------------------------------------------------------------------

@dataclass
class ContactIn:
    key: str                           # the ledger's own reference; results come back under it
    name: str
    email: str = ""
    is_customer: bool = True
    is_supplier: bool = False
    currency: str = "GBP"
    account_number: str = ""
    remote_id: str | None = None       # set for an update of an exported contact
    other_side: bool = False           # also trades the other way (a customer who also supplies, or the reverse)


@dataclass
class ItemIn:
    key: str
    code: str
    description: str
    sales_price: Decimal = Decimal("0")
    purchase_cost: Decimal = Decimal("0")
    sales_account: str = ""            # package account codes; never a stock or cost-of-sale nominal
    purchase_account: str = ""
    remote_id: str | None = None


@dataclass
class LineIn:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_code: str
    discount_rate: Decimal = Decimal("0")   # percent
    item_code: str = ""
    line_amount: Decimal = Decimal("0")     # net, after discount, rounded per line as the package does
    tax_amount: Decimal = Decimal("0")


@dataclass
class DocumentIn:
    key: str
    kind: DocKind
    number: str
    contact_remote_id: str
    contact_name: str
    date: date
    due_date: _Date | None
    currency: str
    lines: list[LineIn]
    reference: str = ""
    authorised: bool = True           # else DRAFT
    total: Decimal = Decimal("0")     # the ledger's gross total, to compare with what the package computed
    contact_other_side: bool = False  # a sale to a supplier or a purchase from a customer (a company trading both ways)
    contact_email: str = ""
    contact_code: str = ""


@dataclass
class PaymentIn:
    key: str
    document_kind: DocKind
    document_remote_id: str
    amount: Decimal
    date: date
    bank_account_code: str            # the package's bank account code (Xero) or id (QBO)
    bank_account_id: str = ""
    contact_remote_id: str = ""
    reference: str = ""
    stamp: str = ""                   # KCC's stamp (``make_stamp``), kept where the package keeps it


@dataclass
class Result:
    """The outcome for one element of a batch, under the caller's key."""

    key: str
    ok: bool
    remote_id: str = ""
    remote_number: str = ""
    messages: list[str] = field(default_factory=list)
    total: Decimal | None = None       # for documents: the total the package computed
    matched: bool = False              # linked to a record the package already had, not created


# --- what comes back from the package -------------------------------------------------------------

@dataclass(frozen=True)
class RemoteDocument:
    remote_id: str
    kind: DocKind
    number: str
    total: Decimal
    amount_due: Decimal
    status: str                        # DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED, DELETED
    reference: str = ""
    contact_remote_id: str = ""
    # Read by reconciliation's list calls (a look-up by number may leave them empty):
    date: _Date | None = None
    currency: str = ""                 # the document's currency ("" the organisation's own)
    base_total: Decimal | None = None  # the total in the organisation's currency, at the document's rate
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Allocation:
    document_remote_id: str
    document_number: str
    amount: Decimal


@dataclass(frozen=True)
class RemotePayment:
    remote_id: str
    kind: str                          # "receipt" (customer) or "supplier_payment"
    date: date
    amount: Decimal
    currency: str
    bank_account_code: str
    bank_account_id: str
    reference: str
    status: str                        # AUTHORISED, DELETED, or VOIDED (kept with a zero amount: QuickBooks)
    contact_remote_id: str
    contact_name: str
    allocations: tuple[Allocation, ...]
    unapplied: Decimal                 # paid beyond what was allocated (an overpayment on account)
    updated_at: datetime               # UTC
    stamp: str = ""                    # KCC's stamp when KCC itself created it (a prepayment allocation)


@dataclass
class PaymentPage:
    payments: list[RemotePayment]
    has_more: bool


# --- failures the app can act on ------------------------------------------------------------------

class ConnectorError(Exception):
    """Base of every failure a connector raises; ``str()`` is a message a bookkeeper can act on."""

    hint = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ValidationFailed(ConnectorError):
    """The package refused the request's content; ``messages`` are the package's own words."""

    def __init__(self, message: str, messages: list[str] | None = None, hint: str = "") -> None:
        super().__init__(message, hint)
        self.messages = messages or [message]


class RateLimited(ConnectorError):
    """A limit was hit. ``limit`` is "minute", "day", "concurrent", ...; ``retry_after`` in seconds."""

    def __init__(self, message: str, limit: str, retry_after: float, resumes_at: datetime | None = None) -> None:
        super().__init__(message, "Wait, then try again." if limit != "day" else "")
        self.limit = limit
        self.retry_after = retry_after
        self.resumes_at = resumes_at


class ConnectionRequired(ConnectorError):
    """KCC's "Valid Connection Required": no token, or the refresh token was revoked or expired."""

    hint = "Use Actions → Connect to reconnect to the accounting package."


class TransientError(ConnectorError):
    """5xx, a timeout or a dropped connection: the request may or may not have taken effect."""

    hint = "Try again; anything already created will be found, not created twice."


class Rejected(ConnectorError):
    """Any other refusal (4xx), or a response the app could not understand."""


class MalformedResponse(Rejected):
    """The package answered with something that is not the shape its API documents."""


# --- the interface --------------------------------------------------------------------------------

class AccountingPackage(abc.ABC):
    provider: str = ""
    batch_size: int = 50
    # A customer and a supplier of one name are one contact (Xero); QuickBooks keeps Customers and Vendors apart.
    contacts_shared: bool = False

    @abc.abstractmethod
    def organisation(self) -> Organisation: ...

    def organisation_settings(self) -> OrganisationSettings:
        """The organisation's settings that decide what it accepts (lock dates, currencies, plan limits,
        numbering, the sign-in's scopes). A package that knows none of them allows anything in its base
        currency."""
        base = self.organisation().base_currency
        return OrganisationSettings(base_currency=base, currencies=frozenset({base}))

    @abc.abstractmethod
    def fetch_accounts(self) -> list[RemoteAccount]: ...

    @abc.abstractmethod
    def fetch_tax_rates(self) -> list[RemoteTaxRate]: ...

    @abc.abstractmethod
    def fetch_bank_accounts(self) -> list[RemoteBankAccount]: ...

    # Each batch method sends ``len(items) <= batch_size`` elements in one request carrying
    # ``idempotency_key``; it returns one Result per element, in order. Per-element refusals are
    # Results with ok=False; whole-request failures raise a ConnectorError subclass.
    @abc.abstractmethod
    def upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]: ...

    @abc.abstractmethod
    def upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]: ...

    @abc.abstractmethod
    def create_documents(self, documents: list[DocumentIn], idempotency_key: str) -> list[Result]: ...

    @abc.abstractmethod
    def create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]: ...

    @abc.abstractmethod
    def find_document(self, kind: DocKind, number: str, contact_remote_id: str = "") -> RemoteDocument | None:
        """The document of this kind and number; with ``contact_remote_id``, only that contact's counts
        (bill and supplier credit numbers are unique per supplier only)."""

    @abc.abstractmethod
    def find_contact(self, name: str, supplier: bool | None = None) -> str | None:
        """The remote id of the contact with exactly this name, if any. ``supplier`` says which kind is
        wanted, for packages that keep customers and suppliers apart (QuickBooks); others ignore it."""

    @abc.abstractmethod
    def find_item(self, code: str) -> str | None: ...

    def find_payment(self, stamp: str, payment: PaymentIn) -> str | None:
        """The remote id of the payment KCC created with this stamp (for ``payment``), None when the package
        cleanly has none. An answer that cannot be read raises, never counts as "not there"."""
        raise NotImplementedError(f"{type(self).__name__} cannot look payments up")

    # --- reconciliation (sync/reconcile): paged list calls, never one request per document -------------

    @property
    def request_count(self) -> int:
        """Requests put on the wire so far (every send counts): reconciliation reports its figure from it."""
        return 0

    def fetch_documents(self, wanted: Sequence[tuple[DocKind, str]], date_from: _Date | None = None,
                        date_to: _Date | None = None) -> dict[str, RemoteDocument]:
        """The package's side of documents it was sent: (kind, remote id) -> what it holds now, by remote id.
        A document the package no longer has (deleted where deleting removes it) is simply absent; an answer
        that cannot be read raises. ``date_from``/``date_to`` are the range being reconciled, for packages
        that list some kinds by date rather than by id. Paged: about one request per 100 documents."""
        raise NotImplementedError(f"{type(self).__name__} cannot list documents")

    def find_documents(self, wanted: Sequence[tuple[DocKind, str]]) -> dict[tuple[DocKind, str], list[RemoteDocument]]:
        """Documents by (kind, number), many numbers a request (for rows marked exported by hand, which
        have no remote id): (kind, number) -> every document of that kind and number, voided ones too."""
        raise NotImplementedError(f"{type(self).__name__} cannot look documents up in bulk")

    def fetch_payments(self, remote_ids: Sequence[str], stamp_prefix: str) -> dict[str, RemotePayment]:
        """The payments KCC created (prepayment allocations), by remote id: those whose stamp starts with
        ``stamp_prefix`` (``make_stamp``'s ``KCC-<file key>-``) or whose id is wanted, many a request. A payment
        the package no longer holds is absent; a deleted or voided one comes back with that status."""
        raise NotImplementedError(f"{type(self).__name__} cannot list payments")

    def update_document(self, remote_id: str, document: DocumentIn, idempotency_key: str) -> Result:
        """Replace a document the package holds with the ledger's version (reconciliation's "send the change").
        A package that refuses (paid, locked) answers a Result with ok=False and its own words."""
        raise NotImplementedError(f"{type(self).__name__} cannot update documents")

    def match_contacts(self, contacts: list[ContactIn]) -> dict[str, RemoteContact]:
        """Contacts the package already holds for these (by key): by account number, then by exact name.
        An archived match is returned as such (the caller decides); a merged one as what it became."""
        out: dict[str, RemoteContact] = {}
        for c in contacts:
            found = self.find_contact(c.name, supplier=c.is_supplier and not c.is_customer)
            if found:
                out[c.key] = RemoteContact(found, c.name, c.account_number)
        return out

    def match_items(self, items: list[ItemIn]) -> dict[str, str]:
        """Remote ids of the items the package already holds with these codes (by key)."""
        return {i.key: found for i in items if (found := self.find_item(i.code))}

    @abc.abstractmethod
    def list_payments(self, since: datetime | None) -> Iterator[PaymentPage]:
        """Customer receipts and supplier payments changed since ``since`` (UTC), page by page.

        Credit-note allocations and credit-note payments never appear: they never sync.
        """

    @abc.abstractmethod
    def document_url(self, kind: DocKind, remote_id: str) -> str: ...
