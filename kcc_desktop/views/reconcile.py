"""What the Reconcile screen reads without the package: the default range of dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..models import Document, ExportItem, ExportStatus
from ..store import Store


def exported_range(store: Store) -> tuple[date | None, date | None]:
    """The first and last dates of the exported documents."""
    with store.session() as s:
        lo, hi = s.execute(select(func.min(Document.date), func.max(Document.date)).join(
            ExportItem, (ExportItem.object_id == Document.id) & (ExportItem.item_type == Document.kind)).where(
            ExportItem.status == ExportStatus.EXPORTED)).one()
    return lo, hi
