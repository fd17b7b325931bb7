"""The Documents tab's grid and the read-only document dialog: every ledger document, one at a time or
100,000 at once.

``DocumentList`` gives the grid ids, rows, orders and filter matches, one SQL query each; what is still
owed is summed from the journal's control-account lines, as ``ledger.service.outstanding`` does.
``document_snapshot`` reads one document whole (header, lines, allocations) into plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import Any, NamedTuple

from sqlalchemy import Select, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from ..ledger.service import controls, outstanding
from ..models import Allocation, Company, Document, DocumentKind, JournalLine
from ..store import Store
from .common import amount_text, chunked, has_digit

PENNY = Decimal("0.01")


class DocCol(IntEnum):
    KIND = 0
    NUMBER = 1
    COMPANY = 2
    DATE = 3
    NET = 4
    TAX = 5
    GROSS = 6
    OUTSTANDING = 7
    CURRENCY = 8


class DocumentRow(NamedTuple):
    """One grid row; fields after ``id`` are in column order (``row[column + 1]``)."""

    id: int
    kind: str
    number: str
    company: str
    date: date
    net: Decimal
    tax: Decimal
    gross: Decimal
    outstanding: Decimal
    currency: str


def _outstanding_by_document(session: Session) -> Select[Any]:
    """Per document: its control-account lines, signed so an invoice is positive (as service.outstanding)."""
    c = controls(session)
    signed = case((JournalLine.nominal_id == c.debtors, JournalLine.amount), else_=-JournalLine.amount)
    return (select(JournalLine.document_id.label("doc_id"), func.sum(signed).label("outstanding"))
            .where(JournalLine.document_id.is_not(None), JournalLine.nominal_id.in_([c.debtors, c.creditors]))
            .group_by(JournalLine.document_id))


class DocumentList:
    """The SQL behind the Documents grid: ids, rows by id, ids ordered by a column, ids matching words."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ids(self) -> list[int]:
        with self.store.session() as s:   # plain ints straight off the connection: no ORM rows for 100k ids
            return list(s.connection().execute(select(Document.id).order_by(Document.date, Document.id)).scalars())

    def rows(self, ids: Sequence[int]) -> dict[int, DocumentRow]:
        found: dict[int, DocumentRow] = {}
        q = (select(Document.id, Document.kind, Document.number, Company.name, Document.date, Document.net_total,
                    Document.tax_total, Document.gross_total, Document.currency)
             .join(Company, Company.id == Document.company_id))
        with self.store.session() as s:
            owed_q = _outstanding_by_document(s)
            for part in chunked(ids):
                owed = dict(s.execute(owed_q.where(JournalLine.document_id.in_(part))).tuples().all())
                for id_, kind, number, company, when, net, tax, gross, currency in s.execute(
                        q.where(Document.id.in_(part))).tuples():
                    due = owed.get(id_)
                    due = Decimal("0.00") if due is None else Decimal(due).quantize(PENNY)
                    found[id_] = DocumentRow(id_, kind, number, company, when, net, tax, gross, due, currency)
        return found

    def ordered_ids(self, column: DocCol, descending: bool) -> list[int]:
        """Every document id ordered by the column, in SQL (typed: amounts as numbers, dates as dates)."""
        with self.store.session() as s:
            q = select(Document.id)
            key: Any
            if column == DocCol.OUTSTANDING:
                sub = _outstanding_by_document(s).subquery()
                q = q.outerjoin(sub, sub.c.doc_id == Document.id)
                key = func.coalesce(sub.c.outstanding, 0)
            elif column == DocCol.COMPANY:
                q = q.join(Company, Company.id == Document.company_id)
                key = func.lower(Company.name)
            elif column == DocCol.KIND:
                key = case(*((Document.kind == k.value, k.label) for k in DocumentKind), else_=Document.kind)
            else:
                key = {DocCol.NUMBER: Document.number, DocCol.DATE: Document.date, DocCol.NET: Document.net_total,
                       DocCol.TAX: Document.tax_total, DocCol.GROSS: Document.gross_total,
                       DocCol.CURRENCY: Document.currency}[column]
            q = q.order_by(key.desc() if descending else key.asc(), Document.id)
            return list(s.connection().execute(q).scalars())

    def matching(self, text: str) -> set[int]:
        """Documents whose kind, number, company, reference, date, currency or amounts contain every word."""
        conditions = []
        with self.store.session() as s:
            for word in text.lower().split():
                like = f"%{word}%"
                kinds = [k.value for k in DocumentKind if word in k.label.lower()]
                options = [func.lower(Document.number).like(like), func.lower(Company.name).like(like),
                           func.lower(Company.code).like(like), func.lower(Document.reference).like(like),
                           func.lower(Document.currency).like(like), cast(Document.date, String).like(like)]
                if kinds:
                    options.append(Document.kind.in_(kinds))
                if has_digit(like):
                    options += [amount_text(c).like(like)
                                for c in (Document.net_total, Document.tax_total, Document.gross_total)]
                conditions.append(or_(*options))
            q = select(Document.id).join(Company, Company.id == Document.company_id).where(and_(*conditions))
            return set(s.scalars(q))

    def company_of(self, document_id: int) -> int | None:
        """The document's customer or supplier (None if the document is gone)."""
        with self.store.session() as s:
            return s.scalar(select(Document.company_id).where(Document.id == document_id))


# --- one document, read-only ---------------------------------------------------------------------------

class SnapshotLine(NamedTuple):
    line_no: int
    item: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_code: str
    nominal: str
    net: Decimal
    tax: Decimal


class SnapshotAllocation(NamedTuple):
    date: date
    what: str
    reference: str
    amount: Decimal
    status: str          # "reversed" or ""


@dataclass
class DocumentSnapshot:
    kind_label: str
    number: str
    company: str
    date: dt.date
    due_date: dt.date | None
    currency: str
    reference: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    outstanding: Decimal
    lines: list[SnapshotLine] = field(default_factory=list)
    allocations: list[SnapshotAllocation] = field(default_factory=list)


class DocumentGone(LookupError):
    """The document was deleted since the list was read."""


def document_snapshot(store: Store, document_id: int) -> DocumentSnapshot:
    """Header, lines, totals and allocations of one document, read in one session."""
    with store.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise DocumentGone("This document no longer exists in the company file. Press F5 to refresh the list.")
        snap = DocumentSnapshot(DocumentKind(doc.kind).label, doc.number, f"{doc.company.name} ({doc.company.code})",
                                doc.date, doc.due_date, doc.currency, doc.reference, doc.net_total, doc.tax_total,
                                doc.gross_total, outstanding(s, doc.id))
        snap.lines = [SnapshotLine(line.line_no, line.stock_item.code if line.stock_item else "", line.description,
                                   line.quantity, line.unit_price, line.discount_rate, line.tax_code.code,
                                   f"{line.nominal.code} {line.nominal.name}", line.net, line.tax)
                      for line in doc.lines]
        allocations = s.scalars(select(Allocation).where(
            or_(Allocation.document_id == doc.id, Allocation.credit_note_id == doc.id)).order_by(Allocation.date))
        for a in allocations:
            if a.credit_note_id == doc.id:           # this credit note used against an invoice
                what, ref = f"Applied to {a.document.number}", a.document.reference
            elif a.payment is not None:              # a receipt, supplier payment or prepayment paying this
                what, ref = f"Payment ({a.payment.kind.replace('_', ' ')})", a.payment.reference
            elif a.credit_note is not None:          # a credit note set against this invoice
                what, ref = f"Credit note {a.credit_note.number}", a.credit_note.reference
            else:
                continue   # an allocation is either a payment's or a credit note's: the schema has no third kind
            snap.allocations.append(SnapshotAllocation(a.date, what, ref, a.amount,
                                                       "reversed" if a.reversed_at else ""))
    return snap
