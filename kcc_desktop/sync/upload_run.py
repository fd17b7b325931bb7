"""One Upload Data run: plan (dependencies first), then phase by phase, recovery first, then fresh batches
with a few requests in flight. The rules are described in ``exporter.py``; this is their machinery.

Threads: the run's own thread owns the session; pipeline threads only call the package (plain payloads
in, plain Results out). Results are saved in the order the batches were sent.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..connectors.provider import Provider
from ..connectors.base import (
    AccountingPackage,
    ConnectionRequired,
    ConnectorError,
    MalformedResponse,
    RateLimited,
    Result,
    TransientError,
    ValidationFailed,
)
from ..models import (
    Allocation,
    Company,
    Document,
    DocumentLine,
    ExportFeedback,
    ExportItem,
    ExportStatus,
    ItemType,
    RemoteLink,
    StockItem,
    utcnow,
)
from . import payloads as pl
from .advice import advice_for
from .exporter import (
    _SENT_KEYS,
    BATCH_FAMILY,
    DOC_TYPES,
    PHASES,
    PIPELINE,
    RATE_RETRIES,
    REPLAY_WINDOW,
    TRANSIENT_RETRIES,
    ExportService,
    Progress,
    StopRun,
    Summary,
    _chunks,
    lookup,
    save_link,
    yield_gil,
)
from .queue import ensure_queued


@dataclass
class _Batch:
    items: dict[int, ExportItem]
    sendable: list[int]
    payloads: list
    key: str
    item_type: str
    replay: bool



class UploadRun:
    """One upload: plan, then phase by phase, recovery first, then fresh batches."""

    def __init__(self, service: ExportService, package: AccountingPackage, progress: Progress,
                 cancel: threading.Event) -> None:
        self.svc = service
        self.store = service.store
        self.package = package
        self.provider = package.provider
        self.pkg_name = Provider.label_of(package.provider, short=True)
        self.progress = progress
        self.cancel = cancel
        self.summary = Summary()
        self.failed: dict[int, str] = {}     # item id -> reason (failed or held this run)
        self.deps: dict[int, list[int]] = {}
        self.done = 0
        self.total = 0
        self.salt = service.key_salt()

    # --- the plan -------------------------------------------------------------------------------------

    def execute(self, ids: list[int]) -> Summary:
        started = getattr(self.package, "request_count", 0)
        with self.store.session() as s:
            phases = self._plan(s, ids)
            s.commit()
            self.total = sum(len(p) for p in phases)
            self._report("Starting")
            self.ctx = pl.PayloadContext.load(self.store, self.provider)
            try:
                for phase in phases:
                    if self.cancel.is_set():
                        self.summary.cancelled = True
                        break
                    self._phase(s, phase)
            except StopRun as exc:
                self.summary.stopped = str(exc)
            self.summary.pending = s.scalar(select(func.count()).select_from(ExportItem).where(
                ExportItem.status == ExportStatus.PENDING)) or 0
        self.summary.requests = getattr(self.package, "request_count", 0) - started
        self._report(self.summary.text)
        return self.summary

    def _report(self, text: str) -> None:
        self.progress(self.done, self.total, text)

    def _plan(self, s: Session, ids: list[int]) -> list[list[int]]:
        """Selected pending items plus what they depend on, split into phases in dependency order.

        Set-based (a few queries per 500 items), so planning 100,000 documents takes seconds, not minutes.
        """
        items: dict[int, tuple[str, int]] = {}
        for chunk in _chunks(ids):
            for row in s.execute(select(ExportItem.id, ExportItem.item_type, ExportItem.object_id)
                                 .where(ExportItem.id.in_(chunk), ExportItem.status == ExportStatus.PENDING)):
                items[row.id] = (row.item_type, row.object_id)
        self._load_known(s)
        queued: dict[tuple[str, int], int] = {v: k for k, v in items.items()}
        todo = dict(items)
        while todo:
            needs = self._needs(s, todo)
            todo = {}
            for item_id, wanted in needs.items():
                for dep in wanted:
                    if dep[0] in (ItemType.COMPANY, ItemType.STOCK_ITEM) and dep in self.links:
                        continue
                    dep_id = queued.get(dep)
                    if dep_id is None:
                        dep_id = ensure_queued(s, dep[0], dep[1])
                        if dep_id is None:
                            continue
                        queued[dep] = dep_id
                        items[dep_id] = todo[dep_id] = dep
                    self.deps.setdefault(item_id, []).append(dep_id)
        return [sorted(i for i, (t, _o) in items.items() if t in types) for types in PHASES]

    def _load_known(self, s: Session) -> None:
        """Remote ids of the companies and stock items the package has (links), and items marked by hand."""
        self.links: dict[tuple[str, int], str] = {
            (t, o): r for t, o, r in s.execute(
                select(RemoteLink.object_type, RemoteLink.object_id, RemoteLink.remote_id)
                .where(RemoteLink.provider == self.provider,
                       RemoteLink.object_type.in_([ItemType.COMPANY, ItemType.STOCK_ITEM])))}
        for t, o in s.execute(select(ExportItem.item_type, ExportItem.object_id).where(
                ExportItem.status == ExportStatus.EXPORTED,
                ExportItem.item_type.in_([ItemType.COMPANY, ItemType.STOCK_ITEM]))):
            self.links.setdefault((t, o), "")   # marked by hand: there, id unknown
        self.item_codes = dict(s.execute(select(StockItem.id, StockItem.code)).all())

    def _needs(self, s: Session, items: dict[int, tuple[str, int]]) -> dict[int, list[tuple[str, int]]]:
        out: dict[int, list[tuple[str, int]]] = {}
        docs = {o: i for i, (t, o) in items.items() if t in DOC_TYPES}
        allocs = {o: i for i, (t, o) in items.items() if t == ItemType.PREPAYMENT_ALLOCATION}
        doc_ids = sorted(docs)
        for chunk in _chunks(doc_ids):
            for doc_id, company_id in s.execute(select(Document.id, Document.company_id).where(Document.id.in_(chunk))):
                yield_gil()
                out.setdefault(docs[doc_id], []).append((ItemType.COMPANY.value, company_id))
            for doc_id, stock_id in s.execute(
                    select(DocumentLine.document_id, DocumentLine.stock_item_id).distinct()
                    .where(DocumentLine.document_id.in_(chunk), DocumentLine.stock_item_id.is_not(None))
                    .order_by(DocumentLine.document_id, DocumentLine.stock_item_id)):
                yield_gil()
                out.setdefault(docs[doc_id], []).append((ItemType.STOCK_ITEM.value, stock_id))
        for chunk in _chunks(sorted(allocs)):
            rows = s.execute(select(Allocation.id, Document.id, Document.kind)
                             .join(Document, Document.id == Allocation.document_id).where(Allocation.id.in_(chunk)))
            for alloc_id, doc_id, kind in rows:
                yield_gil()
                if pl.remote_link(s, self.provider, kind, doc_id) is None:
                    out.setdefault(allocs[alloc_id], []).append((kind, doc_id))
        return out

    # --- one phase ------------------------------------------------------------------------------------

    def _phase(self, s: Session, ids: list[int]) -> None:
        ready = []
        for item_id in ids:
            blocked = [d for d in self.deps.get(item_id, []) if d in self.failed]
            if blocked:
                self._hold(s, item_id, blocked[0])
            else:
                ready.append(item_id)
        s.commit()
        unknown = {}
        fresh = []
        for chunk in _chunks(ready):
            for row in s.execute(select(ExportItem.id, ExportItem.attempt_key, ExportItem.attempt_at)
                                 .where(ExportItem.id.in_(chunk))):
                if row.attempt_key:
                    unknown.setdefault(row.attempt_key, []).append((row.id, row.attempt_at))
                else:
                    fresh.append(row.id)
        for key, members in unknown.items():
            fresh += self._recover(s, key, sorted(i for i, _ in members), min(a for _, a in members))
        # One request per batch: sales invoices and bills share Xero's /Invoices, credit notes of both
        # sides /CreditNotes; anything else is one type per batch.
        types: dict[str, list[int]] = {}
        for chunk in _chunks(sorted(fresh)):
            for row in s.execute(select(ExportItem.id, ExportItem.item_type).where(ExportItem.id.in_(chunk))):
                types.setdefault(BATCH_FAMILY.get(row.item_type, row.item_type), []).append(row.id)
        size = max(1, int(getattr(self.package, "batch_size", 50)))
        batches = [sorted(types[t])[start:start + size] for t in sorted(types)
                   for start in range(0, len(types[t]), size)]
        self._send_pipelined(s, batches)

    def _recover(self, s: Session, key: str, ids: list[int], attempt_at) -> list[int]:
        """Items whose last attempt's outcome was never saved. Returns those that must be sent afresh."""
        kind = s.scalar(select(ExportItem.item_type).where(ExportItem.id == ids[0]))
        recent = attempt_at is not None and self.svc.clock() - attempt_at < REPLAY_WINDOW
        # Replay only keys this process sent (after a restart the package may have restarted too), except
        # payments, which cannot be looked up: for them the key is the only guard.
        if recent and (key in _SENT_KEYS or kind == ItemType.PREPAYMENT_ALLOCATION):
            if self._send_batch(s, ids, key=key, replay=True):
                return []
        # The package may have forgotten the key: look each object up before creating it again.
        again = []
        for item_id in ids:
            item = s.get(ExportItem, item_id)
            if item is None or item.status != ExportStatus.PENDING:
                continue
            try:
                hit = lookup(s, self.package, item)
            except ConnectionRequired as exc:
                raise StopRun(str(exc)) from None
            except ConnectorError as exc:
                self._fail(s, item_id, [str(exc)], keep_key=True)
                continue
            if hit is not None:
                self._succeed(s, item, Result(key=str(item_id), ok=True, remote_id=hit[0], remote_number=hit[1]))
            elif item.item_type == ItemType.PREPAYMENT_ALLOCATION:
                self._fail(s, item_id, ["The last upload of this allocation was interrupted and it cannot be "
                                        f"looked up in {self.pkg_name}."], keep_key=True,
                           advice=f"Check the invoice's payments in {self.pkg_name}: if the payment is there, "
                                  "Mark as Exported; if not, Mark as Exported is wrong; contact support.")
            else:
                item.attempt_key = None
                again.append(item_id)
        s.commit()
        return again

    # --- one batch ------------------------------------------------------------------------------------

    def _send_batch(self, s: Session, ids: list[int], key: str | None, replay: bool = False) -> bool:
        """Builds, stores the key, sends, saves. Returns False when a replay must fall back to look-ups."""
        batch = self._prepare(s, ids, key, replay)
        if batch is None:
            return not replay   # a replay that cannot rebuild the same body falls back to look-ups
        try:
            results = self._call(batch.item_type, batch.payloads, batch.key)
        except StopRun:
            raise
        except ConnectorError as exc:
            return self._finish(s, batch, None, exc)
        return self._finish(s, batch, results, None)

    def _send_pipelined(self, s: Session, batches: list[list[int]]) -> None:
        """Fresh batches with up to ``pipeline`` requests in flight (the package allows several): while the
        package works on one, the next is built and its key stored. Results are saved in order."""
        depth = max(1, int(getattr(self.package, "pipeline", PIPELINE)))
        inflight: deque[tuple[_Batch, Future]] = deque()
        stop: StopRun | None = None
        with ThreadPoolExecutor(max_workers=depth, thread_name_prefix="kcc-upload") as pool:
            for n, ids in enumerate(batches):
                if stop is not None:
                    break
                if self.cancel.is_set():
                    self.summary.cancelled = True   # batches n.. stay pending, untouched
                    break
                batch = self._prepare(s, ids, None, False)
                if batch is not None:
                    inflight.append((batch, pool.submit(self._call, batch.item_type, batch.payloads, batch.key)))
                while len(inflight) >= depth or (inflight and inflight[0][1].done()):
                    stop = self._drain_one(s, inflight) or stop
            while inflight:
                stop = self._drain_one(s, inflight) or stop
        if stop is not None:
            raise stop

    def _drain_one(self, s: Session, inflight: deque) -> StopRun | None:
        batch, future = inflight.popleft()
        try:
            results = future.result()
        except StopRun as exc:
            self._clear_keys(s, batch)   # refused before it was processed (sign-in, daily limit)
            return exc
        except ConnectorError as exc:
            try:
                self._finish(s, batch, None, exc)
            except StopRun as stop:
                return stop
            return None
        self._finish(s, batch, results, None)
        return None

    def _clear_keys(self, s: Session, batch: _Batch) -> None:
        for i in batch.sendable:
            batch.items[i].attempt_key = None
        s.commit()

    def _prepare(self, s: Session, ids: list[int], key: str | None, replay: bool) -> _Batch | None:
        """Payloads built and the attempt key committed: after this, the request may leave."""
        items = {i.id: i for i in s.scalars(select(ExportItem).where(ExportItem.id.in_(ids)))}
        payloads, sendable = self._build(s, [items[i] for i in ids if i in items])
        if not sendable:
            s.commit()
            return None
        if replay and len(sendable) != len(ids):
            return None   # a different body under the same key would be refused
        if key is None:
            attempt = max(items[i].attempts for i in sendable) + 1
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kcc:{self.salt}:{','.join(map(str, sendable))}:{attempt}"))
            now = self.svc.clock()
            for i in sendable:
                items[i].attempt_key, items[i].attempt_at = key, now
                items[i].attempts += 1
            s.commit()   # the key is on disk before the request leaves
        # (A replay keeps the first attempt's time: the package's memory of the key started then.)
        _SENT_KEYS.add(key)
        return _Batch(items, sendable, [payloads[i] for i in sendable], key, items[sendable[0]].item_type, replay)

    def _finish(self, s: Session, batch: _Batch, results: list[Result] | None,
                error: ConnectorError | None) -> bool:
        """Saves one batch's outcome. Returns False when a replay must fall back to look-ups."""
        sendable = batch.sendable
        if isinstance(error, ValidationFailed):
            if batch.replay:
                return False
            for i in sendable:
                self._fail(s, i, error.messages)
        elif isinstance(error, (TransientError, MalformedResponse)):
            for i in sendable:   # outcome unknown: keep the key, the next run replays or looks up
                self._fail(s, i, [str(error)], keep_key=True,
                           advice="The connection failed while sending. Upload Data again: what arrived "
                                  "will be found, not created twice.")
            s.commit()
            raise StopRun(f"The connection to {self.pkg_name} failed ({error.message}). "
                          "Upload Data again when it is back; nothing will be created twice.")
        elif error is not None:
            for i in sendable:
                self._fail(s, i, [str(error)])
        else:
            if self.svc.after_send is not None:
                self.svc.after_send(list(sendable))
            by_key = {r.key: r for r in results}
            ok = [i for i in sendable if by_key.get(str(i)) is not None and by_key[str(i)].ok]
            with s.no_autoflush:
                links = self._existing_links(s, [batch.items[i] for i in ok])
                for i in sendable:
                    yield_gil()
                    result = by_key.get(str(i))
                    if result is not None and result.ok:
                        self._succeed(s, batch.items[i], result, links)
                    else:
                        self._fail(s, i, result.messages if result else
                                   [f"{self.pkg_name} did not answer for this item."])
        s.commit()
        self._step(len(sendable))
        return True

    def _call(self, item_type: str, payloads: list, key: str) -> list[Result]:
        """One request, retried with the same key after transient failures and minute limits."""
        transient = rate = 0
        while True:
            try:
                if item_type == ItemType.COMPANY:
                    return self.package.upsert_contacts(payloads, key)
                if item_type == ItemType.STOCK_ITEM:
                    return self.package.upsert_items(payloads, key)
                if item_type == ItemType.PREPAYMENT_ALLOCATION:
                    return self.package.create_payments(payloads, key)
                return self.package.create_documents(payloads, key)
            except ConnectionRequired as exc:
                raise StopRun(str(exc)) from None
            except RateLimited as exc:
                if exc.limit == "day" or rate >= RATE_RETRIES:
                    raise StopRun(str(exc)) from None
                rate += 1   # (no progress report here: this may run on a pipeline thread)
                self.cancel.wait(max(0.05, min(exc.retry_after, 120)))
            except TransientError:
                if transient >= TRANSIENT_RETRIES:
                    raise
                transient += 1
                time.sleep(0.2 * transient)

    def _build(self, s: Session, items: list[ExportItem]) -> tuple[dict[int, object], list[int]]:
        """Payloads by item id; an item that cannot be built gets its feedback now and is left out."""
        payloads: dict[int, object] = {}
        if not items:
            return payloads, []
        kind = items[0].item_type
        objects = self._load(s, kind, [i.object_id for i in items])
        for item in items:
            yield_gil()
            obj = objects.get(item.object_id)
            try:
                if obj is None:
                    raise pl.PayloadProblem("The ledger record no longer exists.",
                                            "Mark as Exported to clear it from the queue.")
                payloads[item.id] = self._payload(s, item, obj)
            except pl.PayloadProblem as exc:
                self._fail(s, item.id, [exc.message], advice=exc.advice, nominal_code=exc.nominal_code,
                           local=True)
                self._step(1)
        return payloads, [i.id for i in items if i.id in payloads]

    def _load(self, s: Session, kind: str, object_ids: list[int]) -> dict[int, object]:
        model = {ItemType.COMPANY: Company, ItemType.STOCK_ITEM: StockItem,
                 ItemType.PREPAYMENT_ALLOCATION: Allocation}.get(kind, Document)
        q = select(model).where(model.id.in_(object_ids))
        if model is Document:
            q = q.options(selectinload(Document.lines), selectinload(Document.company))
        return {o.id: o for o in s.scalars(q)}

    def _payload(self, s: Session, item: ExportItem, obj):
        key = str(item.id)
        if item.item_type in (ItemType.COMPANY, ItemType.STOCK_ITEM):
            remote_id = self.links.get((item.item_type, item.object_id)) or None
            if item.item_type == ItemType.COMPANY:
                return pl.contact_payload(self.ctx, obj, key, remote_id)
            return pl.item_payload(self.ctx, obj, key, remote_id)
        if item.item_type == ItemType.PREPAYMENT_ALLOCATION:
            inv = pl.remote_link(s, self.provider, obj.document.kind, obj.document_id)
            if inv is None:
                raise pl.PayloadProblem(f"Invoice {obj.document.number} is not in {self.pkg_name} yet.",
                                        "Upload the invoice first (select it too), then this allocation.")
            return pl.allocation_payload(self.ctx, obj, key, inv.remote_id)
        contact = self.links.get((ItemType.COMPANY.value, obj.company_id), "")
        # Lines carry an ItemCode only for items the package has (exported, or marked so by hand).
        codes = {l.stock_item_id: self.item_codes[l.stock_item_id] for l in obj.lines
                 if l.stock_item_id and (ItemType.STOCK_ITEM.value, l.stock_item_id) in self.links}
        return pl.document_payload(self.ctx, obj, key, contact, codes)

    # --- outcomes -------------------------------------------------------------------------------------

    def _existing_links(self, s: Session, items: list[ExportItem]) -> dict[int, RemoteLink]:
        """The batch's RemoteLinks that already exist (an update, a re-export), by export item id: one query."""
        wanted = {(i.item_type, i.object_id): i.id for i in items}
        if not wanted:
            return {}
        rows = s.scalars(select(RemoteLink).where(
            RemoteLink.provider == self.provider, RemoteLink.object_type.in_({t for t, _ in wanted}),
            RemoteLink.object_id.in_({o for _, o in wanted})))
        return {wanted[(r.object_type, r.object_id)]: r for r in rows if (r.object_type, r.object_id) in wanted}

    def _succeed(self, s: Session, item: ExportItem, result: Result,
                 links: dict[int, RemoteLink] | None = None) -> None:
        item.status = ExportStatus.EXPORTED
        item.exported_at = self.svc.clock()
        item.confirmed = True
        item.remote_id = result.remote_id
        item.remote_number = result.remote_number or item.reference
        if links is None:
            save_link(s, self.provider, item.item_type, item.object_id, result.remote_id, item.remote_number)
        elif item.id in links:
            link = links[item.id]
            link.remote_id, link.remote_number, link.linked_at = result.remote_id, item.remote_number, utcnow()
        else:
            s.add(RemoteLink(provider=self.provider, object_type=item.item_type, object_id=item.object_id,
                             remote_id=result.remote_id, remote_number=item.remote_number))
        if item.item_type in (ItemType.COMPANY, ItemType.STOCK_ITEM):
            self.links[(item.item_type, item.object_id)] = result.remote_id
        self.summary.exported += 1
        self.summary.exported_ids.append(item.id)
        if result.total is not None and item.amount is not None and result.total != item.amount:
            s.add(ExportFeedback(export_item_id=item.id, item_label=self._label(item),
                                 message=f"{self.pkg_name} shows a total of {result.total:.2f}; "
                                         f"the ledger's is {item.amount:.2f}.",
                                 advice=f"Check the document in {self.pkg_name} (Goto Document) and correct "
                                        "whichever side is wrong."))

    def _fail(self, s: Session, item_id: int, messages: list[str], *, advice: str = "", nominal_code: str = "",
              keep_key: bool = False, local: bool = False) -> None:
        item = s.get(ExportItem, item_id)
        message = "; ".join(m for m in messages if m) or f"{self.pkg_name} refused it without saying why."
        if not advice:
            found = advice_for(message, package=self.pkg_name, line_nominals=self._line_nominals(s, item))
            advice, nominal_code = found.text, found.nominal_code
        if not keep_key:
            item.attempt_key = None
        s.add(ExportFeedback(export_item_id=item_id, item_label=self._label(item), message=message,
                             advice=advice, nominal_code=nominal_code, at=self.svc.clock()))
        self.failed[item_id] = message
        self.summary.failed += 1
        self.summary.failed_ids.append(item_id)

    def _hold(self, s: Session, item_id: int, blocker_id: int) -> None:
        blocker = s.get(ExportItem, blocker_id)
        item = s.get(ExportItem, item_id)
        reason = self.failed[blocker_id]
        s.add(ExportFeedback(export_item_id=item_id, item_label=self._label(item),
                             message=f"Not sent: {self._label(blocker)} could not be uploaded ({reason}).",
                             advice=f"Fix {self._label(blocker)} first (see its feedback); this goes with it "
                                    "on the next Upload Data.", at=self.svc.clock()))
        self.failed[item_id] = f"held back by {self._label(blocker)}"
        self.summary.held += 1
        self._step(1)

    def _line_nominals(self, s: Session, item: ExportItem) -> list[tuple[str, str]]:
        if item.item_type not in DOC_TYPES:
            return []
        rows = s.execute(select(DocumentLine.nominal_id).where(DocumentLine.document_id == item.object_id)
                         .order_by(DocumentLine.line_no)).scalars()
        out = []
        for nominal_id in rows:
            code, name, _kind = self.ctx.nominals[nominal_id]
            if (code, name) not in out:
                out.append((code, name))
        return out

    @staticmethod
    def _label(item: ExportItem) -> str:
        return f"{ItemType(item.item_type).label} {item.reference}".strip()

    def _step(self, n: int) -> None:
        self.done += n
        self._report(f"{self.summary.exported:,} exported, {self.summary.failed + self.summary.held:,} with problems")
