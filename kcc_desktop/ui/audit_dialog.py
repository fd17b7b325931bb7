"""View Audit Trail: every mapping and option change, newest first (when, what, old value, new value).

The rows come from ``views.audit`` already in the user's words; this only lays them out.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout

from ..store import Store
from ..views.audit import AuditRow, AuditTrail
from .grid import GridPanel, GridView, LazyTableModel


class AuditColumns(IntEnum):
    WHEN = 0
    WHAT = 1
    OLD = 2
    NEW = 3
    WHO = 4
    WHY = 5


class AuditModel(LazyTableModel[AuditRow, AuditColumns]):
    Columns = AuditColumns
    headers: ClassVar[dict[int, str]] = {AuditColumns.WHEN: "When", AuditColumns.WHAT: "What",
                                         AuditColumns.OLD: "Old value", AuditColumns.NEW: "New value",
                                         AuditColumns.WHO: "Who", AuditColumns.WHY: "Why"}
    column_widths: ClassVar[dict[int, int]] = {AuditColumns.WHEN: 140, AuditColumns.WHAT: 300,
                                               AuditColumns.OLD: 180, AuditColumns.NEW: 180, AuditColumns.WHO: 90}

    def __init__(self, store: Store, parent=None) -> None:
        self.queries = AuditTrail(store)
        super().__init__(parent=parent)

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids) -> dict[int, AuditRow]:
        return self.queries.rows(ids)

    def display(self, row: AuditRow, column: AuditColumns) -> str:
        if column == AuditColumns.WHEN:
            return row.at.astimezone().strftime("%d %b %Y %H:%M:%S")   # the user's local time
        return {AuditColumns.WHAT: row.what, AuditColumns.OLD: row.old, AuditColumns.NEW: row.new,
                AuditColumns.WHO: row.user, AuditColumns.WHY: row.reason}[column]

    def sort_key(self, row: AuditRow, column: AuditColumns) -> object:
        return row.at if column == AuditColumns.WHEN else self.display(row, column)


class AuditDialog(QDialog):
    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit Trail — mapping, option and export decisions")
        self.resize(900, 500)
        self.model = AuditModel(store, self)
        self.grid = GridView(self.model, "audit_trail", name="Audit trail")
        self.model.reload()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(GridPanel(self.grid))
        layout.addWidget(buttons)
