"""One Upload Data run: round by round (the first small, so the first request leaves at once), each round
planned (dependencies first), then phase by phase, recovery first, then fresh batches with a few requests
in flight. The rules are in this package's docstring; this is their machinery.

Threads: the run's own thread owns the session; pipeline threads only call the package (plain payloads
in, plain Results out). Results are saved in the order the batches were sent.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...connectors.base import (
    AccountingPackage,
    ConnectorError,
    MalformedResponse,
    Result,
    TransientError,
    ValidationFailed,
    make_stamp,
)
from ...connectors.provider import Provider
from ...models import Allocation, Company, Document, ExportItem, ExportStatus, FeedbackSource, ItemType, StockItem
from ...store import Store
from .. import payloads as pl
from ..gil import chunks, yield_gil
from ..target import Target
from .claims import Claims
from .matching import follow_merged, match_existing, organisation_rules
from .outcomes import Outcomes
from .planning import Plan, Planner, known_links
from .recovery import Recovery
from .rules import BATCH_FAMILY, OTHERS_PATIENCE, PIPELINE, REPLAY_WINDOW, SENT_KEYS, Progress, StopRun, Summary
from .sending import Batch, call_package

log = logging.getLogger(__name__)


class UploadRun:
    """One upload: plan, then phase by phase, recovery first, then fresh batches."""

    def __init__(self, store: Store, package: AccountingPackage, progress: Progress, cancel: threading.Event, *,
                 target: Target, clock: Callable[[], datetime], salt: str,
                 after_send: Callable[[list[int]], None] | None = None) -> None:
        self.store = store
        self.target = target
        self.clock = clock
        self.salt = salt            # per company file, so two files never send the same idempotency key
        self.after_send = after_send
        self.package = package
        self.provider = package.provider
        self.pkg_name = Provider.label_of(package.provider, short=True)
        self.progress = progress
        self.cancel = cancel
        self.done = 0
        self.total = 0
        self.claims = Claims(store, clock)
        self.elsewhere: set[int] = set()    # items left to another desk this run

    # --- the run --------------------------------------------------------------------------------------

    def execute(self, ids: list[int]) -> Summary:
        started = getattr(self.package, "request_count", 0)
        self.began = self.clock()
        with self.store.session() as s:
            planner = Planner(s, self.target, ids)
            self.plan: Plan = planner.plan
            self.total = len(planner.selection)
            self.ctx = pl.PayloadContext.load(self.store, self.provider)
            self.out = Outcomes(self.target, self.pkg_name, self.clock, self.plan.links, self.ctx.nominals,
                                self._step)
            self.out.summary.selected_ids = set(planner.selection)
            self._report("Starting")
            log.info("Upload Data to %s: %d selected", self.pkg_name, len(ids))
            self.recovery = Recovery(self)
            try:
                with self.claims:
                    try:
                        for round_ids in planner.rounds():
                            if self.cancel.is_set():
                                self.out.summary.cancelled = True
                                break
                            phases = planner.plan_round(s, round_ids)
                            s.commit()
                            self.total = len(planner.selection)
                            for phase in phases:
                                if self.cancel.is_set():
                                    self.out.summary.cancelled = True
                                    break
                                self._phase(s, phase)
                    except BaseException:
                        s.rollback()   # its row locks go before the claims are let go
                        raise
            except StopRun as exc:
                s.rollback()
                self.out.summary.stopped = str(exc)
                self.out.summary.sign_in_needed = exc.sign_in
            self.out.summary.pending = s.scalar(select(func.count()).select_from(ExportItem).where(
                ExportItem.provider == self.target.provider, ExportItem.tenant_id == self.target.tenant_id,
                ExportItem.status == ExportStatus.PENDING)) or 0
        summary = self.out.summary
        summary.requests = getattr(self.package, "request_count", 0) - started
        self._report(summary.text)
        log.info("Upload Data to %s finished: %d exported, %d failed, %d held back, %d still pending (%d requests, "
                 "%d items with what they needed). %s", self.pkg_name, summary.exported, summary.failed, summary.held,
                 summary.pending, summary.requests, self.total, summary.text)
        return summary

    def _report(self, text: str) -> None:
        self.progress(self.done, self.total, text)

    def _step(self, n: int) -> None:
        self.done += n
        summary = self.out.summary
        self._report(f"{summary.exported:,} exported, {summary.failed + summary.held:,} with problems")

    # --- one phase ------------------------------------------------------------------------------------

    def _phase(self, s: Session, ids: list[int]) -> None:
        self._wait_for_others(s, {d for i in ids for d in self.plan.deps.get(i, []) if d in self.elsewhere})
        # What other desks exported since the plan was made: their companies and items are there now.
        self.plan.links.update(known_links(s, self.target))
        kind = s.scalar(select(ExportItem.item_type).where(ExportItem.id == ids[0])) if ids else None
        if kind not in (None, ItemType.COMPANY, ItemType.STOCK_ITEM) and self.ctx.rules is None:
            # Documents and allocations are checked against the organisation's settings (matching.py).
            self.ctx.rules = organisation_rules(self.store, self.package, self.began, self.clock)
            if self.ctx.rules is not None:
                follow_merged(s, self.target, self.ctx.rules, self.plan.links)
        ready = []
        for item_id in ids:
            deps = self.plan.deps.get(item_id, [])
            blocked = [d for d in deps if d in self.out.failed]
            if blocked:
                self.out.hold(s, item_id, blocked[0])
            elif any(d in self.elsewhere for d in deps):
                self._leave(item_id)   # what it needs is another desk's to send: so is this, for now
            else:
                ready.append(item_id)
        s.commit()
        mine = self.claims.take(ready)
        taken = self.claims.held_by_others(s, set(ready) - mine)
        for item_id in sorted(taken):
            self._leave(item_id)
        ready = [i for i in ready if i in mine]
        unknown: dict[str, list[tuple[int, datetime | None]]] = {}
        fresh = []
        for chunk in chunks(ready):
            for row in s.execute(select(ExportItem.id, ExportItem.attempt_key, ExportItem.attempt_at)
                                 .where(ExportItem.id.in_(chunk))):
                if row.attempt_key:
                    unknown.setdefault(row.attempt_key, []).append((row.id, row.attempt_at))
                else:
                    fresh.append(row.id)
        for key, members in unknown.items():
            times = [a for _, a in members if a is not None]
            fresh += self._recover(s, key, sorted(i for i, _ in members), min(times) if times else None)
        later: list[int] = []
        if kind in (ItemType.COMPANY, ItemType.STOCK_ITEM):   # what the package already has is linked, not sent
            fresh, later = match_existing(s, self.package, self.ctx, self.out, self.plan.links, fresh)
        self._send_fresh(s, fresh)
        while later:   # a second ledger record of a name just created: linked to that one (matching.py)
            fresh, later = match_existing(s, self.package, self.ctx, self.out, self.plan.links, later)
            self._send_fresh(s, fresh)

    def _send_fresh(self, s: Session, fresh: list[int]) -> None:
        types: dict[str, list[int]] = {}
        for chunk in chunks(sorted(fresh)):
            for item_id, item_type in s.execute(select(ExportItem.id, ExportItem.item_type)
                                                .where(ExportItem.id.in_(chunk))):
                types.setdefault(BATCH_FAMILY.get(ItemType(item_type), item_type), []).append(item_id)
        size = max(1, int(getattr(self.package, "batch_size", 50)))
        batches = [sorted(types[t])[start:start + size] for t in sorted(types)
                   for start in range(0, len(types[t]), size)]
        self._send_pipelined(s, batches)

    def _wait_for_others(self, s: Session, deps: set[int]) -> None:
        """What this phase needs that another desk is sending: wait (reading only) until that desk is done with
        it, or its claim lapses. Exported there: it is there for this desk too. Let go unsent: what needs it is
        held back, with that reason."""
        give_up = time.monotonic() + OTHERS_PATIENCE
        while deps and not self.cancel.is_set() and time.monotonic() < give_up:
            if not self.claims.held_by_others(s, deps):
                break
            s.rollback()   # a fresh snapshot next time (PostgreSQL), nothing held while waiting
            time.sleep(0.2)
        if not deps:
            return
        s.rollback()
        settled = set(s.scalars(select(ExportItem.id).where(ExportItem.id.in_(sorted(deps)),
                                                            ExportItem.status == ExportStatus.EXPORTED)))
        busy = self.claims.held_by_others(s, deps)
        for d in deps:
            if d in settled:
                self.elsewhere.discard(d)
            elif d not in busy:
                self.elsewhere.discard(d)
                self.out.failed[d] = "another desk did not upload it"

    def _leave(self, item_id: int) -> None:
        """Another desk is sending it, or something it needs: it stays pending, untouched, for that desk."""
        self.elsewhere.add(item_id)
        self.out.summary.elsewhere += 1
        self._step(1)

    def _recover(self, s: Session, key: str, ids: list[int], attempt_at: datetime | None) -> list[int]:
        """Items whose last attempt's outcome was never saved. Returns those that must be sent afresh."""
        kind = s.scalar(select(ExportItem.item_type).where(ExportItem.id == ids[0]))
        recent = attempt_at is not None and self.clock() - attempt_at < REPLAY_WINDOW
        # Replay only keys this process sent (after a restart the package may have restarted too), except
        # payments, whose key is the surest guard while the package remembers it.
        if (recent and (key in SENT_KEYS or kind == ItemType.PREPAYMENT_ALLOCATION)
                and self._send_batch(s, ids, key=key, replay=True)):
            return []
        # The package may have forgotten the key: look each object up before creating it again.
        return self.recovery.look_up(s, ids)

    # --- batches --------------------------------------------------------------------------------------

    def _send_batch(self, s: Session, ids: list[int], key: str | None, replay: bool = False) -> bool:
        """Builds, stores the key, sends, saves. Returns False when a replay must fall back to look-ups."""
        self._check_claims()
        batch = self._prepare(s, ids, key, replay)
        if batch is None:
            return not replay   # a replay that cannot rebuild the same body falls back to look-ups
        try:
            results = call_package(self.package, batch.item_type, batch.payloads, batch.key)
        except StopRun:
            raise
        except ConnectorError as exc:
            return self._finish(s, batch, None, exc)
        return self._finish(s, batch, results, None)

    def _send_pipelined(self, s: Session, batches: list[list[int]]) -> None:
        """Fresh batches with up to ``pipeline`` requests in flight (the package allows several): while the
        package works on one, the next is built and its key stored. Results are saved in order."""
        depth = max(1, int(getattr(self.package, "pipeline", PIPELINE)))
        inflight: deque[tuple[Batch, Future[list[Result]]]] = deque()
        stop: StopRun | None = None
        with ThreadPoolExecutor(max_workers=depth, thread_name_prefix="kcc-upload") as pool:
            for ids in batches:
                if stop is not None:
                    break
                if self.cancel.is_set():
                    self.out.summary.cancelled = True   # the remaining batches stay pending, untouched
                    break
                self._check_claims()
                batch = self._prepare(s, ids, None, False)
                if batch is not None:
                    inflight.append((batch, pool.submit(call_package, self.package, batch.item_type,
                                                        batch.payloads, batch.key)))
                while len(inflight) >= depth or (inflight and inflight[0][1].done()):
                    stop = self._drain_one(s, inflight) or stop
            while inflight:
                stop = self._drain_one(s, inflight) or stop
        if stop is not None:
            raise stop

    def _drain_one(self, s: Session, inflight: deque[tuple[Batch, Future[list[Result]]]]) -> StopRun | None:
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

    def _check_claims(self) -> None:
        if self.claims.lost:
            raise StopRun("The company file did not answer for too long to keep this upload's place; nothing was "
                          "lost. Upload Data again.")

    def _clear_keys(self, s: Session, batch: Batch) -> None:
        for i in batch.sendable:
            batch.items[i].attempt_key = None
        s.commit()

    def _prepare(self, s: Session, ids: list[int], key: str | None, replay: bool) -> Batch | None:
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
            now = self.clock()
            for i in sendable:
                items[i].attempt_key, items[i].attempt_at = key, now
                items[i].attempts += 1
            s.commit()   # the key is on disk before the request leaves
        # (A replay keeps the first attempt's time: the package's memory of the key started then.)
        SENT_KEYS.add(key)
        return Batch(items, sendable, [payloads[i] for i in sendable], key, items[sendable[0]].item_type, replay)

    def _finish(self, s: Session, batch: Batch, results: list[Result] | None, error: ConnectorError | None) -> bool:
        """Saves one batch's outcome. Returns False when a replay must fall back to look-ups."""
        mine = self.claims.still_mine(s, batch.sendable)
        if len(mine) < len(batch.sendable):   # taken over meanwhile (this run stalled past its lease): theirs now
            log.warning("Batch %s: %d items were taken over by another desk; their outcome is theirs to save",
                        batch.key[:8], len(batch.sendable) - len(mine))
            batch.sendable = [i for i in batch.sendable if i in mine]
        sendable = batch.sendable
        numbers = ", ".join(batch.items[i].reference for i in sendable)
        if error is None:
            log.info("Batch %s of %d %s answered: %s", batch.key[:8], len(sendable), batch.item_type, numbers)
        else:
            log.info("Batch %s of %d %s failed (%s): %s", batch.key[:8], len(sendable), batch.item_type,
                     type(error).__name__, numbers)
        if isinstance(error, ValidationFailed):
            if batch.replay:
                return False
            for i in sendable:
                self.out.fail(s, i, error.messages)
        elif isinstance(error, TransientError | MalformedResponse):
            for i in sendable:   # outcome unknown: keep the key, the next run replays or looks up
                self.out.fail(s, i, [str(error)], keep_key=True, source=FeedbackSource.KCC,
                              advice="The connection failed while sending. Upload Data again: what arrived "
                                     "will be found, not created twice.")
            s.commit()
            raise StopRun(f"The connection to {self.pkg_name} failed ({error.message}). "
                          "Upload Data again when it is back; nothing will be created twice.")
        elif error is not None:
            for i in sendable:
                self.out.fail(s, i, [str(error)])
        else:
            assert results is not None
            if self.after_send is not None:
                self.after_send(list(sendable))
            self.out.succeed_batch(s, batch.items, sendable, results)
        s.commit()
        self._step(len(sendable))
        return True

    # --- payloads -------------------------------------------------------------------------------------

    def _build(self, s: Session, items: list[ExportItem]) -> tuple[dict[int, Any], list[int]]:
        """Payloads by item id; an item that cannot be built gets its feedback now and is left out."""
        payloads: dict[int, Any] = {}
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
                payloads[item.id] = self.payload(s, item, obj)
            except pl.PayloadProblem as exc:
                self.out.fail(s, item.id, [exc.message], advice=exc.advice, nominal_code=exc.nominal_code,
                              source=FeedbackSource.KCC)
                self._step(1)
        return payloads, [i.id for i in items if i.id in payloads]

    def _load(self, s: Session, kind: str, ids: list[int]) -> dict[int, Any]:
        """The ledger records the items stand for, by id (a document with its lines and company)."""
        item_type = ItemType(kind)
        if item_type == ItemType.COMPANY:
            return {o.id: o for o in s.scalars(select(Company).where(Company.id.in_(ids)))}
        if item_type == ItemType.STOCK_ITEM:
            return {o.id: o for o in s.scalars(select(StockItem).where(StockItem.id.in_(ids)))}
        if item_type == ItemType.PREPAYMENT_ALLOCATION:
            return {o.id: o for o in s.scalars(select(Allocation).where(Allocation.id.in_(ids)))}
        return {o.id: o for o in s.scalars(select(Document).where(Document.id.in_(ids)).options(
            selectinload(Document.lines), selectinload(Document.company)))}

    def payload(self, s: Session, item: ExportItem, obj: Any) -> Any:
        key = str(item.id)
        links = self.plan.links
        if item.item_type in (ItemType.COMPANY, ItemType.STOCK_ITEM):
            remote_id = links.get((item.item_type, item.object_id)) or None
            if item.item_type == ItemType.COMPANY:
                return pl.contact_payload(self.ctx, obj, key, remote_id)
            return pl.item_payload(self.ctx, obj, key, remote_id)
        if item.item_type == ItemType.PREPAYMENT_ALLOCATION:
            inv = pl.remote_link(s, self.provider, obj.document.kind, obj.document_id, self.target.tenant_id)
            if inv is None:
                raise pl.PayloadProblem(f"Invoice {obj.document.number} is not in {self.pkg_name} yet.",
                                        "Upload the invoice first (select it too), then this allocation.")
            return pl.allocation_payload(self.ctx, obj, key, inv.remote_id, stamp=make_stamp(self.salt, obj.id))
        contact = links.get((ItemType.COMPANY.value, obj.company_id), "")
        # Lines carry an ItemCode only for items the package has (exported, or marked so by hand).
        codes = {line.stock_item_id: self.plan.item_codes[line.stock_item_id] for line in obj.lines
                 if line.stock_item_id and (ItemType.STOCK_ITEM.value, line.stock_item_id) in links}
        return pl.document_payload(self.ctx, obj, key, contact, codes)
