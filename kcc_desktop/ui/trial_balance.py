"""Accounts → Trial Balance: nominal code, name, debit and credit for a date range, with its totals.

Stock and cost-of-sale rows are marked: they never go to the accounting package, so users journal those
figures by hand; the "Journal by hand" column says so. The sums run in a worker thread (a 100,000-
document ledger has over half a million journal lines).
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont
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
from sqlalchemy import func, select

from ..context import AppContext
from ..ledger.trial_balance import TrialBalance, TrialBalanceRow, trial_balance
from ..models import JournalLine, NominalKind
from . import icons
from .grid import GridPanel, GridView, LazyTableModel, order_by_keys
from .worker import Worker

TOTAL_ID = 0   # the totals row: always last, whatever the sort or filter

HAND_NOTE = {
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


class TrialBalanceModel(LazyTableModel):
    """Rows of a computed ``TrialBalance``; ids are 1..n for the rows and 0 for the totals row."""

    Columns = TbCol
    headers = {TbCol.CODE: "Nominal code", TbCol.NAME: "Name", TbCol.DEBIT: "Debit", TbCol.CREDIT: "Credit",
               TbCol.JOURNAL_BY_HAND: "Journal by hand"}
    column_widths = {TbCol.CODE: 110, TbCol.NAME: 300, TbCol.DEBIT: 130, TbCol.CREDIT: 130}

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.balance = TrialBalance([], Decimal("0.00"), Decimal("0.00"))

    def set_balance(self, balance: TrialBalance) -> None:
        self.balance = balance
        self.set_ids([*range(1, len(balance.rows) + 1), TOTAL_ID])

    def fetch_rows(self, ids):
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

    def sort_key(self, row: TrialBalanceRow, column: TbCol):
        return {TbCol.DEBIT: row.debit, TbCol.CREDIT: row.credit}.get(column, self.display(row, column))

    def sorted_ids(self, ids, column, descending):
        rows = [i for i in ids if i != TOTAL_ID]
        keys = {i: self.sort_key(self.balance.rows[i - 1], column) for i in rows}
        return order_by_keys(rows, keys, descending) + [TOTAL_ID]

    def ids_matching(self, text: str) -> set[int]:
        return super().ids_matching(text) | {TOTAL_ID}

    def alignment(self, column: TbCol):
        return Qt.AlignmentFlag.AlignRight if column in (TbCol.DEBIT, TbCol.CREDIT) else None

    def decoration(self, row: TrialBalanceRow, column: TbCol):
        if column == TbCol.CODE and row.journal_by_hand:
            return icons.icon("journal-by-hand")
        return None

    def background(self, row: TrialBalanceRow, column: TbCol):
        return HAND_BACKGROUND if row.journal_by_hand else None

    def foreground(self, row: TrialBalanceRow, column: TbCol):
        if column == TbCol.JOURNAL_BY_HAND and row.journal_by_hand:
            return QColor("#e65100")
        return None

    def font(self, row: TrialBalanceRow, column: TbCol):
        if row.kind == "":
            font = QFont()
            font.setBold(True)
            return font
        return None

    def tooltip(self, row: TrialBalanceRow, column: TbCol):
        return HAND_TOOLTIP if row.journal_by_hand else None


def journal_date_range(ctx: AppContext) -> tuple[date, date]:
    """From the first journal date to today (or the last journal date, if later): the whole ledger."""
    with ctx.store.session() as s:
        first, last = s.execute(select(func.min(JournalLine.date), func.max(JournalLine.date))).one()
    today = date.today()
    return (first or today.replace(month=1, day=1)), max(last or today, today)


def write_csv(path: str | Path, balance: TrialBalance) -> None:
    """The rows as shown (plain amounts, no thousands separators), then the totals."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Nominal code", "Name", "Debit", "Credit", "Journal by hand"])
        for r in balance.rows:
            writer.writerow([r.code, r.name, f"{r.debit:.2f}", f"{r.credit:.2f}", HAND_NOTE.get(r.kind, "")])
        writer.writerow(["", "Total", f"{balance.total_debit:.2f}", f"{balance.total_credit:.2f}", ""])


def stop_worker(worker: Worker, ms: int = 30_000) -> bool:
    """Cancel and wait for a worker at shutdown. ``Worker.wait`` alone would wait for the thread's event
    loop, which only quits once the GUI thread has handled the result, so quit the loop first."""
    worker.cancel()
    worker._thread.quit()   # ends the thread's event loop once the job returns
    return worker.wait(ms)


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

        first, last = journal_date_range(ctx)
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
        edit = QDateEdit(QDate(value.year, value.month, value.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")   # as the Documents grid shows dates
        edit.setAccessibleName(name)
        return edit

    @property
    def date_range(self) -> tuple[date, date]:
        return self.from_edit.date().toPython(), self.to_edit.date().toPython()

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

        def job(_progress, _cancel):
            with store.session() as s:
                return trial_balance(s, date_from, date_to)

        self._worker = Worker(job, self)
        self._worker.finished.connect(self.on_balance_finished)
        self._worker.failed.connect(self.on_balance_failed)
        self._worker.start()

    def _done(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.wait()
            worker.deleteLater()
        if self._again:
            self._again = False
            self.refresh()

    def on_balance_finished(self, balance: TrialBalance) -> None:
        self.model.set_balance(balance)
        self.panel.update_count()
        diff = balance.total_debit - balance.total_credit
        self.status_label.setText(
            f"Debit {balance.total_debit:,.2f} = Credit {balance.total_credit:,.2f}: balanced." if diff == 0 else
            f"Out of balance by {diff:,.2f}: please report this with the log file.")
        self._done()
        if self._worker is None:
            self.loaded.emit()

    def on_balance_failed(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_label.setToolTip(message)
        self._done()

    def shutdown(self) -> None:
        """Before the window goes: let a running sum finish (it only reads) so no thread outlives us."""
        self._again = False
        if self._worker is not None:
            stop_worker(self._worker)

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
