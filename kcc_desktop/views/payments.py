"""Record Payment…: the companies, bank accounts and open invoices the dialog offers, and the payment it
records.

The one write behind a screen that has no service of its own: it opens the transaction, finds the
company and bank by id and hands them to ``ledger.service.record_payment``, whose payment guard has
the last word (its refusal comes back as the ``LedgerError`` it raised). A non-account customer's
prepayment may be allocated to one of its open invoices at once (``allocate_prepayment``): that
allocation is what goes to the accounting package, so it is queued for export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select

from ..ledger import service
from ..ledger.errors import LedgerError
from ..ledger.rounding import money
from ..models import BankAccount, Company, Document, DocumentKind, PaymentKind
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


def open_invoices(store: Store, company_id: int) -> list[Choice]:
    """The company's sales invoices with something still owed: "SI-0002 — 11.99 outstanding"."""
    with store.session() as s:
        docs = s.execute(select(Document.id, Document.number).where(
            Document.company_id == company_id, Document.kind == DocumentKind.SALES_INVOICE)
            .order_by(Document.date, Document.id)).tuples().all()
        out = []
        for doc_id, number in docs:
            owed = service.outstanding(s, doc_id)
            if owed > 0:
                out.append(Choice(doc_id, f"{number} — {owed:,.2f} outstanding"))
        return out


@dataclass(frozen=True)
class Recorded:
    payment_id: int
    allocated: Decimal                  # how much of a prepayment went to the invoice (0: none)
    invoice: str                        # that invoice's number ("" when not allocated)


def record_payment(store: Store, company_id: int, bank_id: int, amount: Decimal, when: date,
                   reference: str = "", allocate_to: int | None = None) -> Recorded:
    """Records the payment (behind the payment guard); a prepayment is then allocated to ``allocate_to``
    (an open invoice of the same customer), as much of it as that invoice still owes. Raises
    LedgerError if refused; nothing is written then."""
    with store.transaction() as s:
        company = s.get(Company, company_id)
        bank = s.get(BankAccount, bank_id)
        if company is None:
            raise LedgerError("This company no longer exists in the company file; choose another.")
        if bank is None:
            raise LedgerError("Choose the bank account the money went in or out of.")
        kind = payment_kind_for(company)
        payment = service.record_payment(s, kind, company, bank, amount, when, reference=reference)
        if allocate_to is None:
            return Recorded(payment.id, Decimal(0), "")
        invoice = s.get(Document, allocate_to)
        if kind != PaymentKind.PREPAYMENT or invoice is None:
            raise LedgerError("Only a prepayment from a non-account customer is allocated here; choose no invoice.")
        part = min(money(amount), service.outstanding(s, invoice.id))
        service.allocate_prepayment(s, payment, invoice, part, when)
        return Recorded(payment.id, part, invoice.number)
