"""Which package and organisation the export state belongs to: the connection's.

What is pending and what was exported is kept per ``Target`` (provider, organisation): after exporting to
Xero, switching to QuickBooks shows QuickBooks' own state, where everything not yet in QuickBooks is
pending. The target is read from the connection settings in the caller's transaction, so the ledger's
queue listener and the services agree on it. While no organisation is chosen yet the tenant is "";
``queue.prepare_target`` gives such rows to the organisation the company then connects to.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, and_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..connectors.provider import Provider
from ..models import AppSetting, ExportItem, ExportStatus

PROVIDER_KEY = "connection.provider"
TENANT_KEY = "connection.tenant_id"


class Target(NamedTuple):
    provider: str
    tenant_id: str

    @property
    def label(self) -> str:
        return Provider.label_of(self.provider, short=True, unknown=self.provider)


def read_target(conn: Connection | Session) -> Target:
    """The connection's package and organisation (Xero, no organisation, before any connection)."""
    rows = dict(conn.execute(select(AppSetting.key, AppSetting.value)
                             .where(AppSetting.key.in_([PROVIDER_KEY, TENANT_KEY]))).tuples().all())
    raw = rows.get(PROVIDER_KEY) or Provider.XERO
    try:
        provider = str(Provider(raw))
    except ValueError:
        provider = str(Provider.XERO)
    return Target(provider, rows.get(TENANT_KEY) or "")


def package_target(package: object) -> Target:
    """The package and organisation a connector object talks to (Xero's tenant, QuickBooks' realm)."""
    tenant = getattr(package, "tenant_id", None) or getattr(package, "realm_id", None) or ""
    return Target(str(getattr(package, "provider", "")), str(tenant))


def pending_for(target: Target) -> ColumnElement[bool]:
    """Export rows waiting to go to ``target`` (its package and organisation)."""
    return and_(ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
                ExportItem.status == ExportStatus.PENDING)
