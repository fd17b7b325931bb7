"""Switching the demo from Xero to QuickBooks, as a user does it from the Sandbox menu: the Mapping tab
follows the connection, and the Export tab shows QuickBooks' own state (what went to Xero is still pending
for QuickBooks; Xero's ticks are untouched)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

from kcc_desktop.models import ExportItem, ExportStatus
from kcc_desktop.ui.errors import ErrorReporter
from kcc_desktop.ui.export_tab import ExportTab
from kcc_desktop.ui.mapping_tab import MappingTab
from kcc_desktop.ui.sandbox_menu import SandboxMenu
from tests.helpers.grids import wait_tab


def counts(store, provider: str) -> dict[str, int]:
    with store.session() as s:
        return dict(s.execute(select(ExportItem.status, func.count()).where(ExportItem.provider == provider)
                              .group_by(ExportItem.status)).tuples().all())


def test_switching_the_demo_to_quickbooks_moves_mapping_and_export_state(qtbot, tmp_path, monkeypatch):
    from kcc_desktop.app import _start_demo
    from tests.ui.test_main_window import _close_opened

    monkeypatch.setenv("KCC_DATA_DIR", str(tmp_path / "data"))
    opened: dict = {}
    _start_demo(ErrorReporter(), opened)
    try:
        qtbot.waitUntil(lambda: bool("window" in opened or opened.get("failed")), timeout=120_000)
        assert not opened.get("failed")
        window = opened["window"]
        store = window.ctx.store
        export = window.typed_tab("Export", ExportTab)
        mapping = window.typed_tab("Mapping", MappingTab)
        assert export is not None and mapping is not None
        window.select_tab("Export")
        wait_tab(qtbot, export, timeout=60_000)
        everything = export.pending_model.unfiltered_count()

        # Before any invoice is in the sandbox, the bookkeeper has nothing to pay: said plainly, as information.
        menu = next(iter(window.findChildren(SandboxMenu)))
        menu.payment_actions["full"].trigger()
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, "sandbox_error") is not None, timeout=60_000)
        box = window.findChild(QMessageBox, "sandbox_error")
        assert box.icon() == QMessageBox.Icon.Information
        assert box.text().startswith("No uploaded invoice is waiting for payment in the sandbox")
        assert "log file" not in box.text() and "went wrong" not in box.text()
        box.close()
        qtbot.waitUntil(lambda: menu.worker is None)

        # Six rows selected and uploaded to Xero: the summary speaks of those six.
        grid = export.pending_grid
        for row in range(6):
            grid.selectionModel().select(grid.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                                         | QItemSelectionModel.SelectionFlag.Rows)
        with qtbot.waitSignal(export.upload_finished, timeout=120_000) as uploaded:
            export.upload_action.trigger()
        assert " of 6 selected exported" in uploaded.args[0].text
        wait_tab(qtbot, export)
        xero = counts(store, "xero")
        assert xero.get(ExportStatus.EXPORTED, 0) >= 6
        assert export.exported_model.unfiltered_count() == xero[ExportStatus.EXPORTED]

        assert menu.switch_action.text() == "Switch the Demo to the QuickBooks Online Sandbox"
        with qtbot.waitSignal(window.connection_changed, timeout=180_000):
            menu.switch_action.trigger()
        qtbot.waitUntil(lambda: menu.worker is None, timeout=30_000)
        assert window.connection_label.full_text.startswith("● QuickBooks")

        # The Mapping tab shows and edits QuickBooks' mappings now.
        assert mapping.service.provider == "quickbooks"
        assert mapping.package_combo.currentData() == "quickbooks"
        assert "Now showing the QuickBooks" in mapping.messages.toPlainText()

        # The Export tab: nothing has gone to QuickBooks yet, so everything is pending there.
        wait_tab(qtbot, export, timeout=60_000)
        assert export.pending_model.unfiltered_count() == everything
        assert export.exported_model.unfiltered_count() == 0
        assert counts(store, "xero") == xero                       # Xero's rows and ticks are untouched
    finally:
        _close_opened(opened)
