"""The Reconcile screen: the ledger and the package side by side, differences first.

Opened from the Export tab's Actions → Reconcile…. A run reads the package in a worker (progress, Cancel);
the grid is a lazy model over the report's rows with a "Problems only" filter; each row says what to do,
and the actions (Goto, Send the Change, Credit and Reissue, Accept…, Re-send, Mark Handled…) do it, each
asking for a reason where one is required and each written to the audit trail (sync/reconcile/actions.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QDate, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
)

from ..connectors.base import AccountingPackage, DocKind
from ..context import AppContext
from ..sync.reconcile.actions import Outcome, ReconcileActions
from ..sync.reconcile.engine import Reconciler
from ..sync.reconcile.report import Action, Report, Row, Status, money
from ..views.reconcile import exported_range
from .grid import GridPanel, GridView, bind_button, export_grid_csv, selection_action
from .job_runner import JobRunner
from .lazy_model import LazyTableModel
from .qdates import to_date
from .worker import ProgressFn

PROBLEM = QColor("#c62828")
NOTE = QColor("#6d4c41")


class ReconcileColumns(IntEnum):
    STATUS = 0
    TYPE = 1
    NUMBER = 2
    COMPANY = 3
    DATE = 4
    CURRENCY = 5
    LEDGER = 6
    PACKAGE = 7
    VARIANCE = 8
    LEDGER_DUE = 9
    PACKAGE_DUE = 10
    ADVICE = 11


TYPE_LABELS = {"sales_invoice": "Invoice", "sales_credit": "Credit Note", "purchase_invoice": "Purchase Invoice",
               "purchase_credit": "Purchase Credit Note"}
MONEY_COLUMNS = (ReconcileColumns.LEDGER, ReconcileColumns.PACKAGE, ReconcileColumns.VARIANCE,
                 ReconcileColumns.LEDGER_DUE, ReconcileColumns.PACKAGE_DUE)


class ReconcileModel(LazyTableModel[Row, ReconcileColumns]):
    """Ids are positions in the report's rows (differences first); rows come from the report on demand."""

    Columns = ReconcileColumns
    headers: ClassVar[dict[int, str]] = {
        ReconcileColumns.STATUS: "Status", ReconcileColumns.TYPE: "Type", ReconcileColumns.NUMBER: "Number",
        ReconcileColumns.COMPANY: "Company", ReconcileColumns.DATE: "Date", ReconcileColumns.CURRENCY: "Currency",
        ReconcileColumns.LEDGER: "Total", ReconcileColumns.PACKAGE: "Package Total",
        ReconcileColumns.VARIANCE: "Variance", ReconcileColumns.LEDGER_DUE: "Outstanding",
        ReconcileColumns.PACKAGE_DUE: "Package Outstanding", ReconcileColumns.ADVICE: "What to do"}
    column_widths: ClassVar[dict[int, int]] = {
        ReconcileColumns.STATUS: 150, ReconcileColumns.TYPE: 110, ReconcileColumns.NUMBER: 90,
        ReconcileColumns.COMPANY: 160, ReconcileColumns.DATE: 85, ReconcileColumns.CURRENCY: 60,
        ReconcileColumns.LEDGER: 80, ReconcileColumns.PACKAGE: 95, ReconcileColumns.VARIANCE: 70,
        ReconcileColumns.LEDGER_DUE: 85, ReconcileColumns.PACKAGE_DUE: 130}

    def __init__(self, parent=None) -> None:
        self.rows: list[Row] = []
        self.problems_only = False
        super().__init__(parent=parent)

    def show_report(self, rows: Sequence[Row]) -> None:
        self.rows = list(rows)
        self.reload()

    def set_problems_only(self, on: bool) -> None:
        self.problems_only = on
        self.reload()

    def load_ids(self) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r.problem or not self.problems_only]

    def fetch_rows(self, ids: Sequence[int]) -> dict[int, Row]:
        return {i: self.rows[i] for i in ids if 0 <= i < len(self.rows)}

    def display(self, row: Row, column: ReconcileColumns) -> str:
        c = ReconcileColumns
        values: dict[ReconcileColumns, Callable[[], str]] = {
            c.STATUS: lambda: row.status.value, c.TYPE: lambda: TYPE_LABELS.get(row.item_type, row.item_type),
            c.NUMBER: lambda: row.number, c.COMPANY: lambda: row.company,
            c.DATE: lambda: row.date.isoformat() if row.date else "", c.CURRENCY: lambda: row.currency,
            c.LEDGER: lambda: money(row.ledger_total) or "", c.PACKAGE: lambda: money(row.package_total) or "",
            c.VARIANCE: lambda: money(row.variance) or "", c.LEDGER_DUE: lambda: money(row.ledger_outstanding) or "",
            c.PACKAGE_DUE: lambda: money(row.package_outstanding) or "",
            c.ADVICE: lambda: ("; ".join(row.changes) + " — " if row.changes else "") + row.advice}
        return values[column]()

    def sort_key(self, row: Row, column: ReconcileColumns) -> Any:
        c = ReconcileColumns
        if column == c.DATE:
            return row.date or date.min
        if column in MONEY_COLUMNS:
            value = {c.LEDGER: row.ledger_total, c.PACKAGE: row.package_total, c.VARIANCE: row.variance,
                     c.LEDGER_DUE: row.ledger_outstanding, c.PACKAGE_DUE: row.package_outstanding}[column]
            return (value is None, value or 0)
        if column == c.STATUS:
            return (not row.problem, row.status.value)
        return self.display(row, column)

    def foreground(self, row: Row, column: ReconcileColumns) -> Any:
        if column == ReconcileColumns.STATUS and row.problem:
            return PROBLEM
        if column == ReconcileColumns.STATUS and row.status in (Status.EXCHANGE_DIFFERENCE, Status.HANDLED,
                                                                 Status.ACCEPTED):
            return NOTE
        return None

    def alignment(self, column: ReconcileColumns) -> Qt.AlignmentFlag | None:
        if column in MONEY_COLUMNS:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def tooltip(self, row: Row, column: ReconcileColumns) -> str | None:
        return self.display(row, ReconcileColumns.ADVICE) if column == ReconcileColumns.ADVICE else None


class ReconcileScreen(QDialog):
    """Non-modal: the Export tab stays usable beside it."""

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("reconcile_screen")
        self.setWindowTitle("Reconcile — the ledger and the accounting package")
        self.resize(1280, 640)
        self.report: Report | None = None
        self.package: AccountingPackage | None = None
        self.reason_dialog: QInputDialog | None = None
        self.last_url = ""
        self.open_url: Callable[[str], object] = lambda url: QDesktopServices.openUrl(QUrl(url))
        self.model = ReconcileModel(self)
        self.grid = GridView(self.model, "reconcile", name="Reconcile")
        self._make_actions()
        self._layout()
        self.grid.id_activated.connect(lambda _id: self.goto_action.trigger() if self.goto_action.isEnabled()
                                       else None)

    # --- actions ---------------------------------------------------------------------------------------

    def _make_actions(self) -> None:
        g = self.grid
        self.run_action = QAction("&Reconcile", self)
        self.run_action.setToolTip("Read the documents in the range back from the package and compare")
        self.run_action.triggered.connect(self.on_run_triggered)
        self.cancel_action = QAction("Cancel", self)

        def offers(action: Action) -> Callable[[GridView], bool]:
            return lambda _g: not self.busy and bool(self.selected()) and all(action in r.actions
                                                                              for r in self.selected())

        self.goto_action = selection_action(
            g, "&Goto Document", self.on_goto_triggered, parent=self, maximum=1,
            enabled_if=lambda _g: bool(self.package) and any(r.remote_id for r in self.selected()),
            tooltip="Open the document in the accounting package, in the browser")
        self.send_change_action = selection_action(
            g, "&Send the Change", lambda: self.on_package_action(Action.SEND_CHANGE), parent=self,
            enabled_if=offers(Action.SEND_CHANGE), tooltip="Update the package's copy with the ledger's version")
        self.reissue_action = selection_action(
            g, "&Credit and Reissue", lambda: self.on_package_action(Action.CREDIT_REISSUE), parent=self,
            enabled_if=offers(Action.CREDIT_REISSUE),
            tooltip="Paid or locked in the package: credit what was sent and send the ledger's version anew")
        self.accept_action = selection_action(
            g, "&Accept Difference…", lambda: self.ask_reason(Action.ACCEPT), parent=self,
            enabled_if=offers(Action.ACCEPT), tooltip="Keep the difference; a reason is required")
        self.resend_action = selection_action(
            g, "&Re-send", self.on_resend_triggered, parent=self, enabled_if=offers(Action.RESEND),
            tooltip="Back to Pending Export: the next Upload Data creates it again")
        self.handled_action = selection_action(
            g, "Mark &Handled…", lambda: self.ask_reason(Action.MARK_HANDLED), parent=self,
            enabled_if=offers(Action.MARK_HANDLED), tooltip="Dealt with by hand; a reason is required")
        self.export_csv_action = QAction("Export grid to CS&V…", self)
        self.export_csv_action.triggered.connect(lambda: self.on_export_csv_triggered())
        self.row_actions = [self.goto_action, self.send_change_action, self.reissue_action, self.accept_action,
                            self.resend_action, self.handled_action]
        g.set_context_actions([*self.row_actions, None, self.export_csv_action])

    def _layout(self) -> None:
        bar = QHBoxLayout()
        lo, hi = exported_range(self.ctx.store)
        today = QDate.currentDate()
        self.date_from = QDateEdit(QDate(lo.year, lo.month, lo.day) if lo else today.addDays(-30))
        self.date_to = QDateEdit(QDate(hi.year, hi.month, hi.day) if hi else today)
        for edit, name in ((self.date_from, "Reconcile from date"), (self.date_to, "Reconcile to date")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
        run, cancel = QPushButton("Reconcile"), QPushButton("Cancel")
        bind_button(run, self.run_action)
        bind_button(cancel, self.cancel_action)
        self.problems_only = QCheckBox("Problems only")
        self.problems_only.toggled.connect(self.model.set_problems_only)
        actions = QToolButton()
        actions.setText("Actions")
        actions.setAccessibleName("Actions")
        actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(actions)
        for a in (*self.row_actions, None, self.export_csv_action):
            menu.addSeparator() if a is None else menu.addAction(a)
        actions.setMenu(menu)
        for w in (QLabel("From"), self.date_from, QLabel("to"), self.date_to, run, cancel, self.problems_only,
                  actions):
            bar.addWidget(w)
        bar.addStretch(1)
        self.summary = QLabel("Choose the dates, then Reconcile.")
        self.summary.setAccessibleName("Reconcile summary")
        self.summary.setWordWrap(True)
        self.balances = QLabel("")
        self.balances.setAccessibleName("Outstanding per company")
        self.balances.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Reconcile status")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Reconcile progress")
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        self.progress.hide()
        self.jobs = JobRunner(self.progress, self.status_label, self.cancel_action,
                              cancelling_text="Cancelling after the request in flight…", parent=self)
        self.jobs.busy_changed.connect(lambda _b: self._reevaluate())
        self.run_action.setEnabled(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(GridPanel(self.grid), 1)
        layout.addWidget(self.balances)
        layout.addWidget(self.status_label)

    # --- state -----------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def selected(self) -> list[Row]:
        return [r for r in self.model.rows_for(self.grid.selected_ids()) if r is not None]

    def _reevaluate(self) -> None:
        self.run_action.setEnabled(not self.busy)
        self.grid.selection_changed.emit()

    # --- running -----------------------------------------------------------------------------------------

    def on_run_triggered(self) -> None:
        lo, hi = to_date(self.date_from.date()), to_date(self.date_to.date())
        ctx = self.ctx

        def job(progress: ProgressFn, cancel: threading.Event) -> tuple[Report, AccountingPackage]:
            package = self.package or ctx.package()
            return Reconciler(ctx.store, package).run(lo, hi, progress=progress, cancel=cancel), package

        self.jobs.run(f"Reconciling {lo} to {hi}…", job, self.on_run_finished)

    def on_run_finished(self, result: tuple[Report, AccountingPackage]) -> None:
        report, self.package = result
        self.report = report
        self.model.show_report(report.ordered)
        differ = len(report.differences)
        self.summary.setText(
            f"{report.documents:,} documents from {report.date_from} to {report.date_to}: {report.matched:,} agree, "
            f"{differ:,} differ. {report.requests:,} requests to {report.package_name}."
            + (" Stopped by Cancel: only what was read is shown." if report.cancelled else ""))
        off = [b for b in report.balances if b.difference]
        self.balances.setText("Outstanding per customer and supplier agrees on both sides." if not off else
                              "Outstanding differs: " + "; ".join(
                                  f"{b.company} ledger {money(b.ledger)}, {report.package_name} {money(b.package)}"
                                  for b in off))
        self.status_label.setText("Differences first; select a row for what to do."
                                  if differ else "Everything agrees.")

    # --- row actions -----------------------------------------------------------------------------------

    def on_goto_triggered(self) -> None:
        rows = self.selected()
        if not rows or self.package is None or not rows[0].remote_id:
            return
        self.last_url = self.package.document_url(DocKind(rows[0].item_type), rows[0].remote_id)
        self.open_url(self.last_url)

    def ask_reason(self, action: Action) -> None:
        rows = self.selected()
        dialog = QInputDialog(self)
        dialog.setObjectName("reconcile_reason_dialog")
        dialog.setWindowTitle("Accept the difference" if action == Action.ACCEPT else "Mark as handled")
        dialog.setLabelText(f"Why? ({len(rows):,} row{'s' if len(rows) != 1 else ''}; the reason goes in the "
                            "audit trail with your user name)")
        dialog.textValueSelected.connect(lambda reason: self.on_reason_given(action, rows, reason))
        self.reason_dialog = dialog
        dialog.open()

    def on_reason_given(self, action: Action, rows: list[Row], reason: str) -> None:
        if not reason.strip():
            self.status_label.setText("A reason is required: nothing was changed.")
            return
        acts = self._actions()
        out: list[Outcome] = []
        for r in rows:
            if action == Action.ACCEPT:
                out.append(acts.accept(r.item_id, reason, r.package_total))
            else:
                out.append(acts.mark_handled(r.item_id, r.status.value, reason, r.remote_id))
        self._after(out)

    def on_resend_triggered(self) -> None:
        acts = self._actions()
        self._after([acts.resend(r.item_id) for r in self.selected()])

    def on_package_action(self, action: Action) -> None:
        rows, ctx = self.selected(), self.ctx
        acts = self._actions()

        def job(progress: ProgressFn, cancel: threading.Event) -> list[Outcome]:
            package = self.package or ctx.package()
            out: list[Outcome] = []
            for n, r in enumerate(rows):
                if cancel.is_set():
                    break
                progress(n, len(rows), f"{r.number}…")
                out.append(acts.send_change(r.item_id, package) if action == Action.SEND_CHANGE
                           else acts.credit_and_reissue(r.item_id, package))
            return out

        self.jobs.run(f"{action.value.capitalize()}: {len(rows):,} documents…", job, self._after)

    def _actions(self) -> ReconcileActions:
        provider = self.package.provider if self.package is not None else self.ctx.package().provider
        return ReconcileActions(self.ctx.store, provider)

    def _after(self, outcomes: list[Outcome]) -> None:
        failed = [o.message for o in outcomes if not o.ok]
        done = len(outcomes) - len(failed)
        self.status_label.setText(" ".join([f"{done:,} done." if done else "", *failed]).strip()
                                  + " Reconcile again to see the result.")

    def on_export_csv_triggered(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export grid to CSV", "reconcile.csv", "CSV files (*.csv)")
            if not path:
                return None
        export_grid_csv(self.grid, Path(path))
        self.status_label.setText(f"Saved {self.grid.proxy.rowCount():,} rows to {path}.")
        return Path(path)
