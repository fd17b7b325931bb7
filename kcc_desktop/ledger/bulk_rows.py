"""Ledger rows written in bulk, posted exactly as ``service.py`` posts them.

The ORM services cost milliseconds a document (identity map, flushes, the export queue's listener on
every flush); the demo's 100,000 documents and a 200,000-row import must take seconds. So here rows are
built as tuples with ids assigned in Python and inserted with the driver's ``executemany`` on the
session's own connection (same transaction). Only the *writing* differs: the amounts come from
``rounding.line_amounts`` and every journal leg from ``postings``, the same calls ``service.py`` makes,
in the same order, so ids and journal lines come out exactly as the services would write them
(``tests/ledger/test_demo.py`` and ``tests/ledger/test_csv_import_bulk.py`` compare the two paths table
by table).

Every value still goes through its column type's own bind processor (``Money`` scales and checks each
amount; ``Date``/``UTCDateTime`` format as the ORM does); only SQLAlchemy's per-row statement-parameter
building is skipped. Raw SQL gets no Python-side column defaults, so ``COLUMNS`` must name every column of
each table: ``BulkRows`` refuses to run if a model gained a column this module does not fill.

No ORM flush sees these rows, so the export queue's listener cannot either: the ids of the documents
written are kept in ``session.info[WRITTEN_DOCUMENTS]`` (as ranges) for the queue to pick up at commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Date, Dialect, Table, func, select
from sqlalchemy.orm import Session

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
from . import postings

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
# ``session.info`` key: ranges of document ids written here, for the export queue (sync.queue) at commit.
WRITTEN_DOCUMENTS = "ledger.bulk_written_documents"


class _Inserter:
    """One table's INSERT and the bind processors of the columns that have one."""

    def __init__(self, table: BulkTable, dialect: Dialect) -> None:
        t = cast(Table, table.__table__)   # a mapped class's __table__ is its Table
        names = COLUMNS[table]
        missing = set(t.c.keys()) - set(names)
        if missing:
            raise RuntimeError(f"bulk_rows.COLUMNS does not fill {t.name}.{', '.join(sorted(missing))}; "
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


@dataclass(frozen=True)
class ItemCosts:
    """What posting a stock item's line needs: its id, stock and cost-of-sale nominals, and unit cost."""

    id: int
    stock_nominal_id: int
    cost_of_sale_nominal_id: int
    cost: Decimal


@dataclass(frozen=True)
class BulkLine:
    """One document line as ``service.create_document`` would store it: defaults already applied, net and
    tax already rounded by ``rounding.line_amounts``."""

    item: ItemCosts | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_rate: Decimal
    tax_code_id: int
    nominal_id: int
    net: Decimal
    tax: Decimal


class BulkRows:
    """Rows of the ledger's document, payment and journal tables, inserted a batch at a time."""

    def __init__(self, session: Session, controls: postings.Controls) -> None:
        self.session = session
        self.conn = session.connection()
        self.controls = controls
        self.now = utcnow()  # one creation stamp for the whole batch of work
        self.rows: dict[BulkTable, list[Row]] = {t: [] for t in TABLES}
        self.inserters = {t: _Inserter(t, self.conn.dialect) for t in TABLES}
        self.next_id = {t: (session.scalar(select(func.max(t.id))) or 0) + 1 for t in TABLES}
        self.pending = 0
        self._first_document = self.next_id[Document]

    def _id(self, table: BulkTable) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _add(self, table: BulkTable, row: Row) -> None:
        self.rows[table].append(row)
        self.pending += 1

    def flush_if_full(self) -> None:
        if self.pending >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Inserts what is waiting, and notes the documents written so far for the export queue."""
        for table in TABLES:
            rows = self.rows[table]
            if rows:
                inserter = self.inserters[table]
                self.conn.exec_driver_sql(inserter.sql, inserter.prepare(rows))
                rows.clear()
                if self.conn.dialect.name == "postgresql":
                    self._advance_sequence(table)
        self.pending = 0
        written = range(self._first_document, self.next_id[Document])
        if written:
            self.session.info.setdefault(WRITTEN_DOCUMENTS, []).append(written)
            self._first_document = self.next_id[Document]

    def _advance_sequence(self, table: BulkTable) -> None:
        """PostgreSQL's id sequence does not see ids given explicitly: without this, the next row the ORM
        inserts (an invoice entered by hand after an import) would take an id written here."""
        name = cast(Table, table.__table__).name
        self.conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"GREATEST(%(next)s, nextval(pg_get_serial_sequence('{name}', 'id'))), false)",
            {"next": self.next_id[table]})

    def post(self, when: date, source: str, source_id: int, description: str, legs: list[postings.Leg]) -> None:
        """As ``service.post``: one entry, one line per leg in order."""
        postings.assert_balanced(legs)
        entry_id = self._id(JournalEntry)
        self._add(JournalEntry, (entry_id, when, source, source_id, description, self.now))
        for leg in legs:
            tags = leg.tags
            self._add(JournalLine, (self._id(JournalLine), entry_id, when, leg.nominal_id, leg.amount,
                                    tags.company_id, tags.document_id, tags.bank_account_id))

    def document(self, kind: DocumentKind, number: str, company_id: int, when: date, due_date: date | None,
                 currency: str, reference: str, lines: list[BulkLine]) -> int:
        """As ``service.create_document``: the document, its lines, and its posting. Returns its id."""
        doc_id = self._id(Document)
        posted: list[postings.PostedLine] = []
        net_total = tax_total = ZERO
        for no, line in enumerate(lines, start=1):
            item = line.item
            self._add(DocumentLine, (
                self._id(DocumentLine), doc_id, no, item.id if item else None, line.description, line.quantity,
                line.unit_price, line.discount_rate, line.tax_code_id, line.nominal_id, line.net, line.tax))
            if item:
                posted.append(postings.PostedLine(line.nominal_id, line.net, line.tax, item.stock_nominal_id,
                                                  item.cost_of_sale_nominal_id,
                                                  postings.cost_value(line.quantity, item.cost)))
            else:
                posted.append(postings.PostedLine(line.nominal_id, line.net, line.tax))
            net_total += line.net
            tax_total += line.tax
        self._add(Document, (doc_id, kind.value, number, company_id, when, due_date, currency, reference, net_total,
                             tax_total, net_total + tax_total, self.now))
        legs = postings.document_legs(kind, company_id, doc_id, posted, self.controls)
        self.post(when, "document", doc_id, f"{kind.label} {number}", legs)
        return doc_id

    def allocation(self, payment_id: int | None, credit_id: int | None, doc_id: int, amount: Decimal,
                   when: date) -> int:
        alloc_id = self._id(Allocation)
        self._add(Allocation, (alloc_id, payment_id, credit_id, doc_id, amount, when, None, self.now))
        return alloc_id

    def payment(self, kind: str, company_id: int, bank_account_id: int, when: date, amount: Decimal,
                currency: str, reference: str) -> int:
        """The payment row alone, as ``service.record_payment`` writes it (the caller posts it)."""
        payment_id = self._id(Payment)
        self._add(Payment, (payment_id, kind, company_id, bank_account_id, when, amount, currency, reference,
                            "ledger", None, None, self.now))
        return payment_id
