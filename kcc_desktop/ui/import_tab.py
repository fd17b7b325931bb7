"""The Import tab: payments recorded in the accounting package, fetched and created & allocated here.

Every action is one QAction (attributes below), shared by the Actions and Grid Actions buttons, the grid's
right-click menu and the main window's menus; each is enabled by the selection. Fetching, Create &
Allocate and Reverse run in a ``worker.Worker`` shown by a ``job_runner.JobRunner`` (progress with count,
rate and time left; Cancel stops between batches), each under the company file's sync lock; the grid's
statuses refresh through a CoalescedRefresh, never once per row, and the grid loads off the GUI thread.
F5 is Fetch Payments here. No business rule lives here: ``sync.payments_import.PaymentsImport`` decides
everything; the grid reads through ``views.imports``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..connectors.provider import Provider
from ..context import AppContext
from ..schedule import SyncLock
from ..sync.options import OptionsService
from ..sync.payments_import import ImportSummary, PaymentsImport
from . import icons
from .grid import GridPanel, GridView, bind_button, selection_action
from .import_models import ImportModel, write_csv
from .job_runner import CoalescedRefresh, JobRunner
from .worker import JobFn, ProgressFn, Worker

LOCK_HOLDER = "{what} in the window"
ORANGE = ("QToolButton { background: #ef6c00; color: white; font-weight: bold; border-radius: 3px;"
          " padding: 4px 10px; } QToolButton:disabled { background: #ffcc80; }")
BIG_SELECTION = 5000   # above this, enabling an action does not look at every selected row


class ImportTab(QWidget):
    """``ImportTab(ctx, parent)``; actions: fetch_action (F5), create_allocate_action, reverse_action,
    copy_action, export_csv_action, cancel_action."""

    title = "Import"
    fetch_finished = Signal(object)       # ImportSummary
    create_finished = Signal(object)      # ImportSummary
    reverse_finished = Signal(int)        # payments reversed
    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.last_summary: ImportSummary | None = None
        self.confirm_box: QMessageBox | None = None
        self.fetch_on_show = True          # the first time the tab is shown it fetches (as the issue asks)
        self._new_rows = False
        self.setAccessibleName("Import")

        self.model = ImportModel(ctx.store, self.provider, self)
        self.grid = GridView(self.model, "import_payments", name="Imported payments")
        self.grid.set_empty_text(self._empty_text())
        # Twice a second: each repaint re-reads the rows on screen and parks the worker while it paints
        # (sync.gil.gui_turn), so at 5 a second it cost Create & Allocate a fifth of its speed.
        self.live_refresh = CoalescedRefresh(self.repaint_live_statuses, 500, self)
        self._make_actions()
        self._layout()
        self.refresh()

    @property
    def provider(self) -> str:
        return OptionsService(self.ctx.store).provider

    @property
    def service(self) -> PaymentsImport:
        return PaymentsImport(self.ctx.store, self.provider)

    @property
    def package_label(self) -> str:
        return Provider.label_of(self.provider, short=True)

    def _empty_text(self) -> str:
        pkg = self.package_label
        return (f"No payments fetched from {pkg} yet. When your bookkeeper records customer receipts or supplier "
                f"payments in {pkg}, choose Fetch Payments (F5) to bring them here; then select them and choose "
                "Create & Allocate Payments to record them in the ledger.")

    # --- actions ----------------------------------------------------------------------------------------

    def _make_actions(self) -> None:
        g = self.grid
        self.fetch_action = QAction(icons.icon("refresh"), "&Fetch Payments", self)
        self.fetch_action.setShortcut(QKeySequence("F5"))
        self.fetch_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.fetch_action.setToolTip("Download receipts and supplier payments changed in the accounting package "
                                     "since the last fetch (F5)")
        self.fetch_action.triggered.connect(self.on_fetch_triggered)
        self.create_allocate_action = selection_action(
            g, "&Create && Allocate Payments", self.on_create_allocate_triggered, parent=self,
            icon=icons.icon("mark-exported"), enabled_if=lambda grid: not self.busy and self._any(grid, "can_create"),
            tooltip="Record the selected payments in the ledger and allocate them to the invoices they pay")
        self.reverse_action = selection_action(
            g, "&Reverse Deleted Payments…", self.on_reverse_triggered, parent=self,
            enabled_if=lambda grid: not self.busy and self._any(grid, "can_reverse"),
            tooltip="Undo, in the ledger, selected payments that were deleted in the accounting package")
        self.copy_action = g.copy_action   # the grid's own (Ctrl+C): one QAction, in every menu
        g.selection_changed.connect(lambda: self.copy_action.setEnabled(g.selectionModel().hasSelection()))
        self.export_csv_action = QAction(icons.icon("export-csv"), "Export grid to CS&V…", self)
        self.export_csv_action.triggered.connect(lambda: self.on_export_csv_triggered())
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setToolTip("Stop after the batch in progress (what is done stays done)")
        self.addActions([self.fetch_action])
        # The grid's menu adds its Copy and Copy column itself after these.
        g.set_context_actions([self.create_allocate_action, self.reverse_action, None, self.fetch_action,
                               self.export_csv_action])
        self.menu_actions = [self.fetch_action, self.create_allocate_action, self.reverse_action]

    def _layout(self) -> None:
        bar = QHBoxLayout()
        fetch = QPushButton(self.fetch_action.icon(), "Fetch Payments")
        bind_button(fetch, self.fetch_action)
        create = QPushButton(self.create_allocate_action.icon(), "Create && Allocate Payments")
        bind_button(create, self.create_allocate_action)
        cancel = QPushButton("Cancel")
        bind_button(cancel, self.cancel_action)
        actions = QToolButton()
        actions.setText("Actions")
        actions.setAccessibleName("Actions")
        actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(actions)
        for a in (self.fetch_action, self.create_allocate_action, None, self.reverse_action, None,
                  self.copy_action, self.export_csv_action):
            menu.addSeparator() if a is None else menu.addAction(a)
        actions.setMenu(menu)
        grid_actions = QToolButton()
        grid_actions.setText("Grid Actions")
        grid_actions.setAccessibleName("Grid Actions")
        grid_actions.setStyleSheet(ORANGE)
        grid_actions.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        gmenu = QMenu(grid_actions)
        for a in (self.copy_action, self.export_csv_action):
            gmenu.addAction(a)
        grid_actions.setMenu(gmenu)
        self.actions_button, self.grid_actions_button = actions, grid_actions
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Import status")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import progress")
        self.progress.setTextVisible(True)
        self.progress.setFixedWidth(380)
        self.progress.hide()
        for w in (fetch, create, cancel, actions, grid_actions):
            bar.addWidget(w)
        # In the toolbar's row, as on the Export tab: showing it moves no grid (a grid pushed down repainted
        # whole, and held the window 40-50 ms as each job began and ended), and leaves no band.
        bar.addWidget(self.progress)
        bar.addWidget(self.status_label, 1)
        self.jobs = JobRunner(self.progress, self.status_label, self.cancel_action,
                              cancelling_text="Cancelling after the batch in progress…", parent=self)
        self.jobs.busy_changed.connect(self.busy_changed)
        self.jobs.busy_changed.connect(lambda _busy: self._reevaluate())
        self.jobs.progressed.connect(self.live_refresh.request)   # statuses change as batches commit
        self.jobs.ended.connect(self.on_job_ended)
        self.panel = GridPanel(self.grid, title="Payments from the accounting package")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.panel, 1)

    # --- state ------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    @property
    def worker(self) -> Worker | None:
        return self.jobs.worker

    def _any(self, grid: GridView, flag: str) -> bool:
        ids = grid.selected_ids()
        if len(ids) > BIG_SELECTION:
            return True   # the service skips what does not apply; looking at 100k rows per click costs more
        cached = self.model.cached_rows(ids)
        if cached is not None:
            return any(row is not None and getattr(row, flag) for row in cached)
        # After a job only the rows on screen are cached again: one query, not thousands of rows read (and
        # cached) on the GUI thread, which held the window 50-100 ms at the end of Create & Allocate.
        return self.model.queries.any_can(ids, flag)

    def _reevaluate(self) -> None:
        self.fetch_action.setEnabled(not self.busy)
        self.grid.selection_changed.emit()

    def refresh(self) -> None:
        """Re-read the grid (off the GUI thread). F5 fetches instead: see ``on_f5``."""
        if self.model.provider != self.provider:
            self.model.provider = self.provider
            self.grid.set_empty_text(self._empty_text())
        self.model.reload()
        self.panel.update_count()
        self._reevaluate()

    def on_f5(self) -> None:
        """F5 on this tab is Fetch Payments (as the README says), not just a re-read of the grid."""
        self.on_fetch_triggered()

    def on_connection_changed(self) -> None:
        self.refresh()

    def repaint_statuses(self, status_only: bool = False) -> None:
        """Re-read the rows on screen (the rest are re-read when scrolled to)."""
        view, proxy = self.grid, self.grid.proxy
        if proxy.rowCount() == 0:
            return
        top = max(view.rowAt(0), 0)
        bottom = view.rowAt(view.viewport().height() - 1)
        bottom = proxy.rowCount() - 1 if bottom < 0 else bottom
        self.model.refresh_rows([proxy.mapToSource(proxy.index(r, 0)).row() for r in range(top, bottom + 1)],
                                status_only)

    def repaint_live_statuses(self) -> None:
        """While a job runs only statuses change (a whole row greys only when reversed, repainted at the end)."""
        self.repaint_statuses(status_only=True)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.fetch_on_show:
            self.fetch_on_show = False
            self.on_fetch_triggered()

    # --- background work --------------------------------------------------------------------------------

    def _run(self, what: str, fn: JobFn, on_done: Callable[[Any], None], *, new_rows: bool = False) -> Worker:
        """Starts ``fn`` on a worker. ``new_rows``: the job adds rows (a fetch), so the grid reloads its ids
        afterwards; otherwise only statuses changed and repainting the cached rows is enough."""
        self._new_rows = new_rows
        return self.jobs.run(what, fn, on_done)

    def on_job_ended(self) -> None:
        self.live_refresh.cancel()   # the repaint below reads the rows on screen once, not twice
        if self._new_rows:
            self.refresh()
        else:   # reloading (and re-sorting) 100,000 ids would stall the window for nothing
            self.repaint_statuses()

    def on_fetch_triggered(self) -> None:
        if self.busy:
            return
        ctx, provider = self.ctx, self.provider

        def job(progress: ProgressFn, cancel: threading.Event) -> ImportSummary:
            # On the worker thread: its own package object and sessions, under the company file's sync lock.
            with SyncLock(ctx.store, LOCK_HOLDER.format(what="Fetch Payments")):
                return PaymentsImport(ctx.store, provider).fetch(ctx.package(), cancel=cancel, progress=progress)
        self._run(f"Fetching payments from {Provider.label_of(provider, short=True)}…", job, self.on_fetch_finished,
                  new_rows=True)

    def on_fetch_finished(self, summary: ImportSummary) -> None:
        self.last_summary = summary
        pkg = self.package_label
        if summary.fetched:
            text = f"Fetch Payments: {summary.fetched:,} new payment{'s' if summary.fetched != 1 else ''} from {pkg}"
            text += " (cancelled; fetch again for the rest)." if summary.cancelled else "."
        elif summary.cancelled:
            text = "Fetch Payments: cancelled before anything new was read; fetch again."
        else:
            text = (f"Fetch Payments: no payment in {pkg} is new since the last fetch (payments changed there "
                    "were brought up to date).")
        self.status_label.setText(text)
        self.fetch_finished.emit(summary)

    def on_create_allocate_triggered(self) -> None:
        ids = self.grid.selected_ids()
        if not ids or self.busy:
            return
        service, store = self.service, self.ctx.store

        def job(progress: ProgressFn, cancel: threading.Event) -> ImportSummary:
            with SyncLock(store, LOCK_HOLDER.format(what="Create & Allocate Payments")):
                return service.create_and_allocate(ids, progress=progress, cancel=cancel)
        self._run(f"Creating and allocating {len(ids):,} payments…", job, self.on_create_finished)

    def on_create_finished(self, summary: ImportSummary) -> None:
        self.last_summary = summary
        self.status_label.setText(f"Create & Allocate Payments: {summary.text}")
        self.create_finished.emit(summary)

    def on_reverse_triggered(self) -> None:
        service = self.service
        ids = service.deleted_imported_ids(self.grid.selected_ids())
        if not ids or self.busy:
            return
        text = (f"{len(ids):,} selected payment{'s were' if len(ids) > 1 else ' was'} deleted in "
                f"{service.pkg} after being created here. Reverse {'them' if len(ids) > 1 else 'it'} in the "
                "ledger, with {0} allocations? The invoices will be outstanding again.".format(
                    "their" if len(ids) > 1 else "its"))
        if not self.confirm("Reverse Deleted Payments", text):
            self.status_label.setText("Nothing reversed.")
            return
        store = self.ctx.store

        def job(_progress: ProgressFn, _cancel: threading.Event) -> int:
            with SyncLock(store, LOCK_HOLDER.format(what="Reverse Deleted Payments")):
                return service.reverse_deleted(ids)
        self._run(f"Reversing {len(ids):,} payment{'s' if len(ids) != 1 else ''}…", job, self.on_reverse_finished)

    def on_reverse_finished(self, count: int) -> None:
        self.status_label.setText(f"{count:,} payment{'s' if count != 1 else ''} reversed with "
                                  f"{'their' if count != 1 else 'its'} allocations.")
        self.reverse_finished.emit(count)

    def confirm(self, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.confirm_box = box          # reachable by tests and accessibility tools while open
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            self.confirm_box = None

    def on_export_csv_triggered(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export grid to CSV", "imported-payments.csv",
                                                  "CSV files (*.csv)")
            if not path:
                return None
        rows = write_csv(self.grid, Path(path))
        self.status_label.setText(f"Saved {rows:,} rows to {path}.")
        return Path(path)

