"""Recovering interrupted items: sent under a key whose answer was never saved, now claimed by this run.

Rules (see the package docstring for the whole of "exactly once"):
- Within the package's memory of the key, the same batch is replayed under the same key.
- Otherwise each item is looked up: a document by number, a contact by name, an item by code, a payment
  by KCC's stamp. Only a clean "not there" lets it be sent again. A look-up that fails or cannot be read
  leaves it pending under its key ("unknown is not absent"); ``CONSECUTIVE_FAILURES`` of them in a row
  stop the run ("Xero is not answering; nothing was lost").
- No look-up runs with a write pending: outcomes are kept in memory and saved every ``SAVE_EVERY``
  look-ups, each save one short transaction, so another desk or an import never waits on the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ...connectors.base import ConnectionRequired, ConnectorError, PaymentIn, Result, make_stamp
from ...models import Allocation, ExportItem, ExportStatus, ItemType
from .lookup import lookup
from .rules import CONSECUTIVE_FAILURES, SAVE_EVERY, StopRun, not_answering

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...connectors.base import AccountingPackage
    from .claims import Claims
    from .outcomes import Outcomes


class RecoveringRun(Protocol):
    """What recovery needs of the upload run (``run.UploadRun``), named here so the two modules do not
    import each other."""

    pkg_name: str
    package: AccountingPackage
    salt: str
    claims: Claims
    out: Outcomes

    def payload(self, s: Session, item: ExportItem, obj: Any) -> Any: ...

log = logging.getLogger(__name__)


@dataclass
class Found:
    item_id: int
    hit: tuple[str, str] | None     # (remote id, number) when the package has it
    error: str = ""                 # why it could not be told: the item stays pending under its key


class Recovery:
    """The look-ups of one run; counts failures in a row across groups."""

    def __init__(self, run: RecoveringRun) -> None:
        self.run = run
        self.failures_in_a_row = 0

    def look_up(self, s: Session, ids: list[int]) -> list[int]:
        """Looks each item up; saves what was found; returns the ids a clean "not there" lets go again."""
        s.commit()   # nothing may be pending while the network is asked
        again: list[int] = []
        found: list[Found] = []
        try:
            for item_id in ids:
                with s.no_autoflush:
                    outcome = self._one(s, item_id)
                if outcome is None:
                    continue
                found.append(outcome)
                if outcome.error:
                    self.failures_in_a_row += 1
                    if self.failures_in_a_row >= CONSECUTIVE_FAILURES:
                        raise not_answering(self.run.pkg_name)
                else:
                    self.failures_in_a_row = 0
                if len(found) >= SAVE_EVERY:
                    again += self._save(s, found)
                    found = []
        finally:
            again += self._save(s, found)
        return again

    def _one(self, s: Session, item_id: int) -> Found | None:
        item = s.get(ExportItem, item_id)
        if item is None or item.status != ExportStatus.PENDING:
            return None
        try:
            if item.item_type == ItemType.PREPAYMENT_ALLOCATION:
                return Found(item_id, self._payment(s, item))
            return Found(item_id, lookup(s, self.run.package, item))
        except ConnectionRequired as exc:
            raise StopRun(str(exc), sign_in=True) from None
        except ConnectorError as exc:
            log.info("Look-up of export item %d failed (%s): it stays pending under its key", item_id, exc)
            return Found(item_id, None, str(exc))

    def _payment(self, s: Session, item: ExportItem) -> tuple[str, str] | None:
        """A prepayment allocation, by the stamp KCC put on the payment it made for it."""
        alloc = s.get(Allocation, item.object_id)
        if alloc is None:
            return None
        payload = self.run.payload(s, item, alloc)
        assert isinstance(payload, PaymentIn)
        rid = self.run.package.find_payment(make_stamp(self.run.salt, alloc.id), payload)
        return (rid, item.reference) if rid else None

    def _save(self, s: Session, found: list[Found]) -> list[int]:
        """One short transaction: found items exported, unknown ones kept pending under their key."""
        if not found:
            return []
        again: list[int] = []
        mine = self.run.claims.still_mine(s, [f.item_id for f in found])
        for f in found:
            item = s.get(ExportItem, f.item_id)
            if item is None or f.item_id not in mine:
                continue
            if f.error:
                self.run.out.fail(s, f.item_id, [f.error], keep_key=True,
                                  advice=f"{self.run.pkg_name} could not say whether it already has this. Upload "
                                         "Data again later: it is looked up again, never created twice.")
            elif f.hit is not None:
                self.run.out.succeed(s, item, Result(key=str(item.id), ok=True, remote_id=f.hit[0],
                                                     remote_number=f.hit[1]))
            else:
                item.attempt_key = None
                again.append(f.item_id)
        s.commit()
        found.clear()
        return again
