"""The Export tab's three grids: Pending Export, Exported Successfully and Error Feedback.

Each model holds ids only (grid.LazyTableModel); rows, sort keys and filter matches are single SQL
queries, so 100,000 rows open, sort and filter without building 100,000 objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, or_, select, type_coerce

from ..models import ExportFeedback, ExportItem, ExportStatus, ItemType
from ..store import Store
from .grid import LazyTableModel, order_by_keys

CHUNK = 900
GREEN = "#2e7d32"
TYPE_LABELS = {t.value: t.label for t in ItemType}


def type_label(item_type: str) -> str:
    return TYPE_LABELS.get(item_type, item_type)


def money_text(value: Decimal | None) -> str:
    """Pennies, or four places for a unit price that has them (3.3330 -> 3.333)."""
    if value is None:
        return ""
    if value != value.quantize(Decimal("0.01")):
        return f"{value.normalize():,f}"
    return f"{value:,.2f}"


def when_text(value: datetime | None) -> str:
    """A UTC timestamp in the user's local time, to the minute."""
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


_tick: QIcon | None = None


def tick_icon() -> QIcon:
    """The green tick of a row the package confirmed (drawn, so it needs no resource file)."""
    global _tick
    if _tick is None:
        pix = QPixmap(32, 32)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(GREEN))
        p.drawEllipse(QRectF(2, 2, 28, 28))
        pen = QPen(QColor("white"), 4.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        path = QPainterPath(QPointF(9, 16.5))
        path.lineTo(QPointF(14, 21.5))
        path.lineTo(QPointF(23, 11))
        p.drawPath(path)
        p.end()
        _tick = QIcon(pix)
    return _tick


def _type_case(column):
    return case(*((column == t.value, t.label) for t in ItemType), else_=column)


def _amount_like(column, like):
    return func.printf("%.2f", type_coerce(column, Integer) / literal(10000.0, Float)).like(like)


# --- Pending Export --------------------------------------------------------------------------------

class PendingCol(IntEnum):
    TYPE = 0
    REFERENCE = 1
    COMPANY = 2
    DATE = 3
    AMOUNT = 4
    CURRENCY = 5
    PRECHECK = 6
    QUEUED = 7


class PendingRow(NamedTuple):
    id: int
    item_type: str
    reference: str
    company: str
    date: date | None
    amount: Decimal | None
    currency: str
    precheck: str
    queued_at: datetime
    action: str


class _ItemQueries:
    """ExportItem rows of one status; every method is one query (chunked for IN lists)."""

    def __init__(self, store: Store, status: str) -> None:
        self.store = store
        self.status = status

    def ids(self) -> list[int]:
        with self.store.session() as s:
            order = ExportItem.id if self.status == ExportStatus.PENDING else ExportItem.exported_at.desc()
            return list(s.scalars(select(ExportItem.id).where(ExportItem.status == self.status).order_by(order)))

    def items(self, ids: Sequence[int]) -> dict[int, ExportItem]:
        out: dict[int, ExportItem] = {}
        with self.store.session() as s:
            for start in range(0, len(ids), CHUNK):
                for item in s.scalars(select(ExportItem).where(ExportItem.id.in_(list(ids[start:start + CHUNK])))):
                    out[item.id] = item
            s.expunge_all()
        return out

    def sort_keys(self, column) -> dict[int, object]:
        with self.store.session() as s:
            return dict(s.execute(select(ExportItem.id, column).where(ExportItem.status == self.status)).all())

    def matching(self, text: str, extra_columns=()) -> set[int]:
        conditions = []
        for word in text.lower().split():
            like = f"%{word}%"
            options = [func.lower(ExportItem.reference).like(like), func.lower(ExportItem.company_name).like(like),
                       func.lower(_type_case(ExportItem.item_type)).like(like),
                       func.lower(ExportItem.currency).like(like), func.lower(ExportItem.precheck).like(like),
                       func.lower(ExportItem.remote_number).like(like), func.lower(ExportItem.remote_id).like(like),
                       cast(ExportItem.doc_date, String).like(like)]
            if any(ch.isdigit() for ch in word):
                options.append(_amount_like(ExportItem.amount, like))
            conditions.append(or_(*options))
        with self.store.session() as s:
            return set(s.scalars(select(ExportItem.id).where(ExportItem.status == self.status, and_(*conditions))))


class PendingExportModel(LazyTableModel):
    Columns = PendingCol
    headers = {PendingCol.TYPE: "Type", PendingCol.REFERENCE: "Reference", PendingCol.COMPANY: "Company / Description",
               PendingCol.DATE: "Date", PendingCol.AMOUNT: "Amount", PendingCol.CURRENCY: "Currency",
               PendingCol.PRECHECK: "Pre-check", PendingCol.QUEUED: "Queued at"}
    column_widths = {PendingCol.TYPE: 140, PendingCol.REFERENCE: 110, PendingCol.COMPANY: 220, PendingCol.DATE: 95,
                     PendingCol.AMOUNT: 100, PendingCol.CURRENCY: 70, PendingCol.PRECHECK: 260,
                     PendingCol.QUEUED: 130}
    _SORT = {PendingCol.REFERENCE: ExportItem.reference, PendingCol.COMPANY: func.lower(ExportItem.company_name),
             PendingCol.DATE: ExportItem.doc_date, PendingCol.AMOUNT: ExportItem.amount,
             PendingCol.CURRENCY: ExportItem.currency, PendingCol.PRECHECK: ExportItem.precheck,
             PendingCol.QUEUED: ExportItem.queued_at, PendingCol.TYPE: _type_case(ExportItem.item_type)}

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent=parent)
        self.queries = _ItemQueries(store, ExportStatus.PENDING)

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids):
        return {i: PendingRow(i, e.item_type, e.reference, e.company_name, e.doc_date, e.amount, e.currency,
                              e.precheck, e.queued_at, e.action)
                for i, e in self.queries.items(ids).items()}

    def display(self, row: PendingRow, column: PendingCol) -> str:
        if column == PendingCol.TYPE:
            label = type_label(row.item_type)
            return f"{label} (update)" if row.action == "update" else label
        if column == PendingCol.REFERENCE:
            return row.reference
        if column == PendingCol.COMPANY:
            return row.company
        if column == PendingCol.DATE:
            return row.date.isoformat() if row.date else ""
        if column == PendingCol.AMOUNT:
            return money_text(row.amount)
        if column == PendingCol.CURRENCY:
            return row.currency
        if column == PendingCol.PRECHECK:
            return row.precheck
        return when_text(row.queued_at)

    def sort_key(self, row: PendingRow, column: PendingCol):
        return {PendingCol.DATE: row.date, PendingCol.AMOUNT: row.amount,
                PendingCol.QUEUED: row.queued_at}.get(column, self.display(row, column).lower())

    def sorted_ids(self, ids, column, descending):
        return order_by_keys(ids, self.queries.sort_keys(self._SORT[column]), descending)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def alignment(self, column):
        return Qt.AlignmentFlag.AlignRight if column == PendingCol.AMOUNT else None

    def foreground(self, row: PendingRow, column):
        if column == PendingCol.PRECHECK and row.precheck:
            return QColor(GREEN) if row.precheck == "OK" else QColor("#b71c1c")
        return None

    def tooltip(self, row: PendingRow, column):
        return row.precheck if column == PendingCol.PRECHECK and row.precheck else None


# --- Exported Successfully -------------------------------------------------------------------------

class ExportedCol(IntEnum):
    CONFIRMED = 0
    TYPE = 1
    REFERENCE = 2
    COMPANY = 3
    EXPORTED = 4
    NUMBER = 5
    REMOTE_ID = 6
    HOW = 7


class ExportedRow(NamedTuple):
    id: int
    item_type: str
    reference: str
    company: str
    exported_at: datetime | None
    number: str
    remote_id: str
    confirmed: bool
    manual: bool


class ExportedModel(LazyTableModel):
    Columns = ExportedCol
    headers = {ExportedCol.CONFIRMED: "Confirmed", ExportedCol.TYPE: "Type", ExportedCol.REFERENCE: "Reference",
               ExportedCol.COMPANY: "Company / Description", ExportedCol.EXPORTED: "Export date",
               ExportedCol.NUMBER: "Package number", ExportedCol.REMOTE_ID: "Package id", ExportedCol.HOW: "How"}
    column_widths = {ExportedCol.CONFIRMED: 80, ExportedCol.TYPE: 140, ExportedCol.REFERENCE: 110,
                     ExportedCol.COMPANY: 200, ExportedCol.EXPORTED: 130, ExportedCol.NUMBER: 120,
                     ExportedCol.REMOTE_ID: 270}
    _SORT = {ExportedCol.CONFIRMED: ExportItem.confirmed, ExportedCol.TYPE: _type_case(ExportItem.item_type),
             ExportedCol.REFERENCE: ExportItem.reference, ExportedCol.COMPANY: func.lower(ExportItem.company_name),
             ExportedCol.EXPORTED: ExportItem.exported_at, ExportedCol.NUMBER: ExportItem.remote_number,
             ExportedCol.REMOTE_ID: ExportItem.remote_id, ExportedCol.HOW: ExportItem.marked_manually}

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent=parent)
        self.queries = _ItemQueries(store, ExportStatus.EXPORTED)

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids):
        return {i: ExportedRow(i, e.item_type, e.reference, e.company_name, e.exported_at, e.remote_number,
                               e.remote_id, bool(e.confirmed), bool(e.marked_manually))
                for i, e in self.queries.items(ids).items()}

    def display(self, row: ExportedRow, column: ExportedCol) -> str:
        if column == ExportedCol.CONFIRMED:
            return "Yes" if row.confirmed else ""
        if column == ExportedCol.TYPE:
            return type_label(row.item_type)
        if column == ExportedCol.REFERENCE:
            return row.reference
        if column == ExportedCol.COMPANY:
            return row.company
        if column == ExportedCol.EXPORTED:
            return when_text(row.exported_at)
        if column == ExportedCol.NUMBER:
            return row.number
        if column == ExportedCol.REMOTE_ID:
            return row.remote_id
        return "Marked by hand" if row.manual else "Sent"

    def sort_key(self, row: ExportedRow, column: ExportedCol):
        return {ExportedCol.CONFIRMED: row.confirmed, ExportedCol.EXPORTED: row.exported_at}.get(
            column, self.display(row, column).lower())

    def sorted_ids(self, ids, column, descending):
        return order_by_keys(ids, self.queries.sort_keys(self._SORT[column]), descending)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def decoration(self, row: ExportedRow, column):
        return tick_icon() if column == ExportedCol.CONFIRMED and row.confirmed else None

    def foreground(self, row: ExportedRow, column):
        if column == ExportedCol.CONFIRMED and row.confirmed:
            return QColor(GREEN)
        if column == ExportedCol.HOW and row.manual:
            return QColor("#757575")
        return None

    def tooltip(self, row: ExportedRow, column):
        if column == ExportedCol.CONFIRMED:
            return ("Confirmed by the accounting package" if row.confirmed else
                    "Marked as exported by hand: not confirmed (use Verify to look it up)")
        return None


# --- Error Feedback --------------------------------------------------------------------------------

class FeedbackCol(IntEnum):
    WHEN = 0
    ITEM = 1
    MESSAGE = 2
    ADVICE = 3


class FeedbackRow(NamedTuple):
    id: int
    at: datetime
    item: str
    message: str
    advice: str
    nominal_code: str
    export_item_id: int | None


class FeedbackModel(LazyTableModel):
    Columns = FeedbackCol
    headers = {FeedbackCol.WHEN: "When", FeedbackCol.ITEM: "Item", FeedbackCol.MESSAGE: "Package message",
               FeedbackCol.ADVICE: "What to do"}
    column_widths = {FeedbackCol.WHEN: 130, FeedbackCol.ITEM: 170, FeedbackCol.MESSAGE: 380}
    _SORT = {FeedbackCol.WHEN: ExportFeedback.at, FeedbackCol.ITEM: func.lower(ExportFeedback.item_label),
             FeedbackCol.MESSAGE: func.lower(ExportFeedback.message), FeedbackCol.ADVICE: func.lower(ExportFeedback.advice)}

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent=parent)
        self.store = store
        self.date_from: date | None = None
        self.date_to: date | None = None

    def set_date_range(self, start: date | None, end: date | None) -> None:
        self.date_from, self.date_to = start, end
        self.reload()

    def _range(self, q):
        if self.date_from is not None:
            q = q.where(ExportFeedback.at >= datetime.combine(self.date_from, time.min).astimezone(UTC))
        if self.date_to is not None:
            q = q.where(ExportFeedback.at <= datetime.combine(self.date_to, time.max).astimezone(UTC))
        return q

    def load_ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(self._range(select(ExportFeedback.id)).order_by(ExportFeedback.at.desc(),
                                                                                   ExportFeedback.id.desc())))

    def fetch_rows(self, ids):
        out = {}
        with self.store.session() as s:
            for start in range(0, len(ids), CHUNK):
                for f in s.scalars(select(ExportFeedback).where(ExportFeedback.id.in_(list(ids[start:start + CHUNK])))):
                    out[f.id] = FeedbackRow(f.id, f.at, f.item_label, f.message, f.advice, f.nominal_code,
                                            f.export_item_id)
        return out

    def display(self, row: FeedbackRow, column: FeedbackCol) -> str:
        if column == FeedbackCol.WHEN:
            return when_text(row.at)
        return {FeedbackCol.ITEM: row.item, FeedbackCol.MESSAGE: row.message, FeedbackCol.ADVICE: row.advice}[column]

    def sort_key(self, row: FeedbackRow, column: FeedbackCol):
        return row.at if column == FeedbackCol.WHEN else self.display(row, column).lower()

    def sorted_ids(self, ids, column, descending):
        with self.store.session() as s:
            keys = dict(s.execute(self._range(select(ExportFeedback.id, self._SORT[column]))).all())
        return order_by_keys(ids, keys, descending)

    def matching_ids(self, text: str) -> set[int]:
        conditions = []
        for word in text.lower().split():
            like = f"%{word}%"
            conditions.append(or_(func.lower(ExportFeedback.item_label).like(like),
                                  func.lower(ExportFeedback.message).like(like),
                                  func.lower(ExportFeedback.advice).like(like),
                                  func.lower(ExportFeedback.nominal_code).like(like)))
        with self.store.session() as s:
            return set(s.scalars(self._range(select(ExportFeedback.id)).where(and_(*conditions))))

    def tooltip(self, row: FeedbackRow, column):
        return row.message if column == FeedbackCol.MESSAGE else (row.advice if column == FeedbackCol.ADVICE else None)

    def foreground(self, row: FeedbackRow, column):
        return QColor("#1565c0") if column == FeedbackCol.ADVICE and row.nominal_code else None
