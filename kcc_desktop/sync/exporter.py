"""Upload Data: pending export items to the accounting package, exactly once.

Exactly once, however the run ends:
1. Before a batch goes out, each item's ``attempt_key`` (the request's idempotency key) and
   ``attempt_at`` are stored and **committed**.
2. A transient failure (timeout, dropped connection, 5xx) is retried with the same key, so the package
   answers with its first response instead of creating again.
3. An item still pending with an attempt key is one whose outcome we never saved (a crash, a kill, a
   retry that never got through). The next run replays the same batch with the same key while the
   package still remembers it (about 5 minutes); after that, or if the replay is refused, it looks the
   object up (document by number, contact by name, item by code) and only creates what is not there.
4. Results are saved per batch in one transaction: exported + confirmed + RemoteLink, or Error Feedback.

Dependencies go first without being asked (an invoice's company and stock items, an allocation's
invoice); a dependency that fails holds back what needs it, with that reason. Batches go out with up
to ``PIPELINE`` requests in flight. Qt-free: the window runs ``upload`` in a worker thread and hears
``progress(done, total, text)``; ``cancel`` stops after the batches in flight (their results are saved).
The run itself is ``upload_run.UploadRun``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..connectors.base import AccountingPackage, DocKind
from ..models import AppSetting, Company, Document, ExportItem, ExportStatus, ItemType, RemoteLink, StockItem, utcnow
from ..store import Store
from . import payloads as pl
from .queue import install_queue_listeners

log = logging.getLogger(__name__)

REPLAY_WINDOW = timedelta(minutes=5)   # packages keep idempotency keys ~6 minutes; stay inside that
TRANSIENT_RETRIES = 2                  # on top of the connector's own one retry, same key each time
RATE_RETRIES = 6
CHUNK = 500                            # ids per IN (...) list (SQLite's variable limit)
SALT_KEY = "export.key_salt"
PIPELINE = 3                           # requests in flight (Xero allows 5 per organisation, QuickBooks 10)
_SENT_KEYS: set[str] = set()           # keys this process sent (a replay is trusted only for these)

DOC_TYPES = (ItemType.SALES_INVOICE, ItemType.SALES_CREDIT, ItemType.PURCHASE_INVOICE, ItemType.PURCHASE_CREDIT)
BATCH_FAMILY = {ItemType.SALES_INVOICE: "invoice", ItemType.PURCHASE_INVOICE: "invoice",
                ItemType.SALES_CREDIT: "credit", ItemType.PURCHASE_CREDIT: "credit"}
PHASES = ((ItemType.COMPANY,), (ItemType.STOCK_ITEM,), DOC_TYPES, (ItemType.PREPAYMENT_ALLOCATION,))

Progress = Callable[[int, int, str], None]


@dataclass
class Summary:
    exported: int = 0
    failed: int = 0
    held: int = 0          # not sent because something they need failed
    pending: int = 0       # still pending in the whole queue after the run
    requests: int = 0
    cancelled: bool = False
    stopped: str = ""      # why the run stopped early (connection, daily limit), in plain words
    exported_ids: list[int] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.held and not self.stopped

    @property
    def text(self) -> str:
        parts = [f"{self.exported:,} exported"]
        if self.failed:
            parts.append(f"{self.failed:,} failed (see Error Feedback)")
        if self.held:
            parts.append(f"{self.held:,} held back")
        if self.cancelled:
            parts.append("cancelled")
        text = ", ".join(parts) + f"; {self.pending:,} still pending."
        return f"{self.stopped} {text}" if self.stopped else text

    def as_dict(self) -> dict:
        return {"exported": self.exported, "failed": self.failed + self.held, "pending": self.pending}


class StopRun(Exception):
    """The whole run must stop (connection lost, daily limit): the message says why and when to retry."""


# The window's thread stalled 100-150 ms while an upload planned 100,000 rows: a thread waiting for
# the GIL is woken each time this one lets go of it around a SQLite step (every row), finds it taken
# again and starts its wait over, so CPython's forced switch never comes. A real pause every
# YIELD_EVERY seconds of work hands the GIL over (costs at most YIELD_FOR / YIELD_EVERY of the time).
YIELD_EVERY = 0.01
YIELD_FOR = 0.0005
_yielded = threading.local()


def yield_gil() -> None:
    """Pause briefly if this thread has worked YIELD_EVERY seconds since it last paused."""
    now = time.monotonic()
    if now - getattr(_yielded, "at", 0.0) >= YIELD_EVERY:
        time.sleep(YIELD_FOR)
        _yielded.at = time.monotonic()


def _chunks(seq: Sequence, n: int = CHUNK):
    for i in range(0, len(seq), n):
        yield_gil()
        yield seq[i:i + n]


class ExportService:
    """The Export tab's and the ``export`` command's service. Each method opens its own session."""

    def __init__(self, store: Store, *, clock: Callable[[], object] = utcnow) -> None:
        install_queue_listeners()
        self.store = store
        self.clock = clock
        # Test hook: called with the batch's item ids after the package answered and before the results
        # are saved: raising here is a crash at the worst moment.
        self.after_send: Callable[[list[int]], None] | None = None

    # --- upload ---------------------------------------------------------------------------------------

    def upload(self, item_ids: Iterable[int], package: AccountingPackage, progress: Progress | None = None,
               cancel: threading.Event | None = None) -> Summary:
        from .upload_run import UploadRun  # the run's machinery lives in its own module

        run = UploadRun(self, package, progress or (lambda d, t, s: None), cancel or threading.Event())
        return run.execute(list(item_ids))

    def pending_ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(select(ExportItem.id).where(ExportItem.status == ExportStatus.PENDING)
                                  .order_by(ExportItem.id)))

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
        n = 0
        with self.store.transaction() as s:
            for chunk in _chunks(list(item_ids)):
                n += s.execute(update(ExportItem).where(ExportItem.id.in_(chunk),
                                                        ExportItem.status == ExportStatus.PENDING)
                               .values(status=ExportStatus.EXPORTED, marked_manually=True, confirmed=False,
                                       exported_at=now, attempt_key=None)).rowcount
        return n

    def mark_not_exported(self, item_ids: Iterable[int]) -> int:
        """Back to pending, only for rows marked by hand (sent rows stay: the package has them)."""
        n = 0
        with self.store.transaction() as s:
            for chunk in _chunks(list(item_ids)):
                rows = s.scalars(select(ExportItem).where(ExportItem.id.in_(chunk),
                                                          ExportItem.status == ExportStatus.EXPORTED,
                                                          ExportItem.marked_manually.is_(True))).all()
                for row in rows:
                    queued = s.scalar(select(ExportItem.id).where(
                        ExportItem.item_type == row.item_type, ExportItem.object_id == row.object_id,
                        ExportItem.status == ExportStatus.PENDING))
                    if queued is not None:   # a newer change is already queued: that entry will do
                        s.delete(row)
                    else:
                        row.status, row.marked_manually, row.exported_at = ExportStatus.PENDING, False, None
                        row.confirmed = False
                    n += 1
        return n

    # --- verify and goto ------------------------------------------------------------------------------

    def verify(self, item_ids: Iterable[int], package: AccountingPackage,
               cancel: threading.Event | None = None) -> tuple[int, int]:
        """Looks exported rows up in the package; ticks (and links) the ones found. Returns (found, missing)."""
        found = missing = 0
        provider = package.provider
        for item_id in item_ids:
            if cancel is not None and cancel.is_set():
                break
            with self.store.transaction() as s:
                item = s.get(ExportItem, item_id)
                if item is None or item.status != ExportStatus.EXPORTED:
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
                save_link(s, provider, item.item_type, item.object_id, remote_id, item.remote_number)
        return found, missing

    def goto_url(self, item_id: int, package: AccountingPackage) -> str | None:
        """The web address of an exported document in the package (None for what has no page)."""
        with self.store.session() as s:
            item = s.get(ExportItem, item_id)
            if item is None or item.item_type not in DOC_TYPES or not item.remote_id:
                return None
            return package.document_url(DocKind(item.item_type), item.remote_id)


# --- helpers shared by the run and verify -----------------------------------------------------------

def save_link(s: Session, provider: str, object_type: str, object_id: int, remote_id: str, number: str) -> None:
    link = pl.remote_link(s, provider, object_type, object_id)
    if link is None:
        s.add(RemoteLink(provider=provider, object_type=object_type, object_id=object_id, remote_id=remote_id,
                         remote_number=number or ""))
    else:
        link.remote_id, link.remote_number, link.linked_at = remote_id, number or "", utcnow()


def lookup(s: Session, package: AccountingPackage, item: ExportItem) -> tuple[str, str] | None:
    """(remote id, number) of the object in the package, found by number, name or code; None if absent."""
    if item.item_type in DOC_TYPES:
        doc = s.get(Document, item.object_id)
        contact = pl.remote_link(s, package.provider, ItemType.COMPANY, doc.company_id)
        # Bill and supplier credit numbers are per supplier: another supplier's document is not ours.
        per_supplier = item.item_type in (ItemType.PURCHASE_INVOICE, ItemType.PURCHASE_CREDIT)
        wanted = contact.remote_id if contact is not None and per_supplier else ""
        found = package.find_document(DocKind(item.item_type), doc.number, contact_remote_id=wanted)
        if found is None:
            return None
        if wanted and found.contact_remote_id and found.contact_remote_id != wanted:
            return None
        return found.remote_id, found.number
    if item.item_type == ItemType.COMPANY:
        company = s.get(Company, item.object_id)
        rid = package.find_contact(company.name, supplier=company.kind == "supplier")
        return (rid, company.code) if rid else None
    if item.item_type == ItemType.STOCK_ITEM:
        stock = s.get(StockItem, item.object_id)
        rid = package.find_item(stock.code)
        return (rid, stock.code) if rid else None
    return None   # a payment cannot be looked up by number
