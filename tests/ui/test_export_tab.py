"""The Export tab end to end against the Xero sandbox: select, right-click, Upload Data, see the result; the
three grids stacked in one view; Error Feedback counted, resolved and labelled; the selection kept."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QTimer, QUrl, Slot
from PySide6.QtWidgets import QLabel, QPushButton
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.ledger import service
from kcc_desktop.models import Company, ExportItem, NominalCode, TaxCode, utcnow
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import install_queue_listeners
from kcc_desktop.views.export import ExportedCol, PendingCol
from tests.helpers.books import connected_bulk_books
from tests.helpers.connect import connect_store, open_package
from tests.helpers.grids import references, wait_loaded, wait_tab
from tests.helpers.ledger import build_ledger

from .conftest import idle_after

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def make_tab(store, qtbot):
    from kcc_desktop.ui.export_tab import ExportTab

    widget = ExportTab(AppContext(store))
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    wait_tab(qtbot, widget)
    return widget


@pytest.fixture
def tab(store, xero_sync_sandbox, qtbot):
    install_queue_listeners()
    connect_store(store)
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=3)
    widget = make_tab(store, qtbot)
    yield widget
    idle_after(qtbot, widget)


def right_click(grid, qtbot, text):
    """Open the grid's context menu as a user would and trigger the named action."""
    rect = grid.visualRect(grid.proxy.index(grid.selected_proxy_rows()[0], 1)) if grid.selected_proxy_rows() else None
    pos = rect.center() if rect is not None else grid.viewport().rect().center()
    grid.customContextMenuRequested.emit(pos)
    menu = grid._menu
    assert menu is not None and menu.isVisible()
    action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
    assert action.isEnabled(), f"{text} is disabled"
    menu.close()
    action.trigger()


def from_button(button, text):
    """Trigger the named entry of a toolbar button's drop-down menu, as a click on it would."""
    action = next(a for a in button.menu().actions() if a.text().replace("&", "") == text)
    assert action.isEnabled(), f"{text} is disabled"
    action.trigger()


def select_refs(grid, *refs):
    model = grid.source_model
    wanted = [i for i in model.ids() if model.row_data(i).reference in refs]
    grid.select_ids(wanted)
    return wanted


def upload(tab, qtbot, *refs):
    select_refs(tab.pending_grid, *refs)
    with qtbot.waitSignal(tab.upload_finished, timeout=20000) as done:
        right_click(tab.pending_grid, qtbot, "Upload Data")
    wait_tab(qtbot, tab)
    return done.args[0]


def remote_numbers(xero, store):
    package = open_package(store)
    token = package.tokens.access_token()
    return [d["InvoiceNumber"] for d in xero.api("Invoices?page=1", package.tenant_id, token)["Invoices"]]


def test_upload_from_the_context_menu_moves_rows_and_shows_ticks(tab, xero_sync_sandbox, qtbot, store):
    assert not tab.upload_action.isEnabled()                      # nothing selected yet
    select_refs(tab.pending_grid, "SI-0001", "SI-0002")
    assert tab.upload_action.isEnabled()
    with qtbot.waitSignal(tab.upload_finished, timeout=20000) as done:
        right_click(tab.pending_grid, qtbot, "Upload Data")
        assert tab.busy and tab.progress.isVisible() and tab.cancel_action.isEnabled()
    summary = done.args[0]
    assert (summary.exported, summary.failed) == (6, 0)          # 2 invoices + their 2 customers and 2 items
    wait_tab(qtbot, tab)
    # The summary speaks of the selection, not of the whole queue.
    assert tab.status_label.text().startswith("Upload Data: 2 of 2 selected exported, with 4 they needed first")
    assert "still pending" not in tab.status_label.text()
    assert references(tab.pending_model) == {"SUPP", "SI-0003", "SC-0001", "PI-0001"}
    exported = tab.exported_model
    assert references(exported) == {"SI-0001", "SI-0002", "ACME", "BLOGGS", "W-100", "CHILD-1"}
    r = exported.row_of(next(i for i in exported.ids() if exported.row_data(i).reference == "SI-0001"))
    # The green "seen" tick is the rightmost column of Exported Successfully.
    header = tab.exported_grid.horizontalHeader()
    rightmost = header.logicalIndex(header.count() - 1)
    assert rightmost == ExportedCol.CONFIRMED and exported.headerData(rightmost, Qt.Orientation.Horizontal) == "Seen"
    assert not exported.data(exported.index(r, rightmost), Qt.ItemDataRole.DecorationRole).isNull()
    assert sorted(remote_numbers(xero_sync_sandbox, store)) == ["SI-0001", "SI-0002"]
    assert tab.panels[1].title_label.text() == "Exported Successfully (6)"
    assert tab.panels[0].title_label.text() == "Pending Export (4)"


def test_the_three_grids_are_stacked_in_one_resizable_view(tab):
    """Pending at the top, Exported in the middle, Error Feedback at the bottom: all visible at once."""
    assert [tab.splitter.widget(i) for i in range(3)] == list(tab.panels)
    assert tab.splitter.orientation() == Qt.Orientation.Vertical
    tops = [panel.mapTo(tab, panel.rect().topLeft()).y() for panel in tab.panels]
    assert tops == sorted(tops) and tab.grids and all(grid.isVisible() for grid in tab.grids)
    assert [p.title_label.text().split(" (")[0] for p in tab.panels] == [
        "Pending Export", "Exported Successfully", "Error Feedback"]
    # No blank band under the toolbar: the (hidden) progress bar sits in the toolbar's own row.
    bar_bottom = tab.grid_actions_button.mapTo(tab, tab.grid_actions_button.rect().bottomLeft()).y()
    assert tab.splitter.mapTo(tab, tab.splitter.rect().topLeft()).y() - bar_bottom < 12
    sizes = tab.splitter.sizes()
    tab.splitter.moveSplitter(sizes[0] + 60, 1)                   # the user drags the first handle down
    assert tab.splitter.sizes()[0] > sizes[0]


def give_reason(tab, qtbot, reason: str = "Entered in Xero by hand") -> None:
    """Mark as Exported asks why: the user types a reason and presses OK."""
    qtbot.waitUntil(lambda: tab.mark_reason_dialog is not None and tab.mark_reason_dialog.isVisible())
    tab.mark_reason_dialog.setTextValue(reason)
    tab.mark_reason_dialog.accept()


def test_grid_actions_button_marks_as_exported_and_not_exported(tab, qtbot):
    texts = [a.text().replace("&", "") for a in tab.grid_actions_button.menu().actions() if not a.isSeparator()]
    assert texts == ["Copy selected rows", "Export grid to CSV…", "Refresh", "Mark as Exported",
                     "Mark as Not Exported"]
    select_refs(tab.pending_grid, "PI-0001")
    from_button(tab.grid_actions_button, "Mark as Exported")
    give_reason(tab, qtbot)
    wait_tab(qtbot, tab)
    exported = tab.exported_model
    [row] = [exported.row_data(i) for i in exported.ids()]
    assert row.reference == "PI-0001" and row.manual and not row.confirmed
    assert tab.status_label.text().startswith("1 rows marked as exported by hand")
    tab.exported_grid.select_ids([row.id])
    assert not tab.goto_action.isEnabled()                         # never sent: nothing to open
    from_button(tab.grid_actions_button, "Mark as Not Exported")
    wait_tab(qtbot, tab)
    assert exported.rowCount() == 0
    assert "PI-0001" in references(tab.pending_model)
    # The right-click menus keep them too.
    select_refs(tab.pending_grid, "PI-0001")
    right_click(tab.pending_grid, qtbot, "Mark as Exported")
    give_reason(tab, qtbot)
    wait_tab(qtbot, tab)
    assert references(exported) == {"PI-0001"}


def test_cancel_mid_upload_stops_after_the_batch_in_flight(store, xero_sync_sandbox, qtbot):
    connected_bulk_books(store, 400)
    xero_sync_sandbox.faults(latency=0.15)
    tab = make_tab(store, qtbot)
    tab.pending_grid.selectAll()
    total = tab.pending_model.rowCount()
    cancelled = []

    def on_progress(done, total, text):
        if done >= 55 and not cancelled:
            cancelled.append(done)
            tab.cancel_action.trigger()
    with qtbot.waitSignal(tab.upload_finished, timeout=30000) as done:
        tab.upload_action.trigger()
        tab.worker.progress.connect(on_progress)
    summary = done.args[0]
    assert summary.cancelled and summary.failed == 0
    assert 55 <= summary.exported < total and summary.pending == total - summary.exported
    assert "not sent and still pending (cancelled)" in summary.text
    wait_tab(qtbot, tab)
    assert tab.pending_model.rowCount() == summary.pending
    with store.session() as s:
        assert not s.scalars(select(ExportItem).where(ExportItem.status == "pending",
                                                      ExportItem.attempt_key.is_not(None))).all()
    assert len(set(remote_numbers(xero_sync_sandbox, store))) == len(remote_numbers(xero_sync_sandbox, store))


def test_a_missing_mapping_shows_a_labelled_feedback_row_that_opens_the_mapping_tab(tab, store, qtbot):
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    MappingService(store, "xero").set_mapping(NOMINAL, sales, None)
    upload(tab, qtbot, "SI-0003")
    fb = tab.feedback_model
    rows = [fb.row_data(i) for i in fb.ids()]
    mapping_rows = [r for r in rows if r.nominal_code == "4000"]
    assert mapping_rows and "Mapping tab" in mapping_rows[0].advice
    # KCC's own finding, never passed off as the package's words.
    row = fb.row_of(mapping_rows[0].id)
    assert fb.data(fb.index(row, 2)).startswith("KCC pre-check: ")
    assert fb.headerData(2, Qt.Orientation.Horizontal) == "Package message"
    assert "SI-0003" in references(tab.pending_model)
    tab.feedback_grid.select_ids([mapping_rows[0].id])
    with qtbot.waitSignal(tab.open_mapping_requested) as opened:
        right_click(tab.feedback_grid, qtbot, "Open Mapping tab")
    assert opened.args == ["4000"]


def test_the_same_problem_twice_is_one_row_and_resolved_when_the_item_exports(tab, store, qtbot):
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    mapping = MappingService(store, "xero")
    mapping.set_mapping(NOMINAL, sales, None)
    for _run in range(2):
        upload(tab, qtbot, "SI-0003")
    fb = tab.feedback_model
    rows = {fb.row_data(i).item: fb.row_data(i) for i in fb.ids()}
    # The invoice and its two stock items (coded to 4000 too): one row each, counted, not a row a run.
    assert {item: r.times for item, r in rows.items()} == {
        "Invoice SI-0003": 2, "Stock Item W-100": 2, "Stock Item CHILD-1": 2}
    r = fb.row_of(rows["Invoice SI-0003"].id)
    assert fb.data(fb.index(r, 4)) == "2" and fb.data(fb.index(r, 5)) == "Open"
    assert tab.panels[2].title_label.text() == "Error Feedback (open) (3)"
    mapping.set_mapping(NOMINAL, sales, "200")                                 # the user fixes the mapping
    summary = upload(tab, qtbot, "SI-0003")
    assert summary.exported == 3                                               # with its two stock items
    assert fb.rowCount() == 0                                                  # out of the open problems
    tab.panels[2].show_resolved.setChecked(True)
    wait_loaded(qtbot, fb)
    rows = [fb.row_data(i) for i in fb.ids()]
    assert len(rows) == 3 and all(r.resolved_at is not None for r in rows)
    assert fb.data(fb.index(0, 5)).startswith("Resolved")


def test_double_click_on_a_problem_shows_it_in_full(tab, store, qtbot):
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    MappingService(store, "xero").set_mapping(NOMINAL, sales, None)
    upload(tab, qtbot, "SI-0003")
    grid, fb = tab.feedback_grid, tab.feedback_model
    [invoice] = [i for i in fb.ids() if fb.row_data(i).item == "Stock Item W-100"]
    rect = grid.visualRect(grid.proxy.index(fb.row_of(invoice), 2))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())    # a double-click:
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())   # press, then press again
    qtbot.waitUntil(lambda: tab.feedback_dialog is not None and tab.feedback_dialog.isVisible())
    dialog = tab.feedback_dialog
    row = fb.row_data(invoice)
    assert dialog.message.toPlainText() == row.message and dialog.advice.toPlainText() == row.advice
    assert any("KCC's own pre-check" in w.text() for w in dialog.findChildren(QLabel))
    button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Map nominal 4000…")
    with qtbot.waitSignal(tab.open_mapping_requested) as opened:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened.args == ["4000"]


def test_pre_check_keeps_the_selection(tab, qtbot):
    wanted = select_refs(tab.pending_grid, "SI-0001", "SI-0003")
    right_click(tab.pending_grid, qtbot, "Run Pre-Check")
    wait_tab(qtbot, tab)
    assert sorted(tab.pending_grid.selected_ids()) == sorted(wanted)
    assert tab.status_label.text().startswith("Pre-check: 2 checked")
    assert wanted and all(tab.pending_model.row_data(i).precheck for i in wanted)   # the Pre-check column is filled
    model = tab.pending_model
    shown = {model.index(model.row_of(i), PendingCol.PRECHECK).data() for i in wanted}   # and drawn so
    assert shown == {model.row_data(i).precheck for i in wanted} and "" not in shown


def test_verify_says_how_many_it_found(tab, xero_sync_sandbox, qtbot):
    upload(tab, qtbot, "SI-0001")
    select_refs(tab.exported_grid, "SI-0001", "ACME")
    with qtbot.waitSignal(tab.jobs.ended, timeout=20000):
        right_click(tab.exported_grid, qtbot, "Verify")
    wait_tab(qtbot, tab)
    assert tab.status_label.text() == "Verify: 2 rows looked up in Xero: 2 found and ticked."


def test_sorting_a_grid_keeps_the_selection_and_never_reads_on_the_gui_thread(tab, qtbot):
    wanted = select_refs(tab.pending_grid, "SI-0002", "PI-0001")
    tab.pending_grid.sortByColumn(4, Qt.SortOrder.DescendingOrder)   # Amount, as a header click
    assert tab.pending_model.is_loading                              # ordered on a worker thread
    wait_loaded(qtbot, tab.pending_model)
    amounts = [tab.pending_model.row_data(i).amount for i in tab.pending_model.ids()]
    assert [a for a in amounts if a is not None] == sorted((a for a in amounts if a is not None), reverse=True)
    assert sorted(tab.pending_grid.selected_ids()) == sorted(wanted)


def click_header(grid, qtbot, column):
    """A left click on a column's header, where a person clicks to sort."""
    header = grid.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def shown_amounts(grid):
    """The Amount column, top to bottom, as the grid shows it ("" for a contact, which has none)."""
    model = grid.proxy
    return [model.index(r, PendingCol.AMOUNT).data() for r in range(model.rowCount())]


def as_figures(texts):
    return [Decimal(t.replace(",", "")) for t in texts if t]


class GuiThreadReads:
    """The ids a grid's model reads from the company file on the GUI thread (its fetch, wrapped)."""

    def __init__(self, model) -> None:
        self.ids: list[int] = []
        fetch = model._fetch

        def counted(ids):
            if threading.current_thread() is threading.main_thread():
                self.ids += list(ids)
            return fetch(ids)

        model._fetch = counted


def test_header_clicks_sort_by_amount_both_ways_and_keep_the_selection(tab, qtbot):
    grid = tab.pending_grid
    wanted = select_refs(grid, "SI-0002", "PI-0001")
    for descending in (False, True):                                 # the first click goes up, the second down
        click_header(grid, qtbot, PendingCol.AMOUNT)
        wait_loaded(qtbot, tab.pending_model)
        assert grid.horizontalHeader().sortIndicatorOrder() == (
            Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        texts = shown_amounts(grid)
        figures = as_figures(texts)
        assert len(figures) >= 5 and figures == sorted(figures, reverse=descending)   # as numbers, not text
        blanks = [t == "" for t in texts]                             # contacts: first going up, last going down
        assert any(blanks) and blanks == sorted(blanks, reverse=not descending)
        assert sorted(grid.selected_ids()) == sorted(wanted)
        assert {tab.pending_model.row_data(i).reference for i in grid.selected_ids()} == {"SI-0002", "PI-0001"}


def test_a_refresh_after_an_upload_shows_the_right_rows_in_order_read_off_the_gui_thread(tab, qtbot, store):
    grid = tab.pending_grid
    grid.sortByColumn(PendingCol.AMOUNT, Qt.SortOrder.DescendingOrder)
    wait_loaded(qtbot, tab.pending_model)
    upload(tab, qtbot, "SI-0001")
    build_ledger_more(store)                                          # SI-LATE, 12.00 gross, from another desk
    kept = select_refs(grid, "SI-0003")
    reads = GuiThreadReads(tab.pending_model)
    tab.refresh_action.trigger()
    wait_tab(qtbot, tab)
    grid.grab()                                                       # the rows on screen are painted
    refs = [tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()]
    assert "SI-LATE" in refs and "SI-0001" not in refs and references(tab.exported_model) >= {"SI-0001"}
    figures = as_figures(shown_amounts(grid))
    assert Decimal("12.00") in figures and figures == sorted(figures, reverse=True)
    assert grid.selected_ids() == kept
    assert reads.ids == []   # the screen's rows came with the refresh's result: the paint read nothing


def test_mark_as_exported_asks_why_first(tab, qtbot):
    select_refs(tab.pending_grid, "PI-0001")
    right_click(tab.pending_grid, qtbot, "Mark as Exported")
    qtbot.waitUntil(lambda: tab.mark_reason_dialog is not None and tab.mark_reason_dialog.isVisible())
    tab.mark_reason_dialog.setTextValue("   ")                      # a reason is required
    tab.mark_reason_dialog.accept()
    wait_tab(qtbot, tab)
    assert "reason" in tab.status_label.text() and tab.exported_model.rowCount() == 0
    right_click(tab.pending_grid, qtbot, "Mark as Exported")
    give_reason(tab, qtbot)
    wait_tab(qtbot, tab)
    assert references(tab.exported_model) == {"PI-0001"}


def test_pending_grid_exports_to_csv(tab, tmp_path):
    path = tab.on_export_csv_triggered(str(tmp_path / "pending.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Type,Reference,Company / Description") and len(lines) == 11


# --- what the user sees, and every action by every route (issue 20) ---------------------------------------

def _roles(model, ref, column):
    """What the grid draws in ``column`` for the row ``ref``: text, icon, colour, tooltip."""
    from PySide6.QtCore import Qt

    row = model.row_of(next(i for i in model.ids() if model.row_data(i).reference == ref))
    index = model.index(row, column)
    role = Qt.ItemDataRole
    return (model.data(index, role.DisplayRole), model.data(index, role.DecorationRole),
            model.data(index, role.ForegroundRole), model.data(index, role.ToolTipRole))


def _drawn(grid, ref, column):
    """What the grid's own delegate is handed to paint the cell (through the view's proxy, every role in one
    ``multiData`` call, as a paint asks): text, whether an icon is drawn, and the text colour."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyleOptionViewItem

    model = grid.source_model
    row = model.row_of(next(i for i in model.ids() if model.row_data(i).reference == ref))
    option = QStyleOptionViewItem()
    grid.itemDelegate().initStyleOption(option, grid.proxy.mapFromSource(model.index(row, column)))
    icon = bool(option.features & QStyleOptionViewItem.ViewItemFeature.HasDecoration) and not option.icon.isNull()
    return option.text, icon, option.palette.color(QPalette.ColorRole.Text)


def test_the_green_tick_is_drawn_on_confirmed_rows_only(tab, qtbot):
    from PySide6.QtGui import QColor

    from kcc_desktop.ui.export_models import GREEN, ExportedCol

    select_refs(tab.pending_grid, "PI-0001")
    right_click(tab.pending_grid, qtbot, "Mark as Exported")            # by hand: never sent
    give_reason(tab, qtbot)
    select_refs(tab.pending_grid, "SI-0001")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000):
        right_click(tab.pending_grid, qtbot, "Upload Data")            # sent: the package confirms it
    wait_tab(qtbot, tab)
    model = tab.exported_model
    text, icon, colour, tip = _roles(model, "SI-0001", ExportedCol.CONFIRMED)
    assert text == "Seen" and icon is not None and not icon.isNull()
    assert QColor(colour) == QColor(GREEN) and tip == "Seen in the accounting package: it confirmed this item"
    text, icon, colour, tip = _roles(model, "PI-0001", ExportedCol.CONFIRMED)
    assert text == "" and icon is None and colour is None
    assert tip.startswith("Not confirmed by the package (marked by hand")
    assert _roles(model, "PI-0001", ExportedCol.HOW)[0] == "Marked by hand"
    assert _roles(model, "SI-0001", ExportedCol.HOW)[0] == "Sent"
    # nothing but the Confirmed column carries an icon
    assert all(_roles(model, ref, c)[1] is None for ref in ("SI-0001", "PI-0001") for c in ExportedCol
               if c != ExportedCol.CONFIRMED)
    # and what the view paints says the same: the delegate is handed the tick, in green, on the sent row only
    assert _drawn(tab.exported_grid, "SI-0001", ExportedCol.CONFIRMED) == ("Seen", True, QColor(GREEN))
    text, icon, colour = _drawn(tab.exported_grid, "PI-0001", ExportedCol.CONFIRMED)
    assert (text, icon) == ("", False) and colour != QColor(GREEN)
    drawn_icons = [(ref, c) for ref in ("SI-0001", "PI-0001") for c in ExportedCol
                   if _drawn(tab.exported_grid, ref, c)[1]]
    assert drawn_icons == [("SI-0001", ExportedCol.CONFIRMED)]


SEED_MESSAGE = "A validation exception occurred Account code or ID must be specified"


def test_the_packages_account_code_message_shows_its_advice_and_link(tab, store, qtbot):
    """The seed's message as Xero words it, recorded by the upload's own bookkeeping, as the user reads
    it in Error Feedback: the message kept as it came, the advice naming the nominal, in link blue, and
    Open Mapping tab taking them to that nominal."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from kcc_desktop.sync.export.outcomes import Outcomes
    from kcc_desktop.sync.target import read_target
    from kcc_desktop.ui.export_models import FeedbackCol

    with store.transaction() as s:
        item = s.scalars(select(ExportItem).where(ExportItem.reference == "SI-0001")).one()
        nominals = {n.id: (n.code, n.name, n.kind) for n in s.scalars(select(NominalCode))}
        Outcomes(read_target(s), "Xero", utcnow, {}, nominals, lambda _n: None).fail(s, item.id, [SEED_MESSAGE])
    tab.refresh()
    fb = tab.feedback_model
    qtbot.waitUntil(lambda: fb.rowCount() == 1)
    index = fb.index(0, FeedbackCol.ADVICE)
    advice = fb.data(index, Qt.ItemDataRole.DisplayRole)
    assert advice == ("Nominal 4000 Sales - Products has no Xero account to post to. Map it in the Mapping "
                      "tab (Open Mapping tab), then Upload Data again.")
    assert f"What to do: {advice}" in fb.data(index, Qt.ItemDataRole.ToolTipRole)
    assert QColor(fb.data(index, Qt.ItemDataRole.ForegroundRole)) == QColor("#1565c0")   # the link's blue
    assert fb.data(fb.index(0, FeedbackCol.MESSAGE), Qt.ItemDataRole.DisplayRole) == SEED_MESSAGE
    assert fb.data(fb.index(0, FeedbackCol.ITEM), Qt.ItemDataRole.DisplayRole) == "Invoice SI-0001"
    tab.feedback_grid.select_ids([fb.ids()[0]])
    with qtbot.waitSignal(tab.open_mapping_requested) as opened:
        right_click(tab.feedback_grid, qtbot, "Open Mapping tab")
    assert opened.args == ["4000"]


@pytest.mark.parametrize("route", ["Actions button", "right-click menu"])
def test_every_action_works_from_the_actions_button_and_the_right_click_menu(tab, store, qtbot, tmp_path, route):
    from PySide6.QtGui import QDesktopServices

    from tests.helpers.menus import choose_from_button, choose_from_context_menu

    def choose(grid, text):
        if route == "Actions button":
            choose_from_button(qtbot, tab.actions_button, text)
        else:
            choose_from_context_menu(qtbot, grid, text)

    def pending_refs():
        return {tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()}

    # Pending Export: Run Pre-Check, Mark as Exported, Upload Data
    select_refs(tab.pending_grid, "SI-0003")
    with qtbot.waitSignal(tab.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        choose(tab.pending_grid, "Run Pre-Check")
    assert tab.status_label.text().startswith("Pre-check: 1 checked")
    select_refs(tab.pending_grid, "PI-0001")
    choose(tab.pending_grid, "Mark as Exported")
    give_reason(tab, qtbot)
    wait_tab(qtbot, tab)
    assert "PI-0001" not in pending_refs()
    select_refs(tab.pending_grid, "SI-0001")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000) as done:
        choose(tab.pending_grid, "Upload Data")
    wait_tab(qtbot, tab)
    assert done.args[0].exported >= 1 and "SI-0001" not in pending_refs()

    # Exported Successfully: Goto Document, Verify, Mark as Not Exported
    exported = tab.exported_model
    select_refs(tab.exported_grid, "SI-0001")
    opened = []

    class Browser(QObject):
        @Slot(QUrl)
        def open(self, url):
            opened.append(url.toString())

    browser = Browser()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, browser, "open")
    try:
        choose(tab.exported_grid, "Goto Document")
    finally:
        for scheme in ("http", "https"):
            QDesktopServices.unsetUrlHandler(scheme)
    with store.session() as s:
        remote = s.scalars(select(ExportItem.remote_id).where(ExportItem.reference == "SI-0001",
                                                              ExportItem.item_type == "sales_invoice")).one()
    assert len(opened) == 1 and remote in opened[0]
    with qtbot.waitSignal(tab.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        choose(tab.exported_grid, "Verify")
    assert tab.status_label.text() == "Verify: 1 row looked up in Xero: 1 found and ticked."
    select_refs(tab.exported_grid, "PI-0001")
    choose(tab.exported_grid, "Mark as Not Exported")
    wait_tab(qtbot, tab)
    assert "PI-0001" in pending_refs()
    assert "PI-0001" not in {exported.row_data(i).reference for i in exported.ids()}

    # Error Feedback: Open Mapping tab
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    MappingService(store, "xero").set_mapping(NOMINAL, sales, None)
    select_refs(tab.pending_grid, "SI-0002")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000):
        choose(tab.pending_grid, "Upload Data")
    wait_tab(qtbot, tab)
    fb = tab.feedback_model
    unmapped = [i for i in fb.ids() if fb.row_data(i).nominal_code == "4000"]
    assert unmapped
    tab.feedback_grid.select_ids(unmapped[:1])
    with qtbot.waitSignal(tab.open_mapping_requested) as asked:
        choose(tab.feedback_grid, "Open Mapping tab")
    assert asked.args == ["4000"]


def test_grid_actions_copy_export_and_refresh(tab, store, qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QFileDialog

    from tests.helpers.menus import choose_from_button

    select_refs(tab.pending_grid, "SI-0002")
    QGuiApplication.clipboard().clear()
    choose_from_button(qtbot, tab.grid_actions_button, "Copy selected rows")
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0].startswith("Type\tReference") and len(copied) == 2 and "SI-0002" in copied[1]

    target = tmp_path / "pending.csv"
    answered = []

    def answer_the_dialog():
        # the file dialog on screen (another test's dialog may still be the active modal widget)
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()]
        if not shown:
            QTimer.singleShot(20, answer_the_dialog)
            return
        dialog = shown[0]
        dialog.selectFile(str(target))
        dialog.accept()
        answered.append(dialog)

    QTimer.singleShot(0, answer_the_dialog)
    choose_from_button(qtbot, tab.grid_actions_button, "Export grid to CSV…")
    qtbot.waitUntil(lambda: tab.status_label.text().startswith("Saved "), timeout=20_000)
    saved = Path(tab.status_label.text().split(" rows to ", 1)[1][:-1])   # "Saved N rows to PATH."
    # the name typed in, or the dialog's own suggestion where it kept its name field (platform dialogs differ)
    assert saved.name in (target.name, "pending-export.csv"), tab.status_label.text()
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert answered and len(lines) == tab.pending_model.rowCount() + 1 and lines[0].startswith("Type,Reference")

    before = tab.pending_model.rowCount()
    build_ledger_more(store)
    assert tab.pending_model.rowCount() == before                     # not re-read by itself
    choose_from_button(qtbot, tab.grid_actions_button, "Refresh")
    qtbot.waitUntil(lambda: tab.pending_model.rowCount() == before + 1, timeout=20_000)


def build_ledger_more(store):
    """One more invoice, written as another desk would (straight into the company file)."""

    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        service.create_document(s, "sales_invoice", acme, "SI-LATE", date(2026, 2, 1),
                                [service.LineInput(Decimal(1), Decimal("10"), description="x",
                                                   nominal_id=sales, tax_code_id=t1)])


def test_a_matched_existing_contact_is_shown_so_and_undo_match_puts_it_back(tab, qtbot, xero_bookkeeper):
    from kcc_desktop.models import MatchState
    from kcc_desktop.sync.export import ExportService
    from kcc_desktop.ui.export_models import ExportedCol

    xero_bookkeeper.add_contact("Acme Tools Ltd", account_number="ACME")
    acme = next(i for i in tab.pending_model.ids() if tab.pending_model.row_data(i).reference == "ACME")
    assert ExportService(tab.ctx.store).upload([acme], open_package(tab.ctx.store)).ok
    tab.refresh()
    wait_tab(qtbot, tab)   # the grids load off the GUI thread
    exported = tab.exported_model
    [row] = [exported.row_data(i) for i in exported.ids()]
    assert row.reference == "ACME" and row.matched
    assert exported.index(exported.row_of(row.id), ExportedCol.HOW).data() == "Matched existing"
    tab.exported_grid.select_ids([row.id])

    right_click(tab.exported_grid, qtbot, "Undo Match")
    wait_tab(qtbot, tab)

    assert exported.rowCount() == 0 and "1 back in Pending Export" in tab.status_label.text()
    with tab.ctx.store.session() as s:
        item = s.get(ExportItem, row.id)
        assert (item.status, item.match_state) == ("pending", MatchState.CREATE)
