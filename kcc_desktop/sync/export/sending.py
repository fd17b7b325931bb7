"""One batch on the wire: what it carries, and the call to the package that sends it.

``call_package`` runs on the run's pipeline threads: plain payloads in, plain ``Result``s out, no session.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from ...connectors.base import AccountingPackage, ConnectionRequired, RateLimited, Result, TransientError
from ...models import ExportItem, ItemType
from .rules import StopRun

TRANSIENT_RETRIES = 2                  # on top of the connector's own one retry, same key each time
RATE_RETRIES = 6


@dataclass
class Batch:
    items: dict[int, ExportItem]   # export item id -> item, bound to the run's session
    sendable: list[int]            # the ids whose payloads were built, in payload order
    payloads: list[Any]
    key: str                       # the request's idempotency key, on disk before the request leaves
    item_type: str
    replay: bool                   # the same key and body again, after an answer that was never saved


def call_package(package: AccountingPackage, item_type: str, payloads: list[Any], key: str,
                 cancel: threading.Event) -> list[Result]:
    """One request, retried with the same key after transient failures and minute limits."""
    transient = rate = 0
    while True:
        try:
            if item_type == ItemType.COMPANY:
                return package.upsert_contacts(payloads, key)
            if item_type == ItemType.STOCK_ITEM:
                return package.upsert_items(payloads, key)
            if item_type == ItemType.PREPAYMENT_ALLOCATION:
                return package.create_payments(payloads, key)
            return package.create_documents(payloads, key)
        except ConnectionRequired as exc:
            raise StopRun(str(exc)) from None
        except RateLimited as exc:
            if exc.limit == "day" or rate >= RATE_RETRIES:
                raise StopRun(str(exc)) from None
            rate += 1   # (no progress report here: this may run on a pipeline thread)
            cancel.wait(max(0.05, min(exc.retry_after, 120)))
        except TransientError:
            if transient >= TRANSIENT_RETRIES:
                raise
            transient += 1
            time.sleep(0.2 * transient)
