"""The shared grid: a lazy id-based table model, a filter proxy and a QTableView that behaves the same everywhere.

A subclass of ``LazyTableModel`` sets ``Columns`` (an IntEnum from 0) and ``headers`` and implements
``fetch_rows(ids)`` and ``display(row, column)``; it may add ``sort_key``, ``decoration``,
``foreground``, ``tooltip``, and, for big tables, ``sorted_ids`` / ``matching_ids`` done in SQL.
``GridView(model, settings_key)`` shows it: green multi-selection, sorting, the filter box, a context
menu of shared QActions, Ctrl+C, remembered columns; selections are read from ranges.
The model half lives in ``lazy_model.py``; everything is importable from here. The SQL behind a grid
lives in ``kcc_desktop.views``, never here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QStyleOptionHeader,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..csv_cells import SafeCsvWriter, tsv_line
from ..sync.gil import gui_turn
from .lazy_model import (
    FILTER_ROLE,
    ID_ROLE,
    SORT_ROLE,
    Fetch,
    GridProxy,
    LazyTableModel,
    in_order_of,
    order_by_keys,
)
from .settings import UiSettings
from .worker import Worker

__all__ = ["FILTER_ROLE", "GREEN", "GRID_STYLE", "ID_ROLE", "SORT_ROLE", "Fetch", "GridHeader", "GridPanel",
           "GridProxy", "GridView", "LazyTableModel", "bind_button", "in_order_of", "order_by_keys", "plain_label",
           "selection_action"]

GREEN = "#2e7d32"
GRID_STYLE = (f"QTableView {{ selection-background-color: {GREEN}; selection-color: white; }}"
              f"QTableView:!active {{ selection-background-color: {GREEN}; selection-color: white; }}")


class GridHeader(QHeaderView):
    """A horizontal header that paints without asking the selection model about whole columns.

    Qt's own paintSection works out each section's "selected position" with isColumnSelected(), which
    visits every row: after Select All on 100,000 rows one repaint took ~1.5 s. We never highlight
    selected sections, so the style option is built without it.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setHighlightSections(False)
        self.setSectionsClickable(True)

    def paintSection(self, painter, rect, logical: int) -> None:
        if not rect.isValid():
            return
        opt = QStyleOptionHeader()
        self.initStyleOption(opt)
        opt.rect = rect
        opt.section = logical
        model = self.model()
        opt.text = str(model.headerData(logical, self.orientation(), Qt.ItemDataRole.DisplayRole) or "")
        align = model.headerData(logical, self.orientation(), Qt.ItemDataRole.TextAlignmentRole)
        opt.textAlignment = Qt.AlignmentFlag(align) if align is not None else self.defaultAlignment()
        opt.state |= QStyle.StateFlag.State_Raised | QStyle.StateFlag.State_Horizontal
        if self.isEnabled():
            opt.state |= QStyle.StateFlag.State_Enabled
        if self.window().isActiveWindow():
            opt.state |= QStyle.StateFlag.State_Active
        if self.isSortIndicatorShown() and self.sortIndicatorSection() == logical:
            # Qt's own convention: ascending draws the "down" indicator.
            opt.sortIndicator = (QStyleOptionHeader.SortIndicator.SortDown
                                 if self.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
                                 else QStyleOptionHeader.SortIndicator.SortUp)
        visual, count = self.visualIndex(logical), self.count() - self.hiddenSectionCount()
        opt.position = (QStyleOptionHeader.SectionPosition.OnlyOneSection if count == 1 else
                        QStyleOptionHeader.SectionPosition.Beginning if visual == 0 else
                        QStyleOptionHeader.SectionPosition.End if visual == self.count() - 1 else
                        QStyleOptionHeader.SectionPosition.Middle)
        opt.selectedPosition = QStyleOptionHeader.SelectedPosition.NotAdjacent
        self.style().drawControl(QStyle.ControlElement.CE_Header, opt, painter, self)


class GridView(QTableView):
    """The grid every tab uses. ``filter_edit`` is a QLineEdit for the tab to place (or use GridPanel)."""

    selection_changed = Signal()      # selection or rows changed: re-evaluate actions
    id_activated = Signal(int)        # double-click or Enter on a row

    def __init__(self, model: LazyTableModel[Any, Any], settings_key: str, parent=None, *,
                 name: str = "", settings: UiSettings | None = None) -> None:
        super().__init__(parent)
        self.source_model = model
        self.settings_key = settings_key
        self._settings = settings or UiSettings()
        self._context_actions: list[QAction | None] = []
        self._menu: QMenu | None = None
        self.copy_worker: Worker | None = None   # the background copy of a large selection, while it runs
        self.empty_text = ""                     # shown in an empty grid: what to do to fill it
        self._kept: tuple[list[int] | None, int | None] = (None, None)   # selection across a reset
        self._kept_all = False
        name = name or settings_key.replace("_", " ")
        self.setObjectName(f"grid_{settings_key}")
        self.setAccessibleName(f"{name} grid")

        self.setHorizontalHeader(GridHeader(self))
        self.proxy = GridProxy(self)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setStyleSheet(GRID_STYLE)
        vh = self.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)   # no per-row size hints on 100k rows
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        for column, width in model.column_widths.items():
            self.setColumnWidth(int(column), width)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)   # natural order until the user sorts
        self.setSortingEnabled(True)
        self._default_header = header.saveState()

        self.copy_action = QAction("&Copy selected rows", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.addAction(self.copy_action)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName(f"{name} filter")
        self._filter_timer = QTimer(self, singleShot=True, interval=200)   # one filter per pause in typing
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)

        self._save_timer = QTimer(self, singleShot=True, interval=300)
        self._save_timer.timeout.connect(self.save_layout)
        header.sectionResized.connect(lambda *_: self._save_timer.start())
        header.sectionMoved.connect(lambda *_: self._save_timer.start())
        header.sortIndicatorChanged.connect(lambda *_: self._save_timer.start())

        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self.on_context_menu_requested)
        self.doubleClicked.connect(self._on_double_clicked)
        self._intervals: list[tuple[int, int]] | None = None   # selected_intervals(), until the selection changes
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.proxy.modelAboutToBeReset.connect(self._forget_intervals)
        self.proxy.modelReset.connect(self._forget_intervals)
        self.proxy.layoutChanged.connect(self._forget_intervals)
        # The model reads the screen the view shows with a job's result, so a swap's repaint reads no rows.
        self.verticalScrollBar().valueChanged.connect(self._note_top_row)
        model.modelAboutToBeReset.connect(self._keep_selection)
        model.modelReset.connect(self._restore_selection)
        self.proxy.modelReset.connect(self.selection_changed.emit)
        self.proxy.layoutChanged.connect(lambda *_: self.selection_changed.emit())
        self.restore_layout()

    # -- layout memory --------------------------------------------------------------------------------------
    def restore_layout(self) -> None:
        state = self._settings.grid_header(self.settings_key)
        if state is not None:
            self.horizontalHeader().restoreState(state)
        text = self._settings.grid_filter(self.settings_key)
        if text:
            self.filter_edit.setText(text)
            self.apply_filter()

    def save_layout(self) -> None:
        # Saved now: a resize's timer still running would save this grid again later, over a layout another
        # window has saved since (a closed window's grid overwrote a Reset layout made after it).
        self._save_timer.stop()
        self._settings.set_grid_header(self.settings_key, self.horizontalHeader().saveState())
        self._settings.set_grid_filter(self.settings_key, self.proxy.filter_text)

    def reset_layout(self) -> None:
        """Back to the default column widths and order, natural row order, no filter."""
        self.horizontalHeader().restoreState(self._default_header)
        self.filter_edit.clear()
        self.apply_filter()
        model = self.source_model
        model.forget_sort()
        if type(model).load_ids is not LazyTableModel.load_ids:   # a model fed by set_ids() has nothing to reload
            model.reload()
        self.save_layout()

    # -- filter ------------------------------------------------------------------------------------------------
    def apply_filter(self) -> None:
        self._filter_timer.stop()
        text = self.filter_edit.text()
        if text.strip() != self.proxy.filter_text:
            self.proxy.set_filter_text(text)
            self.selection_changed.emit()
            self._save_timer.start()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # -- selection ---------------------------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        self._intervals = None
        self.selection_changed.emit()

    def _forget_intervals(self) -> None:
        self._intervals = None

    def _note_top_row(self) -> None:
        self.source_model.view_top = max(0, self.rowAt(0))

    def selected_intervals(self) -> list[tuple[int, int]]:
        """The selected view rows as merged (top, bottom) intervals, read from the selection's ranges
        (not selectedRows(), which builds an index per row: Select All on 100k rows stays cheap). Kept until
        the selection or the rows change: every action of the grid asks on each change."""
        if self._intervals is None:
            self._intervals = self._read_intervals()
        return list(self._intervals)

    def _read_intervals(self) -> list[tuple[int, int]]:
        merged: list[list[int]] = []
        selection = self.selectionModel().selection()
        ranges = (selection.at(i) for i in range(selection.count()))
        for top, bottom in sorted((r.top(), r.bottom()) for r in ranges):
            if merged and top <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], bottom)
            else:
                merged.append([top, bottom])
        return [(t, b) for t, b in merged]

    def selected_proxy_rows(self) -> list[int]:
        """Selected rows in view order."""
        return [r for top, bottom in self.selected_intervals() for r in range(top, bottom + 1)]

    def selected_count(self) -> int:
        return sum(b - t + 1 for t, b in self.selected_intervals())

    def selected_ids(self) -> list[int]:
        rows = self.selected_proxy_rows()
        ids = self.source_model.ids()
        if not self.proxy.is_filtering:   # the proxy neither sorts nor filters: rows map one to one
            return [ids[r] for r in rows]
        return [ids[self.proxy.mapToSource(self.proxy.index(r, 0)).row()] for r in rows]

    def select_ids(self, wanted: Iterable[int]) -> None:
        """Select the rows of these ids (for code and tests), in one selection change, as merged ranges."""
        model = self.source_model
        rows = sorted(r for r in (model.row_of(i) for i in set(wanted)) if r is not None)
        selection = QItemSelection()
        last = model.columnCount() - 1
        start = prev = None
        for r in [*rows, None]:
            if r is not None and prev is not None and r == prev + 1:
                prev = r
                continue
            if start is not None and prev is not None:
                selection.select(self.proxy.index(start, 0), self.proxy.index(prev, last))
            start = prev = r
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    # Up to this many selected rows are selected again after a reload, sort or filter (beyond it the
    # selection is kept only when it was every row).
    KEEP_SELECTION = 20_000

    def _keep_selection(self) -> None:
        count = self.selected_count()
        rows = self.source_model.rowCount()
        self._kept_all = bool(count) and count == rows
        if self._kept_all:
            self._kept = (None, self.current_id())
            return
        self._kept = (self.selected_ids() if 0 < count <= self.KEEP_SELECTION else [], self.current_id())

    def _restore_selection(self) -> None:
        ids, current = self._kept
        self._kept = (None, None)
        if self._kept_all:
            self._kept_all = False
            if self.source_model.rowCount():
                self.selectAll()
            return
        if ids:
            self.select_ids(ids)
        if current is not None:
            row = self.source_model.row_of(current)
            if row is not None:
                self.selectionModel().setCurrentIndex(self.proxy.index(row, 0),
                                                      QItemSelectionModel.SelectionFlag.NoUpdate)

    # -- an empty grid says what to do --------------------------------------------------------------------
    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.viewport().update()

    def paintEvent(self, event) -> None:
        with gui_turn():   # a paint calls data() hundreds of times: workers wait rather than contend
            super().paintEvent(event)
        model = self.source_model
        if model.rowCount() or not (self.empty_text or model.is_loading):
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        text = "Loading…" if model.is_loading else self.empty_text
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
        painter.end()

    def current_id(self) -> int | None:
        index = self.currentIndex()
        return self.proxy.data(index, ID_ROLE) if index.isValid() else None

    # -- copy --------------------------------------------------------------------------------------------------
    def visible_columns(self) -> list[int]:
        header = self.horizontalHeader()
        logical = [header.logicalIndex(v) for v in range(header.count())]
        return [c for c in logical if not header.isSectionHidden(c)]

    # Above this many rows a copy is built on a worker thread, so Ctrl+C never freezes the window.
    BACKGROUND_COPY_ROWS = 5_000

    def _tsv_header(self, columns: Sequence[int]) -> str:
        return tsv_line(self.source_model.headerData(c, Qt.Orientation.Horizontal) for c in columns)

    def selection_as_tsv(self, columns: Sequence[int] | None = None, with_headers: bool = True) -> str:
        model = self.source_model
        columns = list(columns) if columns is not None else self.visible_columns()
        lines = [self._tsv_header(columns)] if with_headers else []
        lines += _tsv_rows(model, model.rows_for(self.selected_ids()), columns)
        return "\n".join(lines) + "\n"

    def copy_selection(self) -> None:
        """Ctrl+C: the selected rows, tab-separated with headers. Large selections are read off the GUI
        thread (the rows come straight from the model's fetch, not its cache) and reach the clipboard
        when ready."""
        if not self.selectionModel().hasSelection():
            return
        ids = self.selected_ids()
        if len(ids) <= self.BACKGROUND_COPY_ROWS:
            QGuiApplication.clipboard().setText(self.selection_as_tsv())
            return
        model, columns = self.source_model, self.visible_columns()
        header, chunk = self._tsv_header(columns), model.CHUNK * 4

        def job(progress: Callable[[int, int, str], None], cancel: object) -> str:
            lines = [header]
            for start in range(0, len(ids), chunk):
                part = ids[start:start + chunk]
                got = model.fetch_uncached(part)
                lines += _tsv_rows(model, [got.get(i) for i in part], columns)
                progress(min(start + chunk, len(ids)), len(ids), "copying")
            return "\n".join(lines) + "\n"

        worker = Worker(job, owner=self)
        worker.finished.connect(lambda text: QGuiApplication.clipboard().setText(str(text)))
        worker.done.connect(self._on_copy_done)
        self.copy_worker = worker.start()

    def _on_copy_done(self) -> None:
        self.copy_worker = None

    # -- context menu ------------------------------------------------------------------------------------------
    def set_context_actions(self, actions: Sequence[QAction | None]) -> None:
        """The right-click menu: the same QAction objects as the tab's buttons (None = separator)."""
        self._context_actions = list(actions)

    def build_context_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setAccessibleName(f"{self.accessibleName()} menu")
        for action in self._context_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        if self._context_actions:
            menu.addSeparator()
        menu.addAction(self.copy_action)
        column_menu = menu.addMenu("Copy co&lumn")
        model = self.source_model
        for c in self.visible_columns():
            title = str(model.headerData(c, Qt.Orientation.Horizontal))
            act = column_menu.addAction(title)
            act.triggered.connect(lambda _=False, c=c: QGuiApplication.clipboard().setText(
                self.selection_as_tsv([c], with_headers=False)))
        column_menu.setEnabled(self.selectionModel().hasSelection())
        self.copy_action.setEnabled(self.selectionModel().hasSelection())
        return menu

    def on_context_menu_requested(self, pos) -> None:
        self._menu = self.build_context_menu()
        self._menu.popup(self.viewport().mapToGlobal(pos))

    # -- activation ---------------------------------------------------------------------------------------------
    def _on_double_clicked(self, index: QModelIndex) -> None:
        id_ = self.proxy.data(index, ID_ROLE)
        if id_ is not None:
            self.id_activated.emit(id_)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            # Always the whole selected rows with headers, never Qt's default of the current cell only.
            if self.copy_action.isEnabled():
                self.copy_selection()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._on_double_clicked(self.currentIndex())
            return
        super().keyPressEvent(event)


class GridPanel(QWidget):
    """A grid with its filter box above it (and an optional title and count), the usual layout."""

    def __init__(self, grid: GridView, parent=None, *, title: str = "") -> None:
        super().__init__(parent)
        self.grid = grid
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        top = self.top_row = QHBoxLayout()
        self.title_label = QLabel(title, self)   # a child already: shown without a parent it is a window of its own
        self.title_label.setStyleSheet("font-weight: bold;")
        self.title_label.setVisible(bool(title))
        top.addWidget(self.title_label)
        self.count_label = QLabel()
        self.count_label.setAccessibleName(f"{grid.accessibleName()} row count")
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(grid.filter_edit, 2)
        layout.addLayout(top)
        layout.addWidget(grid)
        grid.selection_changed.connect(self.update_count)
        grid.source_model.loaded.connect(self.update_count)
        self.update_count()

    def update_count(self) -> None:
        model = self.grid.source_model
        shown, total = model.rowCount(), model.unfiltered_count()
        selected = self.grid.selected_count()
        if model.is_loading and not total:
            self.count_label.setText("loading…")
            return
        text = f"{shown:,} of {total:,} rows" if shown != total else f"{total:,} rows"
        self.count_label.setText(text + (f", {selected:,} selected" if selected else ""))


def selection_action(grid: GridView, text: str, slot: Callable[[], Any], *, parent=None,
                     minimum: int = 1, maximum: int | None = None, shortcut: QKeySequence | str | None = None,
                     icon=None, tooltip: str = "", enabled_if: Callable[[GridView], bool] | None = None) -> QAction:
    """A QAction enabled only while the grid's selection has ``minimum..maximum`` rows (and ``enabled_if``)."""
    action = QAction(text, parent or grid)
    if icon is not None:
        action.setIcon(icon)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tooltip:
        action.setToolTip(tooltip)
        action.setStatusTip(tooltip)
    action.triggered.connect(lambda _=False: slot())

    def update() -> None:
        n = grid.selected_count()
        ok = n >= minimum and (maximum is None or n <= maximum)
        action.setEnabled(ok and (enabled_if is None or enabled_if(grid)))

    grid.selection_changed.connect(update)
    update()
    return action


def plain_label(text: str) -> str:
    """An action's text as a person reads it: "&&" is an ampersand, a lone "&" marks the mnemonic."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def bind_button(button, action: QAction) -> None:
    """A push button that mirrors a QAction (one enabled state, one tooltip) and triggers it."""
    button.setAccessibleName(plain_label(action.text()))
    button.setToolTip(action.toolTip())
    button.clicked.connect(action.trigger)
    action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
    button.setEnabled(action.isEnabled())


def _tsv_rows(model: LazyTableModel[Any, Any], rows: Iterable[Any], columns: Sequence[int]) -> list[str]:
    """Copied rows: a cell a spreadsheet would run as a formula is pasted as text (``csv_cells``)."""
    return [tsv_line(model.display(row, model.Columns(c)) for c in columns) for row in rows if row is not None]


def export_grid_csv(grid: GridView, path: Path) -> int:
    """Every row the grid shows (filtered, in its order), visible columns in their order, as safe CSV cells;
    returns how many rows were written."""
    model = grid.source_model
    columns = grid.visible_columns()
    proxy = grid.proxy
    ids = model.ids() if not proxy.is_filtering else [
        model.id_at(proxy.mapToSource(proxy.index(r, 0)).row()) for r in range(proxy.rowCount())]
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = SafeCsvWriter(f)
        out.writerow([model.headerData(c, Qt.Orientation.Horizontal) for c in columns])
        for start in range(0, len(ids), 2000):
            for row in model.rows_for(ids[start:start + 2000]):
                if row is not None:
                    out.writerow([model.display(row, model.Columns(c)) for c in columns])
                    written += 1
    return written
