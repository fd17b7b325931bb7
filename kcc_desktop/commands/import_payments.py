"""`kcc-desktop [--db PATH] import [--fetch] [--create-allocate] [--reverse-deleted] [--json]`:
the Import tab without the window (for scheduled sync).

With neither --fetch nor --create-allocate it does both. It prints {"fetched", "created", "skipped",
"failed"} (and "reversed" with --reverse-deleted); the exit code is 0 when nothing failed, 1 when a
payment could not be created (its status says why) or the package could not be reached, 2 when the
company file could not be opened or the fetch needs a sign-in (none, revoked, or made for another address).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("import", help="fetch payments from the accounting package and create & allocate them",
                       description="Fetch receipts and supplier payments recorded in the accounting package "
                                   "and create & allocate them in the ledger (both steps unless one is chosen).")
    p.add_argument("--fetch", action="store_true", help="download payments changed since the last fetch")
    p.add_argument("--create-allocate", action="store_true",
                   help="create and allocate every fetched payment not yet in the ledger")
    p.add_argument("--reverse-deleted", action="store_true",
                   help="also reverse, with their allocations, imported payments since deleted in the package "
                        "(this flag is your confirmation)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..connectors.base import ConnectionRequired, ConnectorError
    from ..context import AppContext
    from ..sync.options import OptionsService
    from ..sync.payments_import import ImportSummary, PaymentsImport
    from . import NO_COMPANY_FILE, open_company_file

    if not (args.fetch or args.create_allocate):
        args.fetch = args.create_allocate = True
    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    try:
        service = PaymentsImport(store, OptionsService(store).provider)
        summary = ImportSummary()
        code = 0
        try:
            if args.fetch:
                service.fetch(AppContext(store).package(), summary)
        except ConnectorError as exc:
            print(f"Fetch Payments: {exc}", file=sys.stderr)
            code = 2 if isinstance(exc, ConnectionRequired) else 1
        if args.create_allocate:
            made = service.create_and_allocate(service.ready_ids())
            summary.created, summary.skipped, summary.failed = made.created, made.skipped, made.failed
        to_reverse = service.deleted_imported_ids()
        if args.reverse_deleted and to_reverse:
            summary.reversed = service.reverse_deleted(to_reverse)
            to_reverse = []
        out = summary.to_json()
        if args.reverse_deleted:
            out["reversed"] = summary.reversed
        if args.json:
            print(json.dumps(out))
        else:
            print(f"Fetched {summary.fetched}, created {summary.created}, skipped {summary.skipped}, "
                  f"failed {summary.failed}" + (f", reversed {summary.reversed}" if args.reverse_deleted else "")
                  + ".")
            if summary.failed:
                print("Open the Import tab to read why each failed payment was not created.")
        if to_reverse:
            print(f"{len(to_reverse)} imported payment(s) were deleted (or voided) in {service.pkg}; run with "
                  "--reverse-deleted to reverse them in the ledger.", file=sys.stderr)
        return code if code == 2 else 1 if summary.failed else code
    finally:
        store.close()
