"""The trial balance for a date range, summed from the journal.

Stock and cost-of-sale rows are marked: they stay in KCC, and users post them to the accounting package
by hand as journals, so these are the figures they copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import NEVER_EXPORTED_KINDS, JournalLine, NominalCode, from_stored


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    kind: str
    debit: Decimal
    credit: Decimal

    @property
    def journal_by_hand(self) -> bool:
        return self.kind in NEVER_EXPORTED_KINDS


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [{"code": r.code, "name": r.name, "debit": str(r.debit), "credit": str(r.credit)}
                     for r in self.rows],
            "total_debit": str(self.total_debit),
            "total_credit": str(self.total_credit),
        }


def trial_balance(session: Session, date_from: date | None = None, date_to: date | None = None) -> TrialBalance:
    q = select(JournalLine.nominal_id, func.sum(JournalLine.amount)).group_by(JournalLine.nominal_id)
    if date_from:
        q = q.where(JournalLine.date >= date_from)
    if date_to:
        q = q.where(JournalLine.date <= date_to)
    sums: dict[int, Decimal] = dict(session.execute(q).tuples().all())
    rows = []
    for nominal in session.scalars(select(NominalCode).order_by(NominalCode.code)):
        net = from_stored(sums.get(nominal.id)).quantize(Decimal("0.01"))
        if net == 0:
            continue
        rows.append(TrialBalanceRow(nominal.code, nominal.name, nominal.kind,
                                    net if net > 0 else Decimal("0.00"), -net if net < 0 else Decimal("0.00")))
    return TrialBalance(rows, sum((r.debit for r in rows), Decimal("0.00")),
                        sum((r.credit for r in rows), Decimal("0.00")))
