"""Sales and purchase invoices and credit notes from an order system's CSV file, all or nothing.

One row per document line; the rows of one document share its type and number (they need not be
adjacent). Everything is checked first and every problem is reported with the row number a spreadsheet
shows (the header is row 1); only a file with no problem at all is written, in one transaction, each
document through ``service.create_document`` so it is posted like any other. Qt-free: the command line
and the File menu both call ``import_documents(store, path)``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Company, Document, DocumentKind, NominalCode, NominalKind, StockItem, TaxCode
from ..store import Store
from . import service
from .errors import LedgerError

log = logging.getLogger(__name__)

COLUMNS = ("type", "number", "date", "due_date", "company_code", "company_name", "company_email", "currency",
           "reference", "stock_code", "description", "quantity", "unit_price", "discount_percent", "tax_code",
           "nominal_code")
REQUIRED = ("type", "number", "date", "company_code", "quantity", "unit_price")
# Repeated on every row of a document; the optional ones may be left blank after the first row.
HEADER_FIELDS = ("date", "company_code", "due_date", "company_name", "company_email", "currency", "reference")
TYPE_ALIASES = {"si": "sales_invoice", "sc": "sales_credit", "pi": "purchase_invoice", "pc": "purchase_credit"}
LINE_KINDS = {
    True: {NominalKind.SALES, NominalKind.DELIVERY, NominalKind.OTHER},
    False: {NominalKind.PURCHASE, NominalKind.DELIVERY, NominalKind.OTHER},
}
LIMITS = {"number": 32, "company_code": 32, "company_name": 200, "company_email": 200, "reference": 100,
          "description": 300}
# Upper bounds keep every line total well inside what the ledger stores exactly.
NUMBER_LIMITS = {"quantity": Decimal(1_000_000), "unit_price": Decimal(100_000_000), "discount_percent": Decimal(100)}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FOUR_DP = Decimal("0.0001")


@dataclass(frozen=True)
class RowError:
    row: int          # as a spreadsheet numbers it: the header is row 1; 0 is the file as a whole
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row else f"The file: {self.message}"


@dataclass(frozen=True)
class ImportedDocument:
    kind: str
    number: str
    company_code: str
    lines: int
    gross: Decimal


@dataclass
class ImportReport:
    path: str
    errors: list[RowError] = field(default_factory=list)
    documents: list[ImportedDocument] = field(default_factory=list)
    companies_created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        if self.errors:
            head = (f"Nothing was imported from {self.path}: {len(self.errors)} "
                    f"problem{'s' if len(self.errors) != 1 else ''} found.")
            tail = "Correct these rows and import the file again; nothing is written until every row is right."
            return "\n".join([head, *(f"  {e}" for e in self.errors), tail])
        kinds = Counter(DocumentKind(d.kind).label for d in self.documents)
        lines = sum(d.lines for d in self.documents)
        parts = ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in kinds.items())
        text = f"Imported {len(self.documents)} documents ({lines} lines) from {self.path}"
        text += f": {parts}." if parts else "."
        if self.companies_created:
            text += f"\nNew companies created: {', '.join(self.companies_created)}."
        return text


class _Rollback(Exception):
    pass


@dataclass
class _Row:
    row: int
    values: dict[str, str]
    kind: str = ""
    line: service.LineInput | None = None


def import_documents(store: Store, path: str | Path) -> ImportReport:
    """Checks the whole file, then writes every document in one transaction, or nothing at all."""
    report = ImportReport(str(path))
    rows = _read(Path(path), report)
    if rows is None:  # the file itself could not be read as CSV
        return report
    try:
        with store.transaction() as session:
            _Checker(session, report).check_and_write(rows)
            if report.errors:
                raise _Rollback
    except _Rollback:
        log.info("import-documents %s: nothing imported, %d problems", path, len(report.errors))
        report.documents.clear()
        report.companies_created.clear()
        return report
    log.info("import-documents %s: %d documents and %d new companies imported", path, len(report.documents),
             len(report.companies_created))
    return report


# --- reading ---------------------------------------------------------------------------------------

def _read(path: Path, report: ImportReport) -> list[_Row] | None:
    """The rows under the header (rows of the wrong width are reported and left out), or None when the
    file as a whole cannot be read as CSV."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.errors.append(RowError(0, f"cannot be read ({exc.strerror or exc}). Check the path."))
        return None
    if not raw.strip():
        report.errors.append(RowError(1, "the file is empty. It needs a header row and one row per document line."))
        return None
    if raw.startswith(b"PK\x03\x04"):
        report.errors.append(RowError(1, "this is a spreadsheet workbook, not a CSV file. In the spreadsheet "
                                         "choose Save As, 'CSV UTF-8', and import that file."))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        for no, physical in enumerate(raw.split(b"\n"), start=1):
            try:
                physical.decode("utf-8")
            except UnicodeDecodeError as exc:
                report.errors.append(RowError(no, f"is not UTF-8 text (byte 0x{physical[exc.start]:02X} cannot be "
                                                  "read). Save the file as 'CSV UTF-8' and import it again."))
        return None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        report.errors.append(RowError(line, "contains a NUL character; this does not look like a CSV text file."))
        return None
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records.extend(reader)   # rows read before a bad one stay in ``records``: the error names its row
    except csv.Error as exc:
        report.errors.append(RowError(len(records) + 1, f"is not valid CSV ({_csv_reason(exc)})."))
        return None
    if len(records[0]) == 1 and ";" in records[0][0]:
        report.errors.append(RowError(1, "the values are separated by semicolons; save the file as "
                                         "comma-separated 'CSV UTF-8' and import it again."))
        return None
    header = [_column_name(h) for h in records[0]]
    _check_header(header, report)
    if report.errors:
        return None
    rows = []
    for no, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank spreadsheet row
        extra = record[len(header):]
        if len(record) < len(header) or any(cell.strip() for cell in extra):
            report.errors.append(RowError(no, f"has {len(record)} values but the header has {len(header)} "
                                              "columns; check for a missing or extra comma."))
            continue
        rows.append(_Row(no, {name: cell.strip() for name, cell in zip(header, record[:len(header)], strict=True)}))
    if not rows and not report.errors:
        report.errors.append(RowError(1, "the file has a header but no rows to import."))
    return rows


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "EOF" in text or "unexpected end of data" in text:
        return "a quoted value is never closed; check the quotes"
    if "expected after" in text:
        return "text follows a closing quote; put the whole value in quotes and double any quote inside it"
    return text


def _column_name(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _check_header(header: list[str], report: ImportReport) -> None:
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        report.errors.append(RowError(1, f"unknown column{'s' if len(unknown) > 1 else ''} "
                                         f"{', '.join(repr(u) for u in unknown)}. The columns are: "
                                         f"{', '.join(COLUMNS)}."))
    if "" in header:
        report.errors.append(RowError(1, f"column {header.index('') + 1} has no name in the header."))
    repeated = sorted(h for h, n in Counter(header).items() if n > 1 and h)
    if repeated:
        report.errors.append(RowError(1, f"column {', '.join(repeated)} appears more than once."))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.errors.append(RowError(1, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."))


# --- checking and writing --------------------------------------------------------------------------

def _parse_date(text: str) -> date:
    """ISO (2026-03-31) or the UK day-first form a spreadsheet writes (31/03/2026); never month-first."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError


def _parse_number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite():
        raise ValueError
    return value


class _Checker:
    def __init__(self, session: Session, report: ImportReport) -> None:
        self.s, self.report = session, report
        self.companies = {c.code.upper(): c for c in session.scalars(select(Company))}
        self.taxes = {t.code.upper(): t for t in session.scalars(select(TaxCode))}
        self.nominals = {n.code.upper(): n for n in session.scalars(select(NominalCode))}
        self.items = {i.code.upper(): i for i in session.scalars(select(StockItem))}

    def error(self, row: int, message: str) -> None:
        self.report.errors.append(RowError(row, message))

    def check_and_write(self, rows: list[_Row]) -> None:
        documents: dict[tuple[str, str], list[_Row]] = {}
        for r in rows:
            ok = self.check_line(r)
            if ok:
                documents.setdefault((r.kind, r.values["number"]), []).append(r)
        plans = [self.check_document(kind, number, doc_rows) for (kind, number), doc_rows in documents.items()]
        self.check_new_companies([p for p in plans if p])
        self.report.errors.sort(key=lambda e: e.row)
        if not self.report.errors:
            self.write([p for p in plans if p])

    def check_line(self, r: _Row) -> bool:
        v, no, before = r.values, r.row, len(self.report.errors)
        kind = _column_name(v.get("type", ""))
        kind = TYPE_ALIASES.get(kind, kind)
        if kind not in {k.value for k in DocumentKind}:
            self.error(no, f"type {v.get('type', '')!r} is not one of sales_invoice, sales_credit, "
                           "purchase_invoice, purchase_credit.")
            kind = ""  # unknown: the nominal cannot be judged against it
        r.kind = kind
        for name in REQUIRED:
            if not v.get(name):
                self.error(no, f"{name} is empty.")
        for name, limit in LIMITS.items():
            if len(v.get(name, "")) > limit:
                self.error(no, f"{name} is longer than {limit} characters.")
        for name in ("date", "due_date"):
            if v.get(name):
                try:
                    _parse_date(v[name])
                except ValueError:
                    self.error(no, f"{name} {v[name]!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-03-31).")
        if v.get("company_email") and not EMAIL.match(v["company_email"]):
            self.error(no, f"company_email {v['company_email']!r} is not an email address.")
        if v.get("currency") and not re.fullmatch(r"[A-Za-z]{3}", v["currency"]):
            self.error(no, f"currency {v['currency']!r} is not a three-letter code such as GBP or EUR.")
        numbers = {}
        for name, high in NUMBER_LIMITS.items():
            if not v.get(name):
                continue
            text = v[name].removesuffix("%").strip() if name == "discount_percent" else v[name]
            try:
                value = numbers[name] = _parse_number(text)
            except ValueError:
                self.error(no, f"{name} {v[name]!r} is not a number; use digits and a dot, e.g. 12.50.")
                continue
            if name == "quantity" and value <= 0:
                self.error(no, "quantity must be more than zero (a return is a credit note, not a negative line).")
            elif value < 0 or value > high:
                self.error(no, f"{name} {v[name]} must be between 0 and {high:,}.")
            elif value != value.quantize(FOUR_DP):
                self.error(no, f"{name} {v[name]} has more than four decimal places.")
        item = self.line_item(r)
        tax = self.line_tax(r, item)
        nominal = self.line_nominal(r, item)
        if not v.get("stock_code") and not v.get("description"):
            self.error(no, "description is empty; a line without a stock_code needs one.")
        if len(self.report.errors) > before:
            return False
        r.line = service.LineInput(
            quantity=numbers["quantity"], unit_price=numbers["unit_price"], stock_item_id=item.id if item else None,
            description=v.get("description", ""), discount_rate=numbers.get("discount_percent", Decimal(0)),
            tax_code_id=tax.id if tax else None, nominal_id=nominal.id if nominal else None)
        return True

    def line_item(self, r: _Row) -> StockItem | None:
        code = r.values.get("stock_code", "")
        if not code:
            return None
        item = self.items.get(code.upper())
        if item is None:
            self.error(r.row, f"stock_code {code!r} is not a stock item in this company file.")
        return item

    def line_tax(self, r: _Row, item: StockItem | None) -> TaxCode | None:
        code = r.values.get("tax_code", "")
        if not code:
            if not r.values.get("stock_code"):
                self.error(r.row, "tax_code is empty; a line without a stock_code needs one (e.g. T1).")
            return None
        tax = self.taxes.get(code.upper())
        if tax is None:
            self.error(r.row, f"tax_code {code!r} is not set up; the tax codes are "
                              f"{', '.join(sorted(t.code for t in self.taxes.values()))}.")
        return tax

    def line_nominal(self, r: _Row, item: StockItem | None) -> NominalCode | None:
        code = r.values.get("nominal_code", "")
        if not code:
            if not r.values.get("stock_code"):
                self.error(r.row, "nominal_code is empty; a line without a stock_code needs one (e.g. 4000).")
            return None
        nominal = self.nominals.get(code.upper())
        if nominal is None:
            self.error(r.row, f"nominal_code {code!r} is not in the chart of nominals.")
            return None
        sales = r.kind in ("sales_invoice", "sales_credit")
        if r.kind and nominal.kind not in LINE_KINDS[sales]:
            if nominal.kind in (NominalKind.STOCK, NominalKind.COST_OF_SALE):
                why = ("stock and cost of sale are posted by the ledger from a stock item's cost, never typed "
                       "on a line")
            else:
                why = f"a {nominal.kind.replace('_', ' ')} account cannot take {'sales' if sales else 'purchase'} lines"
            allowed = "sales" if sales else "purchase"
            self.error(r.row, f"nominal_code {nominal.code} ({nominal.name}): {why}. "
                              f"Use a {allowed}, delivery or other nominal.")
        return nominal

    def check_document(self, kind: str, number: str, rows: list[_Row]) -> dict[str, Any] | None:
        first, before = rows[0], len(self.report.errors)
        label = f"{kind} {number}"
        header = {name: first.values.get(name, "") for name in HEADER_FIELDS}
        for r in rows[1:]:
            for name in HEADER_FIELDS:
                value = r.values.get(name, "")
                optional = name not in REQUIRED
                if value != header[name] and not (optional and not value):
                    self.error(r.row, f"{name} {value!r} differs from {header[name]!r} on row {first.row}, the first "
                                      f"row of {label}; every row of one document must repeat the same {name}.")
                    break
        if self.s.scalar(select(Document.id).where(Document.kind == kind, Document.number == number)):
            self.error(first.row, f"{DocumentKind(kind).label} {number} is already in the ledger; a document "
                                  "number can only be imported once.")
        when = _parse_date(header["date"])
        due = _parse_date(header["due_date"]) if header["due_date"] else None
        if due and due < when:
            self.error(first.row, f"due_date {header['due_date']} is before the document date {header['date']}.")
        company = self.companies.get(header["company_code"].upper())
        wanted = "customer" if kind in ("sales_invoice", "sales_credit") else "supplier"
        currency = header["currency"].upper()
        if company is None and not header["company_name"]:
            self.error(first.row, f"company_code {header['company_code']!r} is not in the ledger; add its "
                                  "company_name to create it, or correct the code.")
        elif company is not None and company.kind != wanted and not company.trades_both_ways:
            self.error(first.row, f"{company.code} ({company.name}) is a {company.kind}, but a "
                                  f"{DocumentKind(kind).label.lower()} needs a {wanted}.")
        elif company is not None and currency and currency != company.currency:
            self.error(first.row, f"currency {currency} differs from {company.code}'s currency "
                                  f"{company.currency}; documents are in their company's currency.")
        if len(self.report.errors) > before:
            return None
        return {"kind": kind, "number": number, "rows": rows, "when": when, "due": due, "company": company,
                "wanted": wanted, "currency": currency, "header": header}

    def check_new_companies(self, plans: list[dict[str, Any]]) -> None:
        """A company new to the ledger must be described the same way by every document that names it."""
        seen: dict[str, dict[str, Any]] = {}
        for p in plans:
            if p["company"] is not None:
                continue
            h = p["header"]
            key = h["company_code"].upper()
            spec = {"kind": p["wanted"], "name": h["company_name"], "currency": p["currency"] or "GBP"}
            if key not in seen:
                seen[key] = dict(spec, row=p["rows"][0].row, email=h["company_email"])
                continue
            for name, value in spec.items():
                if value != seen[key][name]:
                    what = "a customer and a supplier" if name == "kind" else f"two different {name}s"
                    self.error(p["rows"][0].row, f"new company {h['company_code']} is given {what} "
                                                 f"({seen[key][name]!r} on row {seen[key]['row']}, {value!r} here).")
                    break

    def write(self, plans: list[dict[str, Any]]) -> None:
        for p in plans:
            h, company = p["header"], p["company"]
            if company is None:
                key = h["company_code"].upper()
                company = self.companies.get(key)
                if company is None:
                    company = Company(code=h["company_code"], name=h["company_name"], kind=p["wanted"],
                                      is_account=True, currency=p["currency"] or "GBP", email=h["company_email"])
                    self.s.add(company)
                    self.s.flush()
                    self.companies[key] = company
                    self.report.companies_created.append(company.code)
            try:
                doc = service.create_document(
                    self.s, p["kind"], company, p["number"], p["when"], [r.line for r in p["rows"]],
                    due_date=p["due"], reference=h["reference"], currency=company.currency)
            except LedgerError as exc:
                self.error(p["rows"][0].row, str(exc))
                return
            self.report.documents.append(ImportedDocument(doc.kind, doc.number, company.code, len(p["rows"]),
                                                          doc.gross_total))
