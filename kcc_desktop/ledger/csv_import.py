"""Sales and purchase invoices and credit notes from an order system's CSV file, all or nothing.

One row per document line; the rows of one document share its type and number (they need not be
adjacent). The file is read a line at a time (``csv_reader``), each row checked as it comes
(``csv_checks``) and staged in a scratch file (``csv_staging``), so memory stays flat whatever the file;
then each document is checked against the ledger. Only a file with no problem at all is written, in one
transaction, posted exactly as ``service.create_document`` posts a document but in bulk (``csv_write``).
Problems carry the row number a spreadsheet shows (the header is row 1); the first 100 are listed and
all are counted. The file's size and rows are capped (``csv_limits``: 50 MB and 200,000 rows unless
raised), and one document's lines at 10,000. Qt-free: the command line and the File menu both call
``import_documents(store, path)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..models import DocumentKind
from ..store import Store
from .csv_checks import MasterData, RowChecker
from .csv_limits import ImportLimits, Problems, RowError
from .csv_reader import COLUMNS, CsvRows
from .csv_staging import Staging
from .csv_write import Written, write_in_bulk, write_with_services
from .errors import LedgerError

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "ImportLimits", "ImportReport", "RowError", "import_documents"]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class ImportReport:
    path: str
    errors: list[RowError] = field(default_factory=list)   # the first ones (limits.listed), in row order
    error_count: int = 0                                    # all of them
    imported: int = 0                                       # documents written
    lines: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    companies_created: list[str] = field(default_factory=list)   # the first 20 new companies' codes
    companies_created_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def text(self) -> str:
        if self.errors or self.error_count:
            head = f"Nothing was imported from {self.path}: {_plural(self.error_count, 'problem')} found."
            listed = [f"  {e}" for e in self.errors]
            if self.error_count > len(self.errors):
                listed.append(f"  … and {self.error_count - len(self.errors):,} more (the first "
                              f"{len(self.errors)} are listed).")
            tail = "Correct these rows and import the file again; nothing is written until every row is right."
            return "\n".join([head, *listed, tail])
        parts = ", ".join(_plural(n, DocumentKind(kind).label) for kind, n in self.kinds.items())
        text = f"Imported {self.imported:,} documents ({self.lines:,} lines) from {self.path}"
        text += f": {parts}." if parts else "."
        if self.companies_created:
            more = self.companies_created_count - len(self.companies_created)
            text += f"\nNew companies created: {', '.join(self.companies_created)}"
            text += f" and {more:,} more." if more else "."
        return text


class _Rollback(Exception):
    pass


def import_documents(store: Store, path: str | Path, limits: ImportLimits | None = None, *,
                     bulk: bool = True) -> ImportReport:
    """Checks the whole file, then writes every document in one transaction, or nothing at all.

    ``limits`` default to ``ImportLimits.from_env()``; ``bulk=False`` writes through
    ``service.create_document`` one document at a time (the tests' reference for the bulk path)."""
    limits = limits if limits is not None else ImportLimits.from_env()
    problems = Problems(limits.listed)
    report = ImportReport(str(path))
    reader = CsvRows(Path(path), limits, problems)
    try:
        if reader.open():
            written = _check_and_write(store, reader, problems, bulk)
            report.imported, report.lines, report.kinds = written.documents, written.lines, written.kinds
            report.companies_created = written.companies
            report.companies_created_count = written.company_count
    except _Rollback:
        pass
    finally:
        reader.close()
    report.errors, report.error_count = problems.first(), problems.count
    if report.ok:
        log.info("import-documents %s: %d documents and %d new companies imported", path, report.imported,
                 report.companies_created_count)
    else:
        log.info("import-documents %s: nothing imported, %d problems", path, report.error_count)
    return report


def _check_and_write(store: Store, reader: CsvRows, problems: Problems, bulk: bool) -> Written:
    with Staging(problems) as staging:
        with store.session() as session:
            checker = RowChecker(MasterData(session), reader.header, problems)
        for row, record in reader:     # no transaction is held while the file is read
            line = checker.check(row, record)
            if line is not None:
                staging.add(row, line)
        if not problems and not reader.has_rows:
            problems.add(1, "the file has a header but no rows to import.")
        if reader.stopped or not staging.documents:
            raise _Rollback
        with store.transaction() as session:
            master = MasterData(session)   # the ledger as it is now, in the writing transaction
            staging.check_documents(session, master)
            if problems:
                raise _Rollback
            try:
                return (write_in_bulk if bulk else write_with_services)(session, staging, master)
            except LedgerError as exc:
                problems.add(0, str(exc))
                raise _Rollback from exc
