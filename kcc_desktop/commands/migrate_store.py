"""``kcc-desktop migrate-store FROM TO``: move a company into another store (e.g. a file into PostgreSQL).

Copies everything, then checks every table's row count and the trial balance on both sides. Exit code 0
when the copy matches, 1 when it could not be made or does not match (the target is left empty where it
can be), 2 when either store cannot be opened.
"""

from __future__ import annotations

import argparse
import sys

from . import NO_COMPANY_FILE, Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("migrate-store", help="copy a company into another store (e.g. a file into PostgreSQL)",
                       description="Copies every table of the company in FROM into the empty store TO (a file "
                                   "path or a postgresql://user@host/dbname URL), then checks row counts and the "
                                   "trial balance. FROM is only read. Stop the other desks first.")
    p.add_argument("source", metavar="FROM", help="the company file (or database URL) to copy")
    p.add_argument("target", metavar="TO", help="the new, empty store: a file path or postgresql://user@host/dbname")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..migrate_store import MigrateError, migrate
    from ..schedule import SyncBusy, SyncLock
    from . import open_company_file

    source = open_company_file(args.source)
    if source is None:
        return NO_COMPANY_FILE
    try:
        target = open_company_file(args.target, create=True)
        if target is None:
            return NO_COMPANY_FILE
        try:
            with SyncLock(source, "migrate-store"):   # no scheduled sync or Upload Data writes while it copies
                report = migrate(source, target, progress=lambda t: print(t, file=sys.stderr)
                                 if sys.stderr.isatty() else None)
        except SyncBusy as busy:
            print(busy, file=sys.stderr)
            return 1
        except MigrateError as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            target.close()
        print(report.text(source.label, target.label))
        return 0
    finally:
        source.close()
