"""The Export tab's three grids: Pending Export, Exported Successfully and Error Feedback.

Each grid's model holds ids only; rows, sort keys and filter matches come from here, one SQL query each
(IN lists in chunks), so 100,000 rows open, sort and filter without building 100,000 objects. Ids come
straight off the connection as plain ints (through the ORM they cost four times as much).

Everything is the connection's target's (package and organisation): after switching to QuickBooks the
grids show what QuickBooks has had and what it still needs, never Xero's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import IntEnum
from typing import Any, NamedTuple

from sqlalchemy import Select, String, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from ..models import ExportFeedback, ExportItem, ExportStatus, FeedbackSource, ItemType, MatchState, UTCDateTime
from ..store import Store
from ..sync.target import Target, read_target
from .common import amount_text, chunked, has_digit, like_patterns, read_ids

TYPE_LABELS = {t.value: t.label for t in ItemType}


def type_label(item_type: str) -> str:
    return TYPE_LABELS.get(item_type, item_type)


def _type_label_sql(column: Any) -> ColumnElement[str]:
    """The item type as the grid names it, in SQL: sorting and filtering see what the user sees."""
    return case(*((column == t.value, t.label) for t in ItemType), else_=column)


# --- Pending Export ------------------------------------------------------------------------------------

class PendingCol(IntEnum):
    TYPE = 0
    REFERENCE = 1
    COMPANY = 2
    DATE = 3
    AMOUNT = 4
    CURRENCY = 5
    PRECHECK = 6
    QUEUED = 7


class PendingRow(NamedTuple):
    id: int
    item_type: str
    reference: str
    company: str
    date: date | None
    amount: Decimal | None
    currency: str
    precheck: str
    queued_at: datetime
    action: str


# --- Exported Successfully -----------------------------------------------------------------------------

class ExportedCol(IntEnum):
    TYPE = 0
    REFERENCE = 1
    COMPANY = 2
    EXPORTED = 3
    NUMBER = 4
    REMOTE_ID = 5
    HOW = 6
    CONFIRMED = 7     # the green "seen" tick: the rightmost column


class ExportedRow(NamedTuple):
    id: int
    item_type: str
    reference: str
    company: str
    exported_at: datetime | None
    number: str
    remote_id: str
    confirmed: bool
    manual: bool
    matched: bool = False   # linked to a record the package already had ("matched existing"), not created


_PENDING_SORT: dict[PendingCol, Any] = {
    PendingCol.TYPE: _type_label_sql(ExportItem.item_type), PendingCol.REFERENCE: ExportItem.reference,
    PendingCol.COMPANY: func.lower(ExportItem.company_name), PendingCol.DATE: ExportItem.doc_date,
    PendingCol.AMOUNT: ExportItem.amount, PendingCol.CURRENCY: ExportItem.currency,
    PendingCol.PRECHECK: ExportItem.precheck, PendingCol.QUEUED: ExportItem.queued_at}
_EXPORTED_SORT: dict[ExportedCol, Any] = {
    ExportedCol.CONFIRMED: ExportItem.confirmed, ExportedCol.TYPE: _type_label_sql(ExportItem.item_type),
    ExportedCol.REFERENCE: ExportItem.reference, ExportedCol.COMPANY: func.lower(ExportItem.company_name),
    ExportedCol.EXPORTED: ExportItem.exported_at, ExportedCol.NUMBER: ExportItem.remote_number,
    ExportedCol.REMOTE_ID: ExportItem.remote_id, ExportedCol.HOW: ExportItem.marked_manually}


def _target_filter(target: Target) -> ColumnElement[bool]:
    return and_(ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id)


class _ExportItems:
    """The export items of one status: ids, sort keys and filter matches (rows: the subclasses)."""

    status: ExportStatus

    def __init__(self, store: Store) -> None:
        self.store = store

    def _mine(self, s: Any) -> ColumnElement[bool]:
        return and_(_target_filter(read_target(s)), ExportItem.status == self.status)

    def _natural(self) -> list[Any]:
        """The grid's own order: oldest queued first (pending), newest sent first (exported)."""
        if self.status == ExportStatus.PENDING:
            return [ExportItem.id]
        return [ExportItem.exported_at.desc(), ExportItem.id]

    def ids(self) -> list[int]:
        with self.store.session() as s:
            return read_ids(s.connection(), select(ExportItem.id).where(self._mine(s)).order_by(*self._natural()))

    def _ordered_ids(self, key: Any, descending: bool) -> list[int]:
        """Every id ordered by ``key`` in SQL (ints only: no Decimal or datetime is built per row), blanks
        first going up and last going down; ties in the grid's own order."""
        by = key.desc().nulls_last() if descending else key.asc().nulls_first()
        with self.store.session() as s:
            q = select(ExportItem.id).where(self._mine(s)).order_by(by, *self._natural())
            return read_ids(s.connection(), q)

    def matching(self, text: str) -> set[int]:
        """Ids whose type, reference, company, currency, pre-check, package number or id, date or amount
        contains every word of ``text``."""
        conditions = []
        for like in like_patterns(text):
            options = [func.lower(ExportItem.reference).like(like), func.lower(ExportItem.company_name).like(like),
                       func.lower(_type_label_sql(ExportItem.item_type)).like(like),
                       func.lower(ExportItem.currency).like(like), func.lower(ExportItem.precheck).like(like),
                       func.lower(ExportItem.remote_number).like(like), func.lower(ExportItem.remote_id).like(like),
                       cast(ExportItem.doc_date, String).like(like)]
            if has_digit(like):
                options.append(amount_text(ExportItem.amount).like(like))
            conditions.append(or_(*options))
        with self.store.session() as s:
            return set(read_ids(s.connection(), select(ExportItem.id).where(self._mine(s), and_(*conditions))))


class PendingExport(_ExportItems):
    """Pending Export: what the package has not been told yet, oldest first."""

    status = ExportStatus.PENDING

    def rows(self, ids: Sequence[int]) -> dict[int, PendingRow]:
        out: dict[int, PendingRow] = {}
        q = select(ExportItem.id, ExportItem.item_type, ExportItem.reference, ExportItem.company_name,
                   ExportItem.doc_date, ExportItem.amount, ExportItem.currency, ExportItem.precheck,
                   ExportItem.queued_at, ExportItem.action)
        with self.store.session() as s:
            for chunk in chunked(ids):
                for row in s.execute(q.where(ExportItem.id.in_(chunk))):
                    out[row.id] = PendingRow(*row)
        return out

    def ordered_ids(self, column: PendingCol, descending: bool) -> list[int]:
        """Every pending id ordered by ``column`` (amounts as numbers, dates as dates)."""
        return self._ordered_ids(_PENDING_SORT[column], descending)


class ExportedItems(_ExportItems):
    """Exported Successfully: what went (or was marked by hand), newest first."""

    status = ExportStatus.EXPORTED

    def rows(self, ids: Sequence[int]) -> dict[int, ExportedRow]:
        out: dict[int, ExportedRow] = {}
        q = select(ExportItem.id, ExportItem.item_type, ExportItem.reference, ExportItem.company_name,
                   ExportItem.exported_at, ExportItem.remote_number, ExportItem.remote_id, ExportItem.confirmed,
                   ExportItem.marked_manually, ExportItem.match_state)
        with self.store.session() as s:
            for chunk in chunked(ids):
                for r in s.execute(q.where(ExportItem.id.in_(chunk))):
                    out[r.id] = ExportedRow(r.id, r.item_type, r.reference, r.company_name, r.exported_at,
                                            r.remote_number, r.remote_id, bool(r.confirmed), bool(r.marked_manually),
                                            r.match_state == MatchState.MATCHED)
        return out

    def ordered_ids(self, column: ExportedCol, descending: bool) -> list[int]:
        return self._ordered_ids(_EXPORTED_SORT[column], descending)


# --- Error Feedback ------------------------------------------------------------------------------------

class FeedbackCol(IntEnum):
    WHEN = 0        # last seen
    ITEM = 1
    MESSAGE = 2
    ADVICE = 3
    COUNT = 4
    STATE = 5


class FeedbackRow(NamedTuple):
    id: int
    at: datetime                 # last seen
    item: str
    message: str
    advice: str
    nominal_code: str
    export_item_id: int | None
    times: int
    first_seen: datetime
    resolved_at: datetime | None
    source: str                  # FeedbackSource: the package's words, or KCC's own finding

    @property
    def from_kcc(self) -> bool:
        return self.source == FeedbackSource.KCC


last_seen = type_coerce(func.coalesce(ExportFeedback.last_seen_at, ExportFeedback.at), UTCDateTime())
_FEEDBACK_SORT: dict[FeedbackCol, Any] = {
    FeedbackCol.WHEN: last_seen, FeedbackCol.ITEM: func.lower(ExportFeedback.item_label),
    FeedbackCol.MESSAGE: func.lower(ExportFeedback.message), FeedbackCol.ADVICE: func.lower(ExportFeedback.advice),
    FeedbackCol.COUNT: ExportFeedback.count, FeedbackCol.STATE: ExportFeedback.resolved_at}


class FeedbackLog:
    """Error Feedback for the connection's target, last seen first: open problems only, unless
    ``show_resolved``; optionally only from ``date_from`` to ``date_to`` (local days, by last seen)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.date_from: date | None = None
        self.date_to: date | None = None
        self.show_resolved = False

    def _scope(self, s: Any, q: Select[Any]) -> Select[Any]:
        target = read_target(s)
        mine = select(ExportItem.id).where(_target_filter(target))
        q = q.where(or_(ExportFeedback.export_item_id.is_(None), ExportFeedback.export_item_id.in_(mine)))
        if not self.show_resolved:
            q = q.where(ExportFeedback.resolved_at.is_(None))
        if self.date_from is not None:
            q = q.where(last_seen >= datetime.combine(self.date_from, time.min).astimezone(UTC))
        if self.date_to is not None:
            q = q.where(last_seen <= datetime.combine(self.date_to, time.max).astimezone(UTC))
        return q

    def ids(self) -> list[int]:
        with self.store.session() as s:
            q = self._scope(s, select(ExportFeedback.id)).order_by(last_seen.desc(), ExportFeedback.id.desc())
            return list(s.connection().execute(q).scalars())

    def rows(self, ids: Sequence[int]) -> dict[int, FeedbackRow]:
        out: dict[int, FeedbackRow] = {}
        f = ExportFeedback
        q = select(f.id, last_seen.label("last"), f.item_label, f.message, f.advice, f.nominal_code,
                   f.export_item_id, f.count, f.at, f.resolved_at, f.source)
        with self.store.session() as s:
            for chunk in chunked(ids):
                for r in s.execute(q.where(f.id.in_(chunk))).tuples():
                    out[r[0]] = FeedbackRow(r[0], r[1] or r[8], r[2], r[3], r[4], r[5], r[6], r[7] or 1, r[8], r[9],
                                            r[10])
        return out

    def sort_keys(self, column: FeedbackCol) -> dict[int, Any]:
        with self.store.session() as s:
            q = self._scope(s, select(ExportFeedback.id, _FEEDBACK_SORT[column]))
            return dict(s.execute(q).tuples().all())

    def matching(self, text: str) -> set[int]:
        conditions = [or_(func.lower(ExportFeedback.item_label).like(like),
                          func.lower(ExportFeedback.message).like(like),
                          func.lower(ExportFeedback.advice).like(like),
                          func.lower(ExportFeedback.nominal_code).like(like))
                      for like in like_patterns(text)]
        with self.store.session() as s:
            return set(s.scalars(self._scope(s, select(ExportFeedback.id)).where(and_(*conditions))))


# --- the tab's counts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportCounts:
    pending: int
    exported: int
    feedback: int      # open problems


def export_counts(store: Store) -> ExportCounts:
    """How many rows each grid holds for the connection's target (for the grids' titles)."""
    with store.session() as s:
        target = read_target(s)
        q = (select(ExportItem.status, func.count()).where(_target_filter(target))
             .group_by(ExportItem.status))
        by_status = dict(s.execute(q).tuples().all())
    feedback = FeedbackLog(store)
    return ExportCounts(by_status.get(ExportStatus.PENDING, 0), by_status.get(ExportStatus.EXPORTED, 0),
                        len(feedback.ids()))
