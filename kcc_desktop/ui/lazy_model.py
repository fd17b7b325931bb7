"""The lazy id-based table model and its proxy (the model half of ``grid.py``; import from there).

Why ids: a 100,000-row grid must cost a list of ints, not 100,000 Python objects. The model holds the
ids in display order and fetches rows into a cache the first time ``data()`` asks, a chunk at a time.
Sorting reorders the id list (a subclass re-runs its query or fetches one key per id in one query);
filtering asks the model once for the set of matching ids, and the model itself shows only those (a
Python ``filterAcceptsRow`` on a proxy costs 60 ms per 100,000 rows on every reset). The queries live in
``kcc_desktop.views``; a model only says which to call and how a row looks.

Never a stall: a model with ``load_in_background = True`` loads, sorts and filters on a worker thread
(``worker.Worker``); the GUI thread only swaps the finished id list in (a few milliseconds for 100,000
rows). Requests that arrive while one runs are merged into the next job, so the grid always ends in the
state last asked for. ``loaded`` is emitted after every change of rows; ``is_loading`` says one is due.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from shiboken6 import isValid

from .worker import Worker

SORT_ROLE = Qt.ItemDataRole.UserRole + 1     # typed key: Decimal, date, int or str, never display text
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2   # the text a filter word is matched against
ID_ROLE = Qt.ItemDataRole.UserRole + 3       # the row's id

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TEXT_ROLES = (_DISPLAY, int(Qt.ItemDataRole.AccessibleTextRole))
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
RowT = TypeVar("RowT")
ColT = TypeVar("ColT", bound=IntEnum)

_ROOT = QModelIndex()   # "no parent": a table's rows all hang off the invisible root

# Background loads asked for while a window is being built wait for its first paint (``hold_loads`` /
# ``release_loads``, called by the main window): their worker threads would otherwise compete for the GIL
# with the building and painting of the window, and a 100,000-row file would open seconds later. Other
# work that can wait (reading the sign-in from the keyring) goes there too: ``after_first_paint``.
_held: list[Callable[[], None]] | None = None


def hold_loads() -> None:
    global _held
    if _held is None:
        _held = []


def after_first_paint(fn: Callable[[], None]) -> None:
    """Run ``fn`` with the held loads once the window has painted (at once when nothing is held)."""
    if _held is None:
        fn()
    else:
        _held.append(fn)


def release_loads() -> None:
    global _held
    held, _held = _held, None
    for start in held or []:
        start()
Fetch = Callable[[Sequence[int]], Mapping[int, Any]]


def _none_safe(value: Any) -> tuple[bool, Any]:
    """Blanks sort first and never compare with values (None < Decimal would raise)."""
    return (value is not None, value if value is not None else 0)


def order_by_keys(ids: Iterable[int], keys: Mapping[int, Any], descending: bool) -> list[int]:
    """Sort an id list by one typed key per id, e.g. a dict from a single ``SELECT id, gross ...``."""
    return sorted(ids, key=lambda i: _none_safe(keys.get(i)), reverse=descending)


def in_order_of(ordered: Sequence[int], ids: Sequence[int]) -> list[int]:
    """``ids`` in the order of ``ordered`` (every id, ordered by a query): a sort neither adds rows loaded
    since nor drops any; ids the query no longer has (deleted meanwhile) go last."""
    wanted = set(ids)
    out = [i for i in ordered if i in wanted]
    if len(out) != len(wanted):
        seen = set(out)
        out += [i for i in ids if i not in seen]
    return out


@dataclass
class _Outcome(Generic[RowT]):
    """What a job worked out, so that the GUI thread only swaps it in: the ids in order, the filter's
    matches, the ids shown with their rows' positions, and the rows of the first screen."""

    all_ids: list[int]
    matching: set[int] | None
    shown: list[int]
    row_of: dict[int, int] | None    # None: built when first asked (a swap on the GUI thread)
    rows: Mapping[int, RowT | None]


@dataclass
class _Request:
    """What the next job must do: re-read the ids, order them, match the filter (any or all)."""

    reload: bool = False
    sort: bool = False
    filter: bool = False

    def merge(self, other: _Request) -> None:
        self.reload |= other.reload
        self.sort |= other.sort
        self.filter |= other.filter


class LazyTableModel(QAbstractTableModel, Generic[RowT, ColT]):
    """A table over a list of ids with a row cache filled in chunks by ``fetch(ids) -> {id: row}``.

    ``RowT`` is what ``fetch_rows`` returns per id (a NamedTuple from ``views``), ``ColT`` the IntEnum of
    the columns, from 0."""

    Columns: type[ColT]
    headers: ClassVar[Mapping[int, str]] = {}
    column_widths: ClassVar[Mapping[int, int]] = {}   # default widths in pixels (layout reset goes back to these)
    CHUNK = 500
    PREFETCH = 120    # rows read with a job's result: the screen the view shows next, so its paint reads none
    load_in_background: ClassVar[bool] = False   # load, sort and filter on a worker thread (big tables)
    cache_texts: ClassVar[bool] = False   # display() depends on the row alone: keep its texts per row

    loaded = Signal()        # the rows changed (a load, sort or filter was applied)

    def __init__(self, fetch: Callable[[Sequence[int]], Mapping[int, RowT]] | None = None, parent=None) -> None:
        super().__init__(parent)
        self._fetch: Callable[[Sequence[int]], Mapping[int, RowT]] = fetch or self.fetch_rows
        self._all: list[int] = []                     # every id, in display order
        self._ids: list[int] = []                     # the ids shown: ``_all`` matching the filter
        self._matching: set[int] | None = None        # None: no filter
        self._filter = ""
        self._row_of: dict[int, int] | None = None
        self.view_top = 0                             # the first row the view shows (GridView keeps it)
        self._cache: dict[int, RowT | None] = {}
        self._sort: tuple[int, bool] | None = None   # (column, descending)
        self.generation = 0                           # bumps on every reset
        self._sorted_generation = -1
        self._job: Worker | None = None
        self._wanted: _Request | None = None          # asked for while a job ran: the next job's work
        self._held: _Request | None = None            # asked for while loads are held (see hold_loads)
        self.loads = 0                                # loads applied (tests wait on it)
        self._texts: dict[int, tuple[RowT, tuple[str, ...]]] = {}   # id -> (row, display texts), see data()
        self._columns: list[ColT] = list(self.Columns)
        self._alignments = [self._alignment_answer(c) for c in self._columns]
        self._answers = self._role_answers()

    # -- what a subclass provides -------------------------------------------------------------------
    def fetch_rows(self, ids: Sequence[int]) -> Mapping[int, RowT]:
        raise NotImplementedError("pass fetch= or override fetch_rows")

    def load_ids(self) -> list[int]:
        """The ids in natural order; ``reload()`` calls it (on a worker thread if ``background``)."""
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
        keys from one query. ``None`` sorts the rows by ``sort_key`` (fine for small grids). Runs on a
        worker thread for a ``load_in_background`` model: only queries, no model state."""
        return None

    def matching_ids(self, text: str) -> set[int] | None:
        """Override for big tables with an SQL LIKE; ``None`` matches ``filter_text`` row by row."""
        return None

    # -- public API -------------------------------------------------------------------------------------
    def set_ids(self, ids: Iterable[int]) -> None:
        """Replace the rows now, on this thread (a model fed by its owner). Keeps the sort and the filter."""
        all_ids = list(ids)
        if self._sort is not None:
            all_ids = self._ordered(all_ids, self._sort, self._fetch_for_keys)
        matching = self._match(self._filter, all_ids, self._fetch_for_keys) if self._filter else None
        self._apply(self._outcome(all_ids, matching, None), clear_cache=True)

    def reload(self) -> None:
        """Read the ids again (a ``load_in_background`` model does it on a worker thread; see ``loaded``)."""
        self._request(_Request(reload=True, sort=self._sort is not None, filter=bool(self._filter)))

    def set_filter(self, text: str) -> None:
        """Show only rows containing every word of ``text`` ("" shows them all)."""
        text = text.strip()
        if text == self._filter:
            return
        self._filter = text
        if not text:
            self._apply(self._outcome(self._all, None, None), clear_cache=False)
            return
        self._request(_Request(filter=True))

    @property
    def filter_text_now(self) -> str:
        return self._filter

    @property
    def is_loading(self) -> bool:
        return self._job is not None or self._wanted is not None or self._held is not None

    def forget_sort(self) -> None:
        """Back to the natural order at the next reload (View → Reset layout)."""
        self._sort = None

    def ids(self) -> list[int]:
        """The ids shown, in display order (the model's own list: do not modify)."""
        return self._ids

    def unfiltered_count(self) -> int:
        return len(self._all)

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

    def cached_rows(self, ids: Sequence[int]) -> list[RowT | None] | None:
        """The rows for ``ids`` (None for one gone) if every one is cached, reading nothing; else None."""
        cache = self._cache
        return [cache[i] for i in ids] if all(i in cache for i in ids) else None

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
            self._texts.clear()
            if self._ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(self.Columns) - 1))
            return
        for id_ in ids:
            self._cache.pop(id_, None)
            self._texts.pop(id_, None)
            r = self.row_of(id_)
            if r is not None:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.Columns) - 1))

    def ids_matching(self, text: str) -> set[int]:
        """Every id whose row contains all the words of ``text`` (case-insensitive)."""
        return self._match(text, self._all, self._fetch_for_keys)

    # -- Qt model ---------------------------------------------------------------------------------------
    def _alignment_answer(self, column: ColT) -> int | None:
        align = self.alignment(column)
        return int(align | Qt.AlignmentFlag.AlignVCenter) if align is not None else None

    def _role_answers(self) -> dict[int, Callable[[RowT, ColT], Any]]:
        """The row-based roles this model answers (those it overrides; the rest are None unasked)."""
        role = Qt.ItemDataRole
        methods: dict[int, str] = {
            SORT_ROLE: "sort_key", role.DecorationRole: "decoration", role.ForegroundRole: "foreground",
            role.BackgroundRole: "background", role.FontRole: "font", role.ToolTipRole: "tooltip"}
        answers: dict[int, Callable[[RowT, ColT], Any]] = {
            int(r): getattr(self, name) for r, name in methods.items()
            if name == "sort_key" or getattr(type(self), name) is not getattr(LazyTableModel, name)}
        answers[FILTER_ROLE] = lambda row, _column: self.filter_text(row)
        return answers

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

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

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        r = index.row()
        return self._value(r, index.column(), role) if 0 <= r < len(self._ids) else None

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """A view's delegate asks for every role of a cell at once (Qt 6): one call into Python per cell
        instead of seven. Each call takes the GIL anew, and behind a busy worker each take can wait, so a
        paint of 30 rows held the window 100 ms or more while Create & Allocate ran."""
        r, c = index.row(), index.column()
        inside = 0 <= r < len(self._ids)
        for role_data in _entries(roleDataSpan):
            # Every role is answered, None too: Qt's delegate hands in the span it filled for the last cell.
            value = self._value(r, c, role_data.role()) if inside else None
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)

    def _value(self, r: int, c: int, role: int) -> Any:
        # Asked for each visible cell and role on every paint: the roles a model leaves at their default
        # answer None without reading the row, and display texts are kept per row when ``cache_texts``
        # (a repaint of 100,000-row grids took 25-30 ms of the GUI thread, most of it here).
        if role in _TEXT_ROLES:
            row = self._row_at(r)
            if row is None:
                return None
            if not self.cache_texts:
                return self.display(row, self._columns[c])
            id_ = self._ids[r]
            kept = self._texts.get(id_)
            if kept is None or kept[0] is not row:   # a row read again is a new object: texts made anew
                kept = (row, tuple(self.display(row, col) for col in self._columns))
                self._texts[id_] = kept
            return kept[1][c]
        if role == ID_ROLE:
            return self._ids[r]
        if role == _ALIGNMENT:
            return self._alignments[c]
        answer = self._answers.get(role)
        if answer is None:
            return None
        row = self._row_at(r)
        return None if row is None else answer(row, self._columns[c])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.Columns):
            return
        wanted = (column, order == Qt.SortOrder.DescendingOrder)
        if wanted == self._sort and (self._sorted_generation == self.generation or self._job is not None):
            return   # QTableView.sortByColumn asks twice; the rows are (or are being put) in this order
        self._sort = wanted
        self._request(_Request(sort=True))

    # -- internals ----------------------------------------------------------------------------------------
    def _fetch_for_keys(self, ids: Sequence[int]) -> Mapping[int, RowT]:
        """Rows to sort or filter by, without touching the cache (this may run on a worker thread)."""
        out: dict[int, RowT] = {}
        for start in range(0, len(ids), self.CHUNK * 4):
            out.update(self._fetch(ids[start:start + self.CHUNK * 4]))
        return out

    def _ordered(self, ids: list[int], spec: tuple[int, bool], fetch: Fetch) -> list[int]:
        col = self.Columns(spec[0])
        ordered = self.sorted_ids(ids, col, spec[1])
        if ordered is None:
            rows = fetch(ids)
            keys = {i: (self.sort_key(r, col) if r is not None else None) for i, r in rows.items()}
            ordered = order_by_keys(ids, keys, spec[1])
        return list(ordered)

    def _match(self, text: str, ids: Sequence[int], fetch: Fetch) -> set[int]:
        found = self.matching_ids(text)
        if found is not None:
            return found
        words = text.lower().split()
        rows = fetch(ids)
        return {i for i, row in rows.items()
                if row is not None and all(w in self.filter_text(row).lower() for w in words)}

    def _request(self, request: _Request) -> None:
        if self._job is not None:
            if self._wanted is None:
                self._wanted = request
            else:
                self._wanted.merge(request)
            return
        if not self.load_in_background:
            self._apply(self._compute(request, list(self._all), self._sort, self._filter, self._matching,
                                      self._fetch_for_keys, None), clear_cache=request.reload)
            self._sorted_generation = self.generation if request.sort else self._sorted_generation
            return
        self._start(request)

    def _compute(self, request: _Request, base: list[int], sort: tuple[int, bool] | None, text: str,
                 matching: set[int] | None, fetch: Fetch, top: int | None) -> _Outcome[RowT]:
        """The new id list, filter matches and first screen: queries only, no model state (runs on a
        worker thread). ``top``: the view's first row, whose screen is read now (None: none)."""
        ids = self.load_ids() if request.reload else base
        if sort is not None and (request.sort or request.reload):
            ids = self._ordered(ids, sort, fetch)
        if not text:
            matching = None
        elif request.filter or request.reload or matching is None:
            matching = self._match(text, ids, fetch)
        return self._outcome(ids, matching, top)

    def _outcome(self, ids: list[int], matching: set[int] | None, top: int | None) -> _Outcome[RowT]:
        """``top`` None: on the GUI thread, so no map and no rows ahead (they come when asked)."""
        shown = ids if matching is None else [i for i in ids if i in matching]
        if top is None:
            return _Outcome(ids, matching, shown, None, {})
        first = shown[top:top + self.PREFETCH]
        got = self.fetch_uncached(first) if first else {}
        return _Outcome(ids, matching, shown, {i: r for r, i in enumerate(shown)}, {i: got.get(i) for i in first})

    def _start(self, request: _Request) -> None:
        if self._held is not None:
            self._held.merge(request)
            return
        if _held is not None:
            self._held = request
            _held.append(self._start_held)
            return
        base, sort, text, matching = list(self._all), self._sort, self._filter, self._matching
        fetch, top = self._fetch_for_keys, self.view_top

        def job(_progress: Callable[[int, int, str], None], _cancel: threading.Event) -> Any:
            return self._compute(request, base, sort, text, matching, fetch, top)

        worker = Worker(job, owner=self)
        worker.finished.connect(lambda result: self._on_job_finished(request, result))
        worker.done.connect(lambda w=worker: self._on_job_done(w))
        self._job = worker
        worker.start()

    def _start_held(self) -> None:
        request, self._held = self._held, None
        if request is not None and isValid(self):
            self._request(request)

    def _on_job_finished(self, request: _Request, result: _Outcome[RowT]) -> None:
        if self._wanted is not None and self._wanted.reload and not request.reload:
            return   # a reload follows at once: skip showing an order of ids about to be replaced
        if self._wanted is None:
            self._job = None   # nothing more is due: listeners of ``loaded`` see the model settled
        self._apply(result, clear_cache=request.reload)
        if request.sort:
            self._sorted_generation = self.generation

    def _on_job_done(self, worker: Worker) -> None:
        if self._job is not worker:   # already settled (see _on_job_finished), or a newer job runs
            return
        self._job = None
        wanted, self._wanted = self._wanted, None
        if wanted is not None:
            self._start(wanted)

    def _apply(self, outcome: _Outcome[RowT], *, clear_cache: bool) -> None:
        """Swap the outcome in: nothing here costs more than a few assignments (the GUI thread)."""
        if outcome.matching is not None and not self._filter:
            # The filter was cleared while the job ran (rare): show every row.
            outcome = _Outcome(outcome.all_ids, None, outcome.all_ids, None, outcome.rows)
        self.beginResetModel()
        self._all = outcome.all_ids
        self._matching = outcome.matching
        self._ids = outcome.shown
        if clear_cache:
            self._cache = dict(outcome.rows)
            self._texts.clear()
        else:
            self._cache.update(outcome.rows)
        self._row_of = outcome.row_of
        self.generation += 1
        self.endResetModel()
        self.loads += 1
        self.loaded.emit()

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


class _IndexedSpan(Protocol):
    """What PySide6's QModelRoleDataSpan answers at run time (its stubs list neither method)."""

    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> QModelRoleData: ...


def _entries(span: QModelRoleDataSpan | QModelRoleData) -> list[QModelRoleData]:
    if isinstance(span, QModelRoleData):
        return [span]
    indexed = cast(_IndexedSpan, span)
    return [indexed[i] for i in range(len(indexed))]


class GridProxy(QSortFilterProxyModel):
    """Passes the model through one to one: the model filters and sorts its own ids (in SQL, off the GUI
    thread for big tables). Kept as a proxy so views, selections and callers keep one API."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._source: LazyTableModel[Any, Any] | None = None
        self.setDynamicSortFilter(False)

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        if not isinstance(model, LazyTableModel):
            raise TypeError("GridProxy shows a LazyTableModel")
        self._source = model
        super().setSourceModel(model)

    @property
    def filter_text(self) -> str:
        return self._source.filter_text_now if self._source is not None else ""

    @property
    def is_filtering(self) -> bool:
        return bool(self.filter_text)

    def set_filter_text(self, text: str) -> None:
        if self._source is not None:
            self._source.set_filter(text)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        # QSortFilterProxyModel would ask the source role by role; the source answers a cell in one call.
        if self._source is not None:
            self._source.multiData(self.mapToSource(index), roleDataSpan)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source re-orders its ids (a query), far cheaper than the proxy comparing 100k rows.
        if self._source is not None:
            self._source.sort(column, order)
