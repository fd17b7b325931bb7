"""Writes a demo plan's documents, payments and allocations in bulk.

The rows are written by ``ledger.bulk_rows.BulkRows`` (ids assigned in Python, ``executemany`` on the
session's connection, every amount and leg from ``rounding``/``postings`` as ``service.py`` computes
them); this module only turns the plan's documents, payments and allocations into those rows, in the
order the services would write them (``tests/ledger/test_demo.py`` compares the two paths table by
table; figures in benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ..ledger import postings
from ..ledger.bulk_rows import TABLES, BulkLine, BulkRows, ItemCosts
from ..ledger.rounding import money
from ..models import DocumentKind
from .plan import DemoPlan, PlanCreditAllocation, PlanDocument, PlanPayment, PlanPrepaymentAllocation

__all__ = ["TABLES", "BulkWriter", "Refs"]


@dataclass
class Refs:
    """Ids of the master data the plan names by code."""

    nominal: dict[str, int]
    tax: dict[str, int]
    company: dict[str, int]
    currency: dict[str, str]                   # company code -> its currency
    item: dict[str, tuple[int, int, int, Decimal]]  # code -> (id, stock nominal, cost-of-sale nominal, cost)
    bank: dict[str, tuple[int, int]]           # code -> (id, nominal id)
    controls: postings.Controls


class BulkWriter(BulkRows):
    def __init__(self, session: Session, refs: Refs) -> None:
        super().__init__(session, refs.controls)
        self.refs = refs
        self.items = {code: ItemCosts(*values) for code, values in refs.item.items()}
        # Per plan document: id, kind, number, company id, date; per plan payment: its id.
        self.documents: list[tuple[int, str, str, int, date]] = []
        self.payment_ids: list[int] = []

    def write(self, plan: DemoPlan) -> None:
        for doc in plan.documents:
            self.plan_document(doc)
            self.flush_if_full()
        for op in plan.operations:
            if isinstance(op, PlanPayment):
                self.plan_payment(op)
            elif isinstance(op, PlanPrepaymentAllocation):
                self.prepayment_allocation(op)
            else:
                self.credit_allocation(op)
            self.flush_if_full()
        self.flush()

    def plan_document(self, doc: PlanDocument) -> None:
        """As ``service.create_document``."""
        refs = self.refs
        company_id = refs.company[doc.company]
        lines = [BulkLine(self.items[line.item] if line.item else None, line.description, line.quantity,
                          line.unit_price, line.discount, refs.tax[line.tax_code], refs.nominal[line.nominal],
                          line.net, line.tax) for line in doc.lines]
        doc_id = self.document(DocumentKind(doc.kind), doc.number, company_id, doc.date, doc.due_date, doc.currency,
                               doc.reference, lines)
        self.documents.append((doc_id, doc.kind, doc.number, company_id, doc.date))

    def plan_payment(self, p: PlanPayment) -> None:
        """As ``service.record_payment`` (the plan only allocates what is outstanding)."""
        refs = self.refs
        company_id = refs.company[p.company]
        bank_id, bank_nominal = refs.bank[p.bank]
        amount = money(p.amount)
        payment_id = self.payment(p.kind, company_id, bank_id, p.date, amount, refs.currency[p.company], p.reference)
        allocations = [(self.documents[i][0], money(part)) for i, part in p.allocations]
        for doc_id, part in allocations:
            self.allocation(payment_id, None, doc_id, part, p.date)
        self.payment_ids.append(payment_id)
        legs = postings.payment_legs(p.kind, company_id, bank_nominal, bank_id, amount, allocations, refs.controls)
        self.post(p.date, "payment", payment_id, f"{p.kind} {p.reference}".strip(), legs)

    def prepayment_allocation(self, op: PlanPrepaymentAllocation) -> None:
        """As ``service.allocate_prepayment``."""
        doc_id, _, number, company_id, _ = self.documents[op.invoice]
        amount = money(op.amount)
        alloc_id = self.allocation(self.payment_ids[op.payment], None, doc_id, amount, op.date)
        self.post(op.date, "allocation", alloc_id, f"prepayment to {number}",
                  postings.prepayment_allocation_legs(company_id, doc_id, amount, self.refs.controls))

    def credit_allocation(self, op: PlanCreditAllocation) -> None:
        """As ``service.allocate_credit_note`` (dated on the invoice, local only)."""
        credit_id, credit_kind, credit_number, company_id, _ = self.documents[op.credit]
        invoice_id, _, invoice_number, _, when = self.documents[op.invoice]
        amount = money(op.amount)
        alloc_id = self.allocation(None, credit_id, invoice_id, amount, when)
        self.post(when, "allocation", alloc_id, f"{credit_number} to {invoice_number}",
                  postings.credit_allocation_legs(credit_kind == "sales_credit", company_id, credit_id, invoice_id,
                                                  amount, self.refs.controls))
