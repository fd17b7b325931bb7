"""``kcc-desktop --db PATH import-documents FILE.csv``: invoices and credit notes from an order system."""

from __future__ import annotations

import argparse
import sys

from ..ledger.csv_import import import_documents
from . import NO_COMPANY_FILE, Subparsers, open_company_file


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "import-documents", help="import sales and purchase invoices and credit notes from a CSV file",
        description="Checks every row first; writes all the documents in one transaction, or nothing at all "
                    "if any row is wrong (each problem is listed with its spreadsheet row number).")
    p.add_argument("file", metavar="FILE.csv", help="one row per document line; see the README for the columns")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    store = open_company_file(args.db, must_exist=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        report = import_documents(store, args.file)
    finally:
        store.close()
    print(report.text(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1
