"""An organisation that already has data: link to its contacts and items instead of creating second ones,
and hold back what its settings would refuse.

**Matching.** Before a company or stock item is created, the package is asked whether it already holds it:
a contact by account number (the company's code), then by exact name; an item by code. A match is linked
(``RemoteLink``) and the row goes to Exported Successfully marked ``match_state = "matched"`` ("matched
existing"), with no request to create it and no Error Feedback. A contact archived in the package is not
linked: the row fails with Xero's words and the advice to restore it there (creating a second one would
split the customer's history). A merged contact is followed to the one it was merged into.

**Undo** (``ExportService.unlink_matched``): the link is removed and the row goes back to Pending Export
marked ``"create"``, so the next Upload Data creates a new record and never matches it again. Since the
package keeps names (Xero: active contact names, account numbers, item codes) unique, the ledger record
(or the package's) needs a different name or code first; the refusal says so. A match that documents
have already been sent against is not undone: they sit on that record in the package.

**Refusals predicted** (``organisation_rules``): a run that sends documents or allocations first reads the
organisation's settings afresh (a handful of requests: lock dates, currencies, plan and its counts, tax rules,
archived and merged contacts; desks started together share one read, ``org_settings.read_shared``; the kept
copy if the read fails) and checks each document against them
(``sync/org_rules.py``) before it is sent: what Xero would refuse is held back with its Error Feedback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...connectors.base import (
    AccountingPackage,
    ConnectionRequired,
    ConnectorError,
    ItemIn,
    MalformedResponse,
    RateLimited,
    RemoteContact,
    Result,
    TransientError,
)
from ...models import Company, ExportItem, FeedbackSource, ItemType, MatchState, StockItem
from ...store import Store
from .. import payloads as pl
from ..options import OptionsService
from ..org_rules import OrganisationRules, archived_refusal
from ..org_settings import cached_settings, read_shared
from ..target import Target
from .outcomes import Outcomes
from .planning import ObjectKey
from .rules import StopRun

log = logging.getLogger(__name__)

RULES_PROVIDERS = ("xero",)   # packages whose settings Upload Data checks documents against


def _stop(exc: ConnectorError, pkg: str) -> StopRun:
    if isinstance(exc, ConnectionRequired | RateLimited):
        return StopRun(str(exc), sign_in=isinstance(exc, ConnectionRequired))
    return StopRun(f"The connection to {pkg} failed ({exc.message}). Upload Data again when it is back; "
                   "nothing will be created twice.")


def match_existing(s: Session, package: AccountingPackage, ctx: pl.PayloadContext, out: Outcomes,
                   links: dict[ObjectKey, str], ids: list[int]) -> tuple[list[int], list[int]]:
    """Links the companies and stock items among ``ids`` that the package already holds. Returns the ids to
    send now (updates, and new records the package does not have) and those to look for again once these
    are created: a second ledger company of the same name (a customer that is also a supplier) is one
    contact in Xero (``contacts_shared``), whose names are unique, so it is linked to the one created first;
    likewise a second stock item of the same code."""
    items = list(s.scalars(select(ExportItem).where(ExportItem.id.in_(ids))))
    wanted = [i for i in items if i.item_type in (ItemType.COMPANY, ItemType.STOCK_ITEM)
              and (i.item_type, i.object_id) not in links and i.match_state != MatchState.CREATE]
    if not wanted:
        return ids, []
    try:
        done = (_contacts(s, package, ctx, out, [i for i in wanted if i.item_type == ItemType.COMPANY])
                | _items(s, package, out, [i for i in wanted if i.item_type == ItemType.STOCK_ITEM]))
    except (ConnectionRequired, RateLimited, TransientError, MalformedResponse) as exc:
        raise _stop(exc, out.pkg_name) from None
    except ConnectorError as exc:   # refused look-up: create as before; the package still refuses duplicates
        log.warning("Could not look for existing records in %s (%s); creating them", out.pkg_name, exc)
        return ids, []
    s.commit()
    first: set[str] = set()
    later: set[int] = set()
    for item in sorted((i for i in wanted if i.id not in done), key=lambda i: i.id):
        if item.item_type == ItemType.COMPANY and not package.contacts_shared:
            continue   # customers and suppliers are kept apart: the package names the second itself
        name = f"{item.item_type}:{_identity(s, item)}"
        if name in first:
            later.add(item.id)
        first.add(name)
    return [i for i in ids if i not in done and i not in later], sorted(later)


def _identity(s: Session, item: ExportItem) -> str:
    """What the package keeps unique: a contact's name, an item's code (ignoring case)."""
    if item.item_type == ItemType.COMPANY:
        return (s.scalar(select(Company.name).where(Company.id == item.object_id)) or "").strip().casefold()
    return (s.scalar(select(StockItem.code).where(StockItem.id == item.object_id)) or "").strip().casefold()


def _matched(s: Session, out: Outcomes, item: ExportItem, remote_id: str, number: str) -> None:
    out.succeed(s, item, Result(key=str(item.id), ok=True, remote_id=remote_id, remote_number=number, matched=True))
    out.step(1)


def _contacts(s: Session, package: AccountingPackage, ctx: pl.PayloadContext, out: Outcomes,
              items: list[ExportItem]) -> set[int]:
    if not items:
        return set()
    companies = {c.id: c for c in s.scalars(select(Company).where(Company.id.in_([i.object_id for i in items])))}
    asks = [pl.contact_payload(ctx, companies[i.object_id], str(i.id)) for i in items if i.object_id in companies]
    found: dict[str, RemoteContact] = package.match_contacts(asks) if asks else {}
    done: set[int] = set()
    for item in items:
        contact = found.get(str(item.id))
        if contact is None:
            continue
        done.add(item.id)
        if contact.active:
            _matched(s, out, item, contact.remote_id, item.reference)
            log.info("Company %s matched %s's existing contact %s", item.reference, out.pkg_name, contact.name)
        else:
            refused = archived_refusal(out.pkg_name, contact)
            out.fail(s, item.id, [refused.message], advice=refused.advice, source=FeedbackSource.KCC)
            out.step(1)
    return done


def _items(s: Session, package: AccountingPackage, out: Outcomes, items: list[ExportItem]) -> set[int]:
    if not items:
        return set()
    stock = {i.id: i for i in s.scalars(select(StockItem).where(StockItem.id.in_([i.object_id for i in items])))}
    asks = [ItemIn(key=str(i.id), code=stock[i.object_id].code, description=stock[i.object_id].description)
            for i in items if i.object_id in stock]
    found = package.match_items(asks) if asks else {}
    for item in items:
        if str(item.id) in found:
            _matched(s, out, item, found[str(item.id)], stock[item.object_id].code)
            log.info("Stock item %s matched %s's existing item", item.reference, out.pkg_name)
    return {item.id for item in items if str(item.id) in found}


# --- the organisation's settings ---------------------------------------------------------------------------

def organisation_rules(store: Store, package: AccountingPackage, since: datetime,
                       clock: Callable[[], datetime]) -> OrganisationRules | None:
    """The rules this run checks documents against (None for packages not covered, or none known): the
    settings as read after ``since``, the run's start, by this desk or by another started with it."""
    if package.provider not in RULES_PROVIDERS:
        return None
    settings = cached_settings(store, package.provider)
    try:
        settings = read_shared(store, package.provider, package.organisation_settings, since, clock=clock)
    except (ConnectionRequired, RateLimited) as exc:
        raise _stop(exc, package.provider) from None
    except ConnectorError as exc:
        log.warning("Could not read the organisation's settings (%s); using the copy kept", exc)
    if settings is None:
        return None
    return OrganisationRules(settings, package.provider, authorised=OptionsService(store).load().create_authorised)


def follow_merged(s: Session, target: Target, rules: OrganisationRules, links: dict[ObjectKey, str]) -> int:
    """Companies linked to a contact since merged in the package now link to the one it became."""
    moved = 0
    for (item_type, object_id), remote_id in list(links.items()):
        into = rules.settings.merged_into(remote_id) if item_type == ItemType.COMPANY and remote_id else ""
        if not into:
            continue
        link = pl.remote_link(s, target.provider, item_type, object_id, target.tenant_id)
        if link is not None:
            link.remote_id = into
        links[(item_type, object_id)] = into
        moved += 1
    if moved:
        s.commit()
        log.info("%d companies followed their merged contacts to the contacts they were merged into", moved)
    return moved
