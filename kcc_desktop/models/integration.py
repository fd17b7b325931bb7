"""What the app keeps about the accounting package: settings, mappings, the export queue, links,
feedback and imported payments."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import Money, UTCDateTime, utcnow


class AppSetting(Base):
    """Key/value options (integration enabled, provider, connection details). Never secrets."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Every mapping and option change, and every hand-made export decision (Mark as Exported, what
    reconciliation was told to do): when, what, the old value and the new one, who (the OS user) and why."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    what: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(String(100), default="", server_default="")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class PackageAccount(Base):
    """The package's chart of accounts, tax rates and bank accounts, as last fetched."""

    __tablename__ = "package_account"
    __table_args__ = (UniqueConstraint("provider", "category", "code", name="provider_category_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))   # account, tax_rate, bank
    remote_id: Mapped[str] = mapped_column(String(64), default="")
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")  # ACTIVE, ARCHIVED, DELETED
    rate: Mapped[Decimal | None] = mapped_column(Money)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MappingCategory(StrEnum):
    NOMINAL = "nominal"
    TAX = "tax"
    BANK = "bank"


class Mapping(Base):
    """A ledger nominal, tax code or bank account mapped to a package account code."""

    __tablename__ = "mapping"
    __table_args__ = (UniqueConstraint("provider", "category", "local_id", name="provider_category_local"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    local_id: Mapped[int] = mapped_column(Integer)
    remote_code: Mapped[str] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(8), default="user")  # user or auto
    reason: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ItemType(StrEnum):
    COMPANY = "company"
    STOCK_ITEM = "stock_item"
    SALES_INVOICE = "sales_invoice"
    SALES_CREDIT = "sales_credit"
    PURCHASE_INVOICE = "purchase_invoice"
    PURCHASE_CREDIT = "purchase_credit"
    PREPAYMENT_ALLOCATION = "prepayment_allocation"

    @property
    def label(self) -> str:
        return {
            "company": "Company",
            "stock_item": "Stock Item",
            "sales_invoice": "Invoice",
            "sales_credit": "Credit Note",
            "purchase_invoice": "Purchase Invoice",
            "purchase_credit": "Purchase Credit Note",
            "prepayment_allocation": "Prepayment Allocation",
        }[self.value]


class ExportStatus(StrEnum):
    PENDING = "pending"
    EXPORTED = "exported"


class ExportItem(Base):
    """One thing the package must learn. Stays pending until the package confirms it (or a user marks it).

    ``attempt_key`` is stored before a request goes out, so a retry after a crash replays the same
    idempotency key instead of creating the document again.
    """

    __tablename__ = "export_item"
    __table_args__ = (
        Index("ix_export_item_status_type", "status", "item_type"),
        # At most one pending entry per object: a second change just keeps the first one queued.
        Index(
            "uq_export_item_pending_object", "item_type", "object_id", unique=True,
            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_export_item_claim", "claim_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8), default="create")  # create or update
    status: Mapped[str] = mapped_column(String(12), default=ExportStatus.PENDING)
    reference: Mapped[str] = mapped_column(String(64), default="")
    company_name: Mapped[str] = mapped_column(String(200), default="")
    doc_date: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="")
    precheck: Mapped[str] = mapped_column(String(300), default="")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempt_key: Mapped[str | None] = mapped_column(String(128))
    attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    marked_manually: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)  # the green tick
    remote_id: Mapped[str] = mapped_column(String(64), default="")
    remote_number: Mapped[str] = mapped_column(String(64), default="")
    # Which live process is sending it, and until when its claim holds unless renewed (sync/export/claims.py).
    claim_owner: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A company or stock item the package already had: "matched" (linked to it, not created; Exported
    # Successfully shows "matched existing"), "create" (the match was undone: create it, never match it),
    # or "" (not decided: Upload Data looks for one before creating).
    match_state: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # Mark as Exported by hand: who (the OS user) and why (the reason is required; see the audit trail too).
    marked_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    mark_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class MatchState(StrEnum):
    NONE = ""
    MATCHED = "matched"
    CREATE = "create"


class RemoteLink(Base):
    """Which package object a ledger object became, so updates and payments find it."""

    __tablename__ = "remote_link"
    __table_args__ = (
        UniqueConstraint("provider", "object_type", "object_id", name="provider_object"),
        Index("ix_remote_link_remote", "provider", "remote_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    remote_id: Mapped[str] = mapped_column(String(64))
    remote_number: Mapped[str] = mapped_column(String(64), default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PackageCall(Base):
    """One call to the package, by any desk on the company: the organisation's shared pacing budget.

    A call is in flight while ``finished_at`` is empty and counts against the minute until a window after
    it finished (sync/pacing_budget.py). Rows older than two windows are pruned as calls are made.
    """

    __tablename__ = "package_call"
    __table_args__ = (Index("ix_package_call_tenant", "provider", "tenant", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    batch: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PacingTenant(Base):
    """One row per organisation: the row every desk locks while it takes its place in ``package_call``."""

    __tablename__ = "pacing_tenant"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class ExportFeedback(Base):
    """A problem with one export item, in the package's words and ours."""

    __tablename__ = "export_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    export_item_id: Mapped[int | None] = mapped_column(ForeignKey("export_item.id"), index=True)
    item_label: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text)        # the package's own message
    advice: Mapped[str] = mapped_column(Text, default="")  # what to do about it
    nominal_code: Mapped[str] = mapped_column(String(16), default="")  # the nominal to map, if that is the fix


class ImportedPayment(Base):
    """A payment recorded in the accounting package, waiting to be created and allocated here."""

    __tablename__ = "imported_payment"
    __table_args__ = (UniqueConstraint("provider", "remote_id", name="provider_remote"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    remote_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))          # receipt or supplier_payment
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    contact_remote_id: Mapped[str] = mapped_column(String(64), default="")
    company_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account_code: Mapped[str] = mapped_column(String(64), default="")
    bank_account_id: Mapped[str] = mapped_column(String(64), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    invoices: Mapped[str] = mapped_column(Text, default="")        # numbers, for the grid
    allocations_json: Mapped[str] = mapped_column(Text, default="[]")
    remote_status: Mapped[str] = mapped_column(String(16), default="AUTHORISED")
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(200), default="Ready")
    ledger_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)


class ExportSnapshot(Base):
    """What the package was sent for a document (or what a bookkeeper accepted since): its amount, lines,
    date, company and currency, and a fingerprint of them, so reconciliation tells a ledger edit made after
    export from the document as it went. One row per object and package; replaced by a sent change."""

    __tablename__ = "export_snapshot"
    __table_args__ = (UniqueConstraint("provider", "item_type", "object_id", name="snapshot_object"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    item_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)          # JSON: sync/reconcile/snapshot.py
    source: Mapped[str] = mapped_column(String(12), default="sent")   # sent, accepted, changed (sent again)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReconcileNote(Base):
    """A difference a bookkeeper dealt with by hand (a document deleted or voided in the package marked as
    handled), with who and why: reconciliation shows it as handled until the package's side changes again."""

    __tablename__ = "reconcile_note"
    __table_args__ = (Index("ix_reconcile_note_object", "provider", "item_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    item_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    remote_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24))       # the package status it answers (deleted, voided, ...)
    action: Mapped[str] = mapped_column(String(16))       # handled
    reason: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
