"""The main window: composes the tabs, the menus and the status bar; holds no business rule.

Adding a tab is one entry in ``TABS`` (title, factory taking (ctx, parent)). A tab may expose:
- ``menu_actions``: QActions listed under the Actions menu (the same objects as its buttons);
- ``refresh()``: called by F5 and View → Refresh;
- ``focus_filter()``: called by Ctrl+F (else the tab's first visible grid filter is focused).
Other tabs report the connection and last sync through ``set_connection_status`` / ``set_last_sync``.

Closing while background work runs (an upload, an import): every job the window's tabs, dialogs and
menus started (``worker.running_under``) is cancelled, the window waits, disabled, for the batch in
flight to be saved, then closes for real. Nothing is killed mid-batch, so what was sent is recorded and
the rest stays pending; no thread outlives the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import APP_NAME
from ..connectors.provider import Provider
from ..context import AppContext
from ..ledger.csv_import import ImportReport
from . import icons, messages
from .documents_view import DocumentsView
from .errors import open_log_folder
from .export_tab import ExportTab
from .grid import GridView
from .import_tab import ImportTab
from .mapping_tab import MappingTab
from .settings import UiSettings
from .trial_balance import TrialBalanceView
from .worker import Worker, running_under

log = logging.getLogger(__name__)

TabFactory = Callable[[AppContext, QWidget | None], QWidget]
TabT = TypeVar("TabT", bound=QWidget)

# The tabs, in order: the daily work first.
TABS: list[tuple[str, TabFactory]] = [
    ("Export", ExportTab),
    ("Import", ImportTab),
    ("Mapping", MappingTab),
    ("Documents", DocumentsView),
]

TRIAL_BALANCE = "Trial Balance"


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, parent=None, *, tabs: Sequence[tuple[str, TabFactory]] | None = None,
                 settings: UiSettings | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings or UiSettings()
        self.setObjectName("main_window")
        self.setWindowTitle(f"{APP_NAME} — {Path(ctx.store.label).name}")
        self.setWindowIcon(icons.app_icon())
        self.setAccessibleName(APP_NAME)
        self._closing = False        # close was asked for while jobs ran: waiting for them to stop
        self._awaited: set[Worker] = set()
        self._layout_saved = False
        self.last_message: QMessageBox | None = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("main_tabs")
        self.tabs.setAccessibleName("Main tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.on_tab_close_requested)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        if ctx.demo:
            banner = QLabel("Demo company, connected to a local sandbox: nothing here reaches a real "
                            "accounting package.")
            banner.setObjectName("demo_banner")
            banner.setAccessibleName("Demo banner")
            banner.setStyleSheet("background: #fff3cd; color: #5d4300; padding: 6px; border-radius: 3px;")
            layout.addWidget(banner)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

        self._build_menus()
        self._build_status_bar()
        for title, factory in (TABS if tabs is None else tabs):
            self.add_tab(title, factory(ctx, None))
        self._wire_tabs()

        if self.settings.window_geometry is not None:
            self.restoreGeometry(self.settings.window_geometry)
        else:
            self.resize(1280, 800)
        if self.settings.window_state is not None:
            self.restoreState(self.settings.window_state)
        last = self.settings.last_tab
        if last == TRIAL_BALANCE:
            self.show_trial_balance()
        elif last:
            self.select_tab(last)
        self.tabs.currentChanged.connect(self.on_current_tab_changed)

    # -- tabs -------------------------------------------------------------------------------------------
    def add_tab(self, title: str, widget: QWidget, *, closable: bool = False) -> int:
        widget.setObjectName(widget.objectName() or f"tab_{title.lower().replace(' ', '_')}")
        index = self.tabs.addTab(widget, title)
        if closable:
            close = QToolButton()
            close.setText("×")
            close.setAutoRaise(True)
            close.setToolTip(f"Close {title}")
            close.setAccessibleName(f"Close {title}")
            close.clicked.connect(lambda: self.on_tab_close_requested(self.tabs.indexOf(widget)))
            self.tabs.tabBar().setTabButton(index, self.tabs.tabBar().ButtonPosition.RightSide, close)
        self._drop_shadowed_shortcuts(title, widget)
        self.register_actions(title, getattr(widget, "menu_actions", []))
        return index

    def _drop_shadowed_shortcuts(self, title: str, widget: QWidget) -> None:
        """F5 and Ctrl+F belong to the window (they call the current tab's refresh()/filter). A tab's own
        action on the same keys would make Qt see an ambiguous shortcut and fire neither, so it is unbound."""
        own = {QKeySequence("F5").toString(), QKeySequence("Ctrl+F").toString()}
        for action in widget.findChildren(QAction):
            if action.shortcut().toString() in own:
                log.debug("tab %s: %s is handled by the window", title, action.shortcut().toString())
                action.setShortcut(QKeySequence())

    def register_actions(self, title: str, actions: Sequence[QAction | None]) -> None:
        """List a tab's QActions under Actions ▸ (the same objects: one enabled state, one shortcut)."""
        if not actions:
            return
        section = self.actions_menu.addSection(title)
        section.setObjectName(f"actions_section_{title}")
        for action in actions:
            if action is None:
                self.actions_menu.addSeparator()
            else:
                self.actions_menu.addAction(action)
        self.actions_menu.menuAction().setVisible(True)

    def _wire_tabs(self) -> None:
        """The few ways tabs affect each other, through signals: no tab reaches into another."""
        export, importer = self.typed_tab("Export", ExportTab), self.typed_tab("Import", ImportTab)
        mapping, documents = self.typed_tab("Mapping", MappingTab), self.typed_tab("Documents", DocumentsView)
        if export is not None and mapping is not None:
            export.open_mapping_requested.connect(self.on_open_mapping_requested)
        if mapping is not None:
            mapping.connected.connect(lambda _settings: self.refresh_connection_status())
            if documents is not None:
                mapping.options_changed.connect(lambda _name: documents.payment_action.refresh())
        if export is not None:
            export.upload_finished.connect(lambda _summary: self.on_sync_finished())
        if importer is not None:
            importer.create_finished.connect(lambda _summary: self.on_sync_finished())
        self.refresh_connection_status()

    def on_open_mapping_requested(self, nominal_code: str) -> None:
        mapping = self.typed_tab("Mapping", MappingTab)
        if mapping is not None:
            self.tabs.setCurrentWidget(mapping)
            mapping.show_nominal(nominal_code)

    def on_sync_finished(self) -> None:
        self.set_last_sync(datetime.now(UTC))
        documents = self.typed_tab("Documents", DocumentsView)
        if documents is not None:
            documents.refresh()

    def refresh_connection_status(self) -> None:
        """Provider, organisation, connected or reconnect needed: read from settings and the keyring only."""
        from ..connectors.connect import status

        try:
            info = status(self.ctx.settings, self.ctx.token_store())
        except Exception as exc:  # a broken keyring must not stop the window opening
            self.set_connection_status(f"Connection unknown: {exc}", False)
            return
        if not info.get("provider"):
            self.set_connection_status("Not connected — use Mapping → Connect", False)
            return
        name = Provider.label_of(info["provider"], short=True, unknown=info["provider"])
        where = f"{name}{' sandbox' if info.get('sandbox') else ''}: {info.get('organisation') or ''}".strip()
        if info.get("connected"):
            self.set_connection_status(f"{where} — connected", True)
        else:
            self.set_connection_status(f"{where} — reconnect needed", False)

    def tab(self, title: str) -> QWidget | None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                return self.tabs.widget(i)
        return None

    def typed_tab(self, title: str, kind: type[TabT]) -> TabT | None:
        """The tab of that title if it is the screen expected (a window built with other tabs may differ)."""
        widget = self.tab(title)
        return widget if isinstance(widget, kind) else None

    def select_tab(self, title: str) -> bool:
        widget = self.tab(title)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)
        return widget is not None

    def current_tab(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def show_trial_balance(self) -> TrialBalanceView:
        view = self.typed_tab(TRIAL_BALANCE, TrialBalanceView)
        if view is None:
            view = TrialBalanceView(self.ctx)
            self.add_tab(TRIAL_BALANCE, view, closable=True)
        self.tabs.setCurrentWidget(view)
        return view

    def on_tab_close_requested(self, index: int) -> None:
        if self.tabs.tabText(index) != TRIAL_BALANCE:
            return   # only the on-demand screens close
        widget = self.tabs.widget(index)
        if widget is None:
            return
        for action in getattr(widget, "menu_actions", []):
            if action is not None:
                self.actions_menu.removeAction(action)
        for action in self.actions_menu.actions():
            if action.isSeparator() and action.text() == TRIAL_BALANCE:
                self.actions_menu.removeAction(action)
        self.tabs.removeTab(index)
        self._delete_when_idle(widget)

    def _delete_when_idle(self, widget: QWidget) -> None:
        """A closed screen goes once its jobs have stopped (cancelled now; the batch in flight finishes).
        Until then it stays inside the window, so closing the window waits for them too."""
        running = running_under(widget)
        if not running:
            widget.deleteLater()
            return
        for worker in running:
            worker.cancel()
            worker.done.connect(lambda: self._delete_when_idle(widget))

    def on_current_tab_changed(self, index: int) -> None:
        if index >= 0:
            self.settings.last_tab = self.tabs.tabText(index)

    # -- menus ------------------------------------------------------------------------------------------
    def _action(self, text: str, slot, *, shortcut=None, icon: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon:
            action.setIcon(icons.icon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)   # shortcuts work even when the menu bar is hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = file_menu = bar.addMenu("&File")
        self.import_documents_action = self._action(
            "&Import Documents…", self.on_import_documents_triggered,
            tip="Bring sales and purchase invoices and credit notes from a CSV file")
        self.new_company_action = self._action("&New Company File…", self.on_new_company_triggered,
                                               shortcut=QKeySequence.StandardKey.New)
        self.open_company_action = self._action("&Open Company File…", self.on_open_company_triggered,
                                                shortcut=QKeySequence.StandardKey.Open)
        self.exit_action = self._action("E&xit", self.close, shortcut=QKeySequence("Ctrl+Q"))
        file_menu.addActions([self.import_documents_action, self.new_company_action, self.open_company_action])
        file_menu.addSeparator()
        file_menu.addAction(self.exit_action)

        self.actions_menu = QMenu("&Actions", self)
        bar.addMenu(self.actions_menu)
        self.actions_menu.menuAction().setVisible(False)   # until a tab registers actions

        accounts = bar.addMenu("A&ccounts")
        self.trial_balance_action = self._action("&Trial Balance", self.show_trial_balance,
                                                 tip="Debits and credits per nominal code for a date range")
        accounts.addAction(self.trial_balance_action)

        view = bar.addMenu("&View")
        self.refresh_action = self._action("&Refresh", self.refresh_current, shortcut=QKeySequence("F5"),
                                           icon="refresh")
        self.filter_action = self._action("&Filter", self.focus_filter, shortcut=QKeySequence("Ctrl+F"))
        self.reset_layout_action = self._action("Reset &layout", self.reset_layout,
                                                tip="Forget window size, column widths and filters")
        view.addActions([self.refresh_action, self.filter_action])
        view.addSeparator()
        view.addAction(self.reset_layout_action)

        self.help_menu = help_menu = bar.addMenu("&Help")
        self.open_log_action = self._action("Open &Log Folder", open_log_folder)
        self.about_action = self._action("&About KCC Desktop", self.show_about)
        help_menu.addActions([self.open_log_action, self.about_action])

    def add_menu(self, menu: QMenu) -> None:
        """A menu of its own (e.g. demo mode's Sandbox menu), placed before Help."""
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)

    # -- status bar -----------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.company_label = QLabel(f"Company file: {self.ctx.store.label}")
        self.company_label.setObjectName("company_file_label")
        self.company_label.setAccessibleName("Company file")
        self.company_label.setToolTip(self.ctx.store.label)
        self.connection_label = QLabel("Not connected")
        self.connection_label.setObjectName("connection_label")
        self.connection_label.setAccessibleName("Connection")
        self.last_sync_label = QLabel("Last sync: never")
        self.last_sync_label.setObjectName("last_sync_label")
        self.last_sync_label.setAccessibleName("Last sync")
        status.addPermanentWidget(self.connection_label)
        status.addPermanentWidget(self.last_sync_label)
        status.addPermanentWidget(self.company_label)
        self.set_connection_status("Not connected", False)

    def set_connection_status(self, text: str, ok: bool) -> None:
        """E.g. ("Xero: Demo Company (UK)", True) or ("Xero: reconnect needed", False)."""
        self.connection_label.setText(("● " if ok else "○ ") + text)
        self.connection_label.setStyleSheet(f"color: {'#2e7d32' if ok else '#b71c1c'};")

    def set_last_sync(self, when: datetime | None) -> None:
        if when is None:
            self.last_sync_label.setText("Last sync: never")
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        self.last_sync_label.setText(f"Last sync: {when.astimezone().strftime('%d/%m/%Y %H:%M')}")

    # -- shortcuts' targets ---------------------------------------------------------------------------
    def refresh_current(self) -> None:
        refresh = getattr(self.current_tab(), "refresh", None)
        if callable(refresh):
            refresh()

    def focus_filter(self) -> None:
        tab = self.current_tab()
        if tab is None:
            return
        if hasattr(tab, "focus_filter"):
            tab.focus_filter()
            return
        grids = [g for g in tab.findChildren(GridView) if g.isVisible()]
        focused = QApplication.focusWidget()
        for grid in grids:
            if focused is grid or focused is grid.filter_edit:
                grid.focus_filter()
                return
        if grids:
            grids[0].focus_filter()

    def reset_layout(self) -> None:
        self.settings.reset_layout()
        for grid in self.findChildren(GridView):
            grid.reset_layout()
        for splitter in self.findChildren(QSplitter):   # those set up with settings.remember_splitter
            default = splitter.property("kcc_default_state")
            if default is not None:
                splitter.restoreState(default)
        self.resize(1280, 800)
        self.statusBar().showMessage("Layout reset to the defaults.", 5000)

    # -- file menu ------------------------------------------------------------------------------------
    def on_import_documents_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import documents", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.import_documents(path)

    def import_documents(self, path: str) -> Worker:
        """Import in the background; a summary or the list of bad rows when done."""
        from ..ledger.csv_import import import_documents

        store = self.ctx.store
        self.statusBar().showMessage(f"Importing {Path(path).name}…")
        worker = Worker(lambda _p, _c: import_documents(store, path), owner=self)
        worker.finished.connect(lambda result: self.on_import_finished(path, result))
        worker.failed.connect(lambda message: self.on_import_failed(path, message))
        return worker.start()

    def on_import_finished(self, path: str, report: ImportReport) -> None:
        """``report`` is ledger.csv_import's ImportReport: all imported, or nothing and every bad row."""
        name = Path(path).name
        if report.ok:
            self.statusBar().showMessage(f"Imported {report.imported:,} documents from {name}.", 10000)
            self.refresh_all()
        else:
            self.statusBar().showMessage(f"{name} was not imported: {report.error_count:,} problems.", 10000)
        self.last_message = messages.import_report_box(self, path, report)
        self.last_message.open()

    def on_import_failed(self, path: str, message: str) -> None:
        self.statusBar().clearMessage()
        self.last_message = messages.import_failed_box(self, path, message)
        self.last_message.open()

    def refresh_all(self) -> None:
        for i in range(self.tabs.count()):
            refresh = getattr(self.tabs.widget(i), "refresh", None)
            if callable(refresh):
                refresh()

    def on_open_company_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open company file", str(Path(self.ctx.store.label).parent),
                                              "Company files (*.sqlite *.db);;All files (*)")
        if path:
            self.open_company_file(path)

    def on_new_company_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New company file", str(Path(self.ctx.store.label).parent),
                                              "Company files (*.sqlite)")
        if path:
            self.open_company_file(path, new=True)

    def open_company_file(self, path: str, new: bool = False) -> MainWindow | None:
        """A new window on the chosen file (``new``: a new company there, with the standard chart); this one
        closes (its company file with it). Only File → New makes a file; Open refuses a missing one."""
        from ..store import StoreError

        title = "New company file" if new else "Open company file"
        if new and Path(path).exists():
            QMessageBox.warning(self, title, f"{path} already exists. Choose a new name, or open it with File → "
                                             "Open Company File. Nothing was changed.")
            return None
        try:
            ctx = AppContext.open(path, new=new)
        except StoreError as exc:
            QMessageBox.warning(self, title, str(exc))
            return None
        window = MainWindow(ctx, settings=self.settings)
        app = QApplication.instance()
        if app is not None:   # keep it alive after this one goes
            app.setProperty("kcc_windows", [*(app.property("kcc_windows") or []), window])
        window.show()
        self.close()
        return window

    # -- help -------------------------------------------------------------------------------------------
    def show_about(self) -> QMessageBox:
        self.about_box = messages.about_box(self)
        self.about_box.open()
        return self.about_box

    # -- closing ------------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self._layout_saved = False
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._layout_saved:   # once: a second close (after the jobs stopped) must not undo a reset
            self._layout_saved = True
            self.save_layout()
        running = running_under(self)
        if running:
            event.ignore()
            self._close_after(running)
            return
        super().closeEvent(event)

    def save_layout(self) -> None:
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        index = self.tabs.currentIndex()
        if index >= 0:
            self.settings.last_tab = self.tabs.tabText(index)
        for grid in self.findChildren(GridView):
            grid.save_layout()
        self.settings.sync()

    def _close_after(self, running: list[Worker]) -> None:
        """Cancel the jobs and close when the last has stopped (each after its batch in flight)."""
        if not self._closing:
            self._closing = True
            central = self.centralWidget()
            if central is not None:
                central.setEnabled(False)
            self.menuBar().setEnabled(False)
            self.statusBar().showMessage("Closing after the batch in progress…")
        for worker in running:
            if worker not in self._awaited:
                self._awaited.add(worker)
                worker.done.connect(lambda w=worker: self._on_closing_job_done(w))
            worker.cancel()

    def _on_closing_job_done(self, worker: Worker) -> None:
        self._awaited.discard(worker)
        if not running_under(self):
            self.close()
