"""The main window: composes the tabs, the menus and the status bar; holds no business rule.

Adding a tab is one entry in ``TABS`` (title, factory taking (ctx, parent)). Only the tab shown first is
built before the window's first paint; the others are built after it, one per turn of the event loop, or
at once when something asks for them (``tab()``, selecting them). A tab may expose:
- ``menu_actions``: QActions listed under the Actions menu (the same objects as its buttons);
- ``refresh()``: called by View → Refresh, and by F5 unless the tab has ``on_f5()`` (Import: Fetch);
- ``focus_filter()``: called by Ctrl+F (else the tab's first visible grid filter is focused);
- ``on_connection_changed()``: called when the company is connected to another package or organisation.
The status bar (``status_bar.SyncStatus``) shows the connection, the last sync and the last scheduled run.

The company file was opened without SQLite's check of the whole file (``open_store(check_later=True)``):
the window runs it once it has painted, on a worker thread, and says in words if the file is damaged;
uploads and fetches wait for that verdict and are refused on a damaged file (``AppContext.package``).

Closing while background work runs (an upload, an import): every job the window's tabs, dialogs and
menus started (``worker.running_under``) is cancelled, the window waits, disabled, for the batch in
flight to be saved, then closes for real. Nothing is killed mid-batch, so what was sent is recorded and
the rest stays pending; no thread outlives the window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
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
from . import icons, messages
from .errors import open_log_folder
from .file_menu import FileMenu
from .grid import GridView
from .lazy_model import after_first_paint, hold_loads, release_loads
from .settings import UiSettings
from .status_bar import SyncStatus
from .worker import Worker, running_under

if TYPE_CHECKING:
    from .trial_balance import TrialBalanceView

log = logging.getLogger(__name__)

TabFactory = Callable[[AppContext, QWidget | None], QWidget]
TabT = TypeVar("TabT", bound=QWidget)


def _later(module: str, name: str) -> TabFactory:
    """A tab whose module is imported when the tab is built: a hidden tab's imports wait for the first paint."""

    def build(ctx: AppContext, parent: QWidget | None) -> QWidget:
        factory: TabFactory = getattr(import_module(f".{module}", __package__), name)
        return factory(ctx, parent)

    return build


# The tabs, in order: the daily work first.
TABS: list[tuple[str, TabFactory]] = [
    ("Export", _later("export_tab", "ExportTab")),
    ("Import", _later("import_tab", "ImportTab")),
    ("Mapping", _later("mapping_tab", "MappingTab")),
    ("Documents", _later("documents_view", "DocumentsView")),
]


class _Unbuilt(QWidget):
    """A tab's place until it is built (``MainWindow._build``)."""

    def __init__(self, factory: TabFactory) -> None:
        super().__init__()
        self.factory = factory

TRIAL_BALANCE = "Trial Balance"


class MainWindow(FileMenu):
    connection_changed = Signal(object)   # (provider, tenant id): another package or organisation

    def __init__(self, ctx: AppContext, parent=None, *, tabs: Sequence[tuple[str, TabFactory]] | None = None,
                 settings: UiSettings | None = None) -> None:
        super().__init__(parent)
        hold_loads()   # the grids' first loads start once the window has painted (lazy_model.hold_loads)
        self._painted = False
        QTimer.singleShot(1500, release_loads)   # in any case, once the event loop has run a while
        self.ctx = ctx
        self.settings = settings or UiSettings()
        self.setObjectName("main_window")
        self.setWindowTitle(f"{APP_NAME} — {Path(ctx.store.label).name}")
        self.setWindowIcon(icons.app_icon())
        self.setAccessibleName(APP_NAME)
        self._closing = False        # close was asked for while jobs ran: waiting for them to stop
        self._awaited: set[Worker] = set()
        self._layout_saved = False
        self._target: tuple[str, str] | None = None   # the (provider, organisation) the tabs show
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
                            "accounting package. The Sandbox menu plays the bookkeeper.")
            banner.setObjectName("demo_banner")
            banner.setAccessibleName("Demo banner")
            banner.setStyleSheet("background: #fff3cd; color: #5d4300; padding: 6px; border-radius: 3px;")
            layout.addWidget(banner)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

        self._build_menus()
        self._build_status_bar()
        self._sections: dict[str, QAction] = {}   # each tab's section of the Actions menu
        self._built = False    # every tab is built
        self._closed = False   # closed for good: nothing more is built or started
        for title, factory in (TABS if tabs is None else tabs):
            self.tabs.addTab(_Unbuilt(factory), title)
        # Reading the connection imports the sign-in machinery and asks the keyring: after the first paint.
        after_first_paint(lambda: QTimer.singleShot(0, self.refresh_connection_status))

        if self.settings.window_geometry is not None:
            self.restoreGeometry(self.settings.window_geometry)
        else:
            self.resize(1280, 800)
        if self.settings.window_state is not None:
            self.restoreState(self.settings.window_state)
        last = self.settings.last_tab
        if last == TRIAL_BALANCE:
            self.show_trial_balance()
        elif not (last and self.select_tab(last)):
            self._build(self.tabs.currentIndex())
        self.tabs.currentChanged.connect(self.on_current_tab_changed)
        after_first_paint(lambda: QTimer.singleShot(0, self, self.check_company_file))
        after_first_paint(lambda: QTimer.singleShot(0, self, self._build_next))

    # -- tabs -------------------------------------------------------------------------------------------
    def add_tab(self, title: str, widget: QWidget, *, closable: bool = False) -> int:
        index = self.tabs.addTab(widget, title)
        if closable:
            close = QToolButton()
            close.setText("×")
            close.setAutoRaise(True)
            close.setToolTip(f"Close {title}")
            close.setAccessibleName(f"Close {title}")
            close.clicked.connect(lambda: self.on_tab_close_requested(self.tabs.indexOf(widget)))
            self.tabs.tabBar().setTabButton(index, self.tabs.tabBar().ButtonPosition.RightSide, close)
        self._adopt(title, widget)
        return index

    def _adopt(self, title: str, widget: QWidget) -> None:
        """A tab just built: its name, its shortcuts, its actions in the Actions menu."""
        widget.setObjectName(widget.objectName() or f"tab_{title.lower().replace(' ', '_')}")
        self._drop_shadowed_shortcuts(title, widget)
        self.register_actions(title, getattr(widget, "menu_actions", []))

    def _drop_shadowed_shortcuts(self, title: str, widget: QWidget) -> None:
        """F5 and Ctrl+F belong to the window (they call the current tab's refresh()/filter). A tab's own
        action on the same keys would make Qt see an ambiguous shortcut and fire neither, so it is unbound."""
        own = {QKeySequence("F5").toString(), QKeySequence("Ctrl+F").toString()}
        for action in widget.findChildren(QAction):
            if action.shortcut().toString() in own:
                log.debug("tab %s: %s is handled by the window", title, action.shortcut().toString())
                action.setShortcut(QKeySequence())

    def register_actions(self, title: str, actions: Sequence[QAction | None]) -> None:
        """List a tab's QActions under Actions ▸ (the same objects: one enabled state, one shortcut), in
        the order of the tabs whichever was built first."""
        if not actions:
            return
        before = self._next_section(title)
        section = (self.actions_menu.insertSection(before, title) if before is not None
                   else self.actions_menu.addSection(title))
        section.setObjectName(f"actions_section_{title}")
        self._sections[title] = section
        for action in actions:
            if action is None:
                action = QAction(self.actions_menu)
                action.setSeparator(True)
            if before is not None:
                self.actions_menu.insertAction(before, action)
            else:
                self.actions_menu.addAction(action)
        self.actions_menu.menuAction().setVisible(True)

    def _next_section(self, title: str) -> QAction | None:
        """The Actions menu's section of the first tab after ``title`` that has one (None: ``title`` goes last)."""
        order = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        if title not in order:
            return None
        later = [t for t in order[order.index(title) + 1:] if t in self._sections]
        return self._sections[later[0]] if later else None

    # -- building the tabs ------------------------------------------------------------------------------
    def _build(self, index: int) -> QWidget | None:
        """The tab at ``index``, built now if it was not yet (in its place, the current tab kept)."""
        placeholder = self.tabs.widget(index)
        if not isinstance(placeholder, _Unbuilt):
            return placeholder
        title = self.tabs.tabText(index)
        widget = placeholder.factory(self.ctx, placeholder)   # a child from the start: never a window of its own
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)   # the same tab stays current: no change to report
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, widget, title)
            self.tabs.setCurrentIndex(current)
        finally:
            self.tabs.blockSignals(blocked)
        placeholder.deleteLater()
        self._adopt(title, widget)
        self._wire(title, widget)
        return widget

    def _build_next(self) -> None:
        """After the first paint: the next tab not built yet, then the one after on the next turn."""
        if self._built or self._closed:
            return
        pending = [i for i in range(self.tabs.count()) if isinstance(self.tabs.widget(i), _Unbuilt)]
        if not pending:
            self._built = True
            return
        self._build(pending[0])
        QTimer.singleShot(0, self, self._build_next)

    def _built_tab(self, title: str) -> QWidget | None:
        """The tab of that title if it was built (one not built yet reads everything fresh when it is)."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title and not isinstance(self.tabs.widget(i), _Unbuilt):
                return self.tabs.widget(i)
        return None

    def _wire(self, title: str, widget: QWidget) -> None:
        """The few ways tabs affect each other, through signals: no tab reaches into another."""
        if title == "Export":
            from .export_tab import ExportTab

            if isinstance(widget, ExportTab):
                widget.open_mapping_requested.connect(self.on_open_mapping_requested)
                widget.upload_finished.connect(lambda _summary: self.on_sync_finished())
        elif title == "Import":
            from .import_tab import ImportTab

            if isinstance(widget, ImportTab):
                widget.create_finished.connect(lambda _summary: self.on_sync_finished())
        elif title == "Mapping":
            from .mapping_tab import MappingTab

            if isinstance(widget, MappingTab):
                widget.connected.connect(lambda _settings: self.refresh_connection_status())
                widget.options_changed.connect(lambda _name: self.on_options_changed())

    def on_open_mapping_requested(self, nominal_code: str) -> None:
        from .mapping_tab import MappingTab

        mapping = self.typed_tab("Mapping", MappingTab)
        if mapping is not None:
            self.tabs.setCurrentWidget(mapping)
            mapping.show_nominal(nominal_code)

    def on_options_changed(self) -> None:
        from .documents_view import DocumentsView

        documents = self._built_tab("Documents")
        if isinstance(documents, DocumentsView):
            documents.payment_action.refresh()

    def on_sync_finished(self) -> None:
        from .documents_view import DocumentsView

        self.set_last_sync(datetime.now(UTC))
        self.sync_status.refresh()
        documents = self._built_tab("Documents")
        if isinstance(documents, DocumentsView):
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
        if info.get("connected"):   # the first job's modules load now, while the window is idle
            from ..connectors.warm import warm

            warm(str(info["provider"]))
        name = Provider.label_of(info["provider"], short=True, unknown=info["provider"])
        where = f"{name}{' sandbox' if info.get('sandbox') else ''}: {info.get('organisation') or ''}".strip()
        if info.get("connected"):
            self.set_connection_status(f"{where} — connected", True)
        else:
            self.set_connection_status(f"{where} — reconnect needed", False)
        target = (str(info["provider"]), str(info.get("tenant_id") or ""))
        if self._target is not None and target != self._target:
            self._on_target_changed(target)
        self._target = target

    def _on_target_changed(self, target: tuple[str, str]) -> None:
        """Another package or organisation: every tab shows that one's own state."""
        for i in range(self.tabs.count()):
            changed = getattr(self.tabs.widget(i), "on_connection_changed", None)
            if callable(changed):
                changed()
        self.sync_status.refresh()
        self.connection_changed.emit(target)

    def tab(self, title: str) -> QWidget | None:
        """The tab of that title, built now if it was not yet."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                return self._build(i)
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
        from .trial_balance import TrialBalanceView

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
        self._sections.pop(TRIAL_BALANCE, None)
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
            self._build(index)
            self.settings.last_tab = self.tabs.tabText(index)

    # -- the company file's check -----------------------------------------------------------------------
    def check_company_file(self) -> None:
        """SQLite's check of the company file, put off until the window is up (``Store.integrity``)."""
        from ..company_file import Cancelled

        check = self.ctx.store.integrity
        if check is None or check.done or self._closed:
            return

        def job(_progress: object, cancel: threading.Event) -> object:
            try:
                return check.run(cancel)
            except Cancelled:   # the window is closing: whatever exchanges next checks the file itself
                return None

        worker = Worker(job, self)
        worker.finished.connect(self.on_company_file_checked)
        worker.start()

    def on_company_file_checked(self, error: object) -> None:
        if not isinstance(error, Exception):
            return
        log.error("the company file failed SQLite's check: %s", error)
        self.statusBar().showMessage("The company file is damaged: nothing is uploaded or fetched until it is "
                                     "restored.")
        self.damaged_box = QMessageBox(QMessageBox.Icon.Critical, "Company file damaged",
                                       f"{error}\n\nUntil then, KCC Desktop uploads nothing to the accounting "
                                       "package and fetches nothing from it.", QMessageBox.StandardButton.Ok,
                                       self)
        self.damaged_box.setObjectName("damaged_file_box")
        self.damaged_box.open()

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
        self.sync_status = SyncStatus(self, self.ctx.store)
        self.connection_label = self.sync_status.connection_label
        self.last_sync_label = self.sync_status.last_sync_label
        self.company_label = self.sync_status.company_label
        # Once the window is up (its first query configures the ORM's mappers): last sync, a failed run.
        after_first_paint(lambda: QTimer.singleShot(0, self.sync_status.refresh))

    def set_connection_status(self, text: str, ok: bool) -> None:
        """E.g. ("Xero: Demo Company (UK)", True) or ("Xero: reconnect needed", False)."""
        self.sync_status.set_connection_status(text, ok)

    def set_last_sync(self, when: datetime | None) -> None:
        self.sync_status.set_last_sync(when)

    # -- shortcuts' targets ---------------------------------------------------------------------------
    def refresh_current(self) -> None:
        """F5: the tab's own F5 (Import: Fetch Payments), else its refresh."""
        tab = self.current_tab()
        action = getattr(tab, "on_f5", None) or getattr(tab, "refresh", None)
        if callable(action):
            action()

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

    def new_window(self, ctx: AppContext) -> MainWindow:
        return MainWindow(ctx, settings=self.settings)

    def refresh_all(self) -> None:
        for i in range(self.tabs.count()):
            refresh = getattr(self.tabs.widget(i), "refresh", None)
            if callable(refresh):
                refresh()

    # -- help -------------------------------------------------------------------------------------------
    def show_about(self) -> QMessageBox:
        self.about_box = messages.about_box(self)
        self.about_box.open()
        return self.about_box

    # -- closing ------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, release_loads)

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
        self._closed = True   # the tabs not built yet stay so: nothing starts after closing
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
        running = running_under(self)
        if running:   # what the finished job started meanwhile (a grid's reload): wait for that too
            self._close_after(running)
        else:
            self.close()
