"""Accounts → Trial Balance: nominal code, name, debit and credit for a date range, with its totals.

Stock and cost-of-sale rows are marked: they never go to the accounting package, so users journal those
figures by hand; the "Journal by hand" column says so. The sums (``views.trial_balance``) run in a
``worker.Worker`` (a 100,000-document ledger has over half a million journal lines).
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..context import AppContext
from ..csv_cells import SafeCsvWriter
from ..ledger.trial_balance import TrialBalance, TrialBalanceRow
from ..models import NominalKind
from ..views.trial_balance import journal_date_range, trial_balance_for
from . import icons
from .grid import GridPanel, GridView, LazyTableModel, order_by_keys
from .qdates import to_date, to_qdate
from .worker import ProgressFn, Worker

TOTAL_ID = 0   # the totals row: always last, whatever the sort or filter

HAND_NOTE: dict[str, str] = {
    NominalKind.STOCK: "Stock: journal by hand",
    NominalKind.COST_OF_SALE: "Cost of sale: journal by hand",
}
HAND_TOOLTIP = ("Stock and cost-of-sale postings stay in KCC and are never sent to the accounting package. "
                "Post this figure there as a manual journal.")
HAND_BACKGROUND = QColor("#fff3e0")


class TbCol(IntEnum):
    CODE = 0
    NAME = 1
    DEBIT = 2
    CREDIT = 3
    JOURNAL_BY_HAND = 4


class TrialBalanceModel(LazyTableModel[TrialBalanceRow, TbCol]):
    """Rows of a computed ``TrialBalance``; ids are 1..n for the rows and 0 for the totals row."""

    Columns = TbCol
    headers: ClassVar[dict[int, str]] = {TbCol.CODE: "Nominal code", TbCol.NAME: "Name", TbCol.DEBIT: "Debit",
                                         TbCol.CREDIT: "Credit", TbCol.JOURNAL_BY_HAND: "Journal by hand"}
    column_widths: ClassVar[dict[int, int]] = {TbCol.CODE: 110, TbCol.NAME: 300, TbCol.DEBIT: 130,
                                               TbCol.CREDIT: 130}

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.balance = TrialBalance([], Decimal("0.00"), Decimal("0.00"))

    def set_balance(self, balance: TrialBalance) -> None:
        self.balance = balance
        self.set_ids([*range(1, len(balance.rows) + 1), TOTAL_ID])

    def fetch_rows(self, ids) -> dict[int, TrialBalanceRow]:
        rows = self.balance.rows
        total = TrialBalanceRow("", "Total", "", self.balance.total_debit, self.balance.total_credit)
        return {i: (total if i == TOTAL_ID else rows[i - 1]) for i in ids if i == TOTAL_ID or i <= len(rows)}

    def display(self, row: TrialBalanceRow, column: TbCol) -> str:
        if column == TbCol.CODE:
            return row.code
        if column == TbCol.NAME:
            return row.name
        if column in (TbCol.DEBIT, TbCol.CREDIT):
            value = row.debit if column == TbCol.DEBIT else row.credit
            return f"{value:,.2f}" if value or row.kind == "" else ""
        return HAND_NOTE.get(row.kind, "")

    def sort_key(self, row: TrialBalanceRow, column: TbCol) -> Any:
        if column == TbCol.DEBIT:
            return row.debit
        if column == TbCol.CREDIT:
            return row.credit
        return self.display(row, column)

    def sorted_ids(self, ids: list[int], column: TbCol, descending: bool) -> list[int]:
        rows = [i for i in ids if i != TOTAL_ID]
        keys = {i: self.sort_key(self.balance.rows[i - 1], column) for i in rows}
        return [*order_by_keys(rows, keys, descending), TOTAL_ID]

    def ids_matching(self, text: str) -> set[int]:
        return super().ids_matching(text) | {TOTAL_ID}

    def alignment(self, column: TbCol) -> Qt.AlignmentFlag | None:
        return Qt.AlignmentFlag.AlignRight if column in (TbCol.DEBIT, TbCol.CREDIT) else None

    def decoration(self, row: TrialBalanceRow, column: TbCol) -> QIcon | None:
        if column == TbCol.CODE and row.journal_by_hand:
            return icons.icon("journal-by-hand")
        return None

    def background(self, row: TrialBalanceRow, column: TbCol) -> QColor | None:
        return HAND_BACKGROUND if row.journal_by_hand else None

    def foreground(self, row: TrialBalanceRow, column: TbCol) -> QColor | None:
        if column == TbCol.JOURNAL_BY_HAND and row.journal_by_hand:
            return QColor("#e65100")
        return None

    def font(self, row: TrialBalanceRow, column: TbCol) -> QFont | None:
        if row.kind == "":
            font = QFont()
            font.setBold(True)
            return font
        return None

    def tooltip(self, row: TrialBalanceRow, column: TbCol) -> str | None:
        return HAND_TOOLTIP if row.journal_by_hand else None


def write_csv(path: str | Path, balance: TrialBalance) -> None:
    """The rows as shown (plain amounts, no thousands separators), then the totals."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = SafeCsvWriter(f)
        writer.writerow(["Nominal code", "Name", "Debit", "Credit", "Journal by hand"])
        for r in balance.rows:
            writer.writerow([r.code, r.name, f"{r.debit:.2f}", f"{r.credit:.2f}", HAND_NOTE.get(r.kind, "")])
        writer.writerow(["", "Total", f"{balance.total_debit:.2f}", f"{balance.total_credit:.2f}", ""])


class TrialBalanceView(QWidget):
    """The screen; ``loaded`` fires when the figures for the chosen range are on screen."""

    title = "Trial Balance"
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Trial Balance")
        self._worker: Worker | None = None
        self._again = False

        first, last = journal_date_range(ctx.store, date.today())
        self.from_edit = self._date_edit("From date", first)
        self.to_edit = self._date_edit("To date", last)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.refresh)
        for edit in (self.from_edit, self.to_edit):
            edit.dateChanged.connect(lambda _d: self._debounce.start())

        self.model = TrialBalanceModel(self)
        self.grid = GridView(self.model, "trial_balance", name="Trial balance")
        self.export_action = QAction(icons.icon("export-csv"), "&Export to CSV…", self)
        self.export_action.setToolTip("Save the trial balance shown as a CSV file")
        self.export_action.triggered.connect(self.on_export_triggered)
        self.refresh_action = QAction(icons.icon("refresh"), "&Refresh", self)
        self.refresh_action.triggered.connect(self.refresh)
        self.grid.set_context_actions([self.export_action, self.refresh_action])
        self.menu_actions = [self.export_action]

        export_button = QPushButton(self.export_action.icon(), "Export to CSV…")
        export_button.setAccessibleName("Export to CSV")
        export_button.clicked.connect(self.export_action.trigger)
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Trial balance status")
        # Long messages must not widen the window; the full text is in the tooltip.
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("From:"))
        bar.addWidget(self.from_edit)
        bar.addWidget(QLabel("To:"))
        bar.addWidget(self.to_edit)
        bar.addSpacing(16)
        bar.addWidget(self.status_label, 1)
        bar.addWidget(export_button)

        note = QLabel("Rows marked <b style='color:#e65100'>journal by hand</b> (stock and cost of sale) are never "
                      "sent to the accounting package: post those figures there as manual journals.")
        note.setWordWrap(True)
        note.setAccessibleName("Journal by hand note")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(note)
        self.panel = GridPanel(self.grid, title="Trial balance")
        layout.addWidget(self.panel)
        self.refresh()

    def _date_edit(self, name: str, value: date) -> QDateEdit:
        edit = QDateEdit(to_qdate(value))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")   # as the Documents grid shows dates
        edit.setAccessibleName(name)
        return edit

    @property
    def date_range(self) -> tuple[date, date]:
        return to_date(self.from_edit.date()), to_date(self.to_edit.date())

    @property
    def balance(self) -> TrialBalance:
        return self.model.balance

    def refresh(self) -> None:
        """Sum the journal for the range in the background; a request during a run is run after it."""
        if self._worker is not None:
            self._again = True
            return
        date_from, date_to = self.date_range
        if date_from > date_to:
            self.status_label.setText("The From date is after the To date: choose a range.")
            return
        store = self.ctx.store
        self.status_label.setText("Adding up the journal…")

        def job(_progress: ProgressFn, _cancel: threading.Event) -> TrialBalance:
            return trial_balance_for(store, date_from, date_to)

        worker = Worker(job, owner=self)
        worker.finished.connect(self.on_balance_finished)
        worker.failed.connect(self.on_balance_failed)
        worker.done.connect(self.on_worker_done)
        self._worker = worker.start()

    def on_balance_finished(self, balance: TrialBalance) -> None:
        self.model.set_balance(balance)
        self.panel.update_count()
        diff = balance.total_debit - balance.total_credit
        self.status_label.setText(
            f"Debit {balance.total_debit:,.2f} = Credit {balance.total_credit:,.2f}: balanced." if diff == 0 else
            f"Out of balance by {diff:,.2f}: please report this with the log file.")
        if not self._again:
            self.loaded.emit()

    def on_balance_failed(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_label.setToolTip(message)

    def on_worker_done(self) -> None:
        worker, self._worker = self._worker, None
        again, self._again = self._again, False
        if again and not (worker is not None and worker.cancelled):   # the range changed meanwhile
            self.refresh()

    def on_export_triggered(self) -> None:
        date_from, date_to = self.date_range
        default = f"trial-balance-{date_from.isoformat()}-to-{date_to.isoformat()}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export trial balance", default, "CSV files (*.csv)")
        if not path:
            return
        try:
            write_csv(path, self.balance)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write {path}: {exc.strerror}. "
                                "Choose another folder or close the file if it is open elsewhere.")
            return
        self.status_label.setText(f"Saved {Path(path).name}.")
