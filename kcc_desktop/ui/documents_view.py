"""The Documents tab: every ledger document, filterable and sortable, opening a read-only view.

The model holds document ids only; rows, sorting and filtering are single SQL queries, so the tab stays
smooth on 100,000 documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget
from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, or_, select, type_coerce

from ..context import AppContext
from ..ledger.service import controls
from ..models import Company, Document, DocumentKind, JournalLine
from ..store import Store
from . import icons
from .grid import GridPanel, GridView, LazyTableModel, bind_button, plain_label, selection_action
from .payment_dialog import RecordPaymentAction


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


def money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


class DocumentQueries:
    """The SQL behind the grid: ids, rows by id, ids ordered by a column, ids matching words."""

    CHUNK = 900   # stays under SQLite's bound-parameter limit

    def __init__(self, store: Store) -> None:
        self.store = store

    def _outstanding(self, session):
        """Per document: its control-account lines, signed so an invoice is positive (as service.outstanding)."""
        c = controls(session)
        signed = case((JournalLine.nominal_id == c.debtors, JournalLine.amount), else_=-JournalLine.amount)
        return (select(JournalLine.document_id.label("doc_id"), func.sum(signed).label("outstanding"))
                .where(JournalLine.document_id.is_not(None),
                       JournalLine.nominal_id.in_([c.debtors, c.creditors]))
                .group_by(JournalLine.document_id))

    def ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.connection().execute(select(Document.id).order_by(Document.date, Document.id)).scalars())

    def rows(self, ids: Sequence[int]) -> dict[int, DocumentRow]:
        found: dict[int, DocumentRow] = {}
        with self.store.session() as s:
            for start in range(0, len(ids), self.CHUNK):
                part = list(ids[start:start + self.CHUNK])
                out = dict(s.execute(self._outstanding(s).where(JournalLine.document_id.in_(part))).all())
                q = (select(Document.id, Document.kind, Document.number, Company.name, Document.date,
                            Document.net_total, Document.tax_total, Document.gross_total, Document.currency)
                     .join(Company, Company.id == Document.company_id).where(Document.id.in_(part)))
                for id_, kind, number, company, when, net, tax, gross, currency in s.execute(q):
                    owed = out.get(id_)
                    owed = Decimal("0.00") if owed is None else Decimal(owed).quantize(Decimal("0.01"))
                    found[id_] = DocumentRow(id_, kind, number, company, when, net, tax, gross, owed, currency)
        return found

    def ordered_ids(self, column: DocCol, descending: bool) -> list[int]:
        """Every document id ordered by the column, in SQL (typed: amounts as numbers, dates as dates)."""
        with self.store.session() as s:
            q = select(Document.id)
            if column == DocCol.OUTSTANDING:
                sub = self._outstanding(s).subquery()
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
            return list(s.connection().execute(q).scalars())   # plain ints: no ORM rows for 100k ids

    def matching(self, text: str) -> set[int]:
        """Documents whose kind, number, company, reference, date, currency or amounts contain every word."""
        conditions = []
        with self.store.session() as s:
            sqlite = s.get_bind().dialect.name == "sqlite"
            for word in text.lower().split():
                like = f"%{word}%"
                kinds = [k.value for k in DocumentKind if word in k.label.lower()]
                options = [func.lower(Document.number).like(like), func.lower(Company.name).like(like),
                           func.lower(Company.code).like(like), func.lower(Document.reference).like(like),
                           func.lower(Document.currency).like(like), cast(Document.date, String).like(like)]
                if kinds:
                    options.append(Document.kind.in_(kinds))
                if sqlite and any(ch.isdigit() for ch in word):
                    # Amounts are stored in ten-thousandths; match their 2-dp text as shown.
                    for column in (Document.net_total, Document.tax_total, Document.gross_total):
                        options.append(func.printf("%.2f", type_coerce(column, Integer) / literal(10000.0, Float)).like(like))
                conditions.append(or_(*options))
            q = select(Document.id).join(Company, Company.id == Document.company_id).where(and_(*conditions))
            return set(s.scalars(q))


class DocumentsModel(LazyTableModel):
    Columns = DocCol
    headers = {DocCol.KIND: "Type", DocCol.NUMBER: "Number", DocCol.COMPANY: "Company", DocCol.DATE: "Date",
               DocCol.NET: "Net", DocCol.TAX: "Tax", DocCol.GROSS: "Gross", DocCol.OUTSTANDING: "Outstanding",
               DocCol.CURRENCY: "Currency"}
    column_widths = {DocCol.KIND: 150, DocCol.NUMBER: 110, DocCol.COMPANY: 260, DocCol.DATE: 100,
                     DocCol.NET: 100, DocCol.TAX: 90, DocCol.GROSS: 100, DocCol.OUTSTANDING: 110}
    AMOUNTS = (DocCol.NET, DocCol.TAX, DocCol.GROSS, DocCol.OUTSTANDING)

    def __init__(self, queries: DocumentQueries, parent=None) -> None:
        super().__init__(parent=parent)
        self.queries = queries

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids):
        return self.queries.rows(ids)

    def display(self, row: DocumentRow, column: DocCol) -> str:
        if column == DocCol.KIND:
            return DocumentKind(row.kind).label
        if column == DocCol.DATE:
            return row.date.isoformat()
        if column in self.AMOUNTS:
            return money_text(row[column + 1])
        return str(row[column + 1])

    def sort_key(self, row: DocumentRow, column: DocCol):
        if column == DocCol.KIND:
            return DocumentKind(row.kind).label
        if column == DocCol.COMPANY:
            return row.company.lower()
        return row[column + 1]

    def sorted_ids(self, ids, column, descending):
        ordered = self.queries.ordered_ids(column, descending)
        if len(ordered) != len(ids):   # documents added or removed since the last load: keep the shown set
            shown, known = set(ids), set(ordered)
            ordered = [i for i in ordered if i in shown] + [i for i in ids if i not in known]
        return ordered

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def alignment(self, column: DocCol):
        return Qt.AlignmentFlag.AlignRight if column in self.AMOUNTS else None

    def foreground(self, row: DocumentRow, column: DocCol):
        if column == DocCol.OUTSTANDING and row.outstanding == 0:
            return QColor("#757575")   # settled
        if DocumentKind(row.kind).is_credit and column in (DocCol.KIND, DocCol.NUMBER):
            return QColor("#b71c1c")
        return None


class DocumentsView(QWidget):
    """The Documents tab. ``open_action`` and ``refresh_action`` are reused by menus and shortcuts."""

    title = "Documents"

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Documents")
        self.model = DocumentsModel(DocumentQueries(ctx.store), self)
        self.grid = GridView(self.model, "documents", name="Documents")
        self.grid.id_activated.connect(self.open_document)

        self.open_action = selection_action(self.grid, "&Open Document", self.open_selected, parent=self,
                                            maximum=1, icon=icons.icon("document"),
                                            tooltip="Show the selected document, read-only (Enter)")
        self.refresh_action = selection_action(self.grid, "&Refresh", self.refresh, parent=self, minimum=0,
                                               icon=icons.icon("refresh"),
                                               tooltip="Read the documents again from the company file (F5)")
        # Payments are entered against the selected document's company, behind the payment guard.
        self.payment_action = RecordPaymentAction(ctx.store, self)
        self.payment_action.setObjectName("record_payment_action")
        self.grid.selection_changed.connect(self.on_grid_selection_changed)
        self.grid.set_context_actions([self.open_action, self.payment_action, None, self.refresh_action])
        self.menu_actions = [self.open_action, self.payment_action]

        buttons = QHBoxLayout()
        for action in (self.open_action, self.payment_action, self.refresh_action):
            button = QPushButton(action.icon(), plain_label(action.text()))
            bind_button(button, action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        self.panel = GridPanel(self.grid, title="Documents")
        layout.addWidget(self.panel)
        self.refresh()

    def refresh(self) -> None:
        self.model.reload()
        self.panel.update_count()
        self.payment_action.refresh()

    def on_grid_selection_changed(self) -> None:
        current = self.grid.current_id() if self.grid.selected_count() == 1 else None
        company_id = None
        if current is not None:
            with self.ctx.store.session() as s:
                company_id = s.scalar(select(Document.company_id).where(Document.id == current))
        self.payment_action.set_company(company_id)

    def open_selected(self) -> None:
        ids = self.grid.selected_ids()
        if ids:
            self.open_document(ids[0])

    def open_document(self, document_id: int):
        from .document_dialog import DocumentDialog

        dialog = DocumentDialog(self.ctx.store, document_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.last_dialog = dialog
        return dialog

