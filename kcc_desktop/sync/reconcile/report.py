"""What a reconciliation found: one row per exported document, the balances per company, the request count.

Plain values only, so the command line prints it and the window shows it without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The package's side of a document, as the Reconcile view and ``--json`` say it."""

    MATCHED = "matched"
    PAID = "paid"
    PART_PAID = "part paid"
    VOIDED = "voided"
    DELETED = "deleted"
    EDITED_IN_PACKAGE = "edited in the package"
    MISSING = "missing"
    CHANGED_SINCE_EXPORT = "changed since export"
    TOTAL_DIFFERS = "total differs"
    CURRENCY_DIFFERS = "currency differs"
    OUTSTANDING_DIFFERS = "outstanding differs"
    EXCHANGE_DIFFERENCE = "exchange difference"   # only exchange gains or losses: not an error
    HANDLED = "handled"                           # a difference marked as handled, with a reason
    ACCEPTED = "accepted"                         # a ledger change accepted, with a reason


# What a bookkeeper may do about a row (sync/reconcile/actions.py); the view offers these.
class Action(StrEnum):
    SEND_CHANGE = "send change"          # update the package's copy (where it may be edited)
    CREDIT_REISSUE = "credit and reissue"  # paid or locked: credit the old one, send the new one
    ACCEPT = "accept"                    # keep the difference, with a reason
    RESEND = "re-send"                   # deleted or voided in the package: send it again
    MARK_HANDLED = "mark handled"        # deleted, voided or missing: dealt with by hand, with a reason


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass
class Row:
    item_id: int                 # the Exported Successfully row (ExportItem id)
    item_type: str               # sales_invoice, sales_credit, purchase_invoice, purchase_credit
    object_id: int               # the ledger document
    number: str
    company: str
    company_id: int
    date: date | None
    currency: str
    ledger_total: Decimal
    package_total: Decimal | None
    status: Status
    problem: bool
    advice: str = ""
    changes: list[str] = field(default_factory=list)
    remote_id: str = ""
    ledger_outstanding: Decimal | None = None
    package_outstanding: Decimal | None = None
    package_base_total: Decimal | None = None
    marked_manually: bool = False
    actions: tuple[Action, ...] = ()

    @property
    def variance(self) -> Decimal | None:
        if self.status == Status.EXCHANGE_DIFFERENCE and self.package_base_total is not None:
            return self.package_base_total - self.ledger_total
        if self.status in (Status.DELETED, Status.VOIDED, Status.MISSING):
            return -self.ledger_total   # the package holds nothing that counts
        return None if self.package_total is None else self.package_total - self.ledger_total

    def to_json(self) -> dict[str, Any]:
        return {"type": self.item_type, "number": self.number, "ledger_total": money(self.ledger_total),
                "package_total": money(self.package_total), "status": self.status.value, "advice": self.advice}


@dataclass
class Balance:
    """Outstanding per customer or supplier, on the documents reconciled, on both sides."""

    company_id: int
    company: str
    ledger: Decimal = Decimal("0")
    package: Decimal = Decimal("0")

    @property
    def difference(self) -> Decimal:
        return self.package - self.ledger


@dataclass
class Report:
    date_from: date | None
    date_to: date | None
    package_name: str
    rows: list[Row] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    requests: int = 0
    cancelled: bool = False

    @property
    def documents(self) -> int:
        return len(self.rows)

    @property
    def matched(self) -> int:
        return sum(1 for r in self.rows if not r.problem)

    @property
    def differences(self) -> list[Row]:
        return [r for r in self.rows if r.problem]

    @property
    def ordered(self) -> list[Row]:
        """Differences first, then the rest, each by date and number."""
        return sorted(self.rows, key=lambda r: (not r.problem, r.date or date.min, r.number))

    def to_json(self) -> dict[str, Any]:
        """The ``kcc-desktop reconcile --json`` contract."""
        return {"documents": self.documents, "matched": self.matched, "requests": self.requests,
                "differences": [r.to_json() for r in self.ordered if r.problem]}

    def text(self) -> str:
        span = f"{self.date_from or 'the first'} to {self.date_to or 'the last'}"
        lines = [f"Reconciled {self.documents:,} exported documents with {self.package_name} ({span}): "
                 f"{self.matched:,} agree, {len(self.differences):,} differ; {self.requests:,} requests."]
        for r in self.ordered:
            if not r.problem and r.status != Status.EXCHANGE_DIFFERENCE:
                continue
            pkg = money(r.package_total) or "-"
            lines.append(f"  {r.number} ({r.company}): ledger {money(r.ledger_total)}, {self.package_name} {pkg} "
                         f"[{r.status.value}] {r.advice}")
        lines.extend(f"  Outstanding for {b.company}: ledger {money(b.ledger)}, {self.package_name} "
                     f"{money(b.package)}" for b in self.balances if b.difference)
        if self.cancelled:
            lines.append("Stopped before the end (Cancel): the figures cover what was read.")
        return "\n".join(lines)
