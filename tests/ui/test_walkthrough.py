"""The smaller defects of the walk-through (issue 17), each driven through the window as a person would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import Company, Document, ExportItem, ExportStatus, ItemType
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.ui.documents_view import DocCol, DocumentsView
from kcc_desktop.ui.mapping_tab import MappingTab
from tests.helpers.grids import wait_loaded
from tests.helpers.window import open_window


def documents_tab_on(qtbot, store, number: str) -> DocumentsView:
    """The window on the Documents tab, the document ``number`` clicked (selected, current)."""
    window = open_window(qtbot, store, size=(1280, 800))
    window.select_tab("Documents")
    documents = window.typed_tab("Documents", DocumentsView)
    assert documents is not None
    wait_loaded(qtbot, documents.model)
    proxy = documents.grid.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.data(proxy.index(r, DocCol.NUMBER)) == number)
    index = proxy.index(row, DocCol.NUMBER)
    documents.grid.scrollTo(index)
    qtbot.mouseClick(documents.grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=documents.grid.visualRect(index).center())
    qtbot.waitUntil(lambda: documents.grid.selected_count() == 1
                    and documents.payment_action.company_id is not None)
    return documents


def test_status_bar_messages_are_not_cut_off_by_the_labels(qtbot, company):
    store, _ = company
    window = open_window(qtbot, store, size=(1280, 800))
    window.set_connection_status("Xero: Demo Company (UK) with an organisation name far too long for a status "
                                 "bar — connected", True)
    message = "Layout reset to the defaults. Upload Data: 6 of 6 selected exported."
    window.statusBar().showMessage(message)
    qtbot.waitUntil(lambda: window.connection_label.width() > 0)
    labels = [window.connection_label, window.last_sync_label, window.company_label]
    room = window.statusBar().width() - sum(label.width() for label in labels if label.isVisible())
    assert room > QFontMetrics(window.statusBar().font()).horizontalAdvance(message) + 40
    # What does not fit in a label is elided there, and whole in its tooltip.
    assert window.connection_label.text().endswith("…")
    assert window.connection_label.toolTip().endswith("— connected")


def test_a_usual_connection_is_shown_whole_beside_a_long_message(qtbot, company):
    """The demo's connection, and an organisation name of that length, read in full at 1280x800."""
    store, _ = company
    window = open_window(qtbot, store, size=(1280, 800))
    window.set_connection_status("Xero sandbox: Demo Company (UK) — connected", True)
    message = "Recorded a part payment of 118.96 for INV100016. Fetch Payments on the Import tab to bring it in."
    window.statusBar().showMessage(message)
    # once the status bar has laid its labels out again (the next turn of the event loop)
    qtbot.waitUntil(lambda: window.connection_label.text() == window.connection_label.full_text)
    assert window.connection_label.text().endswith("Demo Company (UK) — connected")
    labels = [window.connection_label, window.last_sync_label, window.company_label]
    room = window.statusBar().width() - sum(label.width() for label in labels if label.isVisible())
    assert room > QFontMetrics(window.statusBar().font()).horizontalAdvance(message)


def test_record_payment_allocates_a_prepayment_to_the_selected_invoice_and_queues_it(qtbot, company):
    store, _ = company
    OptionsService(store).update(enabled=True)
    documents = documents_tab_on(qtbot, store, "SI-0002")
    assert documents.payment_action.isEnabled()            # Bloggs is a non-account customer
    documents.payment_action.trigger()
    dialog = documents.payment_action.dialog
    assert dialog is not None and dialog.kind_label.text() == "Prepayment (non-account customer)"
    assert dialog.invoice_combo.isVisible() and dialog.invoice_combo.currentText().startswith("SI-0002")
    dialog.amount_edit.setText("20.00")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert "allocated to SI-0002" in documents.status_label.text()
    assert "queued for export" in documents.status_label.text()
    with store.session() as s:
        queued = s.scalars(select(ExportItem).where(ExportItem.item_type == ItemType.PREPAYMENT_ALLOCATION,
                                                    ExportItem.status == ExportStatus.PENDING)).all()
    assert len(queued) == 1


def test_supplier_payments_cannot_be_entered_with_the_integration_on(qtbot, company):
    store, _ = company
    OptionsService(store).update(enabled=True)
    with store.session() as s:
        supplier_doc = s.scalar(select(Document.number).join(Company).where(Company.kind == "supplier"))
    documents = documents_tab_on(qtbot, store, supplier_doc)
    assert not documents.payment_action.isEnabled()
    assert "supplier" in documents.payment_action.toolTip().lower()


def test_documents_and_mapping_grids_export_to_csv(qtbot, company, tmp_path):
    store, _ = company
    window = open_window(qtbot, store, size=(1280, 800))
    documents = window.typed_tab("Documents", DocumentsView)
    mapping = window.typed_tab("Mapping", MappingTab)
    assert documents is not None and mapping is not None
    window.select_tab("Documents")
    wait_loaded(qtbot, documents.model)
    assert documents.export_csv_action in window.actions_menu.actions()
    path = documents.on_export_csv_triggered(str(tmp_path / "documents.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Type,Number,Company,Date") and len(lines) == 1 + documents.model.rowCount()
    window.select_tab("Mapping")
    path = mapping.on_export_csv_triggered(str(tmp_path / "nominals.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Code,Name,Kind,Mapped account") and any(line.startswith("4000,") for line in lines)
    assert "Saved" in mapping.messages.toPlainText()


def test_default_nominal_choices_say_which_nominal_is_used(qtbot, store):
    tab = MappingTab(AppContext(store))
    qtbot.addWidget(tab)
    combo = tab.options_panel.pickers["default_sales_nominal"]
    assert combo.itemText(0) == "4000 (first sales nominal)"
    assert "(first of its kind)" not in [combo.itemText(i) for i in range(combo.count())]
