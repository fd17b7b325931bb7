"""``kcc-desktop [--db PATH] export [--all | --ids N ...] [--json]``: Upload Data without the window.

Runs the same ExportService as the Export tab (for scheduled sync) and prints
``{"exported", "failed", "pending"}``. Exit codes (README "Command line"): 0 when everything sent went
through; 1 when anything failed or was held back; 2 when the company file could not be opened, an ``--ids``
row is not pending export, or there is no valid sign-in (none, revoked, or made for another address).
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
    from . import BAD_ARGUMENTS, FAILED, NO_COMPANY_FILE, NO_SIGN_IN, OK, open_company_file

    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    ctx = AppContext(store)
    service = ExportService(ctx.store)
    pending = service.pending_ids()
    unknown = sorted(set(args.ids or ()) - set(pending))
    if unknown:
        print(f"kcc-desktop export: {', '.join(map(str, unknown))} {'is' if len(unknown) == 1 else 'are'} not "
              "pending export (see the Pending Export grid's ids, or leave --ids out to send everything).",
              file=sys.stderr)
        return BAD_ARGUMENTS
    try:
        package = ctx.package()
    except ConnectorError as exc:
        print(str(exc), file=sys.stderr)
        return NO_SIGN_IN
    ids = args.ids if args.ids else pending

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
        return NO_SIGN_IN
    return OK if summary.ok else FAILED
