"""What one upload run records: exported rows and their links, Error Feedback, held-back items, counts.

Every outcome is written to the run's session; the run commits per batch. Error Feedback keeps one row
per item and problem: the same problem again counts up and moves "last seen"; an item that exports
resolves its open problems. Each row says whose words it holds: the package's, or KCC's own finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...connectors.base import Result
from ...models import (
    Document,
    DocumentLine,
    ExportFeedback,
    ExportItem,
    ExportStatus,
    FeedbackSource,
    ItemType,
    MatchState,
    RemoteLink,
    utcnow,
)
from ..advice import advice_for
from ..gil import chunks, yield_gil
from ..reconcile import snapshot
from ..target import Target
from .lookup import save_link
from .planning import ObjectKey
from .rules import DOC_TYPES, Summary


class Outcomes:
    """The run's ledger of results: ``summary`` counts, ``failed`` says why each failed or held item did."""

    def __init__(self, target: Target, pkg_name: str, clock: Callable[[], datetime], links: dict[ObjectKey, str],
                 nominals: dict[int, tuple[str, str, str]], step: Callable[[int], None]) -> None:
        self.target, self.pkg_name, self.clock = target, pkg_name, clock
        self.provider = target.provider
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
            RemoteLink.provider == self.provider, RemoteLink.tenant_id == self.target.tenant_id,
            RemoteLink.object_type.in_({t for t, _ in wanted}),
            RemoteLink.object_id.in_({o for _, o in wanted})))
        return {wanted[(r.object_type, r.object_id)]: r for r in rows if (r.object_type, r.object_id) in wanted}

    def succeed(self, s: Session, item: ExportItem, result: Result,
                links: dict[int, RemoteLink] | None = None, *, resolve: bool = True) -> None:
        item.status = ExportStatus.EXPORTED
        item.exported_at = self.clock()
        item.confirmed = True
        item.remote_id = result.remote_id
        item.remote_number = result.remote_number or item.reference
        if result.matched:
            item.match_state = MatchState.MATCHED   # linked to what the package had (matching.py)
        if links is None:
            save_link(s, self.target, item.item_type, item.object_id, result.remote_id, item.remote_number)
        elif item.id in links:
            link = links[item.id]
            link.remote_id, link.remote_number, link.linked_at = result.remote_id, item.remote_number, utcnow()
        else:
            s.add(RemoteLink(provider=self.provider, tenant_id=self.target.tenant_id, object_type=item.item_type,
                             object_id=item.object_id, remote_id=result.remote_id, remote_number=item.remote_number))
        if resolve:
            resolve_feedback(s, [item.id], self.clock())
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
            self.note(s, item, f"{self.pkg_name} shows a total of {result.total:.2f}; the ledger's is "
                               f"{item.amount:.2f}.",
                      f"Check the document in {self.pkg_name} (Goto Document) and correct whichever side is wrong.",
                      source=FeedbackSource.KCC)

    def succeed_batch(self, s: Session, items: dict[int, ExportItem], sendable: list[int],
                      results: list[Result]) -> None:
        """A batch the package answered: each item exported, or failed with the package's own words."""
        by_key = {r.key: r for r in results}
        ok = [i for i in sendable if by_key.get(str(i)) is not None and by_key[str(i)].ok]
        resolve_feedback(s, ok, self.clock())   # first: a note the package's answer raises stays open
        with s.no_autoflush:
            links = self.existing_links(s, [items[i] for i in ok])
            for i in sendable:
                yield_gil()
                result = by_key.get(str(i))
                if result is not None and result.ok:
                    self.succeed(s, items[i], result, links, resolve=False)
                elif result is not None:
                    self.fail(s, i, result.messages)
                else:
                    self.fail(s, i, [f"{self.pkg_name} did not answer for this item."], source=FeedbackSource.KCC)

    def fail(self, s: Session, item_id: int, messages: list[str], *, advice: str = "", nominal_code: str = "",
             keep_key: bool = False, source: str = FeedbackSource.PACKAGE) -> None:
        item = s.get(ExportItem, item_id)
        assert item is not None
        message = "; ".join(m for m in messages if m) or f"{self.pkg_name} refused it without saying why."
        if not advice:
            found = advice_for(message, package=self.pkg_name, line_nominals=self._line_nominals(s, item))
            advice, nominal_code = found.text, found.nominal_code
        if not keep_key:
            item.attempt_key = None
        self.note(s, item, message, advice, nominal_code=nominal_code, source=source)
        self.failed[item_id] = message
        self.summary.failed += 1
        self.summary.failed_ids.append(item_id)

    def note(self, s: Session, item: ExportItem, message: str, advice: str, *, nominal_code: str = "",
             source: str = FeedbackSource.PACKAGE) -> None:
        """Error Feedback for ``item``: the same open problem again is counted on its row, not added."""
        now = self.clock()
        with s.no_autoflush:
            same = s.scalars(select(ExportFeedback).where(
                ExportFeedback.export_item_id == item.id, ExportFeedback.message == message,
                ExportFeedback.resolved_at.is_(None)).order_by(ExportFeedback.id)).first()
        if same is not None:
            same.count += 1
            same.last_seen_at = now
            same.advice, same.nominal_code, same.item_label = advice, nominal_code, label(item)
            return
        s.add(ExportFeedback(export_item_id=item.id, item_label=label(item), message=message, advice=advice,
                             nominal_code=nominal_code, at=now, last_seen_at=now, count=1, source=source))

    def hold(self, s: Session, item_id: int, blocker_id: int) -> None:
        """Not sent: something it needs (its customer, an item, its invoice) failed this run."""
        blocker = s.get(ExportItem, blocker_id)
        item = s.get(ExportItem, item_id)
        assert blocker is not None and item is not None
        reason = self.failed[blocker_id]
        self.note(s, item, f"Not sent: {label(blocker)} could not be uploaded ({reason}).",
                  f"Fix {label(blocker)} first (see its feedback); this goes with it on the next Upload Data.",
                  source=FeedbackSource.KCC)
        self.failed[item_id] = f"held back by {label(blocker)}"
        self.summary.held += 1
        self.summary.held_ids.append(item_id)
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


def resolve_feedback(s: Session, item_ids: Iterable[int], when: datetime) -> None:
    """The items went to the package (or were marked so): their open problems are resolved."""
    for chunk in chunks(list(item_ids)):
        s.execute(update(ExportFeedback).where(ExportFeedback.export_item_id.in_(chunk),
                                               ExportFeedback.resolved_at.is_(None)).values(resolved_at=when),
                  execution_options={"synchronize_session": False})


def label(item: ExportItem) -> str:
    return f"{ItemType(item.item_type).label} {item.reference}".strip()
