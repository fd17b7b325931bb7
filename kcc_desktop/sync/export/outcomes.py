"""What one upload run records: exported rows and their links, Error Feedback, held-back items, counts.

Every outcome is written to the run's session; the run commits per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...connectors.base import Result
from ...models import (
    Document,
    DocumentLine,
    ExportFeedback,
    ExportItem,
    ExportStatus,
    ItemType,
    MatchState,
    RemoteLink,
    utcnow,
)
from ..advice import advice_for
from ..gil import yield_gil
from ..reconcile import snapshot
from .lookup import save_link
from .planning import ObjectKey
from .rules import DOC_TYPES, Summary


class Outcomes:
    """The run's ledger of results: ``summary`` counts, ``failed`` says why each failed or held item did."""

    def __init__(self, provider: str, pkg_name: str, clock: Callable[[], datetime], links: dict[ObjectKey, str],
                 nominals: dict[int, tuple[str, str, str]], step: Callable[[int], None]) -> None:
        self.provider, self.pkg_name, self.clock = provider, pkg_name, clock
        self.links = links              # shared with the plan: companies and items exported this run join it
        self.nominals = nominals        # ledger nominal id -> (code, name, kind), for the advice
        self.step = step
        self.summary = Summary()
        self.failed: dict[int, str] = {}     # item id -> reason (failed or held this run)

    def existing_links(self, s: Session, items: list[ExportItem]) -> dict[int, RemoteLink]:
        """The batch's RemoteLinks that already exist (an update, a re-export), by export item id: one query."""
        wanted = {(i.item_type, i.object_id): i.id for i in items}
        if not wanted:
            return {}
        rows = s.scalars(select(RemoteLink).where(
            RemoteLink.provider == self.provider, RemoteLink.object_type.in_({t for t, _ in wanted}),
            RemoteLink.object_id.in_({o for _, o in wanted})))
        return {wanted[(r.object_type, r.object_id)]: r for r in rows if (r.object_type, r.object_id) in wanted}

    def succeed(self, s: Session, item: ExportItem, result: Result,
                links: dict[int, RemoteLink] | None = None) -> None:
        item.status = ExportStatus.EXPORTED
        item.exported_at = self.clock()
        item.confirmed = True
        item.remote_id = result.remote_id
        item.remote_number = result.remote_number or item.reference
        if result.matched:
            item.match_state = MatchState.MATCHED   # linked to what the package had (matching.py)
        if links is None:
            save_link(s, self.provider, item.item_type, item.object_id, result.remote_id, item.remote_number)
        elif item.id in links:
            link = links[item.id]
            link.remote_id, link.remote_number, link.linked_at = result.remote_id, item.remote_number, utcnow()
        else:
            s.add(RemoteLink(provider=self.provider, object_type=item.item_type, object_id=item.object_id,
                             remote_id=result.remote_id, remote_number=item.remote_number))
        if item.item_type in (ItemType.COMPANY, ItemType.STOCK_ITEM):
            self.links[(item.item_type, item.object_id)] = result.remote_id
        elif item.item_type in DOC_TYPES:   # what was sent, so a later ledger edit is seen (sync/reconcile)
            doc = s.get(Document, item.object_id)
            if doc is not None:
                snapshot.record(s, self.provider, item.item_type, doc, package_total=result.total)
        self.summary.exported += 1
        self.summary.exported_ids.append(item.id)
        for note in result.messages:   # what the package did differently (a renumbered document, a second record)
            s.add(ExportFeedback(export_item_id=item.id, item_label=label(item), message=note, advice="",
                                 at=self.clock()))
        if result.total is not None and item.amount is not None and result.total != item.amount:
            s.add(ExportFeedback(export_item_id=item.id, item_label=label(item),
                                 message=f"{self.pkg_name} shows a total of {result.total:.2f}; "
                                         f"the ledger's is {item.amount:.2f}.",
                                 advice=f"Check the document in {self.pkg_name} (Goto Document) and correct "
                                        "whichever side is wrong."))

    def succeed_batch(self, s: Session, items: dict[int, ExportItem], sendable: list[int],
                      results: list[Result]) -> None:
        """A batch the package answered: each item exported, or failed with the package's own words."""
        by_key = {r.key: r for r in results}
        ok = [i for i in sendable if by_key.get(str(i)) is not None and by_key[str(i)].ok]
        with s.no_autoflush:
            links = self.existing_links(s, [items[i] for i in ok])
            for i in sendable:
                yield_gil()
                result = by_key.get(str(i))
                if result is not None and result.ok:
                    self.succeed(s, items[i], result, links)
                else:
                    self.fail(s, i, result.messages if result else
                              [f"{self.pkg_name} did not answer for this item."])

    def fail(self, s: Session, item_id: int, messages: list[str], *, advice: str = "", nominal_code: str = "",
             keep_key: bool = False) -> None:
        item = s.get(ExportItem, item_id)
        assert item is not None
        message = "; ".join(m for m in messages if m) or f"{self.pkg_name} refused it without saying why."
        if not advice:
            found = advice_for(message, package=self.pkg_name, line_nominals=self._line_nominals(s, item))
            advice, nominal_code = found.text, found.nominal_code
        if not keep_key:
            item.attempt_key = None
        s.add(ExportFeedback(export_item_id=item_id, item_label=label(item), message=message,
                             advice=advice, nominal_code=nominal_code, at=self.clock()))
        self.failed[item_id] = message
        self.summary.failed += 1
        self.summary.failed_ids.append(item_id)

    def hold(self, s: Session, item_id: int, blocker_id: int) -> None:
        """Not sent: something it needs (its customer, an item, its invoice) failed this run."""
        blocker = s.get(ExportItem, blocker_id)
        item = s.get(ExportItem, item_id)
        assert blocker is not None and item is not None
        reason = self.failed[blocker_id]
        s.add(ExportFeedback(export_item_id=item_id, item_label=label(item),
                             message=f"Not sent: {label(blocker)} could not be uploaded ({reason}).",
                             advice=f"Fix {label(blocker)} first (see its feedback); this goes with it "
                                    "on the next Upload Data.", at=self.clock()))
        self.failed[item_id] = f"held back by {label(blocker)}"
        self.summary.held += 1
        self.step(1)

    def _line_nominals(self, s: Session, item: ExportItem) -> list[tuple[str, str]]:
        if item.item_type not in DOC_TYPES:
            return []
        rows = s.execute(select(DocumentLine.nominal_id).where(DocumentLine.document_id == item.object_id)
                         .order_by(DocumentLine.line_no)).scalars()
        out: list[tuple[str, str]] = []
        for nominal_id in rows:
            code, name, _kind = self.nominals[nominal_id]
            if (code, name) not in out:
                out.append((code, name))
        return out


def label(item: ExportItem) -> str:
    return f"{ItemType(item.item_type).label} {item.reference}".strip()
