"""KCC's own uploads, known by what the package keeps: the stamp on every payment KCC creates.

A prepayment allocation goes to the package as a payment stamped ``KCC-<file key>-<allocation id>``
(``connectors.base.make_stamp``; the file key is the company file's own random id). Fetch Payments reads
every payment's stamp: one of this company file's is never a new receipt, and its export item is settled
there and then (exported, linked), whether or not the upload lived to save the package's answer.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..connectors.base import RemotePayment, make_stamp
from ..models import Allocation, AppSetting, ExportItem, ExportStatus, ItemType, RemoteLink, utcnow
from .target import Target

log = logging.getLogger(__name__)

FILE_KEY = "export.key_salt"   # the company file's random id: idempotency keys and stamps are made from it


def file_key(s: Session) -> str:
    """The company file's own key (made the first time it is asked for)."""
    row = s.get(AppSetting, FILE_KEY)
    if row is not None:
        return row.value
    # Two desks may make it in the same moment (seen in the chaos suite's three-desk rounds, on PostgreSQL
    # and on SQLite, whose reads run outside the write transaction): the first one's stands, both use it.
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    value = uuid.uuid4().hex
    s.execute(insert(AppSetting).values(key=FILE_KEY, value=value).on_conflict_do_nothing())
    return s.scalar(select(AppSetting.value).where(AppSetting.key == FILE_KEY)) or value


def settle_own_uploads(s: Session, target: Target, pkg: str, payments: list[RemotePayment]) -> set[str]:
    """The remote ids among ``payments`` that this company file uploaded; their allocations are linked and
    their pending export items for ``target`` (package and organisation) marked exported (confirmed) in ``s``."""
    provider = target.provider
    prefix = make_stamp(file_key(s), 0)[:-1]
    stamped = {p.remote_id: int(p.stamp[len(prefix):]) for p in payments
               if p.stamp.startswith(prefix) and p.stamp[len(prefix):].isdigit()}
    for remote_id, alloc_id in stamped.items():
        if s.get(Allocation, alloc_id) is None:
            continue
        link = s.scalar(select(RemoteLink).where(RemoteLink.provider == provider,
                                                 RemoteLink.tenant_id == target.tenant_id,
                                                 RemoteLink.object_type == ItemType.PREPAYMENT_ALLOCATION,
                                                 RemoteLink.object_id == alloc_id))
        if link is None:
            s.add(RemoteLink(provider=provider, tenant_id=target.tenant_id,
                             object_type=ItemType.PREPAYMENT_ALLOCATION, object_id=alloc_id,
                             remote_id=remote_id))
        for item in s.scalars(select(ExportItem).where(
                ExportItem.provider == provider, ExportItem.tenant_id == target.tenant_id,
                ExportItem.item_type == ItemType.PREPAYMENT_ALLOCATION, ExportItem.object_id == alloc_id,
                ExportItem.status == ExportStatus.PENDING)):
            item.status, item.confirmed, item.remote_id = ExportStatus.EXPORTED, True, remote_id
            item.exported_at, item.attempt_key = utcnow(), None
            log.info("Prepayment allocation %d found in %s as payment %s by KCC's stamp: exported", alloc_id, pkg,
                     remote_id)
    return set(stamped)
