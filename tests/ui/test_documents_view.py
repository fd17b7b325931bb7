"""The Documents tab as a user drives it: filter, typed sort, open the read-only document view."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QDialogButtonBox
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.ledger import service
from kcc_desktop.models import Document
from kcc_desktop.ui.document_dialog import DocumentDialog
from kcc_desktop.ui.documents_view import DocCol, DocumentsView
from tests.helpers.grids import wait_loaded


def column_texts(view, column):
    proxy = view.grid.proxy
    return [proxy.data(proxy.index(r, column)) for r in range(proxy.rowCount())]


def make_view(qtbot, store):
    view = DocumentsView(AppContext(store))
    qtbot.addWidget(view)
    view.resize(1100, 500)
    view.show()
    qtbot.waitExposed(view)
    wait_loaded(qtbot, view.model)
    return view


def click_header(qtbot, view, column):
    header = view.grid.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    wait_loaded(qtbot, view.model)   # sorted on a worker thread


def test_lists_every_document_with_outstanding_from_the_journal(qtbot, company):
    store, info = company
    view = make_view(qtbot, store)
    assert sorted(column_texts(view, DocCol.NUMBER)) == sorted(info["ids"])
    with store.session() as s:
        expected = {d.number: f"{service.outstanding(s, d.id):,.2f}" for d in s.scalars(select(Document))}
    shown = dict(zip(column_texts(view, DocCol.NUMBER), column_texts(view, DocCol.OUTSTANDING), strict=True))
    assert shown == expected
    assert shown["SC-0001"] == "-30.00" and shown["SI-0003"] == "1,200.00"


def test_filter_typed_into_the_box(qtbot, company):
    store, _ = company
    view = make_view(qtbot, store)
    view.grid.focus_filter()   # Ctrl+F is the main window's (tested there)
    qtbot.keyClicks(view.grid.filter_edit, "acme")
    qtbot.waitUntil(lambda: view.grid.proxy.filter_text == "acme")
    wait_loaded(qtbot, view.model)
    assert sorted(column_texts(view, DocCol.NUMBER)) == ["SC-0001", "SI-0001", "SI-0003"]
    view.grid.filter_edit.clear()
    qtbot.keyClicks(view.grid.filter_edit, "credit acme")   # the type label and the company, both must match
    qtbot.waitUntil(lambda: view.grid.proxy.filter_text == "credit acme")
    wait_loaded(qtbot, view.model)
    assert column_texts(view, DocCol.NUMBER) == ["SC-0001"]
    view.grid.filter_edit.clear()
    qtbot.keyClicks(view.grid.filter_edit, "1200")          # an amount as a user types it
    qtbot.waitUntil(lambda: view.grid.proxy.filter_text == "1200")
    wait_loaded(qtbot, view.model)
    assert sorted(column_texts(view, DocCol.NUMBER)) == ["PI-0001", "SI-0003"]
    assert "of 5 rows" in view.panel.count_label.text()


def test_header_click_sorts_amounts_numerically(qtbot, company):
    store, _ = company
    view = make_view(qtbot, store)
    click_header(qtbot, view, DocCol.GROSS)
    gross = column_texts(view, DocCol.GROSS)
    # As text "1,200.00" < "11.99" < "120.00" < "30.00"; as money it is the other way round.
    assert gross == ["11.99", "30.00", "120.00", "1,200.00", "1,200.00"]
    click_header(qtbot, view, DocCol.GROSS)
    assert column_texts(view, DocCol.GROSS)[0] == "1,200.00"
    click_header(qtbot, view, DocCol.OUTSTANDING)
    assert column_texts(view, DocCol.OUTSTANDING)[0] == "-30.00"
    click_header(qtbot, view, DocCol.DATE)
    assert column_texts(view, DocCol.DATE) == sorted(column_texts(view, DocCol.DATE))


def test_enter_opens_the_read_only_document_view_with_lines_totals_and_allocations(qtbot, company):
    store, info = company
    with store.transaction() as s:
        service.allocate_credit_note(s, s.get(Document, info["ids"]["SC-0001"]),
                                     s.get(Document, info["ids"]["SI-0001"]), Decimal("30.00"))
    view = make_view(qtbot, store)
    row = column_texts(view, DocCol.NUMBER).index("SI-0001")
    rect = view.grid.visualRect(view.grid.proxy.index(row, DocCol.COMPANY))
    qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.grid.selected_ids() == [info["ids"]["SI-0001"]] and view.open_action.isEnabled()
    qtbot.keyClick(view.grid, Qt.Key.Key_Return)
    dialog = view.last_dialog
    assert isinstance(dialog, DocumentDialog)
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Sales Invoice SI-0001 (read-only)"
    assert dialog.total_labels["Gross"].text() == "120.00"
    assert dialog.total_labels["Outstanding"].text() == "90.00"
    lines = dialog.lines_table
    assert lines.rowCount() == 1 and lines.item(0, 1).text() == "W-100" and lines.item(0, 8).text() == "100.00"
    assert lines.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    alloc = dialog.allocations_table
    assert alloc.rowCount() == 1
    assert alloc.item(0, 1).text() == "Credit note SC-0001" and alloc.item(0, 3).text() == "30.00"
    assert not [b for b in dialog.findChildren(QDialogButtonBox)[0].buttons()
                if b.text().replace("&", "") in ("Save", "OK", "Delete")]
    dialog.findChildren(QDialogButtonBox)[0].button(QDialogButtonBox.StandardButton.Close).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_loaded(qtbot, view.model)
    # The outstanding column followed the allocation too.
    assert dict(zip(column_texts(view, DocCol.NUMBER), column_texts(view, DocCol.OUTSTANDING),
                    strict=True))["SI-0001"] == "90.00"


def test_context_menu_open_is_the_same_action_and_disabled_for_many(qtbot, company):
    store, _ = company
    view = make_view(qtbot, store)
    view.grid.selectAll()
    menu = view.grid.build_context_menu()
    assert view.open_action in menu.actions() and not view.open_action.isEnabled()
    qtbot.keyClick(view.grid, Qt.Key.Key_Home)   # keyboard: back to one row
    assert view.grid.selected_count() == 1 and view.open_action.isEnabled()
    # Right-click: the view asks for its menu at the pointer (what a QContextMenuEvent does).
    view.grid.customContextMenuRequested.emit(view.grid.visualRect(view.grid.currentIndex()).center())
    menu = view.grid._menu
    qtbot.waitUntil(menu.isVisible)
    opened = next(a for a in menu.actions() if a.text() == "&Open Document")
    assert opened is view.open_action and opened.isEnabled()
    menu.close()
    opened.trigger()
    qtbot.waitExposed(view.last_dialog)
    assert view.last_dialog.snapshot.number == view.model.row_data(view.grid.selected_ids()[0]).number
    view.last_dialog.reject()


def test_documents_model_passes_the_qt_model_tester(qtbot, qtmodeltester, company):
    store, _ = company
    view = make_view(qtbot, store)
    qtmodeltester.check(view.model, force_py=True)
    view.grid.sortByColumn(DocCol.OUTSTANDING, Qt.SortOrder.DescendingOrder)
    wait_loaded(qtbot, view.model)
    qtmodeltester.check(view.model, force_py=True)
