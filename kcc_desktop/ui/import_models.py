"""The Import tab's grid: payments fetched from the accounting package and what became of them.

Ids only (grid.LazyTableModel), read through ``views.imports``: rows, sort keys and filter matches are
single SQL queries, so 100,000 payments open, sort and filter without building 100,000 objects. What is
here is how a row looks, and the grid's CSV export.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ..store import Store
from ..views.imports import KIND_LABELS, ImportCol, ImportedPayments, ImportRow
from .grid import GridView, LazyTableModel, export_grid_csv, order_by_keys

__all__ = ["ImportCol", "ImportModel", "ImportRow", "write_csv"]

STATE_COLOURS = {"created": "#2e7d32", "problem": "#c62828", "to_reverse": "#ef6c00", "deleted": "#757575",
                 "reversed": "#757575"}


class ImportModel(LazyTableModel[ImportRow, ImportCol]):
    Columns = ImportCol
    load_in_background = True
    headers: ClassVar[dict[int, str]] = {
        ImportCol.DATE: "Date", ImportCol.TYPE: "Type", ImportCol.COMPANY: "Company",
        ImportCol.INVOICES: "Invoices paid", ImportCol.AMOUNT: "Amount", ImportCol.CURRENCY: "Currency",
        ImportCol.BANK: "Bank account", ImportCol.REFERENCE: "Reference", ImportCol.STATUS: "Status"}
    column_widths: ClassVar[dict[int, int]] = {
        ImportCol.DATE: 85, ImportCol.TYPE: 115, ImportCol.COMPANY: 200, ImportCol.INVOICES: 95,
        ImportCol.AMOUNT: 80, ImportCol.CURRENCY: 60, ImportCol.BANK: 150, ImportCol.REFERENCE: 95,
        ImportCol.STATUS: 360}
    CHUNK = 150   # rows read around the one on screen: a screenful or three, cheap to re-read on each repaint

    def __init__(self, store: Store, provider: str, parent=None) -> None:
        self.queries = ImportedPayments(store, provider)
        super().__init__(parent=parent)

    @property
    def provider(self) -> str:
        """Whose payments are shown; takes effect at the next ``reload()``."""
        return self.queries.provider

    @provider.setter
    def provider(self, provider: str) -> None:
        self.queries.provider = provider

    # --- queries --------------------------------------------------------------------------------------
    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, ImportRow]:
        return self.queries.rows(ids)

    def sorted_ids(self, ids: list[int], column: ImportCol, descending: bool) -> list[int]:
        return order_by_keys(ids, self.queries.sort_keys(column), descending)

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def refresh_rows(self, rows: Sequence[int], status_only: bool = False) -> None:
        """Statuses changed in the database: forget every cached row, repaint only ``rows`` (those on screen),
        and with ``status_only`` only their Status cells (a ninth of the paint, while a job runs).

        ``invalidate(None)`` would announce all 100,000 rows, and the filter proxy walks every one of them
        (about 50 ms here): too slow to do a few times a second while Create & Allocate runs."""
        self._cache.clear()
        # Read now, not in the paint: a paint parks the workers (sync.gil.gui_turn), a read need not.
        self.rows_for([self._ids[r] for r in rows if 0 <= r < len(self._ids)])
        last = len(self.Columns) - 1
        status = self._columns.index(ImportCol.STATUS)
        for r in rows:
            if 0 <= r < len(self._ids):
                if status_only:   # one cell a signal: the view repaints that cell's rectangle only
                    cell = self.index(r, status)
                    self.dataChanged.emit(cell, cell)
                else:
                    self.dataChanged.emit(self.index(r, 0), self.index(r, last))

    # --- presentation ---------------------------------------------------------------------------------
    def display(self, row: ImportRow, column: ImportCol) -> str:
        if column == ImportCol.DATE:
            return row.date.isoformat() if row.date else ""
        if column == ImportCol.TYPE:
            return KIND_LABELS.get(row.kind, row.kind)
        if column == ImportCol.AMOUNT:
            return f"{row.amount:,.2f}"
        return str({ImportCol.COMPANY: row.company, ImportCol.INVOICES: row.invoices,
                    ImportCol.CURRENCY: row.currency, ImportCol.BANK: row.bank,
                    ImportCol.REFERENCE: row.reference, ImportCol.STATUS: row.status}[column] or "")

    def sort_key(self, row: ImportRow, column: ImportCol) -> Any:
        if column == ImportCol.DATE:
            return row.date
        if column == ImportCol.AMOUNT:
            return row.amount
        return self.display(row, column).lower()

    def foreground(self, row: ImportRow, column: ImportCol) -> QColor | None:
        if column == ImportCol.STATUS and row.state in STATE_COLOURS:
            return QColor(STATE_COLOURS[row.state])
        if row.state in ("deleted", "reversed"):
            return QColor("#757575")
        return None

    def tooltip(self, row: ImportRow, column: ImportCol) -> str | None:
        return row.status if column == ImportCol.STATUS else None

    def alignment(self, column: ImportCol) -> Qt.AlignmentFlag | None:
        return Qt.AlignmentFlag.AlignRight if column == ImportCol.AMOUNT else None


def write_csv(grid: GridView, path: Path) -> int:
    """Every row the grid shows (filtered, in its order), visible columns in their order; returns rows."""
    return export_grid_csv(grid, path)
