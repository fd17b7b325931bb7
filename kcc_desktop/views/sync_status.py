"""The status bar's sync facts: when the company file last synced with its package, and what the last
scheduled run did. Read from the company file, so reopening synced books never says "never"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..models import ExportItem, ExportStatus, ImportedPayment
from ..schedule import RunRecord, last_run
from ..store import Store
from ..sync.target import read_target


@dataclass(frozen=True)
class SyncFacts:
    last_sync: datetime | None          # the latest upload or fetch with this package, by any route (UTC)
    last_run: RunRecord | None          # the last scheduled run's record


def _latest(*values: datetime | None) -> datetime | None:
    found = [v for v in values if v is not None]
    return max(found) if found else None


def sync_facts(store: Store) -> SyncFacts:
    """When this file last exchanged anything with the connected package (an item exported, a payment
    fetched, a scheduled run), and the last scheduled run. Three small indexed reads."""
    with store.session() as s:
        target = read_target(s)
        exported = s.scalar(select(func.max(ExportItem.exported_at)).where(
            ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
            ExportItem.status == ExportStatus.EXPORTED, ExportItem.marked_manually.is_(False)))
        fetched = s.scalar(select(func.max(ImportedPayment.fetched_at)).where(
            ImportedPayment.provider == target.provider))
    record = last_run(store)
    ran = record.finished_at if record is not None and record.reached else None
    return SyncFacts(_latest(exported, fetched, ran), record)
