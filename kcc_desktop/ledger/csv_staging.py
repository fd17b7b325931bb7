"""Where the checked rows of an import wait: a scratch SQLite file, so memory stays flat whatever the file.

The rows of one document need not be adjacent, so nothing can be written until the whole file is read;
holding 200,000 checked lines in Python took ~160 MB. Here each document (type and number, its first row
and its document columns) and each line go to a throwaway SQLite file in the temp folder, deleted at the
end. Documents are numbered in order of first appearance, which is the order they are written in (and
so their ledger ids), and each document's lines come back in row order.

The checks that span rows happen here too: a later row whose document columns differ from the first
row's, a number already in the ledger, the company (known, of the right kind and currency, or new and
described the same way by every document that names it).
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Document, DocumentKind
from . import csv_limits
from .csv_checks import HEADER_FIELDS, CheckedLine, KnownCompany, MasterData, parse_date
from .csv_limits import Problems
from .csv_reader import REQUIRED

_SCHEMA = """
CREATE TABLE doc (id INTEGER PRIMARY KEY, kind TEXT, number TEXT, first_row INTEGER,
                  date TEXT, company_code TEXT, due_date TEXT, company_name TEXT, company_email TEXT,
                  currency TEXT, reference TEXT, company_key TEXT);
CREATE UNIQUE INDEX doc_key ON doc (kind, number);
CREATE TABLE line (doc INTEGER, row INTEGER, quantity TEXT, unit_price TEXT, discount TEXT, item_id INTEGER,
                   tax_code_id INTEGER, nominal_id INTEGER, description TEXT);
CREATE TABLE new_company (key TEXT PRIMARY KEY, code TEXT, name TEXT, kind TEXT, currency TEXT, email TEXT,
                          first_row INTEGER, first_doc INTEGER, company_id INTEGER);
CREATE INDEX new_company_order ON new_company (first_doc);
"""
_CACHE = 4096      # documents remembered in Python (rows of one document usually come together)
_BATCH = 10_000    # lines per insert
_CHUNK = 500       # documents per look-up of existing numbers in the ledger
_COMPANIES = 1_000  # new companies created per flush (200,000 ORM objects at once took over 500 MB)
_COMPANY_CODE = HEADER_FIELDS.index("company_code")


@dataclass(frozen=True, slots=True)
class StagedDocument:
    id: int
    kind: DocumentKind
    number: str
    first_row: int
    when: date
    due: date | None
    company_code: str
    reference: str
    new_company_id: int | None       # the company this import created for it (None: one already in the ledger)
    new_company_currency: str | None


@dataclass(frozen=True, slots=True)
class StagedLine:
    quantity: str
    unit_price: str
    discount: str
    item_id: int | None
    tax_code_id: int
    nominal_id: int
    description: str


@dataclass(frozen=True, slots=True)
class NewCompany:
    key: str
    code: str
    name: str
    kind: str
    currency: str
    email: str


class Staging(contextlib.AbstractContextManager["Staging"]):
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self._dir = tempfile.TemporaryDirectory(prefix="kcc-import-")
        self.db = sqlite3.connect(Path(self._dir.name) / "staging.sqlite", isolation_level=None)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
                              + _SCHEMA)
        self.db.execute("BEGIN")
        self._cache: dict[tuple[str, str], tuple[int, int, tuple[str, ...]]] = {}
        self._lines: list[tuple[object, ...]] = []
        self.documents = 0
        self.lines = 0

    def __exit__(self, *exc: object) -> None:
        self.db.close()
        self._dir.cleanup()

    # --- rows as they are read -------------------------------------------------------------------------------

    def add(self, row: int, line: CheckedLine) -> None:
        """The line joins its document (the first row of a new one describes it); a row whose document
        columns differ from that first row's is a problem."""
        key = (line.kind, line.number)
        found = self._cache.get(key)
        if found is None:
            hit = self.db.execute(f"SELECT id, first_row, {', '.join(HEADER_FIELDS)} FROM doc WHERE kind = ? AND "
                                  "number = ?", key).fetchone()
            if hit is None:
                self.documents += 1
                self.db.execute("INSERT INTO doc VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (self.documents, *key, row, *line.header, line.header[_COMPANY_CODE].upper()))
                found = (self.documents, row, line.header)
            else:
                found = (hit[0], hit[1], tuple(hit[2:]))
            if len(self._cache) >= _CACHE:
                self._cache.clear()
            self._cache[key] = found
        doc_id, first_row, header = found
        if first_row != row and line.header != header:
            for name, value, first in zip(HEADER_FIELDS, line.header, header, strict=True):
                if value != first and (name in REQUIRED or value):
                    self.problems.add(row, f"{name} {value!r} differs from {first!r} on row {first_row}, the first "
                                           f"row of {line.kind} {line.number}; every row of one document must "
                                           f"repeat the same {name}.")
                    break
        if self.problems:
            return   # nothing will be written: only the documents are still needed, for their own checks
        self._lines.append((doc_id, row, line.quantity, line.unit_price, line.discount, line.item_id,
                            line.tax_code_id, line.nominal_id, line.description))
        self.lines += 1
        if len(self._lines) >= _BATCH:
            self._flush_lines()

    def _flush_lines(self) -> None:
        self.db.executemany("INSERT INTO line VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._lines)
        self._lines.clear()

    # --- checks across rows ------------------------------------------------------------------------------------

    def check_documents(self, session: Session, master: MasterData) -> None:
        """Each document against the ledger: its number, dates and company; new companies described once; no
        document longer than ``csv_limits.MAX_DOCUMENT_LINES``."""
        self._flush_lines()
        self._check_line_counts()
        cursor = self.db.execute(f"SELECT id, kind, number, first_row, {', '.join(HEADER_FIELDS)} FROM doc "
                                 "ORDER BY id")
        while chunk := cursor.fetchmany(_CHUNK):
            taken = self._in_ledger(session, chunk)
            for doc_id, kind, number, first_row, *values in chunk:
                header = dict(zip(HEADER_FIELDS, values, strict=True))
                self._check_document(master, doc_id, kind, number, first_row, header, (kind, number) in taken)

    def _check_line_counts(self) -> None:
        most = csv_limits.MAX_DOCUMENT_LINES
        for doc_id, count in self.db.execute("SELECT doc, COUNT(*) FROM line GROUP BY doc HAVING COUNT(*) > ?",
                                             (most,)).fetchall():
            kind, number = self.db.execute("SELECT kind, number FROM doc WHERE id = ?", (doc_id,)).fetchone()
            (row,) = self.db.execute("SELECT row FROM line WHERE doc = ? ORDER BY row LIMIT 1 OFFSET ?",
                                     (doc_id, most)).fetchone()
            self.problems.add(row, f"{DocumentKind(kind).label} {number} has {count:,} lines; one document takes "
                                   f"at most {most:,} (this row is line {most + 1:,}). Split it into several "
                                   "documents.")

    @staticmethod
    def _in_ledger(session: Session, chunk: list[tuple[object, ...]]) -> set[tuple[str, str]]:
        """Which of these (kind, number) pairs the ledger already has: one look-up per kind, on its unique index."""
        by_kind: dict[str, list[str]] = {}
        for row in chunk:
            by_kind.setdefault(str(row[1]), []).append(str(row[2]))
        taken: set[tuple[str, str]] = set()
        for kind, numbers in by_kind.items():
            taken.update((kind, n) for n in session.scalars(
                select(Document.number).where(Document.kind == kind, Document.number.in_(numbers))))
        return taken

    def _check_document(self, master: MasterData, doc_id: int, kind: str, number: str, first_row: int,
                        header: dict[str, str], taken: bool) -> None:
        add, before = self.problems.add, self.problems.count
        label = DocumentKind(kind).label
        if taken:
            add(first_row, f"{label} {number} is already in the ledger; a document number can only be imported once.")
        when = parse_date(header["date"])
        due = parse_date(header["due_date"]) if header["due_date"] else None
        if due and due < when:
            add(first_row, f"due_date {header['due_date']} is before the document date {header['date']}.")
        company = master.companies.get(header["company_code"].upper())
        wanted = "customer" if kind in ("sales_invoice", "sales_credit") else "supplier"
        currency = header["currency"].upper()
        if company is None and not header["company_name"]:
            add(first_row, f"company_code {header['company_code']!r} is not in the ledger; add its company_name to "
                           "create it, or correct the code.")
        elif company is not None and company.kind != wanted and not company.both_ways:
            add(first_row, f"{company.code} ({company.name}) is a {company.kind}, but a {label.lower()} needs a "
                           f"{wanted}.")
        elif company is not None and currency and currency != company.currency:
            add(first_row, f"currency {currency} differs from {company.code}'s currency {company.currency}; "
                           "documents are in their company's currency.")
        if company is None and self.problems.count == before:
            self._check_new_company(doc_id, first_row, header, wanted, currency or "GBP")

    def _check_new_company(self, doc_id: int, first_row: int, header: dict[str, str], kind: str,
                           currency: str) -> None:
        """A company new to the ledger must be described the same way by every document that names it."""
        key = header["company_code"].upper()
        spec = {"kind": kind, "name": header["company_name"], "currency": currency}
        seen = self.db.execute("SELECT kind, name, currency, first_row FROM new_company WHERE key = ?",
                               (key,)).fetchone()
        if seen is None:
            self.db.execute("INSERT INTO new_company VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                            (key, header["company_code"], spec["name"], kind, currency, header["company_email"],
                             first_row, doc_id))
            return
        for (name, value), first in zip(spec.items(), seen[:3], strict=True):
            if value != first:
                what = "a customer and a supplier" if name == "kind" else f"two different {name}s"
                self.problems.add(first_row, f"new company {header['company_code']} is given {what} ({first!r} on "
                                             f"row {seen[3]}, {value!r} here).")
                break

    # --- what is written ---------------------------------------------------------------------------------------

    def new_companies(self) -> Iterator[list[NewCompany]]:
        """In the order their first documents come (so they get the ids the services would give them), a
        chunk at a time: the caller creates each chunk and gives back its ids (``created``) before the next."""
        after = 0
        sql = ("SELECT key, code, name, kind, currency, email, first_doc FROM new_company WHERE first_doc > ? "
               "ORDER BY first_doc LIMIT ?")
        while chunk := self.db.execute(sql, (after, _COMPANIES)).fetchall():
            after = chunk[-1][-1]   # each chunk read afresh: the caller updates this table in between
            yield [NewCompany(*r[:-1]) for r in chunk]

    def created(self, ids: list[tuple[str, int]]) -> None:
        """The ledger ids of new companies (key, id), for ``documents_with_lines``."""
        self.db.executemany("UPDATE new_company SET company_id = ? WHERE key = ?", [(i, k) for k, i in ids])

    def documents_with_lines(self) -> Iterator[tuple[StagedDocument, list[StagedLine]]]:
        self.db.execute("CREATE INDEX line_doc ON line (doc, row)")
        cursor = self.db.execute(
            "SELECT d.id, d.kind, d.number, d.first_row, d.date, d.due_date, d.company_code, d.reference, "
            "n.company_id, n.currency, "
            "l.quantity, l.unit_price, l.discount, l.item_id, l.tax_code_id, l.nominal_id, l.description "
            "FROM line l JOIN doc d ON d.id = l.doc LEFT JOIN new_company n ON n.key = d.company_key "
            "ORDER BY l.doc, l.row")
        current: StagedDocument | None = None
        lines: list[StagedLine] = []
        dates: dict[str, date] = {}
        while chunk := cursor.fetchmany(_BATCH):
            for doc_id, kind, number, first_row, when, due, company, reference, new_id, new_currency, *line in chunk:
                if current is None or current.id != doc_id:
                    if current is not None:
                        yield current, lines
                    current = StagedDocument(doc_id, DocumentKind(kind), number, first_row,
                                             _date(dates, when), _date(dates, due) if due else None, company,
                                             reference, new_id, new_currency)
                    lines = []
                lines.append(StagedLine(*line))
        if current is not None:
            yield current, lines


def _date(seen: dict[str, date], text: str) -> date:
    """Dates repeat across thousands of documents: parse each once."""
    value = seen.get(text)
    if value is None:
        value = seen[text] = parse_date(text)
        if len(seen) > 10_000:
            seen.clear()
    return value


__all__ = ["KnownCompany", "NewCompany", "StagedDocument", "StagedLine", "Staging"]
