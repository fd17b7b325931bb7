"""The main window: status bar, menus, shortcuts, remembered layout, the exception hook, screenshots."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from sqlalchemy import select

from kcc_desktop import __version__
from kcc_desktop.context import AppContext
from kcc_desktop.ledger import service
from kcc_desktop.models import Company
from kcc_desktop.ui.documents_view import DocCol, DocumentsView
from kcc_desktop.ui.errors import ErrorReporter
from kcc_desktop.ui.main_window import MainWindow
from kcc_desktop.ui.trial_balance import TrialBalanceView
from tests.helpers.grids import wait_loaded

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def open_window(qtbot, store) -> MainWindow:
    window = MainWindow(AppContext(store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()   # window shortcuts (F5, Ctrl+F) need the active window
    qtbot.waitUntil(window.isActiveWindow)
    return window


def menu_titles(window):
    return [a.text().replace("&", "") for a in window.menuBar().actions() if a.isVisible()]


def test_opens_on_the_company_file_with_menus_and_status_bar(qtbot, company, tmp_db_path):
    store, _ = company
    window = open_window(qtbot, store)
    assert window.company_label.text() == f"File: {tmp_db_path.name}"
    assert str(tmp_db_path) in window.company_label.toolTip()          # the whole path, on hovering
    assert tmp_db_path.name in window.windowTitle()
    assert menu_titles(window) == ["File", "Actions", "Accounts", "View", "Help"]
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["Export", "Import", "Mapping",
                                                                             "Documents"]
    assert window.select_tab("Documents")
    documents = window.current_tab()
    assert isinstance(documents, DocumentsView)
    wait_loaded(qtbot, documents.model)
    assert documents.model.rowCount() == 5
    # The Actions menu holds the tab's own QAction object, not a copy.
    assert documents.open_action in window.actions_menu.actions()
    window.set_connection_status("Xero: Demo Company (UK)", True)
    window.set_last_sync(datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
    assert "Xero: Demo Company (UK)" in window.connection_label.full_text   # elided to fit, whole on hovering
    assert window.last_sync_label.full_text.startswith("Last sync: 01/03/2025")
    named = list(window.findChildren(QAction))  # every widget a user reaches has a name
    assert named and documents.grid.accessibleName() and documents.grid.filter_edit.accessibleName()


def test_only_the_tab_shown_is_built_before_the_first_paint_and_the_rest_follow(qtbot, company):
    """The window paints once the tab it shows is built; the others are built after its first paint (or at
    once when asked for), and the Actions menu lists every tab's actions in the tabs' order all the same."""
    from kcc_desktop.ui.export_tab import ExportTab
    from kcc_desktop.ui.import_tab import ImportTab
    from kcc_desktop.ui.mapping_tab import MappingTab
    from kcc_desktop.ui.settings import UiSettings

    store, _ = company
    settings = UiSettings()
    settings.last_tab = "Documents"
    window = MainWindow(AppContext(store), settings=settings)
    qtbot.addWidget(window)
    documents = window.current_tab()
    assert isinstance(documents, DocumentsView)
    assert not any(isinstance(window.tabs.widget(i), ExportTab | ImportTab | MappingTab) for i in range(3))
    mapping = window.tab("Mapping")          # asked for: built now, the tab shown stays
    assert isinstance(mapping, MappingTab) and window.tabs.widget(2) is mapping
    assert window.current_tab() is documents
    window.show()
    qtbot.waitUntil(lambda: isinstance(window.tabs.widget(0), ExportTab) and isinstance(window.tabs.widget(1),
                                                                                           ImportTab))
    assert window.current_tab() is documents and window.settings.last_tab == "Documents"
    sections = [a.text() for a in window.actions_menu.actions() if a.isSeparator() and a.text()]
    assert sections == ["Export", "Import", "Mapping", "Documents"]
    importer = window.tabs.widget(1)
    assert isinstance(importer, ImportTab) and importer.fetch_action in window.actions_menu.actions()
    window.select_tab("Import")
    assert window.current_tab() is importer


def test_f5_refreshes_and_ctrl_f_focuses_the_filter(qtbot, company):
    store, _ = company
    window = open_window(qtbot, store)
    window.select_tab("Documents")
    documents = window.current_tab()
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        service.create_document(s, "sales_invoice", acme, "SI-0004", date(2025, 4, 1),
                                [service.LineInput(quantity=Decimal(2), unit_price=Decimal("5.00"),
                                                   description="Carriage", nominal_id=None,
                                                   stock_item_id=1)])
    documents.grid.setFocus()
    qtbot.keyClick(documents.grid, Qt.Key.Key_F5)
    wait_loaded(qtbot, documents.model)
    assert documents.model.rowCount() == 6
    qtbot.keyClick(documents.grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is documents.grid.filter_edit
    qtbot.keyClicks(documents.grid.filter_edit, "SI-0004")
    qtbot.waitUntil(lambda: documents.grid.proxy.rowCount() == 1)
    # Ctrl+A in the grid selects every row; Delete changes nothing.
    documents.grid.setFocus()
    qtbot.keyClick(documents.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert documents.grid.selected_count() == 1
    qtbot.keyClick(documents.grid, Qt.Key.Key_Delete)
    window.refresh_action.trigger()
    wait_loaded(qtbot, documents.model)
    assert documents.model.unfiltered_count() == 6 and documents.model.rowCount() == 1   # still filtered


def test_a_layout_stored_by_another_layout_version_is_dropped_and_this_ones_kept():
    from kcc_desktop.ui.settings import LAYOUT_VERSION, UiSettings, settings_file

    first = UiSettings()
    first.last_tab = "Mapping"
    first.sync()
    assert UiSettings().last_tab == "Mapping"        # this version's layout: kept
    first._s.setValue("layout_version", LAYOUT_VERSION + 1)
    first.sync()
    assert UiSettings().last_tab == ""               # another version's: dropped, not misapplied
    assert f"layout_version={LAYOUT_VERSION}" in settings_file().read_text(encoding="utf-8")


def test_layout_and_last_tab_survive_a_restart_and_reset(qtbot, company):
    store, _ = company
    window = open_window(qtbot, store)
    window.select_tab("Documents")
    grid = window.current_tab().grid
    default_width = grid.columnWidth(DocCol.COMPANY)
    grid.setColumnWidth(DocCol.COMPANY, 333)
    grid.horizontalHeader().moveSection(DocCol.GROSS, 0)
    window.resize(780, 560)   # inside the offscreen screen (800x600), above the tabs' minimum
    window.trial_balance_action.trigger()
    window.close()
    # Everything was saved on closing: nothing of the closed window saves again later, over what the next
    # window saves (a column resize's save, due 300 ms after it, overwrote the Reset layout below).
    assert not grid._save_timer.isActive()

    again = open_window(qtbot, store)
    assert isinstance(again.current_tab(), TrialBalanceView)
    assert (again.width(), again.height()) == (780, 560)
    docs = again.tab("Documents").grid
    assert docs.columnWidth(DocCol.COMPANY) == 333
    assert docs.horizontalHeader().logicalIndex(0) == DocCol.GROSS

    again.reset_layout_action.trigger()   # View → Reset layout
    assert docs.columnWidth(DocCol.COMPANY) == default_width
    assert docs.horizontalHeader().logicalIndex(0) == DocCol.KIND
    again.close()
    third = open_window(qtbot, store)
    assert third.tab("Documents").grid.columnWidth(DocCol.COMPANY) == default_width


@pytest.mark.qt_no_exception_capture
def test_unexpected_error_is_logged_and_shown_with_what_to_do(qtbot, company):
    store, _ = company
    import logging

    from kcc_desktop.logging_setup import setup_logging

    log_path = setup_logging()   # as run_gui does at start
    window = open_window(qtbot, store)
    reporter = ErrorReporter(window).install()
    try:
        boom = QAction("Boom", window)
        boom.triggered.connect(lambda: 1 / 0)   # a bug in a slot, as a user would hit it
        boom.trigger()
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
        box = reporter.dialog
        assert "ZeroDivisionError" in box.text()
        assert "Open Log Folder" in box.informativeText() and "stays saved" in box.informativeText()
        assert [b.text() for b in box.buttons() if "Log" in b.text()] == ["Open Log Folder"]
        assert "ZeroDivisionError" in log_path.read_text(encoding="utf-8")
        box.button(QMessageBox.StandardButton.Close).click()
        qtbot.waitUntil(lambda: reporter.dialog is None)
    finally:
        reporter.uninstall()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "kcc_log", False)]:
            root.removeHandler(handler)
            handler.close()


def test_our_own_icons_load():
    from kcc_desktop.ui import icons

    for name in ("kcc", "upload", "mark-exported", "connect", "refresh", "journal-by-hand", "export-csv"):
        assert not icons.icon(name).isNull(), name
    assert icons.icon("no-such-icon").isNull()


def test_about_lists_the_versions(qtbot, company):
    store, _ = company
    window = open_window(qtbot, store)
    window.about_action.trigger()
    box = window.about_box
    qtbot.waitExposed(box)
    text = box.informativeText()
    assert __version__ in text and "Qt 6." in text and "xero-python" in text and "python-quickbooks" in text
    box.close()


def test_render_main_window_and_trial_balance_at_1280x800(qtbot, company):
    store, _ = company
    window = open_window(qtbot, store)
    window.resize(1280, 800)
    ARTIFACTS.mkdir(exist_ok=True)
    image = window.grab()
    assert (image.width(), image.height()) == (1280, 800)
    assert image.save(str(ARTIFACTS / "main-window-documents.png"))
    view = window.show_trial_balance()
    if view.model.rowCount() == 0:
        qtbot.waitSignal(view.loaded, timeout=10_000).wait()
    assert window.grab().save(str(ARTIFACTS / "trial-balance.png"))


def test_smoke_test_command_exits_zero():
    result = subprocess.run([sys.executable, "-m", "kcc_desktop", "--smoke-test"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "smoke test ok" in result.stdout and "Documents" in result.stdout


def test_file_import_documents_good_file_then_bad_file(qtbot, company, tmp_path, monkeypatch):
    store, _ = company
    window = open_window(qtbot, store)
    documents = window.tab("Documents")
    good = tmp_path / "orders.csv"
    good.write_text("type,number,date,company_code,stock_code,quantity,unit_price,tax_code\n"
                    "sales_invoice,SI-0100,2025-04-02,ACME,W-100,2,25.00,T1\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("type,number,date,company_code,stock_code,quantity,unit_price,tax_code\n"
                   "sales_invoice,SI-0101,2025-04-02,ACME,W-100,2,25.00,T1\n"
                   "sales_invoice,SI-0102,not a date,ACME,W-100,1,25.00,T1\n", encoding="utf-8")
    chosen = iter([str(good), str(bad)])
    monkeypatch.setattr("kcc_desktop.ui.file_menu.QFileDialog.getOpenFileName",
                        lambda *a, **k: (next(chosen), "CSV files (*.csv)"))
    import_action = window.import_documents_action
    assert import_action in window.file_menu.actions()
    import_action.trigger()   # File → Import Documents…
    qtbot.waitUntil(lambda: getattr(window, "last_message", None) is not None and window.last_message.isVisible())
    assert "Imported 1 documents" in window.last_message.text()
    wait_loaded(qtbot, documents.model)
    assert "SI-0100" in [documents.model.row_data(i).number for i in documents.model.ids()]
    window.last_message.close()
    window.last_message = None

    import_action.trigger()
    qtbot.waitUntil(lambda: window.last_message is not None and window.last_message.isVisible())
    box = window.last_message
    assert "Nothing was imported from bad.csv" in box.text() and "Row 3" in box.informativeText()
    wait_loaded(qtbot, documents.model)
    assert documents.model.rowCount() == 6   # SI-0101 was good, yet nothing of a bad file is written
    box.close()


def test_a_tab_with_its_own_f5_still_refreshes_through_the_window(qtbot, company):
    """Tabs are composed from (title, factory); a tab binding F5 itself must not make F5 ambiguous."""
    store, _ = company
    refreshed = []

    class PlainTab(DocumentsView):
        def __init__(self, ctx, parent=None):
            super().__init__(ctx, parent)
            own = QAction("Refresh", self)
            own.setShortcut("F5")
            own.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(own)

        def refresh(self):
            refreshed.append(True)
            super().refresh()

    window = MainWindow(AppContext(store), tabs=[("Documents", DocumentsView), ("Plain", PlainTab)])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow)
    window.select_tab("Plain")
    refreshed.clear()
    tab = window.current_tab()
    tab.grid.setFocus()
    qtbot.keyClick(tab.grid, Qt.Key.Key_F5)
    assert refreshed == [True]
    assert [a.text() for a in window.actions_menu.actions() if a.isSeparator() and a.text()] == ["Documents", "Plain"]


def test_help_open_log_folder_and_the_log_file_never_holds_a_token(qtbot, company, monkeypatch):
    import logging

    from kcc_desktop import paths
    from kcc_desktop.logging_setup import setup_logging

    store, _ = company
    window = open_window(qtbot, store)
    opened = []
    monkeypatch.setattr("kcc_desktop.ui.errors.QDesktopServices.openUrl", lambda url: opened.append(url) or True)
    window.open_log_action.trigger()
    assert [u.toLocalFile() for u in opened] == [str(paths.log_dir())]

    log_path = setup_logging()
    try:
        secret = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX3NpZ25hdHVyZQ"
        refresh = "f3a9c1d2e4b5a6978877665544332211aabbccddeeff0011"
        logging.getLogger("kcc_desktop.test").warning("token refresh: access_token=%s refresh_token=%s", secret,
                                                      refresh)
        logging.getLogger("kcc_desktop.test").warning("Authorization: Bearer %s for invoice SI-0001", secret)
        text = log_path.read_text(encoding="utf-8")
        assert "SI-0001" in text and "[redacted" in text
        assert secret not in text and refresh not in text and secret[:20] not in text
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "kcc_log", False)]:
            root.removeHandler(handler)
            handler.close()


def test_splitter_sizes_survive_a_restart_and_reset(qtbot, company):
    from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

    from kcc_desktop.ui.settings import remember_splitter

    class SplitTab(QWidget):
        def __init__(self, ctx, parent=None):
            super().__init__(parent)
            self.splitter = QSplitter(Qt.Orientation.Vertical)
            self.splitter.addWidget(QLabel("top"))
            self.splitter.addWidget(QLabel("bottom"))
            self.splitter.setSizes([300, 300])
            QVBoxLayout(self).addWidget(self.splitter)
            remember_splitter(self.splitter, "split_test")

    store, _ = company
    window = MainWindow(AppContext(store), tabs=[("Split", SplitTab)])
    qtbot.addWidget(window)
    window.resize(700, 500)
    window.show()
    qtbot.waitExposed(window)
    tab = window.current_tab()
    default = tab.splitter.sizes()
    tab.splitter.moveSplitter(100, 1)   # what dragging the handle does
    moved = tab.splitter.sizes()
    assert moved != default
    window.close()
    again = MainWindow(AppContext(store), tabs=[("Split", SplitTab)])
    qtbot.addWidget(again)
    again.resize(700, 500)
    again.show()
    qtbot.waitExposed(again)
    assert again.current_tab().splitter.sizes() == moved
    again.reset_layout_action.trigger()
    assert again.current_tab().splitter.sizes() != moved


def _close_opened(opened):
    if opened.get("window") is not None:
        opened["window"].close()
    if opened.get("demo") is not None:
        opened["demo"].stop()


def test_command_line_opens_the_window_on_the_db_file(qtbot, company, tmp_db_path):
    """What run_gui does before its event loop (app.exec() is not run inside the test session)."""
    from kcc_desktop.app import _show_window, open_context
    from kcc_desktop.cli import build_parser

    args = build_parser().parse_args(["--db", str(tmp_db_path)])
    opened = {}
    reporter = ErrorReporter()
    ctx = open_context(args)
    try:
        window = _show_window(ctx, reporter, opened)
        qtbot.waitExposed(window)
        assert reporter.parent_widget is window and not ctx.demo
        assert window.company_label.toolTip() == f"Company file: {tmp_db_path}"
        wait_loaded(qtbot, window.tab("Documents").model)
        assert window.tab("Documents").model.rowCount() == 5
        assert window.findChild(QLabel, "demo_banner") is None
    finally:
        _close_opened(opened)
        ctx.store.close()


def test_demo_flag_opens_the_demo_books_connected_to_the_sandbox(qtbot, tmp_path, monkeypatch):
    from kcc_desktop.app import _start_demo

    monkeypatch.setenv("KCC_DATA_DIR", str(tmp_path / "data"))
    opened = {}
    _start_demo(ErrorReporter(), opened)   # what `kcc-desktop --demo` runs, in a worker, before the window
    try:
        qtbot.waitUntil(lambda: bool("window" in opened or opened.get("failed")), timeout=60_000)
        assert not opened.get("failed")
        window = opened["window"]
        assert window.findChild(QLabel, "demo_banner") is not None
        assert "Sandbox" in menu_titles(window)
        qtbot.waitUntil(lambda: window.connection_label.full_text.endswith(" — connected"))
        assert window.connection_label.full_text.startswith("● Xero sandbox")
        wait_loaded(qtbot, window.tab("Documents").model)
        assert window.tab("Documents").model.rowCount() > 0
        assert str(tmp_path / "data" / "demo") in window.company_label.toolTip()
    finally:
        _close_opened(opened)


def test_file_new_makes_a_company_file_with_the_standard_chart_and_opens_it(qtbot, company, tmp_path, monkeypatch):
    """File → New is, with demo, the only way a company file is made at a chosen path."""
    from kcc_desktop.models import NominalCode

    store, _ = company
    window = open_window(qtbot, store)
    path = tmp_path / "books" / "new company.sqlite"
    path.parent.mkdir()
    monkeypatch.setattr("kcc_desktop.ui.file_menu.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(path), "Company files (*.sqlite)"))
    assert window.new_company_action in window.file_menu.actions()

    window.new_company_action.trigger()

    def opened():
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible() and w is not window]
    qtbot.waitUntil(lambda: len(opened()) == 1)
    [new] = opened()
    try:
        assert path.exists()
        assert new.company_label.toolTip() == f"Company file: {path}"   # the label shows the name, the tip the path
        with new.ctx.store.session() as s:
            assert s.scalar(select(NominalCode).where(NominalCode.code == "4000")) is not None
        assert new.tab("Documents").model.rowCount() == 0
    finally:
        new.close()
        qtbot.waitUntil(lambda: not new.isVisible())
        new.ctx.store.close()
