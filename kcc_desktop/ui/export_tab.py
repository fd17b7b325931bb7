"""The Export tab: Pending Export, Exported Successfully and Error Feedback, and the actions on them.

Every action is one QAction (attributes below), shared by the Actions and Grid Actions buttons, the
grids' right-click menus and the main window's menus; each is enabled by its grid's selection. Work
that talks to the package (Upload Data, Verify) or reads many rows (Run Pre-Check) runs in a
``worker.Worker`` shown by a ``job_runner.JobRunner``, so the window stays responsive and Cancel stops
after the batch in flight. No business rule lives here: ``sync.export.ExportService`` and
``sync.precheck`` decide everything; the grids read through ``views.export``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..context import AppContext
from ..sync.export import ExportService, Summary
from ..sync.export.service import MarkReasonRequired
from ..views.export import export_counts
from . import icons
from .export_models import ExportedModel, FeedbackModel, PendingExportModel
from .grid import GridPanel, GridView, bind_button, export_grid_csv, selection_action
from .job_runner import JobRunner
from .qdates import to_date
from .worker import ProgressFn, Worker

ORANGE = ("QToolButton { background: #ef6c00; color: white; font-weight: bold; border-radius: 3px;"
          " padding: 4px 10px; } QToolButton:disabled { background: #ffcc80; }")
PAGES = ("Pending Export", "Exported Successfully", "Error Feedback")


class ExportTab(QWidget):
    """``ExportTab(ctx, parent)``; actions: upload_action, precheck_action, mark_exported_action,
    mark_not_exported_action, goto_action, verify_action, open_mapping_action, copy_action,
    export_csv_action, cancel_action, refresh_action."""

    title = "Export"
    open_mapping_requested = Signal(str)   # the ledger nominal code to show in the Mapping tab
    upload_finished = Signal(object)       # the exporter's Summary (plain values)
    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = ExportService(ctx.store)
        self.last_summary: Summary | None = None
        self.mark_reason_dialog: QInputDialog | None = None
        self.reconcile_screen: QWidget | None = None
        self.setAccessibleName("Export")

        self.pending_model = PendingExportModel(ctx.store, self)
        self.exported_model = ExportedModel(ctx.store, self)
        self.feedback_model = FeedbackModel(ctx.store, self)
        self.pending_grid = GridView(self.pending_model, "export_pending", name="Pending Export")
        self.exported_grid = GridView(self.exported_model, "export_exported", name="Exported Successfully")
        self.feedback_grid = GridView(self.feedback_model, "export_feedback", name="Error Feedback")
        self.grids = (self.pending_grid, self.exported_grid, self.feedback_grid)

        self._make_actions()
        self._layout()
        self.feedback_grid.id_activated.connect(lambda _id: self._trigger_if_enabled(self.open_mapping_action))
        self.exported_grid.id_activated.connect(lambda _id: self._trigger_if_enabled(self.goto_action))
        self.refresh()

    # --- actions ----------------------------------------------------------------------------------------

    def _make_actions(self) -> None:
        idle = lambda _grid: not self.busy   # noqa: E731
        pg, eg, fg = self.pending_grid, self.exported_grid, self.feedback_grid
        self.upload_action = selection_action(
            pg, "&Upload Data", self.on_upload_triggered, parent=self, shortcut="Ctrl+U", icon=icons.icon("upload"),
            enabled_if=idle, tooltip="Send the selected rows (and what they need) to the accounting package (Ctrl+U)")
        self.upload_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.precheck_action = selection_action(
            pg, "Run &Pre-Check", self.on_precheck_triggered, parent=self, enabled_if=idle,
            tooltip="Check the selected rows against the mapping and the ledger, without sending anything")
        self.mark_exported_action = selection_action(
            pg, "&Mark as Exported", self.on_mark_exported_triggered, parent=self, enabled_if=idle,
            icon=icons.icon("mark-exported"), tooltip="Move the selected rows to Exported Successfully without "
                                                      "sending them; they are never sent")
        self.mark_not_exported_action = selection_action(
            eg, "Mark as &Not Exported", self.on_mark_not_exported_triggered, parent=self,
            enabled_if=lambda g: not self.busy and self._any_manual(g),
            tooltip="Put rows marked by hand back in Pending Export (rows that were sent stay)")
        self.undo_match_action = selection_action(
            eg, "Undo Matc&h", self.on_undo_match_triggered, parent=self,
            enabled_if=lambda g: not self.busy and self._any_matched(g),
            tooltip="Unlink companies and stock items matched to what the package already had: they go back to "
                    "Pending Export and are created as new records")
        self.goto_action = selection_action(
            eg, "&Goto Document", self.on_goto_triggered, parent=self, maximum=1,
            enabled_if=lambda g: self._selected_document_sent(g),
            tooltip="Open the selected document in the accounting package, in the browser")
        self.verify_action = selection_action(
            eg, "&Verify", self.on_verify_triggered, parent=self, enabled_if=idle,
            tooltip="Look the selected rows up in the accounting package and tick the ones found")
        self.open_mapping_action = selection_action(
            fg, "Open &Mapping tab", self.on_open_mapping_triggered, parent=self, maximum=1,
            enabled_if=lambda g: bool(self._selected_nominal(g)),
            tooltip="Show the nominal to map in the Mapping tab")
        self.reconcile_action = QAction("Re&concile…", self)
        self.reconcile_action.setToolTip("Compare exported documents with the accounting package, side by side")
        self.reconcile_action.triggered.connect(self.on_reconcile_triggered)
        self.copy_action = QAction("&Copy selected rows", self)
        self.copy_action.triggered.connect(lambda: self.current_grid().copy_selection())
        self.export_csv_action = QAction(icons.icon("export-csv"), "Export grid to CS&V…", self)
        self.export_csv_action.triggered.connect(lambda: self.on_export_csv_triggered())
        self.refresh_action = QAction(icons.icon("refresh"), "&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence("F5"))
        self.refresh_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.refresh_action.triggered.connect(self.refresh)
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setToolTip("Stop after the batch being sent now")
        for grid in self.grids:
            grid.selection_changed.connect(self._update_shared_actions)
        self.addActions([self.upload_action, self.refresh_action])
        pg.set_context_actions([self.upload_action, self.precheck_action, self.mark_exported_action, None,
                                self.export_csv_action])
        eg.set_context_actions([self.goto_action, self.verify_action, self.mark_not_exported_action,
                                self.undo_match_action, None, self.export_csv_action])
        fg.set_context_actions([self.open_mapping_action, None, self.export_csv_action])
        self.menu_actions = [self.upload_action, self.precheck_action, self.mark_exported_action,
                             self.mark_not_exported_action, self.undo_match_action, self.goto_action,
                             self.verify_action]

    def _layout(self) -> None:
        bar = QHBoxLayout()
        upload = QPushButton(self.upload_action.icon(), "Upload Data")
        bind_button(upload, self.upload_action)
        cancel = QPushButton("Cancel")
        bind_button(cancel, self.cancel_action)
        actions = QToolButton()
        actions.setText("Actions")
        actions.setAccessibleName("Actions")
        actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(actions)
        for a in (self.upload_action, self.precheck_action, self.mark_exported_action, None,
                  self.mark_not_exported_action, self.goto_action, self.verify_action, None, self.open_mapping_action,
                  None, self.reconcile_action):
            menu.addSeparator() if a is None else menu.addAction(a)
        actions.setMenu(menu)
        grid_actions = QToolButton()
        grid_actions.setText("Grid Actions")
        grid_actions.setAccessibleName("Grid Actions")
        grid_actions.setStyleSheet(ORANGE)
        grid_actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        gmenu = QMenu(grid_actions)
        for a in (self.copy_action, self.export_csv_action, self.refresh_action):
            gmenu.addAction(a)
        grid_actions.setMenu(gmenu)
        self.actions_button, self.grid_actions_button = actions, grid_actions
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Export status")
        self.status_label.setWordWrap(True)
        for w in (upload, cancel, actions, grid_actions):
            bar.addWidget(w)
        bar.addWidget(self.status_label, 1)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Upload progress")
        self.progress.setTextVisible(True)
        # Hidden, it keeps its place: showing it when a job starts must not move (and so repaint) the
        # grids, whose Python model is called per cell while the job's threads compete for the GIL.
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        self.progress.hide()
        self.jobs = JobRunner(self.progress, self.status_label, self.cancel_action,
                              cancelling_text="Cancelling after the batch being sent…", parent=self)
        self.jobs.busy_changed.connect(self.busy_changed)
        self.jobs.busy_changed.connect(lambda _busy: self._reevaluate())
        self.jobs.ended.connect(self.refresh)

        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(GridPanel(self.pending_grid), PAGES[0])
        self.pages.addTab(GridPanel(self.exported_grid), PAGES[1])
        feedback_page = QWidget()
        fl = QVBoxLayout(feedback_page)
        fl.setContentsMargins(0, 0, 0, 0)
        dates = QHBoxLayout()
        self.date_filter = QCheckBox("Only from")
        self.date_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit, name in ((self.date_from, "Feedback from date"), (self.date_to, "Feedback to date")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
            edit.dateChanged.connect(self._apply_date_range)
        self.date_filter.toggled.connect(self._apply_date_range)
        dates.addWidget(self.date_filter)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        fl.addLayout(dates)
        fl.addWidget(GridPanel(self.feedback_grid))
        self.pages.addTab(feedback_page, PAGES[2])
        self.pages.currentChanged.connect(lambda _i: self._update_shared_actions())

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.progress)
        layout.addWidget(self.pages, 1)

    # --- state ------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    @property
    def worker(self) -> Worker | None:
        return self.jobs.worker

    def current_grid(self) -> GridView:
        return self.grids[max(0, self.pages.currentIndex())]

    @staticmethod
    def _trigger_if_enabled(action: QAction) -> None:
        """Double-click or Enter on a row does what its action would, when the action may run."""
        if action.isEnabled():
            action.trigger()

    def _update_shared_actions(self) -> None:
        self.copy_action.setEnabled(self.current_grid().selectionModel().hasSelection())

    def _reevaluate(self) -> None:
        for grid in self.grids:
            grid.selection_changed.emit()

    def _any_manual(self, grid: GridView) -> bool:
        ids = grid.selected_ids()
        if len(ids) > 5000:
            return True   # checking 100k rows on every click costs more than the service's own filter
        return any(r is not None and r.manual for r in grid.source_model.rows_for(ids))

    def _any_matched(self, grid: GridView) -> bool:
        ids = grid.selected_ids()
        return len(ids) > 5000 or any(r is not None and r.matched for r in grid.source_model.rows_for(ids))

    def _selected_document_sent(self, grid: GridView) -> bool:
        ids = grid.selected_ids()
        row = grid.source_model.row_data(ids[0]) if len(ids) == 1 else None
        return bool(row and row.remote_id and row.item_type not in ("company", "stock_item", "prepayment_allocation"))

    def _selected_nominal(self, grid: GridView) -> str:
        ids = grid.selected_ids()
        row = grid.source_model.row_data(ids[0]) if len(ids) == 1 else None
        return row.nominal_code if row else ""

    def refresh(self) -> None:
        for model in (self.pending_model, self.exported_model, self.feedback_model):
            model.reload()
        self._update_counts()
        self._reevaluate()

    def _update_counts(self) -> None:
        counts = export_counts(self.ctx.store)
        self.pages.setTabText(0, f"{PAGES[0]} ({counts.pending:,})")
        self.pages.setTabText(1, f"{PAGES[1]} ({counts.exported:,})")
        self.pages.setTabText(2, f"{PAGES[2]} ({counts.feedback:,})")

    def _apply_date_range(self) -> None:
        if self.date_filter.isChecked():
            self.feedback_model.set_date_range(to_date(self.date_from.date()), to_date(self.date_to.date()))
        else:
            self.feedback_model.set_date_range(None, None)

    # --- background work --------------------------------------------------------------------------------

    def on_upload_triggered(self) -> None:
        ids = self.pending_grid.selected_ids()
        if not ids or self.busy:
            return
        ctx, service = self.ctx, self.service

        def job(progress: ProgressFn, cancel: threading.Event) -> Summary:
            # On the worker thread: its own package object and sessions.
            return service.upload(ids, ctx.package(), progress=progress, cancel=cancel)
        self.jobs.run(f"Uploading {len(ids):,} rows…", job, self.on_upload_finished)

    def on_upload_finished(self, summary: Summary) -> None:
        self.last_summary = summary
        self.status_label.setText(summary.text)
        self.upload_finished.emit(summary)

    def on_precheck_triggered(self) -> None:
        ids = self.pending_grid.selected_ids()
        store = self.ctx.store

        def job(progress: ProgressFn, cancel: threading.Event) -> dict[int, str]:
            from ..sync.precheck import run_precheck
            return run_precheck(store, ids, progress=progress, cancel=cancel)
        self.jobs.run(f"Checking {len(ids):,} rows…", job, self.on_precheck_finished)

    def on_precheck_finished(self, results: dict[int, str]) -> None:
        problems = sum(1 for text in results.values() if text != "OK")
        self.status_label.setText(f"Pre-check: {len(results):,} checked, {problems:,} with problems"
                                  + (" (see the Pre-check column, and Error Feedback for what to do)."
                                     if problems else "."))

    def on_verify_triggered(self) -> None:
        ids = self.exported_grid.selected_ids()
        ctx, service = self.ctx, self.service
        self.jobs.run(f"Verifying {len(ids):,} rows…",
                      lambda _progress, cancel: service.verify(ids, ctx.package(), cancel=cancel),
                      self.on_verify_finished)

    def on_verify_finished(self, result: tuple[int, int]) -> None:
        found, missing = result
        self.status_label.setText(f"Verify: {found:,} found in the package and ticked"
                                  + (f", {missing:,} not found." if missing else "."))

    # --- immediate actions ------------------------------------------------------------------------------

    def on_mark_exported_triggered(self) -> None:
        """Asks why first (required, audited with the OS user); the rows move when a reason is given."""
        ids = self.pending_grid.selected_ids()
        dialog = QInputDialog(self)
        dialog.setObjectName("mark_exported_reason_dialog")
        dialog.setWindowTitle("Mark as Exported")
        dialog.setLabelText(f"Why are these {len(ids):,} rows marked as exported without sending?\n"
                            "(for example: entered in the package by hand). This goes in the audit trail.")
        dialog.textValueSelected.connect(lambda reason: self.on_mark_exported_reason(ids, reason))
        self.mark_reason_dialog = dialog
        dialog.open()

    def on_mark_exported_reason(self, ids: list[int], reason: str) -> None:
        try:
            n = self.service.mark_exported(ids, reason)
        except MarkReasonRequired as exc:
            self.status_label.setText(str(exc))
            return
        self.status_label.setText(f"{n:,} rows marked as exported by hand (they will not be sent).")
        self.refresh()

    def on_reconcile_triggered(self) -> None:
        from .reconcile_screen import ReconcileScreen  # its own screen (ui/reconcile_screen.py)

        self.reconcile_screen = ReconcileScreen(self.ctx, self)
        self.reconcile_screen.show()

    def on_mark_not_exported_triggered(self) -> None:
        ids = self.exported_grid.selected_ids()
        n = self.service.mark_not_exported(ids)
        kept = len(ids) - n
        self.status_label.setText(f"{n:,} rows back in Pending Export"
                                  + (f"; {kept:,} were sent to the package and stay exported." if kept else "."))
        self.refresh()

    def on_undo_match_triggered(self) -> None:
        from ..sync.options import OptionsService

        done = self.service.unlink_matched(self.exported_grid.selected_ids(), OptionsService(self.ctx.store).provider)
        kept = "; ".join(sorted(set(done.kept.values())))
        self.status_label.setText(f"{len(done.unlinked):,} back in Pending Export, to be created as new records"
                                  + (f"; {len(done.kept):,} stay linked: {kept}." if done.kept else "."))
        self.refresh()

    def on_goto_triggered(self) -> None:
        ids = self.exported_grid.selected_ids()
        if not ids:
            return
        try:
            url = self.service.goto_url(ids[0], self.ctx.package())
        except Exception as exc:
            self.status_label.setText(str(exc))
            return
        if url:
            QDesktopServices.openUrl(QUrl(url))

    def on_open_mapping_triggered(self) -> None:
        code = self._selected_nominal(self.feedback_grid)
        if code:
            self.open_mapping_requested.emit(code)

    def on_export_csv_triggered(self, path: str | None = None) -> Path | None:
        grid = self.current_grid()
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export grid to CSV",
                                                  f"{PAGES[self.pages.currentIndex()].lower().replace(' ', '-')}.csv",
                                                  "CSV files (*.csv)")
            if not path:
                return None
        self.export_csv(grid, Path(path))
        self.status_label.setText(f"Saved {grid.proxy.rowCount():,} rows to {path}.")
        return Path(path)

    @staticmethod
    def export_csv(grid: GridView, path: Path) -> None:
        """Every row the grid shows (filtered, in its order), visible columns in their order."""
        export_grid_csv(grid, path)

