"""Reconciliation: every exported document in a date range, the ledger's side against the package's.

The package's side is read in paged list calls (``AccountingPackage.fetch_documents``: Xero 100 invoices a
request by id, credit notes 100 a page by date; QuickBooks 1,000 ids a query), never one request per
document: at most about ceil(n / 100) + 5 requests for n documents. Rows marked exported by hand, which have
no remote id, are looked up by number (``find_documents``), many numbers a request.

Each row says what the package holds (paid, part paid, voided, deleted, edited in the package, missing),
whether the ledger changed since export (against the snapshot taken when it was sent, see ``snapshot.py``),
and what to do. Amounts are compared in the document's currency; a foreign-currency document whose totals
agree but whose value in the ledger's currency differs is an exchange difference, labelled so, not an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...connectors.base import AccountingPackage, DocKind, RemoteDocument, RemotePayment, make_stamp
from ...connectors.provider import Provider
from ...ledger.service import controls
from ...models import (
    Allocation,
    Company,
    Document,
    DocumentLine,
    ExportItem,
    ExportStatus,
    ItemType,
    JournalLine,
    Payment,
    ReconcileNote,
    RemoteLink,
    from_stored,
)
from ...store import Store
from ..export.rules import DOC_TYPES
from ..org_settings import cached_settings
from ..own_uploads import file_key
from . import snapshot
from .report import Action, Balance, Report, Row, Status, money

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
CHUNK = 100          # documents per read of the package (one request each for invoices)
LEDGER_CHUNK = 500   # ledger rows per query
ROUNDING = Decimal("0.05")   # a variance this small is the package's rounding, not a wrong figure


def request_bound(n: int) -> int:
    """The most requests reconciling ``n`` documents may take: ceil(n / 100) + 5."""
    return -(-n // 100) + 5


@dataclass
class _Paid:
    """An exported prepayment allocation: KCC created a payment in the package for it."""

    item: ExportItem
    amount: Decimal
    when: date
    invoice: str
    company: str
    company_id: int
    currency: str
    reversed: bool
    remote_id: str


@dataclass
class _Ledger:
    item: ExportItem
    doc: Document
    remote_id: str
    outstanding: Decimal


class Reconciler:
    def __init__(self, store: Store, package: AccountingPackage) -> None:
        self.store = store
        self.package = package
        self.provider = package.provider
        self.name = Provider.label_of(package.provider, short=True)
        self.queued: set[tuple[str, int]] = set()   # documents waiting in Pending Export (re-send asked for)
        self.asked: set[str] = set()                # remote ids the package was asked for (Cancel may stop short)

    # --- the run ----------------------------------------------------------------------------------

    def run(self, date_from: date | None = None, date_to: date | None = None, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> Report:
        progress = progress or (lambda d, t, s: None)
        cancel = cancel or threading.Event()
        started = self.package.request_count
        self.asked = set()
        report = Report(date_from, date_to, self.name)
        # The ledger's side first, in one short read; no transaction stays open while the package answers.
        with self.store.session() as s:
            ledger = self._ledger(s, date_from, date_to)
            sent = snapshot.load(s, self.provider, [(x.item.item_type, x.doc.id) for x in ledger])
            notes = self._notes(s, [x.doc.id for x in ledger])
            paid = self._allocations(s, date_from, date_to)
            paid_notes = self._notes(s, [p.item.object_id for p in paid])
            s.expunge_all()   # loaded in full above; read after the session closes
        stamp = make_stamp(self.store.retrying(file_key, what="read the company file's key"), 0)[:-1] if paid else ""
        base = self._base_currency()
        total = len(ledger)
        progress(0, total, f"Reading {total:,} documents from {self.name}…")
        lo = date_from or min((x.doc.date for x in ledger), default=None)
        hi = date_to or max((x.doc.date for x in ledger), default=None)
        remote = self._read(ledger, lo, hi, progress, cancel)
        report.cancelled = cancel.is_set()
        by_number = self._by_number([x for x in ledger if not x.remote_id]) if not cancel.is_set() else {}
        for x in ledger:
            if cancel.is_set() and (not x.remote_id or x.remote_id not in self.asked):
                continue   # not read before Cancel: left out rather than called deleted or missing
            found = remote.get(x.remote_id) if x.remote_id else _pick(by_number.get(
                (DocKind(x.item.item_type), x.doc.number), []), x.doc.gross_total)
            report.rows.append(self._row(x, found, sent.get((x.item.item_type, x.doc.id)),
                                         notes.get((x.item.item_type, x.doc.id), []), base))
        if paid and not cancel.is_set():
            remote_paid = self.package.fetch_payments([p.remote_id for p in paid if p.remote_id], stamp)
            report.rows += [self._payment_row(p, remote_paid.get(p.remote_id) if p.remote_id else None,
                                              paid_notes.get((p.item.item_type, p.item.object_id), []))
                            for p in paid]
        report.balances = _balances(report.rows)
        report.requests = self.package.request_count - started
        progress(total, total, f"{report.matched:,} agree, {len(report.differences):,} differ")
        log.info("Reconcile %s to %s: %d documents, %d differ, %d requests", date_from, date_to, report.documents,
                 len(report.differences), report.requests)
        return report

    # --- the ledger's side ------------------------------------------------------------------------

    def _ledger(self, s: Session, date_from: date | None, date_to: date | None) -> list[_Ledger]:
        q = (select(ExportItem, Document).join(Document, (Document.id == ExportItem.object_id)
                                               & (Document.kind == ExportItem.item_type))
             .where(ExportItem.status == ExportStatus.EXPORTED, ExportItem.item_type.in_([t.value for t in DOC_TYPES]))
             .order_by(Document.date, Document.number, ExportItem.id)
             .options(selectinload(Document.lines).selectinload(DocumentLine.nominal),
                      selectinload(Document.lines).selectinload(DocumentLine.tax_code),
                      selectinload(Document.company)))
        if date_from is not None:
            q = q.where(Document.date >= date_from)
        if date_to is not None:
            q = q.where(Document.date <= date_to)
        latest: dict[tuple[str, int], tuple[ExportItem, Document]] = {}
        for item, doc in s.execute(q).tuples():
            latest[(item.item_type, doc.id)] = (item, doc)   # the newest exported row of each document
        self.queued = set(s.execute(select(ExportItem.item_type, ExportItem.object_id).where(
            ExportItem.status == ExportStatus.PENDING, ExportItem.item_type.in_(
                [*(t.value for t in DOC_TYPES), ItemType.PREPAYMENT_ALLOCATION.value]))).tuples())
        links = self._links(s, [d.id for _, d in latest.values()])
        due = _outstanding(s, [d for _, d in latest.values()])
        return [_Ledger(item, doc, item.remote_id or links.get((item.item_type, doc.id), ""),
                        due.get(doc.id, Decimal(0))) for item, doc in latest.values()]

    def _allocations(self, s: Session, date_from: date | None, date_to: date | None) -> list[_Paid]:
        q = (select(ExportItem, Allocation, Document.number, Company.name, Company.id, Payment.currency)
             .join(Allocation, Allocation.id == ExportItem.object_id)
             .join(Document, Document.id == Allocation.document_id)
             .join(Payment, Payment.id == Allocation.payment_id)
             .join(Company, Company.id == Payment.company_id)
             .where(ExportItem.status == ExportStatus.EXPORTED,
                    ExportItem.item_type == ItemType.PREPAYMENT_ALLOCATION.value)
             .order_by(Allocation.date, ExportItem.id))
        if date_from is not None:
            q = q.where(Allocation.date >= date_from)
        if date_to is not None:
            q = q.where(Allocation.date <= date_to)
        latest: dict[int, _Paid] = {}
        for item, alloc, number, company, company_id, currency in s.execute(q).tuples():
            latest[alloc.id] = _Paid(item, alloc.amount, alloc.date, number, company, company_id, currency,
                                     alloc.reversed_at is not None, item.remote_id)
        links = self._links(s, list(latest))
        for p in latest.values():
            p.remote_id = p.remote_id or links.get((p.item.item_type, p.item.object_id), "")
        return list(latest.values())

    def _links(self, s: Session, ids: list[int]) -> dict[tuple[str, int], str]:
        out: dict[tuple[str, int], str] = {}
        for n in range(0, len(ids), LEDGER_CHUNK):
            rows = s.execute(select(RemoteLink.object_type, RemoteLink.object_id, RemoteLink.remote_id).where(
                RemoteLink.provider == self.provider, RemoteLink.object_id.in_(ids[n:n + LEDGER_CHUNK]))).tuples()
            out.update(((t, o), r) for t, o, r in rows)
        return out

    def _notes(self, s: Session, ids: list[int]) -> dict[tuple[str, int], list[ReconcileNote]]:
        out: dict[tuple[str, int], list[ReconcileNote]] = {}
        for n in range(0, len(ids), LEDGER_CHUNK):
            for note in s.scalars(select(ReconcileNote).where(ReconcileNote.provider == self.provider,
                                                              ReconcileNote.object_id.in_(ids[n:n + LEDGER_CHUNK]))
                                  .order_by(ReconcileNote.id)):
                out.setdefault((note.item_type, note.object_id), []).append(note)
        return out

    def _base_currency(self) -> str:
        """The organisation's currency, from the copy of its settings kept at the last fetch or check."""
        kept = cached_settings(self.store, self.provider)
        return kept.base_currency if kept is not None else "GBP"

    # --- the package's side -----------------------------------------------------------------------

    def _read(self, ledger: list[_Ledger], lo: date | None, hi: date | None, progress: Progress,
              cancel: threading.Event) -> dict[str, RemoteDocument]:
        """Invoices 100 a call (one request each), then credit notes in one call (the package pages them)."""
        out: dict[str, RemoteDocument] = {}
        linked = [(DocKind(x.item.item_type), x.remote_id) for x in ledger if x.remote_id]
        # Kind by kind, so a chunk is one query where the package lists each kind apart (QuickBooks).
        invoices = [w for w in linked if w[0] in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE)]
        credits = [w for w in linked if w[0] not in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE)]
        chunks = [chunk for kind in (DocKind.PURCHASE_INVOICE, DocKind.SALES_INVOICE)
                  for group in [[w for w in invoices if w[0] == kind]]
                  for chunk in (group[n:n + CHUNK] for n in range(0, len(group), CHUNK))]
        done = 0
        for chunk in chunks:
            if cancel.is_set():
                return out
            out.update(self.package.fetch_documents(chunk, lo, hi))
            self.asked.update(rid for _, rid in chunk)
            done += len(chunk)
            progress(done, len(ledger), f"Read {done:,} of {len(ledger):,} from {self.name}")
        if credits and not cancel.is_set():
            out.update(self.package.fetch_documents(credits, lo, hi))
            self.asked.update(rid for _, rid in credits)
            done += len(credits)
            progress(done, len(ledger), f"Read {done:,} of {len(ledger):,} from {self.name}")
        return out

    def _by_number(self, unlinked: Sequence[_Ledger]) -> dict[tuple[DocKind, str], list[RemoteDocument]]:
        if not unlinked:
            return {}
        return self.package.find_documents([(DocKind(x.item.item_type), x.doc.number) for x in unlinked])

    # --- one row ----------------------------------------------------------------------------------

    def _payment_row(self, p: _Paid, found: RemotePayment | None, notes: list[ReconcileNote]) -> Row:
        row = Row(item_id=p.item.id, item_type=p.item.item_type, object_id=p.item.object_id, number=p.invoice,
                  company=p.company, company_id=p.company_id, date=p.when, currency=p.currency,
                  ledger_total=p.amount, package_total=found.amount if found else None, status=Status.MATCHED,
                  problem=False, remote_id=p.remote_id, marked_manually=bool(p.item.marked_manually))
        if not p.remote_id:   # marked exported by hand: KCC made no payment it could look for
            row.advice = (f"Marked as Exported by hand ({p.item.mark_reason or 'no reason recorded'}): KCC sent no "
                          f"payment, so there is none of its own to check in {self.name}.")
            return row
        status, advice = _payment_status(p, found)
        if status == Status.MATCHED:
            return row
        row.status, row.problem, row.advice = status, True, advice.format(name=self.name)
        handled = next((n for n in reversed(notes) if n.status == status.value), None)
        if (p.item.item_type, p.item.object_id) in self.queued:
            row.status, row.problem = Status.HANDLED, False
            row.advice = "Queued to be sent again: Upload Data sends it (Pending Export)."
        elif handled is not None:
            row.status, row.problem = Status.HANDLED, False
            row.advice = (f"Marked as handled by {handled.user or 'someone'} on {handled.at:%Y-%m-%d}: "
                          f"{handled.reason}")
        else:
            row.actions = (Action.RESEND, Action.MARK_HANDLED) if status in (Status.DELETED, Status.VOIDED) \
                else (Action.MARK_HANDLED,)
        return row

    def _row(self, x: _Ledger, found: RemoteDocument | None, sent: snapshot.Sent | None, notes: list[ReconcileNote],
             base: str) -> Row:
        doc, item, name = x.doc, x.item, self.name
        label = f"{ItemType(item.item_type).label} {doc.number}"
        row = Row(item_id=item.id, item_type=item.item_type, object_id=doc.id, number=doc.number,
                  company=doc.company.name, company_id=doc.company_id, date=doc.date, currency=doc.currency,
                  ledger_total=doc.gross_total, package_total=found.total if found else None, status=Status.MATCHED,
                  problem=False, remote_id=found.remote_id if found else x.remote_id,
                  ledger_outstanding=_due(item.item_type, x.outstanding),
                  package_outstanding=found.amount_due if found else None,
                  package_base_total=found.base_total if found else None, marked_manually=bool(item.marked_manually))
        now = snapshot.document_snapshot(doc)
        changed = sent is not None and snapshot.fingerprint(now) != sent.fingerprint
        remote_status = (found.status.upper() if found else "")
        gone = Status.DELETED if (found is None and x.remote_id) or remote_status == "DELETED" else \
            Status.VOIDED if remote_status == "VOIDED" else None
        if found is None and not x.remote_id:
            gone = Status.MISSING
        if gone is not None:
            row.status, row.problem = gone, True
            handled = next((n for n in reversed(notes) if n.status == gone.value), None)
            if (item.item_type, doc.id) in self.queued:
                row.status, row.problem = Status.HANDLED, False
                row.advice = "Queued to be sent again: Upload Data sends it (Pending Export)."
                return row
            if handled is not None:
                row.status, row.problem = Status.HANDLED, False
                row.advice = (f"Marked as handled by {handled.user or 'someone'} on {handled.at:%Y-%m-%d}: "
                              f"{handled.reason}")
                return row
            if gone == Status.MISSING:
                who = f" by {item.marked_by}" if item.marked_by else ""
                why = f" ({item.mark_reason})" if item.mark_reason else ""
                row.advice = (f"Marked as Exported{who}{why}, but {name} has no {label}. Enter it in {name}, or "
                              "Mark as Not Exported and Upload Data; or mark it handled with a reason.")
                row.actions = (Action.RESEND, Action.MARK_HANDLED)
            else:
                row.advice = (f"{label} was {gone.value} in {name} after KCC sent it; the ledger still has it. Re-send "
                              f"it, or mark it handled with a reason (if it was {gone.value} on purpose, also "
                              "correct the ledger).")
                row.actions = (Action.RESEND, Action.MARK_HANDLED)
            return row
        assert found is not None
        paid = found.amount_due == 0 and found.total != 0
        part = not paid and found.amount_due != found.total and remote_status not in ("DRAFT", "SUBMITTED")
        settled = Status.PAID if paid else Status.PART_PAID if part else Status.MATCHED
        if changed and sent is not None:
            row.changes = snapshot.changes(sent.data, now)
            row.status, row.problem = Status.CHANGED_SINCE_EXPORT, True
            if settled in (Status.PAID, Status.PART_PAID):
                row.advice = (f"Edited in the ledger after export ({'; '.join(row.changes)}), and it is "
                              f"{settled.value} in {name}: credit and reissue it, or accept the difference with a "
                              "reason.")
                row.actions = (Action.CREDIT_REISSUE, Action.ACCEPT)
            else:
                row.advice = (f"Edited in the ledger after export ({'; '.join(row.changes)}): send the change to "
                              f"{name}, or accept the difference with a reason.")
                row.actions = (Action.SEND_CHANGE, Action.ACCEPT)
            return row
        expected = sent.package_total if sent is not None and sent.package_total is not None else doc.gross_total
        if found.total != expected or (sent is not None and found.date is not None
                                       and sent.data.get("date") not in (None, found.date.isoformat())):
            row.status, row.problem = Status.EDITED_IN_PACKAGE, True
            if found.total != expected:
                row.changes.append(f"total {expected:.2f} → {found.total:.2f} in {name}")
            if found.date is not None and sent is not None and sent.data.get("date") != found.date.isoformat():
                row.changes.append(f"date {sent.data.get('date')} → {found.date.isoformat()} in {name}")
            row.advice = (f"Changed in {name} after KCC sent it ({'; '.join(row.changes)}). Put it back in {name} "
                          f"(Goto), or send the ledger's version again, or accept the difference with a reason.")
            row.actions = (Action.SEND_CHANGE if settled == Status.MATCHED else Action.CREDIT_REISSUE, Action.ACCEPT)
            return row
        if found.currency and doc.currency and found.currency.upper() != doc.currency.upper():
            row.status, row.problem = Status.CURRENCY_DIFFERS, True
            row.advice = (f"The ledger's {label} is in {doc.currency}, {name}'s in {found.currency}: correct the "
                          "currency on whichever side is wrong.")
            return row
        if found.total != doc.gross_total:
            if sent is not None and sent.source == "accepted":
                row.status = Status.ACCEPTED
                row.advice = f"Difference accepted: {sent.reason}"
                return row
            row.status, row.problem = Status.TOTAL_DIFFERS, True
            small = abs(found.total - doc.gross_total) <= ROUNDING
            row.advice = (f"{name} rounded {label} differently ({found.total:.2f} against {doc.gross_total:.2f}); a "
                          "payment of the ledger's figure will not clear it. Correct the rounding in "
                          f"{name} (Goto), or accept the difference with a reason."
                          if small else f"{name} holds {found.total:.2f}, the ledger {doc.gross_total:.2f}: correct "
                          "whichever side is wrong, or accept the difference with a reason.")
            row.actions = (Action.SEND_CHANGE, Action.ACCEPT)
            return row
        row.status = settled
        if item.marked_manually and not x.remote_id:
            who = f" by {item.marked_by}" if item.marked_by else ""
            why = f" ({item.mark_reason})" if item.mark_reason else ""
            row.advice = f"Marked as Exported{who}{why}; {name} holds a matching {label}."
        if row.ledger_outstanding is not None and found.amount_due != row.ledger_outstanding \
                and remote_status not in ("DRAFT", "SUBMITTED"):
            row.status, row.problem = Status.OUTSTANDING_DIFFERS, True
            if found.amount_due < row.ledger_outstanding:
                row.advice = (f"{name} shows {found.amount_due:.2f} still owed, the ledger "
                              f"{row.ledger_outstanding:.2f}: a payment or allocation recorded in {name} is not in "
                              "the ledger. Run Import Payments.")
            else:
                row.advice = (f"{name} shows {found.amount_due:.2f} still owed, the ledger "
                              f"{row.ledger_outstanding:.2f}: a payment or allocation in the ledger is not in {name} "
                              f"(a credit note allocation is never sent: allocate it in {name}).")
            return row
        if doc.currency and doc.currency.upper() != base.upper() and found.base_total is not None \
                and found.base_total != doc.gross_total:
            row.status = Status.EXCHANGE_DIFFERENCE
            row.advice = (f"Only exchange: the totals agree in {doc.currency}; in {base} {name} values it at "
                          f"{money(found.base_total)}. No correction needed.")
        return row


def _payment_status(p: _Paid, found: RemotePayment | None) -> tuple[Status, str]:
    """The package's side of a payment KCC created, and what to do (in words, with ``{name}`` for the package)."""
    status = found.status.upper() if found is not None else ""
    if found is None or status == "DELETED":
        return Status.DELETED, ("The payment KCC sent for it was deleted in {name}. Re-send it, or mark it handled "
                                "with a reason.")
    if status == "VOIDED":
        return Status.VOIDED, ("The payment KCC sent for it was voided in {name}. Re-send it, or mark it handled "
                               "with a reason.")
    if p.reversed:
        return Status.CHANGED_SINCE_EXPORT, ("Reversed in the ledger after export, but still in {name}: delete the "
                                             "payment there (Goto), then mark it handled with a reason.")
    if found.amount != p.amount:
        return Status.EDITED_IN_PACKAGE, ("The payment's amount was changed in {name} after KCC sent it: put it back "
                                          "there, or mark it handled with a reason.")
    return Status.MATCHED, ""


def _pick(candidates: list[RemoteDocument], total: Decimal) -> RemoteDocument | None:
    """For a row marked by hand: a live document of that number, the one with the ledger's total first."""
    live = [d for d in candidates if d.status.upper() not in ("VOIDED", "DELETED")]
    pool = live or candidates
    return next((d for d in pool if d.total == total), pool[0] if pool else None)


def _due(item_type: str, outstanding: Decimal) -> Decimal:
    """The ledger's "still owed" as the package shows it: positive for invoices and for unused credit."""
    return -outstanding if item_type in (ItemType.SALES_CREDIT, ItemType.PURCHASE_CREDIT) else outstanding


def _outstanding(s: Session, docs: list[Document]) -> dict[int, Decimal]:
    """Each document's control-account balance (``ledger.service.outstanding``), many documents a query."""
    if not docs:
        return {}
    c = controls(s)
    sales = {d.id for d in docs if d.kind in (ItemType.SALES_INVOICE, ItemType.SALES_CREDIT)}
    ids = sorted(d.id for d in docs)
    out: dict[int, Decimal] = {}
    for n in range(0, len(ids), LEDGER_CHUNK):
        q = (select(JournalLine.document_id, JournalLine.nominal_id, func.sum(JournalLine.amount))
             .where(JournalLine.document_id.in_(ids[n:n + LEDGER_CHUNK]),
                    JournalLine.nominal_id.in_([c.debtors, c.creditors]))
             .group_by(JournalLine.document_id, JournalLine.nominal_id))
        for doc_id, nominal_id, raw in s.execute(q).tuples():
            if doc_id is None or (nominal_id == c.debtors) != (doc_id in sales):
                continue
            value = from_stored(raw).quantize(Decimal("0.01"))
            out[doc_id] = value if nominal_id == c.debtors else -value
    return out


def _balances(rows: list[Row]) -> list[Balance]:
    out: dict[int, Balance] = {}
    for r in rows:
        if r.item_type == ItemType.PREPAYMENT_ALLOCATION:   # its effect is in the invoice's outstanding already
            continue
        b = out.setdefault(r.company_id, Balance(r.company_id, r.company))
        sign = -1 if r.item_type in (ItemType.SALES_CREDIT, ItemType.PURCHASE_CREDIT) else 1
        b.ledger += sign * (r.ledger_outstanding or Decimal(0))
        if r.status not in (Status.DELETED, Status.VOIDED, Status.MISSING, Status.HANDLED):
            b.package += sign * (r.package_outstanding or Decimal(0))
    return sorted(out.values(), key=lambda b: (b.difference == 0, b.company))

