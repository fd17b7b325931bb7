"""Import tab service: payments recorded in the accounting package come back into the ledger.

Fetch keeps a watermark and upserts by the package's payment id, so a payment is never shown twice.
Create & Allocate writes each payment all-or-nothing: it runs inside a SAVEPOINT, so either the payment,
its allocations and its status all land, or nothing of the payment does and the status says what to do.
Several payments share one transaction (one commit per batch) because a commit per payment caps the rate
far below what 10,000 payments need. The database enforces one ledger payment per package payment
(``payment.remote_id`` and ``imported_payment.ledger_payment_id`` are unique), so running it twice
changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..connectors.base import AccountingPackage, RemotePayment
from ..connectors.provider import Provider
from ..ledger import bulk_payments as bulk
from ..ledger import service as ledger
from ..ledger.errors import LedgerError
from ..models import (
    BankAccount,
    Company,
    Document,
    ImportedPayment,
    Mapping,
    PackageAccount,
    Payment,
    RemoteLink,
    get_required,
)
from ..settings_db import DbSettingsStore
from ..store import Store
from . import gil
from .gil import yield_gil
from .own_uploads import settle_own_uploads
from .payment_batches import Due, prefetch
from .target import Target, read_target

log = logging.getLogger(__name__)
_FETCH_LOCK = 0x4B434346   # PostgreSQL advisory lock: one desk writes a fetched page at a time

BATCH = 250   # payments per transaction; each still all-or-nothing through its own SAVEPOINT

# Status texts the user sees in the grid. "Not created:" always means nothing was written.
READY = "Ready to create"
CREATED = "Payment created and allocated"
LEFT_ON_ACCOUNT = CREATED + "; {left} {currency} more than was due, left on account"
STILL_DUE = CREATED + "; {due} {currency} still outstanding on {number}"
NOT_EXPORTED = ("Not created: invoice {number} was never exported from this ledger, so the payment cannot be "
                "allocated here. Record it by hand against the ledger's own invoice.")
NO_BANK = ("Not created: bank account {code} in {pkg} is not mapped to a ledger bank account. Map it on the "
           "Mapping tab, then run Create & Allocate Payments again.")
NO_COMPANY = ("Not created: {name} is not linked to a ledger company, so the payment has no account to go on. "
              "Upload the company from the Export tab first.")
MIXED = "Not created: the invoices it pays belong to different ledger companies; record it by hand."
CURRENCY = ("Not created: currency mismatch: the payment is in {paid} but {what} is in {own}. "
            "Check the payment in {pkg}.")
DELETED_NOT_IMPORTED = "Deleted in {pkg} before it was imported; nothing to do"
DELETED_IMPORTED = "Deleted in {pkg}: use Reverse Deleted Payments to undo it in the ledger"
REVERSED = "Deleted in {pkg}; reversed in the ledger with its allocations"
# A QuickBooks void keeps the payment with a zero amount; for the ledger it is gone, like a deletion.
VOIDED_NOT_IMPORTED = "Voided in {pkg} before it was imported; nothing to do"
VOIDED_IMPORTED = "Voided in {pkg}: use Reverse Deleted Payments to undo it in the ledger"
VOIDED_REVERSED = "Voided in {pkg}; reversed in the ledger with its allocations"
GONE = ("DELETED", "VOIDED")   # remote statuses of a payment that no longer stands in the package
CHANGED = ("Changed in {pkg} after it was imported (now {amount} {currency}): reverse and re-enter it by hand "
           "if the ledger must follow")
ALREADY = CREATED + " (by an earlier run)"
# A Xero overpayment allocated to another invoice after it was imported. The ledger already holds the money
# (what was not due then is on the customer's account); allocating it is left to the user on purpose: the
# ledger may have used that credit since (a prepayment allocation, a refund), which the package cannot know.
ALLOCATED_LATER = ("Allocated in {pkg} after it was imported: {amount} {currency} more to {numbers}. In the "
                   "ledger, allocate that from what this payment left on account")


def watermark_key(provider: str) -> str:
    return f"import.watermark.{provider}"


@dataclass
class ImportSummary:
    fetched: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0
    reversed: int = 0
    cancelled: bool = False

    def to_json(self) -> dict[str, int]:
        return {"fetched": self.fetched, "created": self.created, "skipped": self.skipped, "failed": self.failed}

    @property
    def text(self) -> str:
        parts = [f"{self.fetched:,} new payment{'s' if self.fetched != 1 else ''} fetched"] if self.fetched else []
        if self.created or self.failed or self.skipped:
            parts.append(f"{self.created:,} created and allocated")
            if self.failed:
                parts.append(f"{self.failed:,} not created (see Status)")
            if self.skipped:
                parts.append(f"{self.skipped:,} skipped")
        if self.reversed:
            parts.append(f"{self.reversed:,} reversed")
        text = ", ".join(parts) or "nothing new"
        return text + (" (cancelled)" if self.cancelled else "") + "."


@dataclass
class _Refused(Exception):
    status: str


@dataclass
class _Cache:
    """What every payment of a run looks up: the bank mappings and the links the export stored."""

    banks: dict[str, int] = field(default_factory=dict)      # package bank code or id -> BankAccount.id
    links: dict[tuple[str, str], int] = field(default_factory=dict)   # (object_type, remote_id) -> local id


class PaymentsImport:
    def __init__(self, store: Store, provider: str) -> None:
        self.store = store
        self.provider = provider
        self.pkg = Provider.label_of(provider, short=True)

    # --- fetch --------------------------------------------------------------------------------------

    def fetch(self, package: AccountingPackage, summary: ImportSummary | None = None,
              cancel: threading.Event | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> ImportSummary:
        """Downloads payments changed since the last fetch; new ones count as ``fetched``."""
        summary = summary or ImportSummary()
        settings = DbSettingsStore(self.store)
        raw = settings.get(watermark_key(self.provider))
        since = datetime.fromisoformat(raw) if raw else None
        newest = since
        seen = 0
        # A second of overlap: the package's "modified since" is to the second and excludes that instant,
        # so a payment saved in the same second as the last one fetched would otherwise never be seen.
        query_from = since - timedelta(seconds=1) if since else None
        for page in package.list_payments(query_from):
            added, latest = self.store.retrying(partial(self._save_page, payments=page.payments),
                                                what="save the payments read")
            summary.fetched += added
            if latest is not None and (newest is None or latest > newest):
                newest = latest
            seen += len(page.payments)
            if progress:   # the package never says how many there are: no total, just what was read
                progress(seen, 0, f"{seen:,} payments read, {summary.fetched:,} new")
            if cancel is not None and cancel.is_set() and page.has_more:
                summary.cancelled = True
                return summary   # the watermark stays: the next fetch starts again (upserts dedupe)
        # Only a complete run moves the watermark: QuickBooks sends receipts, then supplier payments,
        # then deletions, so the pages are not in one time order and a part-run must not skip anything.
        if newest is not None and newest != since:
            settings.set(watermark_key(self.provider), newest.isoformat())
        log.info("Fetch Payments from %s: %d read, %d new or changed (since %s)", self.pkg, seen, summary.fetched,
                 since.isoformat() if since else "the start")
        return summary

    def _save_page(self, s: Session, *, payments: list[RemotePayment]) -> tuple[int, datetime | None]:
        """One page written: (payments new to the ledger, the latest change among them). Safe to run again."""
        self._one_desk_at_a_time(s)
        existing = self._existing(s, [p.remote_id for p in payments])
        ours = self._exported_by_us(s, [p.remote_id for p in payments])
        ours |= settle_own_uploads(s, self._target(s), self.pkg, payments)
        added, latest = 0, None
        for remote in payments:
            if remote.remote_id in ours:
                continue   # a prepayment allocation this ledger uploaded: it is here already
            new = self._upsert(s, existing.get(remote.remote_id), remote)
            if new is not None:   # the same payment twice in a page must not be added twice
                existing[remote.remote_id] = new
                added += 1
            if latest is None or remote.updated_at > latest:
                latest = remote.updated_at
        return added, latest

    def _one_desk_at_a_time(self, s: Session) -> None:
        """Two desks fetching at once both find a new payment absent and both add it: one failed on the unique
        key (the chaos suite's three-desk rounds on PostgreSQL). A page's look and its writes are one desk's
        at a time; the other waits (bounded, as every lock wait) and then finds the payment there."""
        if self.store.is_postgres:
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FETCH_LOCK})
        else:   # SQLite's write lock, taken now rather than at the first insert (pysqlite opens it lazily)
            s.execute(text("UPDATE imported_payment SET id = id WHERE 1 = 0"))

    def _existing(self, s: Session, remote_ids: list[str]) -> dict[str, ImportedPayment]:
        if not remote_ids:
            return {}
        rows = s.scalars(select(ImportedPayment).where(
            ImportedPayment.provider == self.provider, ImportedPayment.remote_id.in_(remote_ids)))
        return {r.remote_id: r for r in rows}

    def _exported_by_us(self, s: Session, remote_ids: list[str]) -> set[str]:
        """Package payments that are this ledger's own prepayment allocations, sent by the Export tab."""
        if not remote_ids:
            return set()
        return set(s.scalars(select(RemoteLink.remote_id).where(
            self._links(s), RemoteLink.object_type == "prepayment_allocation", RemoteLink.remote_id.in_(remote_ids))))

    def _target(self, s: Session) -> Target:
        """The organisation connected now, in this package (no organisation when connected elsewhere)."""
        target = read_target(s)
        return target if target.provider == self.provider else Target(self.provider, "")

    def _links(self, s: Session) -> ColumnElement[bool]:
        """This package's links, in the organisation connected now (QuickBooks ids repeat across companies)."""
        target = read_target(s)
        if target.provider != self.provider:
            return RemoteLink.provider == self.provider
        return (RemoteLink.provider == self.provider) & (RemoteLink.tenant_id == target.tenant_id)

    def _upsert(self, s: Session, row: ImportedPayment | None, remote: RemotePayment) -> ImportedPayment | None:
        """Adds a payment not seen before (returned) or brings a known one up to date (None)."""
        deleted = remote.status.upper() in GONE
        voided = remote.status.upper() == "VOIDED"
        if row is None:
            if deleted:
                return None   # deleted (or voided) before we ever saw it: nothing to show, nothing to do
            row = ImportedPayment(provider=self.provider, remote_id=remote.remote_id, status=READY,
                                  **_fields(remote))
            s.add(row)
            return row
        row.remote_status = remote.status.upper()
        row.remote_updated_at = remote.updated_at
        if row.ledger_payment_id is None:
            if deleted:
                row.status = (VOIDED_NOT_IMPORTED if voided else DELETED_NOT_IMPORTED).format(pkg=self.pkg)
            else:   # changed in the package before we imported it: take the new figures
                for name, value in _fields(remote).items():
                    setattr(row, name, value)
            return None
        payment = get_required(s, Payment, row.ledger_payment_id)
        if payment.reversed_at is not None:
            return None
        if deleted:
            row.status = (VOIDED_IMPORTED if voided else DELETED_IMPORTED).format(pkg=self.pkg)
        elif remote.amount != payment.amount:
            row.status = CHANGED.format(pkg=self.pkg, amount=f"{remote.amount:,.2f}", currency=remote.currency)
        else:
            grown = _allocated_since(row, remote)
            if grown:
                row.status = _fit(ALLOCATED_LATER.format(
                    pkg=self.pkg, amount=f"{sum(grown.values(), Decimal(0)):,.2f}",
                    currency=remote.currency or row.currency, numbers=", ".join(grown)))
        return None

    # --- create & allocate --------------------------------------------------------------------------

    def ready_ids(self) -> list[int]:
        """Every fetched payment not yet in the ledger and not deleted, oldest first."""
        with self.store.session() as s:
            return list(s.scalars(select(ImportedPayment.id).where(
                ImportedPayment.provider == self.provider, ImportedPayment.ledger_payment_id.is_(None),
                ImportedPayment.remote_status.not_in(GONE)).order_by(ImportedPayment.date, ImportedPayment.id)))

    def create_and_allocate(self, ids: Iterable[int], progress: Callable[[int, int, str], None] | None = None,
                            cancel: threading.Event | None = None, batch: int = BATCH) -> ImportSummary:
        """Creates each selected payment in the ledger and allocates it; stops between batches on cancel."""
        ids = list(ids)
        summary = ImportSummary()
        for start in range(0, len(ids), batch):
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                break
            chunk = ids[start:start + batch]
            with self.store.transaction() as s:
                # pysqlite opens its transaction lazily, at the first write; without this, the first
                # SAVEPOINT would become the outermost transaction and commit on release. (A no-op anywhere.)
                s.execute(text("UPDATE imported_payment SET id = id WHERE 1 = 0"))
                rows = {r.id: r for r in s.scalars(select(ImportedPayment).where(ImportedPayment.id.in_(chunk)))}
                self._create_batch(s, [rows.get(i) for i in chunk], self._cache(s, rows.values()), summary)
            if progress:
                progress(min(start + batch, len(ids)), len(ids),
                         f"{summary.created:,} created, {summary.failed:,} not created")
        log.info("Create & Allocate Payments (%s): %d selected, %d created, %d skipped, %d not created%s",
                 self.pkg, len(ids), summary.created, summary.skipped, summary.failed,
                 " (cancelled)" if summary.cancelled else "")
        return summary

    def _create_batch(self, s: Session, rows: list[ImportedPayment | None], cache: _Cache,
                      summary: ImportSummary) -> None:
        """Checks every payment first (a refusal writes only its status), then writes the good ones together.
        Should the batch write fail, each is written on its own, inside its own SAVEPOINT."""
        due = Due(s)
        prefetch(s, [r for r in rows if r is not None], cache.links, due)
        planned: list[tuple[ImportedPayment, str, bulk.PaymentSpec]] = []
        for row in rows:
            yield_gil()   # the window's thread gets its turn between payments (else it stalls 0.4-0.6 s)
            if row is None or row.ledger_payment_id is not None or row.remote_status in GONE:
                summary.skipped += 1
                continue
            try:
                status, spec = self._check(s, row, cache, due)
            except _Refused as refused:
                row.status = _fit(refused.status)
                summary.failed += 1
                log.info("Payment %s %s not created: %s", row.remote_id, row.invoices, refused.status)
                continue
            for doc, part in spec.allocations:
                due.take(doc.id, part)
            planned.append((row, status, spec))
        if not planned:
            return
        savepoint = s.begin_nested()
        try:
            payment_ids = bulk.write(s, [spec for _, _, spec in planned])
        except IntegrityError:
            # Another run got one of them first: write them one by one so only that one is skipped.
            savepoint.rollback()
            for row, _status, _spec in planned:
                outcome = self._create_one(s, row, cache)
                setattr(summary, outcome, getattr(summary, outcome) + 1)
            return
        savepoint.commit()
        for (row, status, _spec), payment_id in zip(planned, payment_ids, strict=True):
            row.ledger_payment_id, row.status = payment_id, _fit(status)
        summary.created += len(planned)
        log.info("Created and allocated %d payments: %s", len(planned),
                 "; ".join(f"{row.amount} {row.currency} to {row.invoices or 'account'}" for row, _, _ in planned))

    def _create_one(self, s: Session, row: ImportedPayment, cache: _Cache) -> str:
        """One payment, checked and written as a batch writes it, all-or-nothing in its own SAVEPOINT."""
        savepoint = s.begin_nested()
        try:
            status, spec = self._check(s, row, cache, Due(s))
            [payment_id] = bulk.write(s, [spec])
        except _Refused as refused:
            savepoint.rollback()
            row.status = _fit(refused.status)
            return "failed"
        except IntegrityError:
            # Another run (or another window) imported it first: the database kept it to one payment.
            savepoint.rollback()
            existing = s.scalar(select(Payment).where(Payment.remote_id == self._payment_key(row)))
            if existing is not None:
                row.ledger_payment_id, row.status = existing.id, ALREADY
            return "skipped"
        savepoint.commit()
        row.ledger_payment_id = payment_id
        row.status = _fit(status)
        return "created"

    def _payment_key(self, row: ImportedPayment) -> str:
        return f"{self.provider}:{row.remote_id}"

    def _check(self, s: Session, row: ImportedPayment, cache: _Cache, due: Due) -> tuple[str, bulk.PaymentSpec]:
        """``_plan``, then the ledger's own checks of a payment (``record_payment``'s); either refusal is a
        ``_Refused`` whose status says what to do. (``_plan`` refuses first for everything Xero or QuickBooks can
        send; the ledger's checks stay as the last word, should its rules grow.)"""
        status, spec = self._plan(s, row, cache, due)
        try:
            bulk.validate(s, spec, due)
        except LedgerError as exc:
            raise _Refused(f"Not created: {exc}") from exc
        return status, spec

    def _plan(self, s: Session, row: ImportedPayment, cache: _Cache, due: Due) -> tuple[str, bulk.PaymentSpec]:
        """What the ledger payment will be, and the status it earns; ``_Refused`` says why not."""
        bank_id = cache.banks.get(row.bank_account_code) or cache.banks.get(row.bank_account_id)
        if bank_id is None:
            code = row.bank_account_code or row.bank_account_id or "(none)"
            name = s.scalar(select(PackageAccount.name).where(   # e.g. QuickBooks' Undeposited Funds
                PackageAccount.provider == self.provider, PackageAccount.category == "bank",
                PackageAccount.code == code))
            raise _Refused(NO_BANK.format(code=f"{code} ({name})" if name else code, pkg=self.pkg))
        doc_type = "sales_invoice" if row.kind == "receipt" else "purchase_invoice"
        targets: list[tuple[Document, Decimal]] = []
        for alloc in json.loads(row.allocations_json or "[]"):
            doc_id = cache.links.get((doc_type, alloc["id"]))
            if doc_id is None:
                raise _Refused(NOT_EXPORTED.format(number=alloc.get("number") or alloc["id"]))
            targets.append((get_required(s, Document, doc_id), Decimal(alloc["amount"])))
        company: Company | None
        if targets:
            company = get_required(s, Company, targets[0][0].company_id)
        else:
            company_id = cache.links.get(("company", row.contact_remote_id))
            company = s.get(Company, company_id) if company_id else None
        if company is None:
            raise _Refused(NO_COMPANY.format(name=row.company_name or "The contact"))
        if any(doc.company_id != company.id for doc, _ in targets):
            raise _Refused(MIXED)
        paid_in = row.currency or company.currency
        for what, own in [(company.name, company.currency)] + [(doc.number, doc.currency) for doc, _ in targets]:
            if own != paid_in:
                raise _Refused(CURRENCY.format(paid=paid_in, what=what, own=own, pkg=self.pkg))
        # What the package allocated, but never more than the ledger still has outstanding (a credit note
        # allocated here, which never syncs, may have reduced it); the rest stays on the account.
        parts, still_due = [], []
        for doc, amount in targets:
            owed = due[doc.id]
            part = min(amount, owed)
            if part > 0:
                parts.append((doc, part))
            if owed - part > 0:
                still_due.append((doc.number, owed - part))
        spec = bulk.PaymentSpec(row.kind, company, get_required(s, BankAccount, bank_id), row.amount, row.date, parts,
                                reference=row.reference[:100], source=self.provider,
                                remote_id=self._payment_key(row))
        left = row.amount - sum((p for _, p in parts), Decimal(0))
        if left > 0:
            return LEFT_ON_ACCOUNT.format(left=f"{left:,.2f}", currency=paid_in), spec
        if still_due:
            numbers = ", ".join(n for n, _ in still_due)
            owed = sum((d for _, d in still_due), Decimal(0))
            return STILL_DUE.format(due=f"{owed:,.2f}", currency=paid_in, number=numbers), spec
        return CREATED, spec

    def _cache(self, s: Session, rows: Iterable[ImportedPayment]) -> _Cache:
        cache = _Cache()
        mappings = s.scalars(select(Mapping).where(Mapping.provider == self.provider, Mapping.category == "bank"))
        # Several ledger banks may map to one package account (Apply Default Setup maps every ledger bank
        # to a package's only one): the one the user chose wins, then the first ledger bank (the current account).
        codes: dict[str, int] = {}
        for m in sorted(mappings, key=lambda m: (m.set_by != "user", m.local_id)):
            codes.setdefault(m.remote_code, m.local_id)
        cache.banks.update(codes)
        # QuickBooks payments name the bank by id; the mapping may hold its number: match through the
        # accounts last fetched from the package.
        for acc in s.scalars(select(PackageAccount).where(PackageAccount.provider == self.provider,
                                                          PackageAccount.code.in_(list(codes)))):
            if acc.remote_id:
                cache.banks.setdefault(acc.remote_id, codes[acc.code])
        remote_ids: set[str] = set()
        for row in rows:
            remote_ids.add(row.contact_remote_id)
            remote_ids.update(a["id"] for a in json.loads(row.allocations_json or "[]"))
        remote_ids.discard("")
        wanted = sorted(remote_ids)
        size = gil.CHUNK   # ids per IN list (SQLite's limit on bound values); read now, so a test can make it small
        for start in range(0, len(wanted), size):
            for link in s.scalars(select(RemoteLink).where(self._links(s),
                                                           RemoteLink.remote_id.in_(wanted[start:start + size]))):
                cache.links[(link.object_type, link.remote_id)] = link.object_id
        return cache

    # --- deleted in the package ---------------------------------------------------------------------

    def deleted_imported_ids(self, ids: Iterable[int] | None = None) -> list[int]:
        """Payments deleted or voided in the package whose ledger payment still stands (what Reverse would undo)."""
        q = (select(ImportedPayment.id).join(Payment, Payment.id == ImportedPayment.ledger_payment_id)
             .where(ImportedPayment.provider == self.provider, ImportedPayment.remote_status.in_(GONE),
                    Payment.reversed_at.is_(None)).order_by(ImportedPayment.id))
        with self.store.session() as s:
            found = list(s.scalars(q))
        if ids is not None:
            wanted = set(ids)
            found = [i for i in found if i in wanted]
        return found

    def reverse_deleted(self, ids: Iterable[int]) -> int:
        """After the user confirms: reverses imported payments deleted in the package, with their allocations."""
        reversed_count = 0
        for imported_id in self.deleted_imported_ids(ids):
            with self.store.transaction() as s:
                row = get_required(s, ImportedPayment, imported_id)
                if row.ledger_payment_id is None:
                    continue
                payment = get_required(s, Payment, row.ledger_payment_id)
                if payment.reversed_at is None:
                    ledger.reverse_payment(s, payment)
                    reversed_count += 1
                    log.info("Reversed ledger payment %d (%s %s, deleted in %s)", payment.id, payment.amount,
                             payment.currency, self.pkg)
                row.status = (VOIDED_REVERSED if row.remote_status == "VOIDED" else REVERSED).format(pkg=self.pkg)
        return reversed_count


def _fit(status: str, width: int = 200) -> str:
    """The Status, Company and Reference columns hold 200 characters; a long name or reference may not fit."""
    return status if len(status) <= width else status[:width - 1] + "…"


def _allocated_since(row: ImportedPayment, remote: RemotePayment) -> dict[str, Decimal]:
    """What the package now allocates beyond what was imported, by invoice number (or id)."""
    before: dict[str, Decimal] = {}
    for a in json.loads(row.allocations_json or "[]"):
        before[a["id"]] = before.get(a["id"], Decimal(0)) + Decimal(a["amount"])
    grown: dict[str, Decimal] = {}
    for a in remote.allocations:
        extra = a.amount - before.pop(a.document_remote_id, Decimal(0))
        if extra > 0:
            name = a.document_number or a.document_remote_id
            grown[name] = grown.get(name, Decimal(0)) + extra
    return grown


def _fields(remote: RemotePayment) -> dict[str, Any]:
    """The columns an ImportedPayment takes from the package's payment."""
    return {
        "kind": remote.kind, "date": remote.date, "amount": remote.amount, "unapplied": remote.unapplied,
        "currency": remote.currency or "GBP", "contact_remote_id": remote.contact_remote_id,
        # Xero allows names of 255 characters and sets no length on a reference: both columns hold 200.
        "company_name": _fit(remote.contact_name), "bank_account_code": remote.bank_account_code,
        "bank_account_id": remote.bank_account_id, "reference": _fit(remote.reference),
        "invoices": ", ".join(a.document_number or a.document_remote_id for a in remote.allocations),
        "allocations_json": json.dumps([{"id": a.document_remote_id, "number": a.document_number,
                                         "amount": str(a.amount)} for a in remote.allocations]),
        "remote_status": remote.status.upper(), "remote_updated_at": remote.updated_at}
