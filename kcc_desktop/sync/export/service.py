"""The Export tab's and the ``export`` command's service: Upload Data, Mark as (Not) Exported, Verify, Goto.

Everything here works on the connection's target (package and organisation): its own pending and
exported rows, its own package ids. ``prepare`` readies the queue for it (after a switch, everything that
package has not had yet becomes pending there).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select, update

from ...connectors.base import AccountingPackage, DocKind
from ...models import AppSetting, ExportItem, ExportStatus, utcnow
from ...store import Store
from ..gil import chunks
from ..queue import install_queue_listeners, prepare_target
from ..target import Target, package_target
from .lookup import lookup, save_link
from .outcomes import resolve_feedback
from .rules import DOC_TYPES, SALT_KEY, Progress, Summary
from .run import UploadRun

log = logging.getLogger(__name__)


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
        with self.store.transaction() as s:
            return prepare_target(s)

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
        with self.store.transaction() as s:
            row = s.get(AppSetting, SALT_KEY)
            if row is None:
                row = AppSetting(key=SALT_KEY, value=uuid.uuid4().hex)
                s.add(row)
            return row.value

    # --- manual marks ---------------------------------------------------------------------------------

    def mark_exported(self, item_ids: Iterable[int]) -> int:
        """Moves pending rows to Exported Successfully without sending (no tick); they are never sent."""
        now = self.clock()
        target = self.prepare()
        n = 0
        ids = list(item_ids)
        with self.store.transaction() as s:
            for chunk in chunks(ids):
                n += s.connection().execute(update(ExportItem).where(
                    ExportItem.id.in_(chunk), ExportItem.provider == target.provider,
                    ExportItem.tenant_id == target.tenant_id, ExportItem.status == ExportStatus.PENDING)
                    .values(status=ExportStatus.EXPORTED, marked_manually=True, confirmed=False,
                            exported_at=now, attempt_key=None)).rowcount
            marked = [i for c in chunks(ids) for i in s.connection().execute(select(ExportItem.id).where(
                ExportItem.id.in_(c), ExportItem.marked_manually.is_(True),
                ExportItem.exported_at == now)).scalars()]
            resolve_feedback(s, marked, now)
        log.info("Mark as Exported: %d rows marked by hand for %s (never sent)", n, target.label)
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
                    if queued is not None:   # a newer change is already queued: that entry will do
                        s.delete(row)
                    else:
                        row.status, row.marked_manually, row.exported_at = ExportStatus.PENDING, False, None
                        row.confirmed = False
                    n += 1
        log.info("Mark as Not Exported: %d hand-marked rows back to pending", n)
        return n

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
