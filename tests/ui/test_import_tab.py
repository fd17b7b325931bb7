"""The Import tab driven as a user would: it fetches when first shown, the user selects rows, right-clicks,
runs Create & Allocate Payments and reads the statuses; a payment deleted in Xero is reversed after
confirmation. Everything goes over HTTP to the Xero sandbox; payments are recorded there via xero-python."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from kcc_desktop.context import AppContext
from kcc_desktop.ui.import_models import ImportCol
from kcc_desktop.ui.import_tab import ImportTab
from tests.helpers.books import export_books
from tests.helpers.connect import open_package
from tests.helpers.grids import wait_loaded

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ON = date(2026, 2, 1)


@pytest.fixture
def books(xero_exporting, xero_bookkeeper):
    """The small ledger exported to a fresh Xero sandbox, and a bookkeeper working in it."""
    store, package = xero_exporting
    return export_books(store, package, "xero"), xero_bookkeeper


def idle(tab: ImportTab, qtbot, action) -> None:
    """Trigger (or run) ``action`` and wait until the tab's worker has finished and the grid refreshed."""
    with qtbot.waitSignal(tab.busy_changed, timeout=20000, check_params_cb=lambda busy: not busy):
        action()
    wait_loaded(qtbot, tab.model)


def row_of(tab: ImportTab, text: str, column: ImportCol = ImportCol.INVOICES) -> int:
    proxy = tab.grid.proxy
    rows = [r for r in range(proxy.rowCount()) if proxy.index(r, column).data() == text]
    assert len(rows) == 1, f"{text!r} in {column.name}: {rows}"
    return rows[0]


def cell(tab: ImportTab, row: int, column: ImportCol) -> str:
    return tab.grid.proxy.index(row, column).data()


def click(tab: ImportTab, qtbot, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> QPoint:
    rect = tab.grid.visualRect(tab.grid.proxy.index(row, ImportCol.COMPANY))
    qtbot.mouseClick(tab.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    return rect.center()


def context_action(tab: ImportTab, pos: QPoint, text: str):
    tab.grid.on_context_menu_requested(pos)       # what a right-click on the grid does
    menu = tab.grid._menu
    [action] = [a for a in menu.actions() if a.text().replace("&", "") == text.replace("&", "")]
    menu.close()
    return action


def invoice_raised_in_xero(b) -> str:
    return b.invoice_raised_in_package(open_package(b.store), ON)


def open_tab(qtbot, store) -> ImportTab:
    tab = ImportTab(AppContext(store))
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    idle(tab, qtbot, tab.show)                    # shown for the first time: it fetches
    return tab


def test_select_right_click_create_and_allocate_and_see_the_statuses(qtbot, books):
    b, bookkeeper = books
    bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    bookkeeper.pay(b.remote["SI-0002"], Decimal("10.00"), ON, "Part")
    bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON, "Cheque 7")

    tab = open_tab(qtbot, b.store)

    assert tab.grid.proxy.rowCount() == 3 and "3 new" in tab.status_label.text().replace(",", "")
    full, part, bill = row_of(tab, "SI-0001"), row_of(tab, "SI-0002"), row_of(tab, "PI-0001")
    assert [cell(tab, full, c) for c in ImportCol] == [
        "2026-02-01", "Receipt", "Acme Tools Ltd", "SI-0001", f"{b.gross['SI-0001']:,.2f}", "GBP",
        "090 Business Bank Account", "BACS 1", "Ready to create"]
    assert cell(tab, bill, ImportCol.TYPE) == "Supplier Payment"
    assert not tab.create_allocate_action.isEnabled()            # nothing selected yet

    click(tab, qtbot, full)
    pos = click(tab, qtbot, bill, Qt.KeyboardModifier.ControlModifier)
    assert tab.grid.selected_count() == 2
    action = context_action(tab, pos, "Create & Allocate Payments")
    assert action is tab.create_allocate_action and action.isEnabled()
    assert not context_action(tab, pos, "Reverse Deleted Payments…").isEnabled()
    shown = []   # what the progress bar said each time the worker reported
    tab.busy_changed.connect(lambda busy: busy and tab.worker.progress.connect(
        lambda *_: shown.append((tab.progress.isVisible(), tab.progress.format()))))
    idle(tab, qtbot, action.trigger)
    assert shown and shown[-1][0] and shown[-1][1].startswith("2 of 2") and "2 created" in shown[-1][1]
    assert not tab.progress.isVisible() and not tab.cancel_action.isEnabled()

    full, part, bill = row_of(tab, "SI-0001"), row_of(tab, "SI-0002"), row_of(tab, "PI-0001")
    assert cell(tab, full, ImportCol.STATUS) == "Payment created and allocated"
    assert cell(tab, bill, ImportCol.STATUS) == "Payment created and allocated"
    assert cell(tab, part, ImportCol.STATUS) == "Ready to create"          # not selected: untouched
    assert tab.status_label.text() == "Create & Allocate Payments: 2 created and allocated."
    assert b.outstanding("SI-0001") == 0 and b.outstanding("PI-0001") == 0
    assert b.outstanding("SI-0002") == b.gross["SI-0002"]
    assert b.bank_balance() == b.gross["SI-0001"] - b.gross["PI-0001"] and b.trial_balance_balances()

    outside = invoice_raised_in_xero(b)                                   # never exported from this ledger
    bookkeeper.pay(outside, Decimal("60.00"), ON, "Xero only")
    idle(tab, qtbot, tab.fetch_action.trigger)
    click(tab, qtbot, part)
    tab.grid.selectAll()
    idle(tab, qtbot, tab.create_allocate_action.trigger)                  # all: two are new, one can't be made
    assert (tab.last_summary.created, tab.last_summary.skipped, tab.last_summary.failed) == (1, 2, 1)
    assert tab.status_label.text() == ("Create & Allocate Payments: 1 created and allocated, "
                                       "1 not created (see Status), 2 skipped.")
    assert cell(tab, row_of(tab, "SI-0002"), ImportCol.STATUS).startswith("Payment created and allocated; ")
    assert cell(tab, row_of(tab, "XERO-ONLY-1"), ImportCol.STATUS).startswith(
        "Not created: invoice XERO-ONLY-1 was never exported from this ledger")

    ARTIFACTS.mkdir(exist_ok=True)
    tab.grid.select_ids([tab.model.id_at(row_of(tab, "SI-0001"))])
    assert tab.grab().save(str(ARTIFACTS / "import_tab.png"))


def test_statuses_written_while_a_job_runs_show_on_screen_repainting_only_the_status_cells(qtbot, books):
    """The live refresh a job's progress sets off (issue 17): the rows on screen are read again and only their
    Status cells are announced to the view (a ninth of the paint, twice a second), and the new status shows."""
    b, bookkeeper = books
    bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON, "Cheque 7")
    tab = open_tab(qtbot, b.store)
    full = row_of(tab, "SI-0001")
    assert cell(tab, full, ImportCol.STATUS) == "Ready to create"
    # as a batch of the job commits: the ledger changes beneath the grid, which still shows what it read
    done = tab.service.create_and_allocate([tab.model.id_at(full)])
    assert done.created == 1 and cell(tab, full, ImportCol.STATUS) == "Ready to create"
    announced: list[tuple[int, int, int, int]] = []
    tab.model.dataChanged.connect(lambda tl, br, *_: announced.append((tl.row(), tl.column(), br.row(), br.column())))
    with qtbot.waitSignal(tab.model.dataChanged, timeout=5000):
        tab.live_refresh.request()                      # what each progress report of the worker does
    status = list(ImportCol).index(ImportCol.STATUS)
    assert announced and {(top, left, right) for top, left, _bottom, right in announced} >= {(full, status, status)}
    assert {(left, right) for _top, left, _bottom, right in announced} == {(status, status)}
    assert sorted(top for top, *_ in announced) == [0, 1] and all(top == bottom for top, _l, bottom, _r in announced)
    assert cell(tab, full, ImportCol.STATUS) == "Payment created and allocated"


def test_a_payment_deleted_in_xero_is_reversed_after_confirmation(qtbot, books):
    b, bookkeeper = books
    paid = bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    tab = open_tab(qtbot, b.store)
    tab.grid.selectAll()
    idle(tab, qtbot, tab.create_allocate_action.trigger)
    assert b.outstanding("SI-0001") == 0
    bookkeeper.delete_payment(paid)

    idle(tab, qtbot, tab.fetch_action.trigger)                           # F5

    row = row_of(tab, "SI-0001")
    assert cell(tab, row, ImportCol.STATUS) == "Deleted in Xero: use Reverse Deleted Payments to undo it in the ledger"
    pos = click(tab, qtbot, row)
    action = context_action(tab, pos, "Reverse Deleted Payments…")
    assert action is tab.reverse_action and action.isEnabled()
    assert not tab.create_allocate_action.isEnabled()

    # First the user says No: nothing changes.
    QTimer.singleShot(0, lambda: tab.confirm_box.button(QMessageBox.StandardButton.No).click())
    action.trigger()
    assert tab.status_label.text() == "Nothing reversed." and b.outstanding("SI-0001") == 0

    QTimer.singleShot(0, lambda: tab.confirm_box.button(QMessageBox.StandardButton.Yes).click())
    with qtbot.waitSignal(tab.reverse_finished) as done:
        action.trigger()

    assert done.args == [1]
    assert cell(tab, row_of(tab, "SI-0001"), ImportCol.STATUS) == (
        "Deleted in Xero; reversed in the ledger with its allocations")
    assert b.outstanding("SI-0001") == b.gross["SI-0001"] and b.bank_balance() == 0 and b.trial_balance_balances()
    assert not tab.reverse_action.isEnabled()


def test_filter_sort_and_export_csv(qtbot, qtmodeltester, books, tmp_path):
    b, bookkeeper = books
    bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON, "Cheque 7")
    tab = open_tab(qtbot, b.store)
    qtmodeltester.check(tab.model)

    tab.grid.filter_edit.setText("supplier")
    tab.grid.apply_filter()
    wait_loaded(qtbot, tab.model)   # filtered on a worker thread
    assert tab.grid.proxy.rowCount() == 1 and cell(tab, 0, ImportCol.REFERENCE) == "Cheque 7"
    tab.grid.filter_edit.clear()
    tab.grid.apply_filter()
    tab.grid.sortByColumn(ImportCol.AMOUNT, Qt.SortOrder.AscendingOrder)
    wait_loaded(qtbot, tab.model)
    assert [cell(tab, r, ImportCol.INVOICES) for r in range(2)] == ["PI-0001", "SI-0001"]  # 30.00 < 85.61

    path = tab.on_export_csv_triggered(str(tmp_path / "payments.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Date,Type,Company,Invoices paid,Amount") and len(lines) == 3


def test_without_a_connection_the_tab_says_what_to_do(qtbot, store):
    tab = ImportTab(AppContext(store))
    qtbot.addWidget(tab)
    idle(tab, qtbot, tab.show)

    assert "Valid Connection Required" in tab.status_label.text() and "Connect" in tab.status_label.text()
    assert tab.grid.proxy.rowCount() == 0 and tab.fetch_action.isEnabled()
    assert not tab.create_allocate_action.isEnabled() and not tab.reverse_action.isEnabled()



def test_after_a_job_the_actions_follow_the_selected_rows_that_are_off_screen_too(qtbot, books):
    """After a job only the rows on screen are read again; whether Create & Allocate or Reverse applies to a
    selection comes from every selected row, those scrolled out of sight too (one query, not each row read)."""
    b, bookkeeper = books
    paid = [bookkeeper.pay(b.remote[n], b.gross[n], ON, f"BACS {n}") for n in ("SI-0001", "SI-0002", "SI-0003")]
    bookkeeper.pay(invoice_raised_in_xero(b), Decimal("60.00"), ON, "Xero only")   # can never be created here
    tab = open_tab(qtbot, b.store)
    tab.grid.verticalHeader().setDefaultSectionSize(500)                 # a row or so on screen
    tab.grid.selectAll()
    idle(tab, qtbot, tab.create_allocate_action.trigger)                  # 3 created, the Xero-only one refused

    def off_screen() -> bool:   # the case under test: some selected rows were not read again
        return tab.model.cached_rows(tab.grid.selected_ids()) is None
    assert tab.last_summary.created == 3 and off_screen()
    assert tab.create_allocate_action.isEnabled() and not tab.reverse_action.isEnabled()   # it may be retried
    created = [b.row(p).id for p in paid]
    tab.grid.select_ids(created)
    assert off_screen() and not tab.create_allocate_action.isEnabled()

    bottom = tab.grid.rowAt(tab.grid.viewport().height() - 1)
    bottom = tab.grid.proxy.rowCount() if bottom < 0 else bottom
    deleted = next(p for p in paid if (tab.model.row_of(b.row(p).id) or 0) > bottom)   # out of sight
    bookkeeper.delete_payment(deleted)
    idle(tab, qtbot, tab.fetch_action.trigger)
    tab.grid.selectAll()
    idle(tab, qtbot, tab.create_allocate_action.trigger)                  # the refused one again: nothing made
    assert tab.last_summary.created == 0 and off_screen()
    assert tab.reverse_action.isEnabled()



def test_a_job_shows_its_progress_in_the_toolbar_row_and_the_grid_stays_where_it_was(qtbot, books):
    """Progress beside the buttons, as on the Export tab: the grid is not pushed down by a bar's height as a job
    starts (a grid pushed down repaints whole, a stall as each job begins and ends), nor is a band left idle."""
    b, bookkeeper = books
    bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    tab = open_tab(qtbot, b.store)
    top = tab.panel.y()
    tab.grid.selectAll()
    seen = []
    tab.busy_changed.connect(lambda busy: busy and seen.append(
        (tab.progress.isVisible(), tab.panel.y() - top,
         abs(tab.progress.geometry().center().y() - tab.actions_button.geometry().center().y()))))
    idle(tab, qtbot, tab.create_allocate_action.trigger)
    [(shown, moved, off_row)] = seen
    assert shown and off_row <= 2 and abs(moved) < tab.progress.height() / 2, seen
    assert not tab.progress.isVisible() and tab.panel.y() - top < tab.progress.height() / 2
