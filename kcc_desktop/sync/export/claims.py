"""Claims: which live process is sending which export item, so several desks can Upload Data at once.

A run claims the items of a phase before it touches them: ``claim_owner`` (this process) and
``claim_until`` (a lease). A heartbeat thread renews the lease while the run lives; a process that dies
stops renewing, and its claims expire after ``LEASE``. Another run never touches an item under a live
claim (it leaves it, and what needs it, to that desk) and takes over only an expired one; only then is an
item with an attempt key "interrupted" and recovered (replayed or looked up).

Taking claims is one short write: on PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED`` so two
desks never wait on each other's rows; on SQLite the single writer makes the conditional UPDATE atomic.
Every write goes through ``Store.retrying``: lock waits are bounded and retried.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from ...models import ExportItem, ExportStatus
from ...store import Store
from ..gil import chunks

log = logging.getLogger(__name__)

# A claim holds LEASE after its last renewal; renewals come several times a lease, so a slow write does not
# lose it. KCC_CLAIM_LEASE (seconds) shortens it for the chaos suite, whose killed desks must lapse quickly.
LEASE = timedelta(seconds=float(os.environ.get("KCC_CLAIM_LEASE", "60")))
HEARTBEAT = LEASE.total_seconds() / 6


def new_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]


class Claims:
    """This run's claims. ``take`` claims what is free; the heartbeat keeps them; ``close`` lets them go."""

    def __init__(self, store: Store, clock: Callable[[], datetime], owner: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner or new_owner()
        self.lost = False                 # the heartbeat could not renew in time: stop sending
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- taking and letting go ----------------------------------------------------------------------

    def _free(self, now: datetime) -> ColumnElement[bool]:
        return or_(ExportItem.claim_owner.is_(None), ExportItem.claim_owner == self.owner,
                   ExportItem.claim_until < now)

    def take(self, ids: Iterable[int]) -> set[int]:
        """Claims the pending items among ``ids`` that no live process holds; returns those now ours."""
        wanted = sorted(set(ids))
        mine: set[int] = set()
        for chunk in chunks(wanted):
            mine |= self.store.retrying(partial(self._take, chunk=chunk), what="claim items for upload")
        return mine

    def _take(self, s: Session, *, chunk: Sequence[int]) -> set[int]:
        now = self.clock()
        free = and_(ExportItem.id.in_(chunk), ExportItem.status == ExportStatus.PENDING, self._free(now))
        pick = select(ExportItem.id).where(free)
        if self.store.is_postgres:
            pick = pick.with_for_update(skip_locked=True)   # rows another desk is claiming right now: skip
        ids = list(s.scalars(pick))
        if ids:
            s.execute(update(ExportItem).where(ExportItem.id.in_(ids), free)
                      .values(claim_owner=self.owner, claim_until=now + LEASE))
        return set(s.scalars(select(ExportItem.id).where(ExportItem.id.in_(chunk),
                                                         ExportItem.status == ExportStatus.PENDING,
                                                         ExportItem.claim_owner == self.owner)))

    def release(self, ids: Iterable[int]) -> None:
        wanted = sorted(set(ids))
        for chunk in chunks(wanted):
            self.store.retrying(partial(self._release, chunk=chunk), what="release claimed items")

    def _release(self, s: Session, *, chunk: Sequence[int]) -> None:
        s.execute(update(ExportItem).where(ExportItem.id.in_(chunk), ExportItem.claim_owner == self.owner)
                  .values(claim_owner=None, claim_until=None))

    def held_by_others(self, s: Session, ids: Iterable[int]) -> set[int]:
        """Pending items among ``ids`` under another process's live claim."""
        now = self.clock()
        out: set[int] = set()
        for chunk in chunks(sorted(set(ids))):
            out.update(s.scalars(select(ExportItem.id).where(
                ExportItem.id.in_(chunk), ExportItem.status == ExportStatus.PENDING,
                ExportItem.claim_owner.is_not(None), ExportItem.claim_owner != self.owner,
                ExportItem.claim_until >= now)))
        return out

    def still_mine(self, s: Session, ids: Iterable[int]) -> set[int]:
        """Inside a saving transaction: the items still pending under this run's claim (locked on PostgreSQL
        until the transaction ends, so no desk takes one over half way)."""
        out: set[int] = set()
        for chunk in chunks(sorted(set(ids))):
            q = select(ExportItem.id).where(ExportItem.id.in_(chunk), ExportItem.status == ExportStatus.PENDING,
                                            ExportItem.claim_owner == self.owner)
            if self.store.is_postgres:
                q = q.order_by(ExportItem.id).with_for_update()   # in id order: lockers queue, never cross
            out.update(s.scalars(q))
        return out

    # --- the heartbeat ------------------------------------------------------------------------------

    def renew(self) -> int:
        def work(s: Session) -> int:
            ours = and_(ExportItem.claim_owner == self.owner, ExportItem.status == ExportStatus.PENDING)
            if self.store.is_postgres:
                # Rows this run is saving right now are locked by its own saving transaction (``still_mine``):
                # waiting for them while it waits for rows this UPDATE took was a deadlock that ended a
                # one-desk upload (bench_desks). Skipped rows are being saved, or are renewed next beat.
                ours = ExportItem.id.in_(select(ExportItem.id).where(ours).with_for_update(skip_locked=True)
                                         .scalar_subquery())
            result = s.execute(update(ExportItem).where(ours).values(claim_until=self.clock() + LEASE))
            return int(getattr(result, "rowcount", 0) or 0)
        return self.store.retrying(work, what="renew the upload's claims", patience=LEASE.total_seconds() / 2)

    def _beat(self) -> None:
        last = self.clock()
        while not self._stop.wait(HEARTBEAT):
            try:
                self.renew()
                last = self.clock()
            except Exception as exc:   # the store is busy or gone: the run must not go on past the lease
                log.warning("Could not renew the upload's claims: %s", exc)
                if self.clock() - last > LEASE / 2:
                    self.lost = True

    def __enter__(self) -> Claims:
        self._thread = threading.Thread(target=self._beat, name="kcc-claims", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT * 2)
        try:
            self.store.retrying(lambda s: s.execute(
                update(ExportItem).where(ExportItem.claim_owner == self.owner)
                .values(claim_owner=None, claim_until=None)), what="release the upload's claims", patience=10)
        except Exception as exc:   # they expire by themselves after LEASE
            log.warning("Could not release the upload's claims (they expire in %s): %s", LEASE, exc)
