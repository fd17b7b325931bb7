"""The Import tab's grid: payments fetched from the accounting package and what became of them.

Ids only (grid.LazyTableModel); rows, sort keys and filter matches are single SQL queries, so 100,000
payments open, sort and filter without building 100,000 objects.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from sqlalchemy import Float, Integer, String, case, cast, func, literal, select, type_coerce

from ..models import ImportedPayment, PackageAccount, Payment
from ..store import Store
from .grid import GridView, LazyTableModel, order_by_keys

CHUNK = 900
KIND_LABELS = {"receipt": "Receipt", "supplier_payment": "Supplier Payment"}
STATE_COLOURS = {"created": "#2e7d32", "problem": "#c62828", "to_reverse": "#ef6c00", "deleted": "#757575",
                 "reversed": "#757575"}


class ImportCol(IntEnum):
    DATE = 0
    TYPE = 1
    COMPANY = 2
    INVOICES = 3
    AMOUNT = 4
    CURRENCY = 5
    BANK = 6
    REFERENCE = 7
    STATUS = 8


class ImportRow(NamedTuple):
    id: int
    date: date
    kind: str
    company: str
    invoices: str
    amount: Decimal
    currency: str
    bank: str
    reference: str
    status: str
    state: str          # ready, problem, created, to_reverse (deleted in the package), deleted, reversed

    @property
    def can_create(self) -> bool:
        return self.state in ("ready", "problem")

    @property
    def can_reverse(self) -> bool:
        return self.state == "to_reverse"


def _state(p: ImportedPayment, reversed_at) -> str:
    if p.ledger_payment_id is not None:
        if reversed_at is not None:
            return "reversed"
        return "to_reverse" if p.remote_status == "DELETED" else "created"
    if p.remote_status == "DELETED":
        return "deleted"
    return "problem" if p.status.startswith("Not created") else "ready"


class ImportModel(LazyTableModel):
    Columns = ImportCol
    headers = {ImportCol.DATE: "Date", ImportCol.TYPE: "Type", ImportCol.COMPANY: "Company",
               ImportCol.INVOICES: "Invoices paid", ImportCol.AMOUNT: "Amount", ImportCol.CURRENCY: "Currency",
               ImportCol.BANK: "Bank account", ImportCol.REFERENCE: "Reference", ImportCol.STATUS: "Status"}
    column_widths = {ImportCol.DATE: 90, ImportCol.TYPE: 120, ImportCol.COMPANY: 170, ImportCol.INVOICES: 120,
                     ImportCol.AMOUNT: 90, ImportCol.CURRENCY: 65, ImportCol.BANK: 200, ImportCol.REFERENCE: 100}
    CHUNK = 150   # rows read around the one on screen: a screenful or three, cheap to re-read on each repaint

    def __init__(self, store: Store, provider: str, parent=None) -> None:
        super().__init__(parent=parent)
        self.store = store
        self.provider = provider
        self._banks: dict[str, str] = {}

    def set_provider(self, provider: str) -> None:
        self.provider = provider
        self.reload()

    # --- queries --------------------------------------------------------------------------------------
    def load_ids(self) -> list[int]:
        with self.store.session() as s:
            self._banks = {}
            for acc in s.scalars(select(PackageAccount).where(PackageAccount.provider == self.provider,
                                                              PackageAccount.category == "bank")):
                label = f"{acc.code} {acc.name}".strip()
                self._banks[acc.code] = label
                if acc.remote_id:
                    self._banks[acc.remote_id] = label
            return list(s.scalars(select(ImportedPayment.id).where(ImportedPayment.provider == self.provider)
                                  .order_by(ImportedPayment.date.desc(), ImportedPayment.id.desc())))

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, ImportRow]:
        out: dict[int, ImportRow] = {}
        with self.store.session() as s:
            for start in range(0, len(ids), CHUNK):
                q = (select(ImportedPayment, Payment.reversed_at)
                     .outerjoin(Payment, Payment.id == ImportedPayment.ledger_payment_id)
                     .where(ImportedPayment.id.in_(list(ids[start:start + CHUNK]))))
                for p, reversed_at in s.execute(q):
                    code = p.bank_account_code or p.bank_account_id
                    bank = self._banks.get(p.bank_account_code) or self._banks.get(p.bank_account_id) or code
                    out[p.id] = ImportRow(p.id, p.date, p.kind, p.company_name, p.invoices, p.amount, p.currency,
                                          bank, p.reference, p.status, _state(p, reversed_at))
        return out

    def sorted_ids(self, ids: list[int], column: ImportCol, descending: bool) -> list[int]:
        col = {ImportCol.DATE: ImportedPayment.date, ImportCol.TYPE: ImportedPayment.kind,
               ImportCol.COMPANY: func.lower(ImportedPayment.company_name),
               ImportCol.INVOICES: ImportedPayment.invoices,
               ImportCol.AMOUNT: type_coerce(ImportedPayment.amount, Integer),
               ImportCol.CURRENCY: ImportedPayment.currency, ImportCol.BANK: ImportedPayment.bank_account_code,
               ImportCol.REFERENCE: func.lower(ImportedPayment.reference),
               ImportCol.STATUS: ImportedPayment.status}[column]
        with self.store.session() as s:
            keys = dict(s.execute(select(ImportedPayment.id, col)
                                  .where(ImportedPayment.provider == self.provider)).all())
        return order_by_keys(ids, keys, descending)

    def matching_ids(self, text: str) -> set[int]:
        kind_label = case(*((ImportedPayment.kind == k, v) for k, v in KIND_LABELS.items()),
                          else_=ImportedPayment.kind)
        amount = func.printf("%.2f", type_coerce(ImportedPayment.amount, Integer) / literal(10000.0, Float))
        q = select(ImportedPayment.id).where(ImportedPayment.provider == self.provider)
        for word in text.lower().split():
            like = f"%{word}%"
            q = q.where(func.lower(ImportedPayment.company_name).like(like)
                        | func.lower(ImportedPayment.invoices).like(like)
                        | func.lower(ImportedPayment.reference).like(like)
                        | func.lower(ImportedPayment.status).like(like)
                        | func.lower(ImportedPayment.currency).like(like)
                        | func.lower(ImportedPayment.bank_account_code).like(like)
                        | func.lower(kind_label).like(like)
                        | cast(ImportedPayment.date, String).like(like)
                        | amount.like(like))
        with self.store.session() as s:
            return set(s.scalars(q))

    def refresh_rows(self, rows: Sequence[int]) -> None:
        """Statuses changed in the database: forget every cached row, repaint only ``rows`` (those on screen).

        ``invalidate(None)`` would announce all 100,000 rows, and the filter proxy walks every one of them
        (about 50 ms here): too slow to do a few times a second while Create & Allocate runs."""
        self._cache.clear()
        last = len(self.Columns) - 1
        for r in rows:
            if 0 <= r < len(self._ids):
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

    def sort_key(self, row: ImportRow, column: ImportCol):
        if column == ImportCol.DATE:
            return row.date
        if column == ImportCol.AMOUNT:
            return row.amount
        return self.display(row, column).lower()

    def foreground(self, row: ImportRow, column: ImportCol):
        if column == ImportCol.STATUS and row.state in STATE_COLOURS:
            return QColor(STATE_COLOURS[row.state])
        if row.state in ("deleted", "reversed"):
            return QColor("#757575")
        return None

    def tooltip(self, row: ImportRow, column: ImportCol) -> str | None:
        return row.status if column == ImportCol.STATUS else None

    def alignment(self, column: ImportCol):
        return Qt.AlignmentFlag.AlignRight if column == ImportCol.AMOUNT else None


def write_csv(grid: GridView, path: Path) -> int:
    """Every row the grid shows (filtered, in its order), visible columns in their order; returns rows."""
    model, proxy = grid.source_model, grid.proxy
    columns = grid.visible_columns()
    ids = model.ids() if not proxy.is_filtering else [
        model.id_at(proxy.mapToSource(proxy.index(r, 0)).row()) for r in range(proxy.rowCount())]
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([model.headerData(c, Qt.Orientation.Horizontal) for c in columns])
        for start in range(0, len(ids), 2000):
            for row in model.rows_for(ids[start:start + 2000]):
                if row is not None:
                    out.writerow([model.display(row, model.Columns(c)) for c in columns])
                    written += 1
    return written
