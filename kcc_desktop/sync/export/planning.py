"""The plan of one upload, made as it goes: the selection in rounds, each round's items plus what they
depend on, in phases, dependencies first.

An invoice needs its customer and its stock items in the package; an allocation needs its invoice. What
the package already has (a ``RemoteLink`` in the target's organisation, or a row marked exported by hand)
is not queued again. Why rounds: planning 100,000 rows at once took 11-12 s before the first request left;
a round of a few hundred is planned in milliseconds, so the first request leaves at once and the rest is
planned while earlier batches are on the wire. Set-based (a few queries per 500 items).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ...models import Allocation, Document, DocumentLine, ExportItem, ExportStatus, ItemType, RemoteLink, StockItem
from ..gil import chunks, yield_gil
from ..queue import ensure_queued
from ..target import Target
from .rules import DOC_TYPES, PHASES

ObjectKey = tuple[str, int]     # (item type, ledger object id)

FIRST_ROUND = 250      # small, so the first request leaves within moments of Upload Data
ROUND = 5000           # then bigger: fewer part-filled batches at round ends
_PHASE_OF = {t.value: n for n, types in enumerate(PHASES) for t in types}
# A selection this big is read by one pass over the target's pending rows rather than IN lists.
_SCAN_OVER = 2000
_SCAN_SLICE = 1000   # rows a fetch: the waiting window thread gets the GIL between fetches, not rows


@dataclass
class Plan:
    phases: list[list[int]]                                  # export item ids, phase by phase
    deps: dict[int, list[int]] = field(default_factory=dict)  # item id -> the item ids it needs first
    # Remote ids of the companies and stock items the package has ("" when marked exported by hand).
    links: dict[ObjectKey, str] = field(default_factory=dict)
    item_codes: dict[int, str] = field(default_factory=dict)  # stock item id -> code

    @property
    def total(self) -> int:
        return sum(len(p) for p in self.phases)


class Planner:
    """Plans one upload round by round. ``plan`` (shared with the run's outcomes) keeps the links, the
    stock codes and every dependency found so far; ``planned`` every item any round has taken, so an item
    is sent once per run however many rounds need it."""

    def __init__(self, s: Session, target: Target, ids: list[int]) -> None:
        self.target = target
        self.plan = Plan(phases=[], links=known_links(s, target),
                         item_codes=dict(s.execute(select(StockItem.id, StockItem.code)).tuples().all()))
        self.selection = _selected(s, target, ids)          # id -> object key, pending ones only
        self.queued: dict[ObjectKey, int] = {v: k for k, v in self.selection.items()}
        self.planned: set[int] = set()

    def rounds(self) -> Iterator[list[int]]:
        """The selection in phase order (companies, stock items, documents, allocations), a round at a time."""
        # By phase, then id. Bucketed, not sorted by (phase, id) tuples: sorting 100,000 tuples compares
        # in C without letting go of the GIL, a stall of the window's thread at the start of an upload.
        phase = _PHASE_OF.get
        buckets: dict[int, list[int]] = {}
        for i, (item_type, _o) in self.selection.items():
            buckets.setdefault(phase(item_type, 9), []).append(i)
        ordered: list[int] = []
        for n in sorted(buckets):
            ordered += sorted(buckets[n])
            yield_gil()
        size, start = FIRST_ROUND, 0
        while start < len(ordered):
            yield ordered[start:start + size]
            start += size
            size = ROUND

    def plan_round(self, s: Session, ids: list[int]) -> list[list[int]]:
        """This round's items not yet taken plus what they need (queued now if need be), in phases."""
        items = {i: self.selection[i] for i in ids if i not in self.planned}
        todo = dict(items)
        while todo:
            needs = _needs(s, self.target, todo)
            todo = {}
            for item_id, wanted in needs.items():
                for dep in wanted:
                    if dep[0] in (ItemType.COMPANY, ItemType.STOCK_ITEM) and dep in self.plan.links:
                        continue
                    dep_id = self.queued.get(dep)
                    if dep_id is None:
                        dep_id = ensure_queued(s, self.target, dep[0], dep[1])
                        if dep_id is None:
                            continue
                        self.queued[dep] = dep_id
                        self.selection.setdefault(dep_id, dep)
                    if dep_id not in self.planned and dep_id not in items:
                        items[dep_id] = todo[dep_id] = dep
                    self.plan.deps.setdefault(item_id, []).append(dep_id)
        self.planned.update(items)
        return [sorted(i for i, (t, _o) in items.items() if t in types) for types in PHASES]


def _selected(s: Session, target: Target, ids: list[int]) -> dict[int, ObjectKey]:
    """The selected ids still pending for the target, with what each stands for."""
    base = select(ExportItem.id, ExportItem.item_type, ExportItem.object_id).where(
        ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
        ExportItem.status == ExportStatus.PENDING)
    out: dict[int, ObjectKey] = {}
    conn = s.connection()   # plain tuples: 100,000 rows without an ORM object each
    if len(ids) > _SCAN_OVER:
        # A slice at a time, the window's thread getting the GIL between them: one fetch of 100,000 rows
        # kept it waiting 50-80 ms at the start of an upload.
        wanted = set(ids)
        for part in conn.execute(base).tuples().partitions(_SCAN_SLICE):
            out.update({row_id: (t, o) for row_id, t, o in part if row_id in wanted})
            yield_gil()
        return out
    for chunk in chunks(ids):
        for row_id, item_type, object_id in conn.execute(base.where(ExportItem.id.in_(chunk))):
            out[row_id] = (item_type, object_id)
    return out


def known_links(s: Session, target: Target) -> dict[ObjectKey, str]:
    """Remote ids of the companies and stock items the package has (links), and items marked by hand."""
    links: dict[ObjectKey, str] = {
        (t, o): r for t, o, r in s.execute(
            select(RemoteLink.object_type, RemoteLink.object_id, RemoteLink.remote_id)
            .where(RemoteLink.provider == target.provider, RemoteLink.tenant_id == target.tenant_id,
                   RemoteLink.object_type.in_([ItemType.COMPANY, ItemType.STOCK_ITEM])))}
    for t, o in s.execute(select(ExportItem.item_type, ExportItem.object_id).where(
            ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
            ExportItem.status == ExportStatus.EXPORTED,
            ExportItem.item_type.in_([ItemType.COMPANY, ItemType.STOCK_ITEM]))):
        links.setdefault((t, o), "")   # marked by hand: there, id unknown
    return links


def _needs(s: Session, target: Target, items: dict[int, ObjectKey]) -> dict[int, list[ObjectKey]]:
    """What each item needs in the package before it can go."""
    out: dict[int, list[ObjectKey]] = {}
    docs = {o: i for i, (t, o) in items.items() if t in DOC_TYPES}
    allocs = {o: i for i, (t, o) in items.items() if t == ItemType.PREPAYMENT_ALLOCATION}
    conn = s.connection()
    for chunk in chunks(sorted(docs)):
        for doc_id, company_id in conn.execute(select(Document.id, Document.company_id)
                                               .where(Document.id.in_(chunk))):
            yield_gil()
            out.setdefault(docs[doc_id], []).append((ItemType.COMPANY.value, company_id))
        for doc_id, stock_id in conn.execute(
                select(DocumentLine.document_id, DocumentLine.stock_item_id).distinct()
                .where(DocumentLine.document_id.in_(chunk), DocumentLine.stock_item_id.is_not(None))
                .order_by(DocumentLine.document_id, DocumentLine.stock_item_id)):
            yield_gil()
            out.setdefault(docs[doc_id], []).append((ItemType.STOCK_ITEM.value, stock_id))
    # An allocation needs its invoice in the package: one query per chunk tells which are not there yet.
    linked = and_(RemoteLink.provider == target.provider, RemoteLink.tenant_id == target.tenant_id,
                  RemoteLink.object_type == Document.kind, RemoteLink.object_id == Document.id)
    for chunk in chunks(sorted(allocs)):
        rows = conn.execute(select(Allocation.id, Document.id, Document.kind, RemoteLink.id)
                            .join(Document, Document.id == Allocation.document_id)
                            .outerjoin(RemoteLink, linked).where(Allocation.id.in_(chunk)))
        for alloc_id, doc_id, kind, link_id in rows:
            yield_gil()
            if link_id is None:
                out.setdefault(allocs[alloc_id], []).append((kind, doc_id))
    return out
