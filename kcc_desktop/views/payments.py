"""Record Payment…: the companies and bank accounts the dialog offers, and the payment it records.

The one write behind a screen that has no service of its own: it opens the transaction, finds the
company and bank by id and hands them to ``ledger.service.record_payment``, whose payment guard has
the last word (its refusal comes back as the ``LedgerError`` it raised).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select

from ..ledger import service
from ..ledger.errors import LedgerError
from ..models import BankAccount, Company, PaymentKind
from ..store import Store
from ..sync.guard import payment_kind_for


class Choice(NamedTuple):
    id: int
    label: str


def company_choices(store: Store) -> list[Choice]:
    """Every customer and supplier, by name: "Acme Tools Ltd (ACME)"."""
    with store.session() as s:
        return [Choice(i, f"{name} ({code})") for i, name, code in
                s.execute(select(Company.id, Company.name, Company.code).order_by(Company.name)).tuples()]


def bank_choices(store: Store) -> list[Choice]:
    """Every ledger bank account, by code: "1200 — Bank Current Account"."""
    with store.session() as s:
        return [Choice(i, f"{code} — {name}") for i, code, name in
                s.execute(select(BankAccount.id, BankAccount.code, BankAccount.name)
                          .order_by(BankAccount.code)).tuples()]


def payment_kind(store: Store, company_id: int) -> PaymentKind | None:
    """What a payment entered for this company is (None if the company is gone)."""
    with store.session() as s:
        company = s.get(Company, company_id)
        return payment_kind_for(company) if company is not None else None


def record_payment(store: Store, company_id: int, bank_id: int, amount: Decimal, when: date,
                   reference: str = "") -> int:
    """Records the payment (behind the payment guard) and returns its id; raises LedgerError if refused."""
    with store.transaction() as s:
        company = s.get(Company, company_id)
        bank = s.get(BankAccount, bank_id)
        if company is None:
            raise LedgerError("This company no longer exists in the company file; choose another.")
        if bank is None:
            raise LedgerError("Choose the bank account the money went in or out of.")
        payment = service.record_payment(s, payment_kind_for(company), company, bank, amount, when,
                                         reference=reference)
        return payment.id
