"""The Export tab's and the ``export`` command's service: Upload Data, Mark as (Not) Exported, Verify, Goto.

Everything here works on the connection's target (package and organisation): its own pending and
exported rows, its own package ids. ``prepare`` readies the queue for it (after a switch, everything that
package has not had yet becomes pending there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from ...connectors.base import AccountingPackage, DocKind
from ...models import ExportItem, ExportStatus, ItemType, MatchState, utcnow
from ...store import Store
from .. import payloads as pl
from ..audit import audit, os_user
from ..gil import chunks
from ..own_uploads import file_key
from ..queue import install_queue_listeners, prepare_target
from ..target import Target, package_target
from .lookup import lookup, save_link, sent_against
from .outcomes import resolve_feedback
from .rules import DOC_TYPES, Progress, Summary
from .run import UploadRun

log = logging.getLogger(__name__)


class MarkReasonRequired(ValueError):
    """Mark as Exported was asked for without a reason."""


@dataclass
class Unlinked:
    """What Unlink Matched did: the rows back in Pending Export, and those kept linked with the reason."""

    unlinked: list[int] = field(default_factory=list)
    kept: dict[int, str] = field(default_factory=dict)


class ExportService:
    """Each method opens its own session, so the window can call it from any worker thread."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        install_queue_listeners()
        self.store = store
        self.clock = clock
        # Test hook: called with the batch's item ids after the package answered and before the results
        # are saved: raising here is a crash at the worst moment.
        self.after_send: Callable[[list[int]], None] | None = None

    # --- upload ---------------------------------------------------------------------------------------

    def prepare(self) -> Target:
        """The connection's target, its queue made ready (see ``queue.prepare_target``)."""
        return self.store.retrying(prepare_target, what="make the export queue ready")

    def upload(self, item_ids: Iterable[int], package: AccountingPackage, progress: Progress | None = None,
               cancel: threading.Event | None = None) -> Summary:
        target = self.prepare()
        if target.provider != package.provider:
            raise ValueError(f"The connection is to {target.label}, but the package given is {package.provider}.")
        run = UploadRun(self.store, package, progress or (lambda d, t, s: None), cancel or threading.Event(),
                        target=target, clock=self.clock, salt=self.key_salt(), after_send=self.after_send)
        return run.execute(list(item_ids))

    def pending_ids(self) -> list[int]:
        target = self.prepare()
        with self.store.session() as s:
            return list(s.connection().execute(select(ExportItem.id).where(
                ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
                ExportItem.status == ExportStatus.PENDING).order_by(ExportItem.id)).scalars())

    def key_salt(self) -> str:
        """A random id per company file, so two files never send the same idempotency key."""
        return self.store.retrying(file_key, what="read the company file's key")

    # --- manual marks ---------------------------------------------------------------------------------

    def mark_exported(self, item_ids: Iterable[int], reason: str, user: str | None = None) -> int:
        """Moves pending rows to Exported Successfully without sending (no tick); they are never sent.
        A reason is required: who (the OS user), when and why go on each row and in the audit trail, and
        reconciliation later checks the package holds a matching document."""
        reason = (reason or "").strip()
        if not reason:
            raise MarkReasonRequired("Say why these rows are marked as exported (for example \"entered in "
                                     "the package by hand\"); the reason goes in the audit trail.")
        who = os_user() if user is None else user
        now = self.clock()
        target = self.prepare()
        n = 0
        ids = list(item_ids)
        with self.store.transaction() as s:
            for chunk in chunks(ids):
                rows = s.execute(select(ExportItem.id, ExportItem.item_type, ExportItem.reference).where(
                    ExportItem.id.in_(chunk), ExportItem.provider == target.provider,
                    ExportItem.tenant_id == target.tenant_id, ExportItem.status == ExportStatus.PENDING)
                    ).tuples().all()
                if not rows:
                    continue
                marked = [r[0] for r in rows]
                n += s.connection().execute(update(ExportItem).where(ExportItem.id.in_(marked),
                                                        ExportItem.status == ExportStatus.PENDING)
                               .values(status=ExportStatus.EXPORTED, marked_manually=True, confirmed=False,
                                       exported_at=now, attempt_key=None, marked_by=who,
                                       mark_reason=reason)).rowcount
                resolve_feedback(s, marked, now)
                for _id, item_type, reference in rows:
                    audit(s, f"Mark as Exported: {ItemType(item_type).label} {reference}".strip(),
                          old="pending", new="exported (by hand, never sent)", reason=reason, user=who)
        log.info("Mark as Exported: %d rows marked by hand for %s (never sent) by %s", n, target.label, who)
        return n

    def mark_not_exported(self, item_ids: Iterable[int]) -> int:
        """Back to pending, only for rows marked by hand (sent rows stay: the package has them)."""
        target = self.prepare()
        n = 0
        with self.store.transaction() as s:
            for chunk in chunks(list(item_ids)):
                rows = s.scalars(select(ExportItem).where(
                    ExportItem.id.in_(chunk), ExportItem.provider == target.provider,
                    ExportItem.tenant_id == target.tenant_id, ExportItem.status == ExportStatus.EXPORTED,
                    ExportItem.marked_manually.is_(True))).all()
                for row in rows:
                    queued = s.scalar(select(ExportItem.id).where(
                        ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
                        ExportItem.item_type == row.item_type, ExportItem.object_id == row.object_id,
                        ExportItem.status == ExportStatus.PENDING))
                    audit(s, f"Mark as Not Exported: {ItemType(row.item_type).label} {row.reference}".strip(),
                          old="exported (by hand)", new="pending", reason=row.mark_reason and
                          f"was marked by {row.marked_by or 'someone'}: {row.mark_reason}")
                    if queued is not None:   # a newer change is already queued: that entry will do
                        s.delete(row)
                    else:
                        row.status, row.marked_manually, row.exported_at = ExportStatus.PENDING, False, None
                        row.confirmed, row.marked_by, row.mark_reason = False, "", ""
                    n += 1
        log.info("Mark as Not Exported: %d hand-marked rows back to pending", n)
        return n

    def unlink_matched(self, item_ids: Iterable[int], provider: str) -> Unlinked:
        """Undoes "matched existing" (see matching.py): the link goes and the row returns to Pending Export,
        to be created as a new record on the next upload and never matched again. Refused for a match that
        documents have been sent against since: they sit on that record in the package."""
        done: list[int] = []
        kept: dict[int, str] = {}
        target = self.prepare()
        if target.provider != provider:
            raise ValueError(f"The connection is to {target.label}, but the package given is {provider}.")
        with self.store.transaction() as s:
            for chunk in chunks(list(item_ids)):
                rows = s.scalars(select(ExportItem).where(ExportItem.id.in_(chunk),
                                                          ExportItem.provider == target.provider,
                                                          ExportItem.tenant_id == target.tenant_id,
                                                          ExportItem.status == ExportStatus.EXPORTED,
                                                          ExportItem.match_state == MatchState.MATCHED)).all()
                for row in rows:
                    used = sent_against(s, target, row.item_type, row.object_id)
                    if used:
                        kept[row.id] = (f"{used} sent against it are on that record in the package; it stays "
                                        "linked")
                        continue
                    link = pl.remote_link(s, target.provider, row.item_type, row.object_id, target.tenant_id)
                    if link is not None:
                        s.delete(link)
                    queued = s.scalar(select(ExportItem).where(
                        ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
                        ExportItem.item_type == row.item_type, ExportItem.object_id == row.object_id,
                        ExportItem.status == ExportStatus.PENDING))
                    if queued is not None:   # a newer change is queued: that entry creates it
                        queued.match_state, queued.action = MatchState.CREATE, "create"
                        s.delete(row)
                    else:
                        row.status, row.action, row.match_state = ExportStatus.PENDING, "create", MatchState.CREATE
                        row.exported_at, row.confirmed, row.remote_id, row.remote_number = None, False, "", ""
                        row.attempt_key = None
                    done.append(row.id)
        log.info("Unlink Matched: %d back to pending as new records, %d kept linked", len(done), len(kept))
        return Unlinked(done, kept)

    # --- verify and goto ------------------------------------------------------------------------------

    def verify(self, item_ids: Iterable[int], package: AccountingPackage,
               cancel: threading.Event | None = None) -> tuple[int, int]:
        """Looks the target's exported rows up in the package; ticks (and links) the ones found, unticks the
        ones missing. Rows exported to another package are never touched. Returns (found, missing)."""
        found = missing = 0
        target = self.prepare()
        if target.provider != package.provider:
            raise ValueError(f"The connection is to {target.label}, but the package given is {package.provider}.")
        for item_id in item_ids:
            if cancel is not None and cancel.is_set():
                break
            with self.store.transaction() as s:
                item = s.get(ExportItem, item_id)
                if (item is None or item.status != ExportStatus.EXPORTED or item.provider != target.provider
                        or item.tenant_id != target.tenant_id):
                    continue
                hit = lookup(s, package, item)
                if hit is None:
                    missing += 1
                    item.confirmed = False
                    continue
                found += 1
                remote_id, number = hit
                item.confirmed = True
                item.remote_id = remote_id
                item.remote_number = number or item.remote_number
                save_link(s, target, item.item_type, item.object_id, remote_id, item.remote_number)
        log.info("Verify: %d found in %s, %d missing", found, target.label, missing)
        return found, missing

    def goto_url(self, item_id: int, package: AccountingPackage) -> str | None:
        """The web address of an exported document in the package (None for what has no page, or for a
        row exported to another package or organisation: its id means nothing to this one)."""
        with self.store.session() as s:
            item = s.get(ExportItem, item_id)
            if item is None or item.item_type not in DOC_TYPES or not item.remote_id:
                return None
            if (item.provider, item.tenant_id) != tuple(package_target(package)):
                return None
            return package.document_url(DocKind(item.item_type), item.remote_id)
