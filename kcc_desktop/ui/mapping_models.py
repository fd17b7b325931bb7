"""Table models for the Mapping tab: nominal codes, tax codes (sales and purchases) and bank accounts.

Rows are MappingService rows (plain values); the mapped-account cells are editable through
``AccountComboDelegate``, which asks the model for the choices with ``CHOICES_ROLE``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from ..sync.mapping import BANK, NEVER_EXPORTED, NOMINAL, TAX, TAX_PURCHASE, MappingService
from ..sync.mapping_types import MappingError, MappingRow
from .grid import LazyTableModel

# A grid row: one ledger record's MappingRow per category it maps (a tax code: sales and purchases).
MappingRows = dict[str, MappingRow]

CHOICES_ROLE = Qt.ItemDataRole.UserRole + 10   # [(code, "code — name (type)"), ...] for the combobox
GREY = QBrush(QColor("#8a8a8a"))
WARN = QBrush(QColor("#b23c17"))
OK = QBrush(QColor("#2e7d32"))
_BAD_STATES = ("unmapped", "archived", "deleted", "unknown")
_WORST = ("deleted", "archived", "unknown", "unmapped", "ok", "not_needed", "never_exported")


def short_status(status: str) -> str:
    """The Status column's words, short enough for the grid at 1280 pixels; the tooltip has them in full."""
    if status.startswith("Mapped by Apply Default Setup"):
        return "Mapped (default setup)"
    if status.startswith("Not needed:"):
        return "Not needed"
    if status == NEVER_EXPORTED:
        return "Stays in KCC"
    return status


class _MappingModel(LazyTableModel[MappingRows, Any]):
    """Shared behaviour; a subclass says which column maps which category (``mapped``)."""

    mapping_changed = Signal(str)   # after a successful edit: the audit-style description
    mapping_failed = Signal(str)    # the service's plain-words refusal
    mapped: ClassVar[dict[int, str]] = {}
    primary = NOMINAL

    def __init__(self, service: MappingService, parent=None) -> None:
        super().__init__(parent=parent)
        self.service = service

    # rows are {category: MappingRow}
    def load_ids(self) -> list[int]:
        return self.service.local_ids(self.primary)

    def fetch_rows(self, ids) -> dict[int, MappingRows]:
        cats = set(self.mapped.values()) | {self.primary}
        return {i: {c: self.service.row(c, i) for c in cats} for i in ids}

    def _first(self, row: MappingRows) -> MappingRow:
        return row[self.primary]

    def _state(self, row: MappingRows) -> tuple[str, str]:
        rows = sorted(row.values(), key=lambda r: _WORST.index(r.state))
        worst = rows[0]
        return worst.state, worst.status if len(rows) == 1 or worst.state not in _BAD_STATES else \
            f"{'Sales' if worst.category == TAX else 'Purchases'}: {worst.status}"

    def foreground(self, row, column):
        first = self._first(row)
        if first.state == "never_exported":
            return GREY
        if column == self.Columns.STATUS:
            state = self._state(row)[0]
            return WARN if state in _BAD_STATES else (OK if state == "ok" else GREY)
        return None

    def tooltip(self, row, column):
        cat = self.mapped.get(int(column))
        if cat:
            r = row[cat]
            return r.reason or ("Double-click to choose an account" if r.editable else r.status)
        if self.headers.get(int(column)) == "Why":
            return row[self.primary].reason or None
        return self._state(row)[1]   # the status in full

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        cat = self.mapped.get(index.column())
        row = self._row_at(index.row())
        if cat and row is not None and row[cat].editable:
            return base | Qt.ItemFlag.ItemIsEditable
        if row is not None and not self._first(row).editable:
            return base & ~Qt.ItemFlag.ItemIsEnabled   # greyed: stock and cost of sale
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        cat = self.mapped.get(index.column()) if index.isValid() else None
        if cat and role in (Qt.ItemDataRole.EditRole, CHOICES_ROLE):
            row = self._row_at(index.row())
            if row is None:
                return None
            if role == Qt.ItemDataRole.EditRole:
                return row[cat].remote_code
            return [(c.code, c.label) for c in self.service.choices(cat, row[cat].local_id)]
        return super().data(index, role)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        cat = self.mapped.get(index.column()) if index.isValid() else None
        if not cat or role != Qt.ItemDataRole.EditRole:
            return False
        local_id = self.id_at(index.row())
        before = self.service.row(cat, local_id)
        if (value or "") == before.remote_code and before.set_by == "user":
            return False
        try:
            self.service.set_mapping(cat, local_id, value or None)
        except MappingError as exc:
            self.mapping_failed.emit(str(exc))
            return False
        self.invalidate([local_id])
        after = self.service.row(cat, local_id)
        what = f"{after.local_code} {after.local_name}"
        if cat == TAX_PURCHASE:
            what += " (purchases)"
        elif cat == TAX:
            what += " (sales)"
        if after.remote_label:
            self.mapping_changed.emit(f"Mapped {what} to {after.remote_label}.")
        else:
            self.mapping_changed.emit(f"{what} is no longer mapped (was {before.remote_label or before.remote_code}).")
        return True


class NominalColumns(IntEnum):
    CODE = 0
    NAME = 1
    KIND = 2
    MAPPED = 3
    STATUS = 4
    WHY = 5


class NominalMappingModel(_MappingModel):
    Columns = NominalColumns
    headers: ClassVar[dict[int, str]] = {
        NominalColumns.CODE: "Code", NominalColumns.NAME: "Name", NominalColumns.KIND: "Kind",
        NominalColumns.MAPPED: "Mapped account", NominalColumns.STATUS: "Status", NominalColumns.WHY: "Why"}
    column_widths: ClassVar[dict[int, int]] = {
        NominalColumns.CODE: 46, NominalColumns.NAME: 175, NominalColumns.KIND: 85, NominalColumns.MAPPED: 265,
        NominalColumns.STATUS: 165, NominalColumns.WHY: 210}
    mapped: ClassVar[dict[int, str]] = {NominalColumns.MAPPED: NOMINAL}
    primary = NOMINAL

    def display(self, row, column):
        r = row[self.primary]
        return {NominalColumns.CODE: r.local_code, NominalColumns.NAME: r.local_name,
                NominalColumns.KIND: r.kind.replace("_", " "), NominalColumns.MAPPED: r.remote_label,
                NominalColumns.STATUS: short_status(r.status), NominalColumns.WHY: r.reason}[column]


class BankMappingModel(NominalMappingModel):
    mapped: ClassVar[dict[int, str]] = {NominalColumns.MAPPED: BANK}
    primary = BANK
    headers: ClassVar[dict[int, str]] = {**NominalMappingModel.headers, NominalColumns.KIND: "Currency",
                                         NominalColumns.MAPPED: "Package bank account"}


class TaxColumns(IntEnum):
    CODE = 0
    NAME = 1
    RATE = 2
    SALES = 3
    PURCHASES = 4
    STATUS = 5
    WHY = 6


class TaxMappingModel(_MappingModel):
    Columns = TaxColumns
    headers: ClassVar[dict[int, str]] = {
        TaxColumns.CODE: "Code", TaxColumns.NAME: "Name", TaxColumns.RATE: "Rate",
        TaxColumns.SALES: "Tax rate on sales", TaxColumns.PURCHASES: "Tax rate on purchases",
        TaxColumns.STATUS: "Status", TaxColumns.WHY: "Why"}
    column_widths: ClassVar[dict[int, int]] = {
        TaxColumns.CODE: 42, TaxColumns.NAME: 125, TaxColumns.RATE: 45, TaxColumns.SALES: 270,
        TaxColumns.PURCHASES: 270, TaxColumns.STATUS: 150}
    mapped: ClassVar[dict[int, str]] = {TaxColumns.SALES: TAX, TaxColumns.PURCHASES: TAX_PURCHASE}
    primary = TAX

    def display(self, row, column):
        r, p = row[TAX], row[TAX_PURCHASE]
        return {TaxColumns.CODE: r.local_code, TaxColumns.NAME: r.local_name, TaxColumns.RATE: r.kind,
                TaxColumns.SALES: r.remote_label, TaxColumns.PURCHASES: p.remote_label,
                TaxColumns.STATUS: short_status(self._state(row)[1]),
                TaxColumns.WHY: " / ".join(x for x in (r.reason, p.reason) if x)}[column]

    def alignment(self, column):
        return Qt.AlignmentFlag.AlignRight if column == TaxColumns.RATE else None
