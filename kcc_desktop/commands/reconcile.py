"""``kcc-desktop [--db PATH] reconcile [--from DATE] [--to DATE] [--json]``: the ledger and the package side by
side, every exported document in the range (sync/reconcile).

Prints ``{"documents": n, "matched": m, "requests": k, "differences": [{"type", "number", "ledger_total",
"package_total", "status", "advice"}]}`` with --json, else a line per difference. Exit codes (README "Command
line"): 0 when nothing differs, 1 when something does (or the run could not finish), 2 when the company file
could not be opened, a date is not YYYY-MM-DD, or there is no valid sign-in.

``kcc-desktop mark-exported --ids N ... --reason TEXT``: Mark as Exported without the window; the reason is
required and goes in the audit trail with the OS user.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from . import Subparsers


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(sub: Subparsers) -> None:
    p = sub.add_parser("reconcile", help="compare exported documents with the accounting package",
                       description="Reads every exported document in the range back from the accounting package "
                                   "(paged: about one request per 100 documents) and lists what differs: deleted, "
                                   "voided or edited there, changed in the ledger since export, missing.")
    p.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="first document date (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last document date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true",
                   help='print {"documents", "matched", "requests", "differences": [...]} as JSON')
    p.set_defaults(run=run_reconcile)
    m = sub.add_parser("mark-exported", help="Mark as Exported: move pending rows to Exported without sending them",
                       description="The rows are never sent. A reason is required; it is kept with your user name.")
    m.add_argument("--ids", type=int, nargs="+", required=True, metavar="ID", help="pending export rows")
    m.add_argument("--reason", required=True, help="why (for example: entered in the package by hand)")
    m.set_defaults(run=run_mark_exported)


def run_reconcile(args: argparse.Namespace) -> int:
    from ..connectors.base import ConnectionRequired, ConnectorError
    from ..context import AppContext
    from ..sync.reconcile.engine import Reconciler
    from . import BAD_ARGUMENTS, FAILED, NO_COMPANY_FILE, NO_SIGN_IN, OK, open_company_file

    if args.date_from and args.date_to and args.date_from > args.date_to:
        print("kcc-desktop reconcile: --from is after --to.", file=sys.stderr)
        return BAD_ARGUMENTS
    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    try:
        try:
            package = AppContext(store).package()
        except ConnectorError as exc:
            print(str(exc), file=sys.stderr)
            return NO_SIGN_IN

        def progress(done: int, total: int, text: str) -> None:
            if not args.json and sys.stderr.isatty():
                print(f"\r{text}".ljust(79), end="", file=sys.stderr, flush=True)

        try:
            report = Reconciler(store, package).run(args.date_from, args.date_to, progress=progress)
        except ConnectionRequired as exc:
            print(str(exc), file=sys.stderr)
            return NO_SIGN_IN
        except ConnectorError as exc:
            print(f"The reconciliation could not finish: {exc}", file=sys.stderr)
            return FAILED
        if not args.json and sys.stderr.isatty():
            print(file=sys.stderr)
        print(json.dumps(report.to_json()) if args.json else report.text())
        return FAILED if report.differences else OK
    finally:
        store.close()


def run_mark_exported(args: argparse.Namespace) -> int:
    from ..sync.export import ExportService
    from ..sync.export.service import MarkReasonRequired
    from . import BAD_ARGUMENTS, NO_COMPANY_FILE, OK, open_company_file

    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    try:
        service = ExportService(store)
        unknown = sorted(set(args.ids) - set(service.pending_ids()))
        if unknown:
            print(f"kcc-desktop mark-exported: {', '.join(map(str, unknown))} "
                  f"{'is' if len(unknown) == 1 else 'are'} not pending export.", file=sys.stderr)
            return BAD_ARGUMENTS
        try:
            n = service.mark_exported(args.ids, args.reason)
        except MarkReasonRequired as exc:
            print(str(exc), file=sys.stderr)
            return BAD_ARGUMENTS
        print(f"{n:,} rows marked as exported by hand (they will not be sent).")
        return OK
    finally:
        store.close()
