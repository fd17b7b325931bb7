"""What a bookkeeper does about a reconciliation row. Nothing is re-sent or set aside silently: each action
is asked for, and each goes in the audit trail with who (the OS user), when and why.

- **Send the change**: the ledger's edited document replaces the package's copy (where the package allows it).
- **Credit and reissue**: for a copy that is paid or locked: a credit note for what was sent, and the edited
  document sent again under a new number (``<number>-R<n>``), now linked to the ledger's document.
- **Accept with a reason**: the difference stays; the row shows "accepted" until either side changes again.
- **Re-send**: a document deleted or voided in the package (or marked exported by hand and missing there)
  goes back to Pending Export, to be created again by the next Upload Data.
- **Mark as handled with a reason**: a deleted, voided or missing document dealt with by hand.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...connectors.base import AccountingPackage, DocKind, DocumentIn, LineIn, Result
from ...connectors.provider import Provider
from ...models import (
    Document,
    DocumentKind,
    ExportItem,
    ExportStatus,
    ItemType,
    NominalCode,
    ReconcileNote,
    StockItem,
    TaxCode,
    get_required,
    utcnow,
)
from ...store import Store
from .. import payloads as pl
from ..audit import audit, os_user
from ..export.lookup import save_link
from ..own_uploads import file_key
from . import snapshot

log = logging.getLogger(__name__)

CREDIT_OF = {DocKind.SALES_INVOICE: DocKind.SALES_CREDIT, DocKind.PURCHASE_INVOICE: DocKind.PURCHASE_CREDIT,
             DocKind.SALES_CREDIT: DocKind.SALES_INVOICE, DocKind.PURCHASE_CREDIT: DocKind.PURCHASE_INVOICE}


class ReasonRequired(ValueError):
    """Accepting a difference or marking it handled needs a reason (it goes in the audit trail)."""


@dataclass
class Outcome:
    ok: bool
    message: str


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired(f"Say why you {what}; the reason goes in the audit trail.")
    return text


class ReconcileActions:
    """Each method opens its own session, so the Reconcile screen can call it from a worker thread."""

    def __init__(self, store: Store, provider: str) -> None:
        self.store = store
        self.provider = provider
        self.name = Provider.label_of(provider, short=True)

    # --- without the package ------------------------------------------------------------------------

    def accept(self, item_id: int, reason: str, package_total: Decimal | None) -> Outcome:
        """Keep the difference: what the ledger holds now and what the package shows are the agreed state."""
        why = _reason(reason, "accept this difference")
        with self.store.transaction() as s:
            item, doc = self._exported(s, item_id)
            old = self._sent_total(s, item)
            snapshot.record(s, self.provider, item.item_type, doc, package_total=package_total, source="accepted",
                            reason=why)
            audit(s, f"Reconcile: accepted the difference on {_label(item, doc)}",
                  old=f"ledger {old}" if old else "", new=f"ledger {doc.gross_total:.2f}, {self.name} "
                  f"{package_total:.2f}" if package_total is not None else f"ledger {doc.gross_total:.2f}",
                  reason=why)
        return Outcome(True, f"{_label(item, doc)}: difference accepted.")

    def mark_handled(self, item_id: int, status: str, reason: str, remote_id: str = "") -> Outcome:
        """A document deleted, voided or missing in the package, dealt with by hand."""
        why = _reason(reason, "mark this as handled")
        with self.store.transaction() as s:
            item = get_required(s, ExportItem, item_id)
            label = _item_label(item)
            s.add(ReconcileNote(provider=self.provider, item_type=item.item_type, object_id=item.object_id,
                                remote_id=remote_id, status=status, action="handled", reason=why, user=os_user(),
                                at=utcnow()))
            audit(s, f"Reconcile: marked {label} as handled", old=f"{status} in {self.name}", new="handled",
                  reason=why)
        return Outcome(True, f"{label}: marked as handled.")

    def resend(self, item_id: int, reason: str = "") -> Outcome:
        """Back to Pending Export, as a new document (the old link is dropped): the next Upload Data creates it.
        A row marked exported by hand simply goes back (as Mark as Not Exported does)."""
        with self.store.transaction() as s:
            item = get_required(s, ExportItem, item_id)
            label, was = _item_label(item), f"exported ({item.remote_id or 'by hand'})"
            queued = s.scalar(select(ExportItem.id).where(ExportItem.item_type == item.item_type,
                                                          ExportItem.object_id == item.object_id,
                                                          ExportItem.status == ExportStatus.PENDING))
            link = pl.remote_link(s, self.provider, item.item_type, item.object_id)
            if link is not None:
                s.delete(link)
            if item.marked_manually and queued is None:
                item.status, item.marked_manually, item.exported_at = ExportStatus.PENDING, False, None
                item.marked_by, item.mark_reason, item.confirmed = "", "", False
            elif item.marked_manually:
                s.delete(item)
            elif queued is None:
                s.add(ExportItem(item_type=item.item_type, object_id=item.object_id, action="create",
                                 status=ExportStatus.PENDING, reference=item.reference,
                                 company_name=item.company_name, doc_date=item.doc_date, amount=item.amount,
                                 currency=item.currency))
            audit(s, f"Reconcile: re-send {label}", old=was, new="pending export", reason=(reason or "").strip())
        return Outcome(True, f"{label} is back in Pending Export: Upload Data sends it again.")

    # --- through the package ------------------------------------------------------------------------

    def send_change(self, item_id: int, package: AccountingPackage) -> Outcome:
        """The ledger's version replaces the package's copy; refused (paid, locked) → credit and reissue."""
        doc_in, remote_id, label = self._payload(item_id, package)
        key = f"{self._salt()}-change-{item_id}-{doc_in.total}"
        result = package.update_document(remote_id, doc_in, key)
        if not result.ok:
            with self.store.transaction() as s:
                audit(s, f"Reconcile: send the change to {label} refused by {self.name}",
                      new="; ".join(result.messages))
            return Outcome(False, f"{self.name} refused the change to {label}: {'; '.join(result.messages)} "
                                  "Use Credit and Reissue instead, or accept the difference with a reason.")
        self._sent(item_id, result, "changed", f"Reconcile: sent the change to {label}")
        return Outcome(True, f"{label}: the change was sent to {self.name}.")

    def credit_and_reissue(self, item_id: int, package: AccountingPackage) -> Outcome:
        """A credit note for what the package holds (the lines as sent), then the ledger's version as a new
        document ``<number>-R<n>``, which the ledger's document is then linked to."""
        doc_in, remote_id, label = self._payload(item_id, package)
        with self.store.session() as s:
            item = get_required(s, ExportItem, item_id)
            sent = snapshot.load(s, self.provider, [(item.item_type, item.object_id)]).get(
                (item.item_type, item.object_id))
            n = 1 + int(sent.data.get("reissues") or 0) if sent else 1
            credit_lines = self._lines_as_sent(s, sent.data if sent else None, doc_in)
        salt = self._salt()
        credit = DocumentIn(key=f"{item_id}-cr", kind=CREDIT_OF[doc_in.kind], number=f"{doc_in.number}-CR{n}",
                            contact_remote_id=doc_in.contact_remote_id, contact_name=doc_in.contact_name,
                            date=doc_in.date, due_date=None, currency=doc_in.currency, lines=credit_lines,
                            reference=f"Credit for {doc_in.number} (reissued)", authorised=doc_in.authorised,
                            contact_other_side=doc_in.contact_other_side, contact_email=doc_in.contact_email,
                            contact_code=doc_in.contact_code)
        done = package.create_documents([credit], f"{salt}-credit-{item_id}-{n}")
        if not done or not done[0].ok:
            why = "; ".join(done[0].messages) if done else "no answer"
            return Outcome(False, f"{self.name} refused the credit note for {label}: {why}")
        doc_in.number, doc_in.key = f"{doc_in.number}-R{n}", f"{item_id}-r{n}"
        again = package.create_documents([doc_in], f"{salt}-reissue-{item_id}-{n}")
        if not again or not again[0].ok:
            why = "; ".join(again[0].messages) if again else "no answer"
            return Outcome(False, f"The credit note {credit.number} is in {self.name}, but the reissue of {label} "
                                  f"was refused: {why}. Correct it, then use Credit and Reissue again.")
        self._sent(item_id, again[0], "changed", f"Reconcile: credited {label} ({credit.number}) and reissued it "
                                                 f"as {doc_in.number}", old_remote=remote_id, reissues=n)
        return Outcome(True, f"{label}: credited as {credit.number} and reissued as {doc_in.number} in {self.name}.")

    # --- helpers ------------------------------------------------------------------------------------

    def _exported(self, s: Session, item_id: int) -> tuple[ExportItem, Document]:
        item = get_required(s, ExportItem, item_id)
        doc = s.get(Document, item.object_id)
        if item.item_type not in {t.value for t in DocumentKind} or doc is None:
            raise ValueError(f"Export row {item_id} is not a ledger document.")
        return item, doc

    def _sent_total(self, s: Session, item: ExportItem) -> str:
        sent = snapshot.load(s, self.provider, [(item.item_type, item.object_id)]).get((item.item_type, item.object_id))
        return str(sent.data.get("total")) if sent else ""

    def _salt(self) -> str:
        return self.store.retrying(file_key, what="read the company file's key")

    def _payload(self, item_id: int, package: AccountingPackage) -> tuple[DocumentIn, str, str]:
        ctx = pl.PayloadContext.load(self.store, self.provider)
        with self.store.session() as s:
            item = get_required(s, ExportItem, item_id)
            doc = s.scalar(select(Document).where(Document.id == item.object_id).options(
                selectinload(Document.lines), selectinload(Document.company)))
            if doc is None:
                raise ValueError(f"Export row {item_id} is not a ledger document.")
            remote_id = item.remote_id or getattr(pl.remote_link(s, self.provider, item.item_type, doc.id),
                                                  "remote_id", "")
            contact = pl.remote_link(s, self.provider, ItemType.COMPANY, doc.company_id)
            codes = {line.stock_item_id: code for line in doc.lines if line.stock_item_id
                     and (code := self._item_code(s, line.stock_item_id))}
            doc_in = pl.document_payload(ctx, doc, str(item_id), contact.remote_id if contact else "", codes)
            return doc_in, remote_id, _label(item, doc)

    def _item_code(self, s: Session, stock_item_id: int) -> str:
        link = pl.remote_link(s, self.provider, ItemType.STOCK_ITEM, stock_item_id)
        if link is None:
            return ""
        item = s.get(StockItem, stock_item_id)
        return item.code if item else ""

    def _lines_as_sent(self, s: Session, sent: dict[str, Any] | None, now: DocumentIn) -> list[LineIn]:
        """The credit note's lines: the document's lines as the package was sent them (else as now)."""
        if not sent or not isinstance(sent.get("lines"), list):
            return [LineIn(line.description, line.quantity, line.unit_amount, line.account_code, line.tax_code,
                           line.discount_rate, "", line.line_amount, line.tax_amount) for line in now.lines]
        ctx = pl.PayloadContext.load(self.store, self.provider)
        nominals = {c: i for i, c in s.execute(select(NominalCode.id, NominalCode.code)).tuples()}
        taxes = {c: i for i, c in s.execute(select(TaxCode.id, TaxCode.code)).tuples()}
        sales = now.kind in (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT)
        out = []
        for desc, qty, unit, disc, nominal, tax, net, tax_amount in sent["lines"]:
            what = f"Credit for {now.number}"
            out.append(LineIn(str(desc), Decimal(qty), Decimal(unit),
                              ctx.account(nominals[nominal], sales=sales, what=what),
                              ctx.tax(taxes[tax], sales=sales, what=what), Decimal(disc), "", Decimal(net),
                              Decimal(tax_amount)))
        return out

    def _sent(self, item_id: int, result: Result, source: str, what: str, old_remote: str = "",
              reissues: int = 0) -> None:
        with self.store.transaction() as s:
            item = get_required(s, ExportItem, item_id)
            doc = s.scalar(select(Document).where(Document.id == item.object_id).options(
                selectinload(Document.lines), selectinload(Document.company)))
            assert doc is not None
            if result.remote_id and result.remote_id != item.remote_id:
                item.remote_id, item.remote_number = result.remote_id, result.remote_number or item.remote_number
                save_link(s, self.provider, item.item_type, doc.id, result.remote_id, item.remote_number)
            item.confirmed = True
            snapshot.record(s, self.provider, item.item_type, doc, package_total=result.total, source=source,
                            reissues=reissues)
            audit(s, what, old=old_remote, new=json.dumps({"remote_id": result.remote_id,
                                                           "total": str(result.total) if result.total is not None
                                                           else None}))
        log.info("%s", what)


def _label(item: ExportItem, doc: Document) -> str:
    return f"{ItemType(item.item_type).label} {doc.number}"


def _item_label(item: ExportItem) -> str:
    return f"{ItemType(item.item_type).label} {item.reference}".strip()

