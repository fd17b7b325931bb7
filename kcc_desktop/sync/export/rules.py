"""What an upload sends, in which order and in which groups, and what it reports.

Declarations only: the run (``run.py``) follows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ...models import ItemType

REPLAY_WINDOW = timedelta(minutes=5)   # packages keep idempotency keys ~6 minutes; stay inside that
SALT_KEY = "export.key_salt"
PIPELINE = 3                           # requests in flight (Xero allows 5 per organisation, QuickBooks 10)
CONSECUTIVE_FAILURES = 3               # requests failing in a row (after the transport's own resends) stop a run
OTHERS_PATIENCE = 600.0                # seconds a run waits for another desk to send what its items need
SAVE_EVERY = 10                        # look-ups whose outcomes are saved together (never one long transaction)

DOC_TYPES = (ItemType.SALES_INVOICE, ItemType.SALES_CREDIT, ItemType.PURCHASE_INVOICE, ItemType.PURCHASE_CREDIT)
# One request per batch: sales invoices and bills share Xero's /Invoices, credit notes of both sides
# /CreditNotes; anything else is one type per batch.
BATCH_FAMILY = {ItemType.SALES_INVOICE: "invoice", ItemType.PURCHASE_INVOICE: "invoice",
                ItemType.SALES_CREDIT: "credit", ItemType.PURCHASE_CREDIT: "credit"}
# Dependencies first: companies and stock items, then documents, then the allocations against them.
PHASES: tuple[tuple[ItemType, ...], ...] = (
    (ItemType.COMPANY,), (ItemType.STOCK_ITEM,), DOC_TYPES, (ItemType.PREPAYMENT_ALLOCATION,))

Progress = Callable[[int, int, str], None]

# Keys this process sent: after a restart the package may have restarted too, so a replay is trusted
# only for these (payments excepted: they cannot be looked up).
SENT_KEYS: set[str] = set()


@dataclass
class Summary:
    """What one Upload Data did. The text speaks of the selection: what was asked for, what went with it."""

    exported: int = 0
    failed: int = 0
    held: int = 0          # not sent because something they need failed
    elsewhere: int = 0     # left to another desk that is sending them (or what they need) right now
    pending: int = 0       # still pending in the whole queue after the run
    requests: int = 0
    cancelled: bool = False
    stopped: str = ""      # why the run stopped early (connection, daily limit), in plain words
    sign_in_needed: bool = False   # stopped because the sign-in is missing, revoked or made elsewhere
    exported_ids: list[int] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)
    held_ids: list[int] = field(default_factory=list)
    selected_ids: set[int] = field(default_factory=set)   # what the user selected (dependencies come on top)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.held and not self.stopped

    @property
    def text(self) -> str:
        chosen = self.selected_ids
        if not chosen:   # nothing was selected (a run over ids it was handed): counts only
            parts = [f"{self.exported:,} exported"]
            if self.failed:
                parts.append(f"{self.failed:,} failed (see Error Feedback)")
            if self.held:
                parts.append(f"{self.held:,} held back")
            if self.elsewhere:
                parts.append(f"{self.elsewhere:,} being sent from another desk")
            if self.cancelled:
                parts.append("cancelled")
            text = ", ".join(parts) + "."
            return f"{self.stopped} {text}" if self.stopped else text
        went = len(chosen.intersection(self.exported_ids))
        failed = len(chosen.intersection(self.failed_ids))
        held = len(chosen.intersection(self.held_ids))
        extra = self.exported - went
        text = f"{went:,} of {len(chosen):,} selected exported"
        if extra:
            text += f", with {extra:,} they needed first (customers, suppliers, stock items, invoices)"
        if failed:
            text += f"; {failed:,} failed (see Error Feedback)"
        if held:
            text += f"; {held:,} held back by a problem with what they need"
        if self.elsewhere:
            text += f"; {self.elsewhere:,} being sent from another desk"
        not_sent = len(chosen) - went - failed - held - self.elsewhere
        if not_sent > 0:
            text += f"; {not_sent:,} not sent and still pending" + (" (cancelled)" if self.cancelled else "")
        elif self.cancelled:
            text += " (cancelled)"
        extra_failed = self.failed - failed
        if extra_failed > 0:
            text += f"; {extra_failed:,} of what they needed failed (see Error Feedback)"
        text += "."
        return f"{self.stopped} {text}" if self.stopped else text

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exported": self.exported, "failed": self.failed + self.held, "pending": self.pending}
        if self.elsewhere:   # only when another desk is at work, so a lone desk's output stays as it was
            out["elsewhere"] = self.elsewhere
        return out


class StopRun(Exception):
    """The whole run must stop (connection lost, daily limit): the message says why and when to retry.
    ``sign_in`` when only a new sign-in (Connect) can let it go on."""

    def __init__(self, message: str, sign_in: bool = False) -> None:
        super().__init__(message)
        self.sign_in = sign_in


def not_answering(pkg_name: str) -> StopRun:
    return StopRun(f"{pkg_name} is not answering; nothing was lost; try again later.")
