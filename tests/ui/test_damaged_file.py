"""A company file damaged where opening does not look: the window opens it without SQLite's whole-file check
(its first paint does not wait for it), runs that check once it is up, says in words that the file is
damaged, and refuses to upload anything from it; nothing reaches the accounting package."""

from __future__ import annotations

from kcc_desktop.context import AppContext
from kcc_desktop.ledger.chart import seed_standard_chart
from kcc_desktop.store import open_store
from kcc_desktop.ui.export_tab import ExportTab
from kcc_desktop.ui.main_window import MainWindow
from tests.helpers.books import connected_bulk_books
from tests.helpers.grids import wait_tab
from tests.test_company_file import damage_a_page_nothing_reads_to_open

from .test_export_tab import remote_numbers, select_refs


def test_a_damaged_file_opens_then_is_named_damaged_and_nothing_is_uploaded(tmp_path, xero_sync_sandbox, qtbot):
    path = tmp_path / "company.sqlite"
    store = open_store(path)
    with store.transaction() as s:
        seed_standard_chart(s)
    connected_bulk_books(store, invoices=1)   # signed in to the sandbox, mapped, BULK-0000 pending
    store.close()
    damage_a_page_nothing_reads_to_open(path)

    ctx = AppContext.open(str(path))   # as the window opens a file: the whole-file check is put off
    try:
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: getattr(window, "damaged_box", None) is not None and window.damaged_box.isVisible())
        said = window.damaged_box.text()
        assert "is damaged" in said and str(path) in said and "uploads nothing" in said
        assert "damaged" in window.statusBar().currentMessage()
        window.damaged_box.accept()

        export = window.typed_tab("Export", ExportTab)
        assert export is not None
        wait_tab(qtbot, export)
        select_refs(export.pending_grid, "BULK-0000")
        assert export.upload_action.isEnabled()
        with qtbot.waitSignal(export.jobs.ended, timeout=20_000):
            export.upload_action.trigger()
        assert "is damaged" in export.status_label.text() and str(path) in export.status_label.text()
        assert remote_numbers(xero_sync_sandbox, ctx.store) == []
        window.close()
    finally:
        ctx.store.close()
