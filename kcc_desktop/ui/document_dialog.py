"""A read-only view of one document: header, lines, totals and allocations.

The data is read once into plain values (``views.documents.DocumentSnapshot``) and the dialog only
shows it; nothing here can change the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..store import Store
from ..views.documents import DocumentSnapshot, document_snapshot
from .grid import GRID_STYLE

__all__ = ["DocumentDialog", "DocumentSnapshot"]


def _fmt(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _table(name: str, headers: list[str], rows: Sequence[tuple[Any, ...]], numeric: set[int],
           stretch: int) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setStyleSheet(GRID_STYLE)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(_fmt(value))
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)   # the text column takes the room
    return table


class DocumentDialog(QDialog):
    """Read-only: there is no edit, save or delete here by design."""

    def __init__(self, store: Store, document_id: int, parent=None) -> None:
        super().__init__(parent)
        self.snapshot = snap = document_snapshot(store, document_id)
        self.setObjectName("document_dialog")
        self.setWindowTitle(f"{snap.kind_label} {snap.number} (read-only)")
        self.setAccessibleName(f"{snap.kind_label} {snap.number}")
        self.resize(900, 560)

        header = QFormLayout()
        for label, value in (("Type", snap.kind_label), ("Number", snap.number), ("Company", snap.company),
                             ("Date", _fmt(snap.date)), ("Due", _fmt(snap.due_date)),
                             ("Currency", snap.currency), ("Reference", snap.reference)):
            field_ = QLabel(value)
            field_.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field_.setAccessibleName(label)
            header.addRow(f"{label}:", field_)

        totals = QFormLayout()
        self.total_labels: dict[str, QLabel] = {}
        for label, amount in (("Net", snap.net), ("Tax", snap.tax), ("Gross", snap.gross),
                              ("Outstanding", snap.outstanding)):
            field_ = QLabel(_fmt(amount))
            field_.setAlignment(Qt.AlignmentFlag.AlignRight)
            field_.setAccessibleName(f"{label} total")
            if label in ("Gross", "Outstanding"):
                field_.setStyleSheet("font-weight: bold;")
            totals.addRow(f"{label}:", field_)
            self.total_labels[label] = field_

        top = QHBoxLayout()
        top.addLayout(header, 3)
        top.addStretch(1)
        top.addLayout(totals, 1)

        self.lines_table = _table("Document lines", ["#", "Item", "Description", "Qty", "Unit price", "Disc %",
                                                     "Tax code", "Nominal", "Net", "Tax"],
                                  snap.lines, {0, 3, 4, 5, 8, 9}, stretch=2)
        self.allocations_table = _table("Allocations", ["Date", "Allocation", "Reference", "Amount", "Status"],
                                        snap.allocations, {3}, stretch=1)
        lines_box = QGroupBox("Lines")
        QVBoxLayout(lines_box).addWidget(self.lines_table)
        alloc_box = QGroupBox(f"Allocations ({len(snap.allocations)})")
        QVBoxLayout(alloc_box).addWidget(self.allocations_table)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(lines_box, 3)
        layout.addWidget(alloc_box, 1)
        layout.addWidget(buttons)
