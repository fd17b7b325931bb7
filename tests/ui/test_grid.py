"""The shared grid: model contract, 100k rows, typed sort, filter, selection ranges, copy, remembered layout."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum
from types import MappingProxyType

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from kcc_desktop.ui.grid import SORT_ROLE, GridPanel, GridView, LazyTableModel, order_by_keys, selection_action


class Col(IntEnum):
    NUMBER = 0
    NAME = 1
    AMOUNT = 2


class FakeRowsModel(LazyTableModel):
    """Rows made on demand from the id, counting fetch calls: no database needed for the contract."""

    Columns = Col
    headers = MappingProxyType({Col.NUMBER: "Number", Col.NAME: "Name", Col.AMOUNT: "Amount"})

    def __init__(self, n: int, parent=None):
        super().__init__(parent=parent)
        self.fetches = 0
        self.n = n

    def load_ids(self):
        return list(range(1, self.n + 1))

    def fetch_rows(self, ids):
        self.fetches += 1
        return {i: (f"N{i:06d}", f"name {'abcdefg'[i % 7]}", Decimal(i % 1000) / 4) for i in ids}

    def display(self, row, column):
        return str(row[column]) if column != Col.AMOUNT else f"{row[2]:,.2f}"

    def sort_key(self, row, column):
        return row[column]

    def sorted_ids(self, ids, column, descending):
        if column == Col.AMOUNT:   # what an SQL-backed model does: one key per id in one query
            return order_by_keys(ids, {i: Decimal(i % 1000) / 4 for i in ids}, descending)
        return None


def make_grid(qtbot, n=50, key="test_grid"):
    model = FakeRowsModel(n)
    grid = GridView(model, key, name="Test")
    panel = GridPanel(grid)
    qtbot.addWidget(panel)
    model.reload()
    panel.resize(800, 400)
    panel.show()
    qtbot.waitExposed(panel)
    return model, grid, panel


def test_model_passes_qt_model_tester(qtmodeltester):
    model = FakeRowsModel(120)
    model.reload()
    qtmodeltester.check(model, force_py=True)
    model.sort(int(Col.AMOUNT), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model, force_py=True)


def test_100k_rows_build_lazily_and_sort_and_select_whole(qtbot):
    """How long sorting and selecting 100,000 rows take is timed by benchmarks/bench_grid.py."""
    model, grid, _panel = make_grid(qtbot, n=100_000)
    assert grid.proxy.rowCount() == 100_000
    # Only the rows on screen were fetched, in a chunk or two, not 100,000 objects.
    assert model.fetches <= 3 and len(model._cache) <= 2 * model.CHUNK
    sorts = []
    model.modelReset.connect(lambda: sorts.append(1))
    grid.sortByColumn(int(Col.AMOUNT), Qt.SortOrder.DescendingOrder)
    grid.selectAll()
    grid.grab()   # paint it: Qt's own header paint would visit every row after Select All
    ids = grid.selected_ids()
    assert sorts == [1]   # one query, even though QTableView.sortByColumn asks the model twice
    assert len(ids) == 100_000 and grid.selected_count() == 100_000
    assert model.data(model.index(0, Col.AMOUNT), SORT_ROLE) == Decimal("249.75")


def test_amounts_sort_numerically_not_as_text(qtbot):
    model, grid, _ = make_grid(qtbot, n=30)
    grid.sortByColumn(int(Col.NAME), Qt.SortOrder.AscendingOrder)   # generic path: sort_key per cached row
    grid.sortByColumn(int(Col.AMOUNT), Qt.SortOrder.AscendingOrder)
    amounts = [model.data(model.index(r, Col.AMOUNT), SORT_ROLE) for r in range(model.rowCount())]
    assert amounts == sorted(amounts) and amounts[-1] == Decimal("7.5")   # "7.50" > "10.00" as text


def test_filter_typed_by_the_user_and_ctrl_c_copies_tsv_with_headers(qtbot):
    _model, grid, panel = make_grid(qtbot, n=40)
    grid.filter_edit.setFocus()
    qtbot.keyClicks(grid.filter_edit, "name d n00001")   # every word must match, in any column
    qtbot.waitUntil(lambda: grid.proxy.filter_text == "name d n00001")
    assert grid.proxy.rowCount() == 2   # N000010 and N000017
    grid.filter_edit.clear()
    qtbot.keyClicks(grid.filter_edit, "name d")
    qtbot.waitUntil(lambda: grid.proxy.filter_text == "name d")
    assert "of 40 rows" in panel.count_label.text()
    # Click the first visible row, shift-click the third: a selection range, read from ranges.
    grid.setFocus()
    first = grid.visualRect(grid.proxy.index(0, 0)).center()
    third = grid.visualRect(grid.proxy.index(2, 0)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=first)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, pos=third)
    assert grid.selected_ids() == [3, 10, 17]
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == (
        "Number\tName\tAmount\nN000003\tname d\t0.75\nN000010\tname d\t2.50\nN000017\tname d\t4.25\n")


def test_selection_from_disjoint_ranges_and_selection_actions(qtbot):
    _model, grid, _ = make_grid(qtbot, n=20)
    triggered = []
    one = selection_action(grid, "Open", lambda: triggered.append(grid.selected_ids()), maximum=1)
    many = selection_action(grid, "Upload", lambda: triggered.append(grid.selected_ids()))
    assert not one.isEnabled() and not many.isEnabled()
    sel = QItemSelection()
    sel.select(grid.proxy.index(1, 0), grid.proxy.index(3, 2))
    sel.select(grid.proxy.index(10, 0), grid.proxy.index(11, 2))
    grid.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert grid.selected_ids() == [2, 3, 4, 11, 12]
    assert many.isEnabled() and not one.isEnabled()
    # The right-click menu holds the very same QAction objects as the tab's buttons.
    grid.set_context_actions([many, None, one])
    menu = grid.build_context_menu()
    assert menu.actions()[0] is many and one in menu.actions()
    many.trigger()
    assert triggered == [[2, 3, 4, 11, 12]]


def test_column_widths_order_and_filter_survive_a_new_grid(qtbot):
    _model, grid, _ = make_grid(qtbot, n=10, key="remembered")
    grid.setColumnWidth(0, 211)
    grid.horizontalHeader().moveSection(2, 0)
    grid.filter_edit.setText("name b")
    grid.apply_filter()
    grid.save_layout()
    _, again, _ = make_grid(qtbot, n=10, key="remembered")
    assert again.columnWidth(0) == 211
    assert again.horizontalHeader().logicalIndex(0) == 2
    assert again.filter_edit.text() == "name b" and again.proxy.rowCount() == 2
    again.reset_layout()
    assert again.horizontalHeader().logicalIndex(0) == 0 and again.proxy.rowCount() == 10
    assert again.styleSheet().count("selection-background-color: #2e7d32") >= 1


def test_enter_and_double_click_activate_the_row_and_delete_does_nothing(qtbot):
    model, grid, _ = make_grid(qtbot, n=5)
    grid.setFocus()
    grid.setCurrentIndex(grid.proxy.index(2, 0))
    with qtbot.waitSignal(grid.id_activated) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert blocker.args == [3]
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert model.rowCount() == 5


def test_copying_a_large_selection_runs_off_the_gui_thread(qtbot):
    _model, grid, _ = make_grid(qtbot, n=20_000, key="big_copy")
    first = grid.visualRect(grid.proxy.index(0, 0)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=first)   # the user clicks into the grid
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    # The key press returned before the copy was built: the worker is still to deliver it.
    assert grid.copy_worker is not None
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().count("\n") == 20_001, timeout=30_000)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0] == "Number\tName\tAmount"
    assert lines[1].startswith("N000001\t") and lines[-1].startswith("N020000\t")
