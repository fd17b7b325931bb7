"""A read-only view of one document: header, lines, totals and allocations.

The data is read once into plain values (``DocumentSnapshot``) and the dialog only shows it; nothing
here can change the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..ledger.service import outstanding
from ..models import Allocation, Document, DocumentKind
from ..store import Store
from .grid import GRID_STYLE


@dataclass
class DocumentSnapshot:
    kind_label: str
    number: str
    company: str
    date: date
    due_date: date | None
    currency: str
    reference: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    outstanding: Decimal
    lines: list[tuple] = field(default_factory=list)        # no, item, description, qty, price, disc, tax code, nominal, net, tax
    allocations: list[tuple] = field(default_factory=list)  # date, what, reference, amount, reversed


def load_snapshot(session: Session, document_id: int) -> DocumentSnapshot:
    doc = session.get(Document, document_id)
    if doc is None:
        raise LookupError("This document no longer exists in the company file. Press F5 to refresh the list.")
    kind = DocumentKind(doc.kind)
    snap = DocumentSnapshot(kind.label, doc.number, f"{doc.company.name} ({doc.company.code})", doc.date,
                            doc.due_date, doc.currency, doc.reference, doc.net_total, doc.tax_total,
                            doc.gross_total, outstanding(session, doc.id))
    for line in doc.lines:
        snap.lines.append((line.line_no, line.stock_item.code if line.stock_item else "", line.description,
                           line.quantity, line.unit_price, line.discount_rate, line.tax_code.code,
                           f"{line.nominal.code} {line.nominal.name}", line.net, line.tax))
    allocations = session.scalars(select(Allocation).where(
        or_(Allocation.document_id == doc.id, Allocation.credit_note_id == doc.id)).order_by(Allocation.date))
    for a in allocations:
        if a.credit_note_id == doc.id:           # this credit note used against an invoice
            what, ref = f"Applied to {a.document.number}", a.document.reference
        elif a.payment is not None:              # a receipt, supplier payment or prepayment paying this
            what, ref = f"Payment ({a.payment.kind.replace('_', ' ')})", a.payment.reference
        else:                                    # a credit note set against this invoice
            what, ref = f"Credit note {a.credit_note.number}", a.credit_note.reference
        snap.allocations.append((a.date, what, ref, a.amount, "reversed" if a.reversed_at else ""))
    return snap


def _fmt(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _table(name: str, headers: list[str], rows: list[tuple], numeric: set[int], stretch: int) -> QTableWidget:
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
        with store.session() as s:
            self.snapshot = snap = load_snapshot(s, document_id)
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
        self.total_labels = {}
        for label, value in (("Net", snap.net), ("Tax", snap.tax), ("Gross", snap.gross),
                             ("Outstanding", snap.outstanding)):
            field_ = QLabel(_fmt(value))
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
