"""Writes a demo plan's documents, payments and allocations in bulk.

The ORM services cost about 3 ms a document with its payments (identity map, flushes and balance
queries); 100,000 documents must take well under a minute. So here rows are built as tuples with ids
assigned in Python and inserted with the driver's ``executemany`` on the session's own connection
(same transaction). Only the *writing* differs: the amounts come from ``rounding.line_amounts`` (via the
plan) and every journal leg from ``postings``, the same calls ``service.py`` makes, in the same order,
so ids and journal lines come out exactly as the services would write them
(``tests/ledger/test_demo.py`` compares the two paths table by table).

Every value still goes through its column type's own bind processor (``Money`` scales and checks each
amount; ``Date``/``UTCDateTime`` format as the ORM does); only SQLAlchemy's per-row statement-parameter
building is skipped, a large part of the time (figures in benchmarks/README.md). Raw SQL gets no
Python-side column defaults, so ``COLUMNS`` must name every column of each table: ``BulkWriter`` refuses
to run if a model gained a column this module does not fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Date, Dialect, Table, func, select
from sqlalchemy.orm import Session

from ..ledger import postings
from ..ledger.rounding import money
from ..models import (
    Allocation,
    Document,
    DocumentKind,
    DocumentLine,
    JournalEntry,
    JournalLine,
    Payment,
    UTCDateTime,
    utcnow,
)
from .plan import DemoPlan, PlanCreditAllocation, PlanDocument, PlanPayment, PlanPrepaymentAllocation

ZERO = Decimal(0)
BulkTable = type[Document | DocumentLine | Payment | Allocation | JournalEntry | JournalLine]
Row = tuple[Any, ...]
# Foreign keys are checked per statement, so each batch is inserted parents first.
COLUMNS: dict[BulkTable, tuple[str, ...]] = {
    Document: ("id", "kind", "number", "company_id", "date", "due_date", "currency", "reference", "net_total",
               "tax_total", "gross_total", "created_at"),
    DocumentLine: ("id", "document_id", "line_no", "stock_item_id", "description", "quantity", "unit_price",
                   "discount_rate", "tax_code_id", "nominal_id", "net", "tax"),
    Payment: ("id", "kind", "company_id", "bank_account_id", "date", "amount", "currency", "reference", "source",
              "remote_id", "reversed_at", "created_at"),
    Allocation: ("id", "payment_id", "credit_note_id", "document_id", "amount", "date", "reversed_at",
                 "created_at"),
    JournalEntry: ("id", "date", "source", "source_id", "description", "created_at"),
    JournalLine: ("id", "entry_id", "date", "nominal_id", "amount", "company_id", "document_id",
                  "bank_account_id"),
}
TABLES = list(COLUMNS)
BATCH_ROWS = 50_000


class _Inserter:
    """One table's INSERT and the bind processors of the columns that have one."""

    def __init__(self, table: BulkTable, dialect: Dialect) -> None:
        t = cast(Table, table.__table__)   # a mapped class's __table__ is its Table
        names = COLUMNS[table]
        missing = set(t.c.keys()) - set(names)
        if missing:
            raise RuntimeError(f"bulk.COLUMNS does not fill {t.name}.{', '.join(sorted(missing))}; "
                               "add it there (raw inserts get no column defaults).")
        self.sql = (f"INSERT INTO {t.name} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' if dialect.paramstyle == 'qmark' else '%s' for _ in names)})")
        self.processors = [(i, p, isinstance(t.c[name].type, (Date, UTCDateTime)))
                           for i, name in enumerate(names) if (p := t.c[name].type.bind_processor(dialect))]

    def prepare(self, rows: list[Row]) -> list[Row]:
        """Runs each processed column through its type, column-wise (``zip`` transposes in C)."""
        if not self.processors:
            return rows
        columns: list[Row] = list(zip(*rows, strict=True))
        for i, process, few_values in self.processors:
            if few_values:  # dates and the creation stamp repeat: convert each distinct value once
                seen = {v: process(v) for v in set(columns[i]) if v is not None}
                columns[i] = tuple(seen.get(v) for v in columns[i])
            else:
                columns[i] = tuple(None if v is None else process(v) for v in columns[i])
        return list(zip(*columns, strict=True))


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


class BulkWriter:
    def __init__(self, session: Session, refs: Refs) -> None:
        self.conn = session.connection()
        self.refs = refs
        self.now = utcnow()  # one creation stamp for the whole demo
        self.rows: dict[BulkTable, list[Row]] = {t: [] for t in TABLES}
        self.inserters = {t: _Inserter(t, self.conn.dialect) for t in TABLES}
        self.next_id = {t: (session.scalar(select(func.max(t.id))) or 0) + 1 for t in TABLES}
        self.pending = 0
        # Per plan document: id, kind, number, company id, date; per plan payment: its id.
        self.documents: list[tuple[int, str, str, int, date]] = []
        self.payment_ids: list[int] = []

    def _id(self, table: BulkTable) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _add(self, table: BulkTable, row: Row) -> None:
        self.rows[table].append(row)
        self.pending += 1

    def write(self, plan: DemoPlan) -> None:
        for doc in plan.documents:
            self.document(doc)
            if self.pending >= BATCH_ROWS:
                self.flush()
        for op in plan.operations:
            if isinstance(op, PlanPayment):
                self.payment(op)
            elif isinstance(op, PlanPrepaymentAllocation):
                self.prepayment_allocation(op)
            else:
                self.credit_allocation(op)
            if self.pending >= BATCH_ROWS:
                self.flush()
        self.flush()

    def flush(self) -> None:
        for table in TABLES:
            rows = self.rows[table]
            if rows:
                inserter = self.inserters[table]
                self.conn.exec_driver_sql(inserter.sql, inserter.prepare(rows))
                rows.clear()
        self.pending = 0

    def post(self, when: date, source: str, source_id: int, description: str, legs: list[postings.Leg]) -> None:
        """As ``service.post``: one entry, one line per leg in order."""
        postings.assert_balanced(legs)
        entry_id = self._id(JournalEntry)
        self._add(JournalEntry, (entry_id, when, source, source_id, description, self.now))
        for leg in legs:
            tags = leg.tags
            self._add(JournalLine, (self._id(JournalLine), entry_id, when, leg.nominal_id, leg.amount,
                                    tags.company_id, tags.document_id, tags.bank_account_id))

    def document(self, doc: PlanDocument) -> None:
        """As ``service.create_document``."""
        refs = self.refs
        kind = DocumentKind(doc.kind)
        doc_id = self._id(Document)
        company_id = refs.company[doc.company]
        posted: list[postings.PostedLine] = []
        net_total = tax_total = ZERO
        for no, line in enumerate(doc.lines, start=1):
            nominal_id = refs.nominal[line.nominal]
            item = refs.item[line.item] if line.item else None
            self._add(DocumentLine, (
                self._id(DocumentLine), doc_id, no, item[0] if item else None, line.description, line.quantity,
                line.unit_price, line.discount, refs.tax[line.tax_code], nominal_id, line.net, line.tax))
            if item:
                posted.append(postings.PostedLine(nominal_id, line.net, line.tax, item[1], item[2],
                                                  postings.cost_value(line.quantity, item[3])))
            else:
                posted.append(postings.PostedLine(nominal_id, line.net, line.tax))
            net_total += line.net
            tax_total += line.tax
        self._add(Document, (doc_id, doc.kind, doc.number, company_id, doc.date, doc.due_date, doc.currency,
                             doc.reference, net_total, tax_total, net_total + tax_total, self.now))
        self.documents.append((doc_id, doc.kind, doc.number, company_id, doc.date))
        legs = postings.document_legs(kind, company_id, doc_id, posted, refs.controls)
        self.post(doc.date, "document", doc_id, f"{kind.label} {doc.number}", legs)

    def payment(self, p: PlanPayment) -> None:
        """As ``service.record_payment`` (the plan only allocates what is outstanding)."""
        refs = self.refs
        payment_id = self._id(Payment)
        company_id = refs.company[p.company]
        bank_id, bank_nominal = refs.bank[p.bank]
        amount = money(p.amount)
        self._add(Payment, (payment_id, p.kind, company_id, bank_id, p.date, amount, refs.currency[p.company],
                            p.reference, "ledger", None, None, self.now))
        allocations = [(self.documents[i][0], money(part)) for i, part in p.allocations]
        for doc_id, part in allocations:
            self._allocation(payment_id, None, doc_id, part, p.date)
        self.payment_ids.append(payment_id)
        legs = postings.payment_legs(p.kind, company_id, bank_nominal, bank_id, amount, allocations, refs.controls)
        self.post(p.date, "payment", payment_id, f"{p.kind} {p.reference}".strip(), legs)

    def _allocation(self, payment_id: int | None, credit_id: int | None, doc_id: int, amount: Decimal,
                    when: date) -> int:
        alloc_id = self._id(Allocation)
        self._add(Allocation, (alloc_id, payment_id, credit_id, doc_id, amount, when, None, self.now))
        return alloc_id

    def prepayment_allocation(self, op: PlanPrepaymentAllocation) -> None:
        """As ``service.allocate_prepayment``."""
        doc_id, _, number, company_id, _ = self.documents[op.invoice]
        amount = money(op.amount)
        alloc_id = self._allocation(self.payment_ids[op.payment], None, doc_id, amount, op.date)
        self.post(op.date, "allocation", alloc_id, f"prepayment to {number}",
                  postings.prepayment_allocation_legs(company_id, doc_id, amount, self.refs.controls))

    def credit_allocation(self, op: PlanCreditAllocation) -> None:
        """As ``service.allocate_credit_note`` (dated on the invoice, local only)."""
        credit_id, credit_kind, credit_number, company_id, _ = self.documents[op.credit]
        invoice_id, _, invoice_number, _, when = self.documents[op.invoice]
        amount = money(op.amount)
        alloc_id = self._allocation(None, credit_id, invoice_id, amount, when)
        self.post(when, "allocation", alloc_id, f"{credit_number} to {invoice_number}",
                  postings.credit_allocation_legs(credit_kind == "sales_credit", company_id, credit_id, invoice_id,
                                                  amount, self.refs.controls))
