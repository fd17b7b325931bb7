"""The organisation's pacing budget, kept in the company store so every desk on the company shares it.

Each process paces itself (``connectors/pacing.Pacer``), but the package counts calls per organisation,
whoever makes them: three desks each keeping to Xero's 60 a minute and 5 in flight would together make
180 and 15. So every send also takes a place here (``Transport.budget``):

- one short transaction, with the organisation's ``pacing_tenant`` row locked (PostgreSQL: ``FOR UPDATE``;
  SQLite: the write lock), counts the calls in flight and those that finished less than a window ago
  (``package_call``), exactly as the Pacer counts its own;
- if one more fits, it is written (in flight) and the send goes; otherwise the desk waits until the oldest
  call leaves the window (or a call in flight finishes) and asks again;
- the desk is told how many of the window's calls are other desks' (``Place.others``): the package's
  remaining-calls header counts them, and the desk's own pacer must not take them for another app's calls
  made just now (it would hold back the desk's next calls until well after the real ones left the window);
- when the answer is in, the call's ``finished_at`` is written. A process killed mid-call leaves its call
  in flight; it counts until ``STALE`` has passed, then is pruned with the rows older than two windows.

Two small writes per call: negligible beside the call itself (Xero allows one a second).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ..connectors.base import AccountingPackage
from ..connectors.pacing import Pacer
from ..connectors.transport import Place, Transport
from ..models import PacingTenant, PackageCall, utcnow
from ..store import Store
from .export.claims import new_owner

log = logging.getLogger(__name__)

STALE = timedelta(minutes=3)       # a call in flight this long belongs to a process that died


class StoreBudget:
    """``SharedBudget`` (connectors/transport.py) over the company store, for one organisation."""

    def __init__(self, store: Store, provider: str, tenant: str) -> None:
        self.store = store
        self.provider = provider
        self.tenant = tenant
        self.owner = new_owner()

    def acquire(self, pacer: Pacer, batch: bool) -> Place:
        while True:
            place, wait, others = self.store.retrying(partial(self._try, pacer=pacer, batch=batch),
                                                      what="take a place in the organisation's pacing")
            if place:
                return Place(place, others)
            pacer.wait(min(max(wait, 0.02), pacer.window))

    def release(self, place: Place) -> None:
        self.store.retrying(partial(self._finish, place=place.id), what="record a finished call")

    def _finish(self, s: Session, *, place: int) -> None:
        s.execute(update(PackageCall).where(PackageCall.id == place).values(finished_at=utcnow()))

    def _lock(self, s: Session) -> None:
        key = (PacingTenant.provider == self.provider, PacingTenant.tenant == self.tenant)
        if self.store.is_postgres:
            s.execute(pg_insert(PacingTenant).values(provider=self.provider, tenant=self.tenant, calls=0)
                      .on_conflict_do_nothing())
            s.execute(select(PacingTenant.calls).where(*key).with_for_update())
        elif not getattr(s.execute(update(PacingTenant).where(*key).values(calls=PacingTenant.calls + 1)),
                         "rowcount", 0):
            s.add(PacingTenant(provider=self.provider, tenant=self.tenant, calls=1))
            s.flush()

    def _try(self, s: Session, *, pacer: Pacer, batch: bool) -> tuple[int, float, int]:
        """(the call's place, 0, the other desks' calls in the window) when one more call fits now; (0, seconds
        to wait, 0) when not."""
        self._lock(s)
        policy, window = pacer.policy, timedelta(seconds=pacer.window)
        now = utcnow()
        mine = (PackageCall.provider == self.provider, PackageCall.tenant == self.tenant)
        s.execute(delete(PackageCall).where(
            *mine, ((PackageCall.finished_at < now - 2 * window)
                    | (PackageCall.finished_at.is_(None) & (PackageCall.started_at < now - STALE)))))
        in_flight = s.scalar(select(func.count()).where(*mine, PackageCall.finished_at.is_(None))) or 0
        if in_flight >= policy.in_flight:
            return 0, pacer.window / 600, 0
        limits = [(policy.per_window, False)]
        if batch and policy.batches_per_window:
            limits.append((policy.batches_per_window, True))
        waits = []
        for limit, batches in limits:
            scope = (*mine, PackageCall.batch.is_(True)) if batches else mine
            flying = in_flight if not batches else s.scalar(
                select(func.count()).where(*scope, PackageCall.finished_at.is_(None))) or 0
            ends = select(PackageCall.finished_at).where(*scope, PackageCall.finished_at >= now - window)
            recent = s.scalar(select(func.count()).select_from(ends.subquery())) or 0
            over = flying + recent - limit
            if over >= 0:
                leaves = s.scalar(ends.order_by(PackageCall.finished_at).offset(min(over, max(recent - 1, 0)))
                                  .limit(1))
                waits.append((leaves + window - now).total_seconds() if leaves else pacer.window / 600)
        if waits:
            return 0, max(waits), 0
        others = s.scalar(select(func.count()).where(
            *mine, PackageCall.owner != self.owner,
            PackageCall.finished_at.is_(None) | (PackageCall.finished_at >= now - window))) or 0
        call = PackageCall(provider=self.provider, tenant=self.tenant, batch=batch, owner=self.owner,
                           started_at=now)
        s.add(call)
        s.flush()
        return call.id, 0.0, others


@runtime_checkable
class SendsThroughTransports(Protocol):
    """A package whose requests go through ``connectors.transport.Transport`` objects (both connectors)."""

    def transports(self) -> list[Transport[Any]]: ...


def share_pacing(store: Store, package: AccountingPackage) -> None:
    """Every request of ``package`` takes its place in the organisation's budget in ``store``."""
    if not isinstance(package, SendsThroughTransports):
        return
    tenant = str(getattr(package, "tenant_id", "") or getattr(package, "realm_id", "") or "")
    if not tenant:
        return
    budget = StoreBudget(store, package.provider, tenant)
    for transport in package.transports():
        transport.budget = budget
    log.info("Pacing for %s %s is shared through the company store with every desk on it", package.provider, tenant)

