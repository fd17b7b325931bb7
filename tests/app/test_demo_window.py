"""Demo mode from the window, as a new user would try it: Upload Data, record payments in the sandbox
through the Sandbox menu, Fetch Payments, Create & Allocate. Each tab is also rendered at 1280×800."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from kcc_desktop.connectors.base import DocKind
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.ledger.service import outstanding
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.models import Document, ImportedPayment, RemoteLink
from kcc_desktop.sync.queue import install_queue_listeners

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    from kcc_desktop.demo.mode import open_demo

    monkeypatch.setenv("KCC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KCC_SETTINGS_DIR", str(tmp_path / "settings"))
    install_queue_listeners()
    reset_pacers()
    session = open_demo(documents=40)
    yield session
    session.stop()
    session.ctx.store.close()
    reset_pacers()


@pytest.fixture
def window(demo, qtbot):
    from kcc_desktop.ui.main_window import MainWindow
    from kcc_desktop.ui.sandbox_menu import SandboxMenu

    win = MainWindow(demo.ctx)
    qtbot.addWidget(win)
    win.sandbox_menu = SandboxMenu(win, demo)
    win.add_menu(win.sandbox_menu)
    win.resize(1280, 800)
    win.show()
    yield win
    for title in ("Export", "Import"):
        tab = win.tab(title)
        if tab.busy:   # a job still running stops after its batch in flight before the books close
            tab.cancel_action.trigger()
            qtbot.waitUntil(lambda tab=tab: not tab.busy, timeout=30_000)


def plain(label: str) -> str:
    """A menu label as shown: "&&" is a literal ampersand, a single "&" marks the shortcut letter."""
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&")


def context_action(grid, text):
    """Right-click the grid as a user would and return the named action from the menu shown."""
    grid.customContextMenuRequested.emit(QPoint(20, 20))
    menu = grid._menu
    assert menu is not None and menu.isVisible()
    action = next(a for a in menu.actions() if plain(a.text()) == text)
    menu.close()
    return action


def test_demo_round_trip_from_the_window(window, demo, qtbot):
    banner = window.findChild(object, "demo_banner")
    assert banner is not None and "sandbox" in banner.text()
    assert "sandbox" in window.connection_label.text().lower()

    # 1. Export tab: select the pending rows, right-click, Upload Data.
    export = window.tab("Export")
    window.select_tab("Export")
    grid = export.pending_grid
    grid.setFocus()
    grid.selectAll()
    upload = context_action(grid, "Upload Data")
    assert upload is export.upload_action and upload.isEnabled()
    with qtbot.waitSignal(export.upload_finished, timeout=60_000) as done:
        upload.trigger()
    summary = done.args[0]
    assert summary.exported > 0
    assert export.exported_model.rowCount() >= summary.exported

    # 2. The Sandbox menu records payments in the package, as a bookkeeper would.
    menu = window.sandbox_menu
    for kind in ("full", "part", "across"):
        action = menu.payment_actions[kind]
        assert action.isEnabled()
        action.trigger()
        qtbot.waitUntil(lambda: menu.worker is None, timeout=30_000)
        assert "Recorded" in window.statusBar().currentMessage()

    # 3. Import tab: Fetch Payments, select, right-click, Create & Allocate Payments.
    importer = window.tab("Import")
    window.select_tab("Import")
    qtbot.waitUntil(importer.fetch_action.isEnabled, timeout=30_000)   # the fetch on first showing
    with qtbot.waitSignal(importer.fetch_finished, timeout=120_000):   # may wait out Xero's 60 calls a minute
        importer.fetch_action.trigger()
    assert importer.grid.proxy.rowCount() >= 4          # full, part, and one row per invoice of "across"
    importer.grid.setFocus()
    importer.grid.selectAll()
    create = context_action(importer.grid, "Create & Allocate Payments")
    assert create is importer.create_allocate_action and create.isEnabled()
    with qtbot.waitSignal(importer.create_finished, timeout=30_000):
        create.trigger()

    store = demo.ctx.store
    with store.session() as s:
        rows = s.query(ImportedPayment).all()
        assert rows and all(r.status.startswith("Payment created and allocated") for r in rows), \
            [r.status for r in rows]
        # Ledger and package agree on what is still owed for every invoice the bookkeeper paid.
        package = demo.ctx.package()
        for row in rows:
            for number in row.invoices.split(", "):
                doc = s.query(Document).filter_by(number=number, kind="sales_invoice").one()
                remote = package.find_document(DocKind.SALES_INVOICE, number)
                assert outstanding(s, doc.id) == remote.amount_due
        tb = trial_balance(s)
        assert tb.total_debit == tb.total_credit
        assert s.query(RemoteLink).count() > 0

    # What a user sees: each tab of the demo at 1280×800.
    ARTIFACTS.mkdir(exist_ok=True)
    window.show_trial_balance()
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()   # let the tab lay itself out before the grab
        name = window.tabs.tabText(index).lower().replace(" ", "_")
        assert window.grab().save(str(ARTIFACTS / f"demo_{name}.png"))


def test_sandbox_menu_switches_the_demo_to_quickbooks(window, demo, qtbot):
    menu = window.sandbox_menu
    assert menu.switch_action.text() == "Switch the Demo to the QuickBooks Online Sandbox"
    menu.switch_action.trigger()
    qtbot.waitUntil(lambda: menu.worker is None, timeout=30_000)
    assert menu.last_error == ""
    assert demo.provider == "quickbooks"
    assert "QuickBooks Online sandbox — connected" in window.connection_label.text()
    assert menu.switch_action.text() == "Switch the Demo to the Xero Sandbox"
    # The same books, now connected to the QuickBooks sandbox: uploading reaches it.
    from kcc_desktop.sync.export import ExportService

    store = demo.ctx.store
    service = ExportService(store)
    with store.session() as s:
        from kcc_desktop.models import ExportItem

        companies = [i.id for i in s.query(ExportItem).filter_by(item_type="company", status="pending")][:3]
    summary = service.upload(companies, demo.ctx.package())
    assert summary.exported == len(companies) > 0
