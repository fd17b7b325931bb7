"""``kcc-desktop --db PATH import-documents FILE.csv [--max-size MB] [--max-rows N]``: invoices and credit
notes from an order system.

Exit codes (README "Command line"): 0 imported; 1 nothing imported because of problems in the file (the
first 100 are listed on stderr, with the count); 2 the company file could not be opened, or the
arguments are wrong (no such CSV file, a limit that is not a number).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..ledger.csv_import import ImportLimits, import_documents
from ..ledger.csv_limits import DEFAULT_MAX_MB, DEFAULT_MAX_ROWS, ENV_MAX_MB, ENV_MAX_ROWS
from . import BAD_ARGUMENTS, FAILED, NO_COMPANY_FILE, OK, Subparsers, open_company_file


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "import-documents", help="import sales and purchase invoices and credit notes from a CSV file",
        description="Checks every row first; writes all the documents in one transaction, or nothing at all "
                    "if any row is wrong (the first 100 problems are listed with their spreadsheet row numbers, "
                    "and counted).")
    p.add_argument("file", metavar="FILE.csv", help="one row per document line; see the README for the columns")
    p.add_argument("--max-size", type=_limit(float), default=None, metavar="MB",
                   help=f"refuse a file larger than this (default {DEFAULT_MAX_MB} MB, or {ENV_MAX_MB}; 0: no limit)")
    p.add_argument("--max-rows", type=_limit(int), default=None, metavar="N",
                   help=f"refuse a file with more rows (default {DEFAULT_MAX_ROWS:,}, or {ENV_MAX_ROWS}; 0: no limit)")
    p.set_defaults(run=run)


def _limit(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError("a limit cannot be negative (0 means no limit)")
        return value
    return parse


def run(args: argparse.Namespace) -> int:
    try:
        limits = ImportLimits.from_env(max_mb=args.max_size, max_rows=args.max_rows)
    except ValueError as exc:
        print(f"kcc-desktop import-documents: {exc}", file=sys.stderr)
        return BAD_ARGUMENTS
    if not Path(args.file).exists():   # a folder, pipe or device is named as such by the import's own check
        print(f"kcc-desktop import-documents: there is no file {args.file}. Check the path.", file=sys.stderr)
        return BAD_ARGUMENTS
    store = open_company_file(args.db, must_exist=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        report = import_documents(store, args.file, limits)
    finally:
        store.close()
    print(report.text(), file=sys.stdout if report.ok else sys.stderr)
    return OK if report.ok else FAILED
