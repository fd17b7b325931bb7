"""Many payments at once, posted exactly as ``service.record_payment`` posts one.

Why: Create & Allocate Payments must run at over 1,000 payments a second, and the ORM's unit of work
(three flushes a payment) allows a few hundred. The rules are the same ones: ``validate`` is
``record_payment``'s checks (the payment guard included), ``write`` inserts the same rows and the same
journal legs from ``postings.payment_legs``, in a few multi-row INSERTs. ``tests/ledger/test_bulk_payments.py``
proves the two paths leave identical books, so they cannot drift apart unnoticed.

The caller owns the transaction (and usually a SAVEPOINT around ``write``): nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..models import Allocation, BankAccount, Company, Document, JournalEntry, JournalLine, Payment, PaymentKind
from . import postings
from .errors import LedgerError
from .rounding import money
from .service import check_payment_allowed, controls


@dataclass
class PaymentSpec:
    """One payment to record: what ``record_payment`` takes, as plain values."""

    kind: str
    company: Company
    bank: BankAccount
    amount: Decimal
    when: date
    allocations: list[tuple[Document, Decimal]]
    reference: str = ""
    source: str = "ledger"
    remote_id: str | None = None


def validate(session: Session, spec: PaymentSpec, due: dict[int, Decimal]) -> None:
    """``record_payment``'s checks; ``due`` is each document's outstanding amount, kept current by the
    caller across a batch (two payments of one batch may pay the same invoice)."""
    kind = PaymentKind(spec.kind)
    spec.amount = money(spec.amount)
    check_payment_allowed(session, spec.company, kind, spec.source)
    if spec.amount <= 0:
        raise LedgerError("A payment must be for more than zero.")
    if kind == PaymentKind.PREPAYMENT and spec.allocations:
        raise LedgerError("A prepayment is allocated to invoices later, with allocate_prepayment.")
    wanted = "sales_invoice" if kind == PaymentKind.RECEIPT else "purchase_invoice"
    total = Decimal(0)
    for doc, part in spec.allocations:
        if doc.kind != wanted or doc.company_id != spec.company.id:
            raise LedgerError(f"{doc.number} is not an invoice of {spec.company.name}'s that this payment can pay.")
        if part > due[doc.id]:
            raise LedgerError(f"{part} is more than the {due[doc.id]} outstanding on {doc.number}.")
        total += part
    if total > spec.amount:
        raise LedgerError("The allocations add up to more than the payment.")


def write(session: Session, specs: list[PaymentSpec]) -> list[int]:
    """Inserts validated payments, their allocations and their journal entries; returns the payment ids
    in the order of ``specs``."""
    if not specs:
        return []
    c = controls(session)
    session.flush()
    payment_ids = list(session.scalars(
        insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
        [{"kind": PaymentKind(p.kind).value, "company_id": p.company.id, "bank_account_id": p.bank.id, "date": p.when,
              "amount": p.amount, "currency": p.company.currency, "reference": p.reference, "source": p.source,
              "remote_id": p.remote_id} for p in specs]))
    allocations = [{"payment_id": pid, "document_id": doc.id, "amount": money(part), "date": p.when}
                   for pid, p in zip(payment_ids, specs, strict=True) for doc, part in p.allocations]
    if allocations:
        session.execute(insert(Allocation), allocations)
    entry_ids = list(session.scalars(
        insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True),
        [{"date": p.when, "source": "payment", "source_id": pid,
              "description": f"{PaymentKind(p.kind).value} {p.reference}".strip()}
         for pid, p in zip(payment_ids, specs, strict=True)]))
    lines = []
    for entry_id, p in zip(entry_ids, specs, strict=True):
        legs = postings.payment_legs(PaymentKind(p.kind), p.company.id, p.bank.nominal_id, p.bank.id, p.amount,
                                     [(doc.id, money(part)) for doc, part in p.allocations], c)
        postings.assert_balanced(legs)
        lines += [{"entry_id": entry_id, "date": p.when, "nominal_id": leg.nominal_id, "amount": leg.amount,
                       "company_id": leg.tags.company_id, "document_id": leg.tags.document_id,
                       "bank_account_id": leg.tags.bank_account_id} for leg in legs]
    session.execute(insert(JournalLine), lines)
    return payment_ids
