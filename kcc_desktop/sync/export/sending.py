"""One batch on the wire: what it carries, and the call to the package that sends it.

``call_package`` runs on the run's pipeline threads: plain payloads in, plain ``Result``s out, no session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...connectors.base import AccountingPackage, ConnectionRequired, RateLimited, Result
from ...models import ExportItem, ItemType
from .rules import StopRun


@dataclass
class Batch:
    items: dict[int, ExportItem]   # export item id -> item, bound to the run's session
    sendable: list[int]            # the ids whose payloads were built, in payload order
    payloads: list[Any]
    key: str                       # the request's idempotency key, on disk before the request leaves
    item_type: str
    replay: bool                   # the same key and body again, after an answer that was never saved


def call_package(package: AccountingPackage, item_type: str, payloads: list[Any], key: str) -> list[Result]:
    """One request, sent once from here: the connector's transport already sent it again as far as the
    retry policy allows (see ``connectors/transport.py``), so a failure here is final for this run.

    A refused sign-in or a limit the transport gave up on stops the run (``StopRun``); any other
    failure is the caller's to record against the batch (Cancel is checked between batches).
    """
    try:
        if item_type == ItemType.COMPANY:
            return package.upsert_contacts(payloads, key)
        if item_type == ItemType.STOCK_ITEM:
            return package.upsert_items(payloads, key)
        if item_type == ItemType.PREPAYMENT_ALLOCATION:
            return package.create_payments(payloads, key)
        return package.create_documents(payloads, key)
    except (ConnectionRequired, RateLimited) as exc:
        raise StopRun(str(exc), sign_in=isinstance(exc, ConnectionRequired)) from None
