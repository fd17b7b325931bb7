"""View Audit Trail: every mapping and option change, newest first (when, what, old value, new value)."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout
from sqlalchemy import select

from ..models import AuditEntry
from ..sync.options import display_value, label_for_key
from .grid import GridPanel, GridView, LazyTableModel


class AuditColumns(IntEnum):
    WHEN = 0
    WHAT = 1
    OLD = 2
    NEW = 3


def describe(entry: AuditEntry) -> tuple[str, str, str]:
    """An entry in the user's words: option keys become their labels, "1"/"0" become On/Off."""
    if entry.what.startswith("Option "):
        key = entry.what[len("Option "):]
        return (f"Option: {label_for_key(key)}", display_value(key, entry.old_value),
                display_value(key, entry.new_value))
    return entry.what, entry.old_value, entry.new_value


class AuditModel(LazyTableModel):
    Columns = AuditColumns
    headers = {AuditColumns.WHEN: "When", AuditColumns.WHAT: "What", AuditColumns.OLD: "Old value",
               AuditColumns.NEW: "New value"}
    column_widths = {AuditColumns.WHEN: 140, AuditColumns.WHAT: 300, AuditColumns.OLD: 220}

    def __init__(self, store, parent=None) -> None:
        super().__init__(parent=parent)
        self.store = store

    def load_ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc())))

    def fetch_rows(self, ids):
        with self.store.session() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.id.in_(list(ids))))
            return {e.id: (e.at, *describe(e)) for e in rows}

    def display(self, row, column):
        if column == AuditColumns.WHEN:
            return row[0].astimezone().strftime("%d %b %Y %H:%M:%S")   # the user's local time
        return row[int(column)]

    def sort_key(self, row, column):
        return row[0] if column == AuditColumns.WHEN else self.display(row, column)


class AuditDialog(QDialog):
    def __init__(self, store, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit Trail — mapping and option changes")
        self.resize(900, 500)
        self.model = AuditModel(store, self)
        self.grid = GridView(self.model, "audit_trail", name="Audit trail")
        self.model.reload()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(GridPanel(self.grid))
        layout.addWidget(buttons)
