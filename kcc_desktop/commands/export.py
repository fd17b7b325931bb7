"""``kcc-desktop [--db PATH] export [--all | --ids N ...] [--json]``: Upload Data without the window.

Runs the same ExportService as the Export tab (for scheduled sync) and prints
``{"exported", "failed", "pending"}``. Exit code 0 when everything sent went through, 1 when anything
failed or was held back, 2 when the run could not start (no company file, no connection) or was stopped
because the sign-in is missing, revoked or was made for another address (Connect again).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("export", help="upload pending ledger changes to the accounting package (Upload Data)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every pending row (the default)")
    which.add_argument("--ids", type=int, nargs="+", metavar="ID", help="only these pending export rows")
    p.add_argument("--json", action="store_true", help='print {"exported", "failed", "pending"} as JSON')
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from ..connectors.base import ConnectorError
    from ..context import AppContext
    from ..sync.export import ExportService
    from . import NO_COMPANY_FILE, open_company_file

    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    ctx = AppContext(store)
    service = ExportService(ctx.store)
    try:
        package = ctx.package()
    except ConnectorError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    ids = args.ids if args.ids else service.pending_ids()

    def progress(done: int, total: int, text: str) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{done:,}/{total:,} {text}".ljust(79), end="", file=sys.stderr, flush=True)

    summary = service.upload(ids, package, progress=progress)
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(summary.text)
    if summary.stopped:
        print(summary.stopped, file=sys.stderr)
    if summary.sign_in_needed:
        return 2
    return 0 if summary.ok else 1
