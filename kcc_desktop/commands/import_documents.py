"""``kcc-desktop --db PATH import-documents FILE.csv``: invoices and credit notes from an order system."""

from __future__ import annotations

import sys
from pathlib import Path

from ..ledger.csv_import import import_documents
from ..store import StoreError, open_store, resolve_url


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import-documents", help="import sales and purchase invoices and credit notes from a CSV file",
        description="Checks every row first; writes all the documents in one transaction, or nothing at all "
                    "if any row is wrong (each problem is listed with its spreadsheet row number).")
    p.add_argument("file", metavar="FILE.csv", help="one row per document line; see the README for the columns")
    p.set_defaults(run=run)


def existing_company_file(db: str | None) -> str | None:
    """The reason a company file cannot be used, or None. Never creates an empty file by mistake."""
    url = resolve_url(db)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///"):])
        if not path.exists():
            return (f"There is no company file at {path}. Check the --db path, or create a company file "
                    "first (for example with the demo command).")
    return None


def run(args) -> int:
    problem = existing_company_file(args.db)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        store = open_store(args.db)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        report = import_documents(store, args.file)
    finally:
        store.close()
    print(report.text(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1
