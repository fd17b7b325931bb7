"""The lazy id-based table model and its filter proxy (the model half of ``grid.py``; import from there).

Why ids: a 100,000-row grid must cost a list of ints, not 100,000 Python objects. The model holds the
ids in display order and fetches rows into a cache the first time ``data()`` asks, a chunk at a time.
Sorting reorders the id list (a subclass re-runs its query or fetches one key per id in one query);
filtering asks the model once for the set of matching ids. The queries themselves live in
``kcc_desktop.views``; a model only says which to call and how a row looks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1     # typed key: Decimal, date, int or str, never display text
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2   # the text a filter word is matched against
ID_ROLE = Qt.ItemDataRole.UserRole + 3       # the row's id

Index = QModelIndex | QPersistentModelIndex
RowT = TypeVar("RowT")
ColT = TypeVar("ColT", bound=IntEnum)

_ROOT = QModelIndex()   # "no parent": a table's rows all hang off the invisible root
Fetch = Callable[[Sequence[int]], Mapping[int, Any]]


def _none_safe(value: Any) -> tuple[bool, Any]:
    """Blanks sort first and never compare with values (None < Decimal would raise)."""
    return (value is not None, value if value is not None else 0)


def order_by_keys(ids: Iterable[int], keys: Mapping[int, Any], descending: bool) -> list[int]:
    """Sort an id list by one typed key per id, e.g. a dict from a single ``SELECT id, gross ...``."""
    return sorted(ids, key=lambda i: _none_safe(keys.get(i)), reverse=descending)


class LazyTableModel(QAbstractTableModel, Generic[RowT, ColT]):
    """A table over a list of ids with a row cache filled in chunks by ``fetch(ids) -> {id: row}``.

    ``RowT`` is what ``fetch_rows`` returns per id (a NamedTuple from ``views``), ``ColT`` the IntEnum of
    the columns, from 0."""

    Columns: type[ColT]
    headers: ClassVar[Mapping[int, str]] = {}
    column_widths: ClassVar[Mapping[int, int]] = {}   # default widths in pixels (layout reset goes back to these)
    CHUNK = 500

    def __init__(self, fetch: Callable[[Sequence[int]], Mapping[int, RowT]] | None = None, parent=None) -> None:
        super().__init__(parent)
        self._fetch: Callable[[Sequence[int]], Mapping[int, RowT]] = fetch or self.fetch_rows
        self._ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._cache: dict[int, RowT | None] = {}
        self._sort: tuple[int, bool] | None = None   # (column, descending)
        self.generation = 0                           # bumps on every reset; the proxy re-filters on change
        self._sorted_generation = -1

    # -- what a subclass provides -------------------------------------------------------------------
    def fetch_rows(self, ids: Sequence[int]) -> Mapping[int, RowT]:
        raise NotImplementedError("pass fetch= or override fetch_rows")

    def load_ids(self) -> list[int]:
        """The ids in natural order; ``reload()`` calls it."""
        raise NotImplementedError

    def display(self, row: RowT, column: ColT) -> str:
        raise NotImplementedError

    def sort_key(self, row: RowT, column: ColT) -> Any:
        return self.display(row, column)

    def filter_text(self, row: RowT) -> str:
        return " ".join(self.display(row, c) for c in self.Columns)

    def decoration(self, row: RowT, column: ColT) -> Any:
        return None

    def foreground(self, row: RowT, column: ColT) -> Any:
        return None

    def background(self, row: RowT, column: ColT) -> Any:
        return None

    def font(self, row: RowT, column: ColT) -> Any:
        return None

    def tooltip(self, row: RowT, column: ColT) -> str | None:
        return None

    def alignment(self, column: ColT) -> Qt.AlignmentFlag | None:
        return None

    def sorted_ids(self, ids: list[int], column: ColT, descending: bool) -> list[int] | None:
        """Override for big tables: re-run the query ordered by the column, or ``order_by_keys`` with
        keys from one query. ``None`` sorts the cached rows by ``sort_key`` (fine for small grids)."""
        return None

    def matching_ids(self, text: str) -> set[int] | None:
        """Override for big tables with an SQL LIKE; ``None`` matches ``filter_text`` row by row."""
        return None

    # -- public API -------------------------------------------------------------------------------------
    def set_ids(self, ids: Iterable[int]) -> None:
        """Replace the rows (a reload). Keeps the current sort."""
        self.beginResetModel()
        self._ids = list(ids)
        self._cache.clear()
        self._row_of = None
        if self._sort is not None:
            self._apply_sort(*self._sort)
        self.generation += 1
        self.endResetModel()

    def reload(self) -> None:
        self.set_ids(self.load_ids())

    def forget_sort(self) -> None:
        """Back to the natural order at the next reload (View → Reset layout)."""
        self._sort = None

    def ids(self) -> list[int]:
        """The ids in display order (the model's own list: do not modify)."""
        return self._ids

    def id_at(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, id_: int) -> int | None:
        if self._row_of is None:
            self._row_of = {i: r for r, i in enumerate(self._ids)}
        return self._row_of.get(id_)

    def row_data(self, id_: int) -> RowT | None:
        """The cached row for an id (fetched if needed); None when it no longer exists."""
        if id_ not in self._cache:
            self._fill([id_])
        return self._cache.get(id_)

    def rows_for(self, ids: Sequence[int]) -> list[RowT | None]:
        missing = [i for i in ids if i not in self._cache]
        for start in range(0, len(missing), self.CHUNK * 4):
            self._fill(missing[start:start + self.CHUNK * 4])
        return [self._cache.get(i) for i in ids]

    def fetch_uncached(self, ids: Sequence[int]) -> Mapping[int, RowT]:
        """Rows straight from the query, bypassing (and not filling) the cache: safe on a worker thread."""
        return self._fetch(ids)

    def invalidate(self, ids: Iterable[int] | None = None) -> None:
        """Rows changed in the database: drop them from the cache and repaint them."""
        if ids is None:
            self._cache.clear()
            if self._ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(self.Columns) - 1))
            return
        for id_ in ids:
            self._cache.pop(id_, None)
            r = self.row_of(id_)
            if r is not None:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.Columns) - 1))

    def ids_matching(self, text: str) -> set[int]:
        """Every id whose row contains all the words of ``text`` (case-insensitive)."""
        found = self.matching_ids(text)
        if found is not None:
            return found
        words = text.lower().split()
        rows = self.rows_for(self._ids)
        return {i for i, row in zip(self._ids, rows, strict=True)
                if row is not None and all(w in self.filter_text(row).lower() for w in words)}

    # -- Qt model ---------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.Columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.Columns):
            return None
        column = self.Columns(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers.get(column, column.name.replace("_", " ").title())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = self.alignment(column)
            return int(align | Qt.AlignmentFlag.AlignVCenter) if align is not None else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        column = self.Columns(index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = self.alignment(column)
            return int(align | Qt.AlignmentFlag.AlignVCenter) if align is not None else None
        row = self._row_at(index.row())
        if row is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.display(row, column)
        if role == SORT_ROLE:
            return self.sort_key(row, column)
        if role == FILTER_ROLE:
            return self.filter_text(row)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.decoration(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.background(row, column)
        if role == Qt.ItemDataRole.FontRole:
            return self.font(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.Columns):
            return
        wanted = (column, order == Qt.SortOrder.DescendingOrder)
        if wanted == self._sort and self._sorted_generation == self.generation:
            return   # QTableView.sortByColumn asks twice; the rows are already in this order
        self.beginResetModel()
        self._sort = wanted
        self._apply_sort(*self._sort)
        self.generation += 1
        self._sorted_generation = self.generation
        self.endResetModel()

    # -- internals ----------------------------------------------------------------------------------------
    def _apply_sort(self, column: int, descending: bool) -> None:
        col = self.Columns(column)
        ordered = self.sorted_ids(self._ids, col, descending)
        if ordered is None:
            rows = dict(zip(self._ids, self.rows_for(self._ids), strict=True))
            keys = {i: (self.sort_key(r, col) if r is not None else None) for i, r in rows.items()}
            ordered = order_by_keys(self._ids, keys, descending)
        self._ids = list(ordered)
        self._row_of = None

    def _row_at(self, r: int) -> RowT | None:
        id_ = self._ids[r]
        if id_ not in self._cache:
            # Fetch the neighbourhood too: the view asks for the rows around the one on screen next.
            start = max(0, r - self.CHUNK // 4)
            self._fill([i for i in self._ids[start:start + self.CHUNK] if i not in self._cache])
        return self._cache.get(id_)

    def _fill(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        got = self._fetch(ids)
        for i in ids:
            self._cache[i] = got.get(i)   # None: deleted since the id list was loaded


class GridProxy(QSortFilterProxyModel):
    """Filters by a set of ids the model computes once per filter text; sorting is the model's own."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self._matching: set[int] = set()
        self._generation: int | None = None
        self._source: LazyTableModel[Any, Any] | None = None
        self.setDynamicSortFilter(False)

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        if not isinstance(model, LazyTableModel):
            raise TypeError("GridProxy shows a LazyTableModel")
        self._source = model
        super().setSourceModel(model)

    @property
    def filter_text(self) -> str:
        return self._text

    @property
    def is_filtering(self) -> bool:
        return bool(self._text)

    def set_filter_text(self, text: str) -> None:
        self.beginFilterChange()   # Qt 6.10's replacement for invalidateRowsFilter()
        self._text = text.strip()
        self._generation = None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        src = self._source
        if not self._text or src is None:
            return True
        if self._generation != src.generation:
            self._matching = src.ids_matching(self._text)
            self._generation = src.generation
        return src.id_at(source_row) in self._matching

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source re-orders its ids (a query), far cheaper than the proxy comparing 100k rows.
        if self._source is not None:
            self._source.sort(column, order)
