"""The Import tab's grid: payments fetched from the accounting package and what became of them.

The model holds ids only; rows, sort keys and filter matches come from here, one SQL query each, so
100,000 payments open, sort and filter without building 100,000 objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, case, cast, func, select, type_coerce

from ..models import ImportedPayment, PackageAccount, Payment
from ..store import Store
from ..sync.payments_import import GONE
from .common import amount_text, chunked, like_patterns

KIND_LABELS = {"receipt": "Receipt", "supplier_payment": "Supplier Payment"}


class ImportCol(IntEnum):
    DATE = 0
    TYPE = 1
    COMPANY = 2
    INVOICES = 3
    AMOUNT = 4
    CURRENCY = 5
    BANK = 6
    REFERENCE = 7
    STATUS = 8


class ImportRow(NamedTuple):
    id: int
    date: date
    kind: str
    company: str
    invoices: str
    amount: Decimal
    currency: str
    bank: str
    reference: str
    status: str
    state: str          # ready, problem, created, to_reverse (deleted in the package), deleted, reversed

    @property
    def can_create(self) -> bool:
        return self.state in ("ready", "problem")

    @property
    def can_reverse(self) -> bool:
        return self.state == "to_reverse"


def payment_state(ledger_payment_id: int | None, remote_status: str, status: str,
                  reversed_at: datetime | None) -> str:
    """Where a fetched payment stands, for the grid's colours and the actions' enabled state."""
    if ledger_payment_id is not None:
        if reversed_at is not None:
            return "reversed"
        return "to_reverse" if remote_status in GONE else "created"
    if remote_status in GONE:   # a QuickBooks void is a deletion for the ledger
        return "deleted"
    return "problem" if status.startswith("Not created") else "ready"


_SORT: dict[ImportCol, Any] = {
    ImportCol.DATE: ImportedPayment.date, ImportCol.TYPE: ImportedPayment.kind,
    ImportCol.COMPANY: func.lower(ImportedPayment.company_name), ImportCol.INVOICES: ImportedPayment.invoices,
    ImportCol.AMOUNT: type_coerce(ImportedPayment.amount, Integer),   # the stored integer sorts as the amount
    ImportCol.CURRENCY: ImportedPayment.currency, ImportCol.BANK: ImportedPayment.bank_account_code,
    ImportCol.REFERENCE: func.lower(ImportedPayment.reference), ImportCol.STATUS: ImportedPayment.status}


class ImportedPayments:
    """One provider's fetched payments, newest first. ``ids()`` also re-reads the bank accounts' names."""

    def __init__(self, store: Store, provider: str) -> None:
        self.store = store
        self.provider = provider
        self._banks: dict[str, str] | None = None   # package bank code or id -> "090 Business Bank Account"

    def _bank_labels(self) -> dict[str, str]:
        banks: dict[str, str] = {}
        with self.store.session() as s:
            for code, name, remote_id in s.execute(
                    select(PackageAccount.code, PackageAccount.name, PackageAccount.remote_id)
                    .where(PackageAccount.provider == self.provider, PackageAccount.category == "bank")).tuples():
                label = f"{code} {name}".strip()
                banks[code] = label
                if remote_id:
                    banks[remote_id] = label
        return banks

    def ids(self) -> list[int]:
        self._banks = self._bank_labels()
        with self.store.session() as s:
            return list(s.scalars(select(ImportedPayment.id).where(ImportedPayment.provider == self.provider)
                                  .order_by(ImportedPayment.date.desc(), ImportedPayment.id.desc())))

    def rows(self, ids: Sequence[int]) -> dict[int, ImportRow]:
        if self._banks is None:
            self._banks = self._bank_labels()
        banks = self._banks
        out: dict[int, ImportRow] = {}
        p = ImportedPayment
        q = (select(p.id, p.date, p.kind, p.company_name, p.invoices, p.amount, p.currency, p.bank_account_code,
                    p.bank_account_id, p.reference, p.status, p.remote_status, p.ledger_payment_id,
                    Payment.reversed_at)
             .outerjoin(Payment, Payment.id == p.ledger_payment_id))
        with self.store.session() as s:
            for chunk in chunked(ids):
                for r in s.execute(q.where(p.id.in_(chunk))):
                    bank = (banks.get(r.bank_account_code) or banks.get(r.bank_account_id)
                            or r.bank_account_code or r.bank_account_id)
                    out[r.id] = ImportRow(r.id, r.date, r.kind, r.company_name, r.invoices, r.amount, r.currency,
                                          bank, r.reference, r.status,
                                          payment_state(r.ledger_payment_id, r.remote_status, r.status,
                                                        r.reversed_at))
        return out

    def any_can(self, ids: Sequence[int], flag: str) -> bool:
        """Whether any of ``ids`` has ``flag`` (``can_create`` or ``can_reverse``, as ``payment_state`` decides),
        asked in SQL: enabling an action after a job must not load every selected row on the GUI thread."""
        p = ImportedPayment
        gone = p.remote_status.in_(GONE)
        where = {"can_create": p.ledger_payment_id.is_(None) & ~gone,
                 "can_reverse": p.ledger_payment_id.is_not(None) & gone & Payment.reversed_at.is_(None)}[flag]
        q = select(p.id).outerjoin(Payment, Payment.id == p.ledger_payment_id).where(where).limit(1)
        with self.store.session() as s:
            return any(s.scalar(q.where(p.id.in_(chunk))) is not None for chunk in chunked(ids))

    def sort_keys(self, column: ImportCol) -> dict[int, Any]:
        with self.store.session() as s:
            return dict(s.execute(select(ImportedPayment.id, _SORT[column])
                                  .where(ImportedPayment.provider == self.provider)).tuples().all())

    def matching(self, text: str) -> set[int]:
        """Ids whose company, invoices, reference, status, currency, bank, type, date or amount contains
        every word of ``text``."""
        kind_label = case(*((ImportedPayment.kind == k, v) for k, v in KIND_LABELS.items()),
                          else_=ImportedPayment.kind)
        amount = amount_text(ImportedPayment.amount)
        q = select(ImportedPayment.id).where(ImportedPayment.provider == self.provider)
        for like in like_patterns(text):
            q = q.where(func.lower(ImportedPayment.company_name).like(like)
                        | func.lower(ImportedPayment.invoices).like(like)
                        | func.lower(ImportedPayment.reference).like(like)
                        | func.lower(ImportedPayment.status).like(like)
                        | func.lower(ImportedPayment.currency).like(like)
                        | func.lower(ImportedPayment.bank_account_code).like(like)
                        | func.lower(kind_label).like(like)
                        | cast(ImportedPayment.date, String).like(like)
                        | amount.like(like))
        with self.store.session() as s:
            return set(s.scalars(q))
