"""The Export tab's three grids: Pending Export, Exported Successfully and Error Feedback.

Each model holds ids only (grid.LazyTableModel) and reads through ``views.export``: rows, sort keys and
filter matches are single SQL queries, so 100,000 rows open, sort and filter without building 100,000
objects. What is here is how a row looks: texts, colours, the green tick.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from ..store import Store
from ..sync.export import ExportService
from ..views.export import (
    ExportedCol,
    ExportedItems,
    ExportedRow,
    FeedbackCol,
    FeedbackLog,
    FeedbackRow,
    PendingCol,
    PendingExport,
    PendingRow,
    type_label,
)
from .grid import LazyTableModel, in_order_of, order_by_keys

__all__ = ["ExportedCol", "ExportedModel", "FeedbackCol", "FeedbackModel", "PendingCol", "PendingExportModel",
           "money_text", "tick_icon", "when_text"]

GREEN = "#2e7d32"


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


# --- Pending Export --------------------------------------------------------------------------------

class PendingExportModel(LazyTableModel[PendingRow, PendingCol]):
    Columns = PendingCol
    load_in_background = True
    cache_texts = True
    headers: ClassVar[dict[int, str]] = {
        PendingCol.TYPE: "Type", PendingCol.REFERENCE: "Reference", PendingCol.COMPANY: "Company / Description",
        PendingCol.DATE: "Date", PendingCol.AMOUNT: "Amount", PendingCol.CURRENCY: "Currency",
        PendingCol.PRECHECK: "Pre-check", PendingCol.QUEUED: "Queued at"}
    column_widths: ClassVar[dict[int, int]] = {
        PendingCol.TYPE: 175, PendingCol.REFERENCE: 110, PendingCol.COMPANY: 290, PendingCol.DATE: 90,
        PendingCol.AMOUNT: 95, PendingCol.CURRENCY: 65, PendingCol.PRECHECK: 250, PendingCol.QUEUED: 120}

    def __init__(self, store: Store, parent=None) -> None:
        self.queries = PendingExport(store)
        self.service = ExportService(store)
        super().__init__(parent=parent)

    def load_ids(self) -> list[int]:
        self.service.prepare()   # a package just connected gets everything it has not had (worker thread)
        return self.queries.ids()

    def fetch_rows(self, ids) -> dict[int, PendingRow]:
        return self.queries.rows(ids)

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

    def sort_key(self, row: PendingRow, column: PendingCol) -> Any:
        typed: dict[PendingCol, date | Decimal | datetime | None] = {
            PendingCol.DATE: row.date, PendingCol.AMOUNT: row.amount, PendingCol.QUEUED: row.queued_at}
        return typed[column] if column in typed else self.display(row, column).lower()

    def sorted_ids(self, ids: list[int], column: PendingCol, descending: bool) -> list[int]:
        # Ordered in SQL: ids only come back (building 100,000 Decimal keys to sort in Python held the GIL
        # long enough to stall the window 90 ms and more).
        return in_order_of(self.queries.ordered_ids(column, descending), ids)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def alignment(self, column: PendingCol) -> Qt.AlignmentFlag | None:
        return Qt.AlignmentFlag.AlignRight if column == PendingCol.AMOUNT else None

    def foreground(self, row: PendingRow, column: PendingCol) -> QColor | None:
        if column == PendingCol.PRECHECK and row.precheck:
            return QColor(GREEN) if row.precheck == "OK" else QColor("#b71c1c")
        return None

    def tooltip(self, row: PendingRow, column: PendingCol) -> str | None:
        return row.precheck if column == PendingCol.PRECHECK and row.precheck else None


# --- Exported Successfully -------------------------------------------------------------------------

class ExportedModel(LazyTableModel[ExportedRow, ExportedCol]):
    Columns = ExportedCol
    load_in_background = True
    cache_texts = True
    headers: ClassVar[dict[int, str]] = {
        ExportedCol.CONFIRMED: "Seen", ExportedCol.TYPE: "Type", ExportedCol.REFERENCE: "Reference",
        ExportedCol.COMPANY: "Company / Description", ExportedCol.EXPORTED: "Exported",
        ExportedCol.NUMBER: "Package number", ExportedCol.REMOTE_ID: "Package id", ExportedCol.HOW: "How"}
    column_widths: ClassVar[dict[int, int]] = {
        ExportedCol.TYPE: 175, ExportedCol.REFERENCE: 110, ExportedCol.COMPANY: 290, ExportedCol.EXPORTED: 120,
        ExportedCol.NUMBER: 120, ExportedCol.REMOTE_ID: 170, ExportedCol.HOW: 110, ExportedCol.CONFIRMED: 60}

    def __init__(self, store: Store, parent=None) -> None:
        self.queries = ExportedItems(store)
        super().__init__(parent=parent)

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids) -> dict[int, ExportedRow]:
        return self.queries.rows(ids)

    def display(self, row: ExportedRow, column: ExportedCol) -> str:
        if column == ExportedCol.CONFIRMED:
            return "Seen" if row.confirmed else ""
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
        if row.matched:
            return "Matched existing"
        return "Marked by hand" if row.manual else "Sent"

    def sort_key(self, row: ExportedRow, column: ExportedCol) -> Any:
        if column == ExportedCol.CONFIRMED:
            return row.confirmed
        if column == ExportedCol.EXPORTED:
            return row.exported_at
        return self.display(row, column).lower()

    def sorted_ids(self, ids: list[int], column: ExportedCol, descending: bool) -> list[int]:
        return in_order_of(self.queries.ordered_ids(column, descending), ids)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def decoration(self, row: ExportedRow, column: ExportedCol) -> QIcon | None:
        return tick_icon() if column == ExportedCol.CONFIRMED and row.confirmed else None

    def foreground(self, row: ExportedRow, column: ExportedCol) -> QColor | None:
        if column == ExportedCol.CONFIRMED and row.confirmed:
            return QColor(GREEN)
        if column == ExportedCol.HOW and (row.manual or row.matched):
            return QColor("#757575")
        return None

    def tooltip(self, row: ExportedRow, column: ExportedCol) -> str | None:
        if column == ExportedCol.CONFIRMED:
            return ("Seen in the accounting package: it confirmed this item" if row.confirmed else
                    "Not confirmed by the package (marked by hand, or not found by Verify): use Verify to look "
                    "it up")
        if column == ExportedCol.HOW and row.matched:
            return ("Linked to the record the package already had, not created. Undo Match puts it back in "
                    "Pending Export, to be created as a new record")
        return None


# --- Error Feedback --------------------------------------------------------------------------------

KCC_LABEL = "KCC pre-check: "    # KCC's own finding, never to be read as the package's words


class FeedbackModel(LazyTableModel[FeedbackRow, FeedbackCol]):
    Columns = FeedbackCol
    load_in_background = True
    cache_texts = True
    headers: ClassVar[dict[int, str]] = {
        FeedbackCol.WHEN: "Last seen", FeedbackCol.ITEM: "Item", FeedbackCol.MESSAGE: "Package message",
        FeedbackCol.ADVICE: "What to do", FeedbackCol.COUNT: "Times", FeedbackCol.STATE: "State"}
    column_widths: ClassVar[dict[int, int]] = {
        FeedbackCol.WHEN: 120, FeedbackCol.ITEM: 170, FeedbackCol.MESSAGE: 420, FeedbackCol.ADVICE: 330,
        FeedbackCol.COUNT: 55, FeedbackCol.STATE: 110}

    def __init__(self, store: Store, parent=None) -> None:
        self.queries = FeedbackLog(store)
        super().__init__(parent=parent)

    def set_date_range(self, start: date | None, end: date | None) -> None:
        self.queries.date_from, self.queries.date_to = start, end
        self.reload()

    def set_show_resolved(self, show: bool) -> None:
        """Open problems only (the default), or resolved ones too."""
        if show != self.queries.show_resolved:
            self.queries.show_resolved = show
            self.reload()

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids) -> dict[int, FeedbackRow]:
        return self.queries.rows(ids)

    @staticmethod
    def message_text(row: FeedbackRow) -> str:
        """The package's own words as it sent them; KCC's own findings labelled as such."""
        return KCC_LABEL + row.message if row.from_kcc else row.message

    @staticmethod
    def state_text(row: FeedbackRow) -> str:
        return f"Resolved {when_text(row.resolved_at)[5:]}" if row.resolved_at else "Open"

    def display(self, row: FeedbackRow, column: FeedbackCol) -> str:
        if column == FeedbackCol.WHEN:
            return when_text(row.at)
        if column == FeedbackCol.MESSAGE:
            return self.message_text(row)
        if column == FeedbackCol.COUNT:
            return f"{row.times:,}"
        if column == FeedbackCol.STATE:
            return self.state_text(row)
        return {FeedbackCol.ITEM: row.item, FeedbackCol.ADVICE: row.advice}[column]

    def sort_key(self, row: FeedbackRow, column: FeedbackCol) -> Any:
        if column == FeedbackCol.WHEN:
            return row.at
        if column == FeedbackCol.COUNT:
            return row.times
        return self.display(row, column).lower()

    def sorted_ids(self, ids: list[int], column: FeedbackCol, descending: bool) -> list[int]:
        return order_by_keys(ids, self.queries.sort_keys(column), descending)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def alignment(self, column: FeedbackCol) -> Qt.AlignmentFlag | None:
        return Qt.AlignmentFlag.AlignRight if column == FeedbackCol.COUNT else None

    def tooltip(self, row: FeedbackRow, column: FeedbackCol) -> str | None:
        if column == FeedbackCol.COUNT:
            return (f"Seen {row.times:,} time{'s' if row.times != 1 else ''}: first {when_text(row.first_seen)}, "
                    f"last {when_text(row.at)}")
        if column in (FeedbackCol.MESSAGE, FeedbackCol.ADVICE):
            return (f"{self.message_text(row)}\n\nWhat to do: {row.advice}\n\n(Double-click to read it in full.)")
        return None

    def foreground(self, row: FeedbackRow, column: FeedbackCol) -> QColor | None:
        if row.resolved_at is not None:
            return QColor("#757575")
        if column == FeedbackCol.MESSAGE and row.from_kcc:
            return QColor("#5d4037")
        if column == FeedbackCol.STATE:
            return QColor("#b71c1c")
        return QColor("#1565c0") if column == FeedbackCol.ADVICE and row.nominal_code else None
