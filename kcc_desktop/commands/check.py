"""``kcc-desktop [--db PATH] check [--json]``: the connection check, before the first upload.

Prints ``{"ok": bool, "problems": [{"code", "message", "advice"}], "requests": n}`` with --json, else
one line per problem. Exit code 0 when nothing would stop an upload, 1 when something would, 2 when the
company file could not be opened or there is no connection to check.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="check the connection and the organisation's settings before uploading",
                       description="Reads the organisation's settings (lock dates, currencies, plan limits, "
                                   "numbering, the sign-in's scopes) and the mappings, and lists whatever would "
                                   "stop the pending documents from uploading.")
    p.add_argument("--json", action="store_true", help='print {"ok", "problems": [{"code", "message", "advice"}]}')
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..connectors.base import ConnectionRequired, ConnectorError
    from ..context import AppContext
    from ..sync.check import check_connection
    from . import NO_COMPANY_FILE, open_company_file

    store = open_company_file(args.db, must_exist=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        try:
            report = check_connection(store, AppContext(store).package())
        except ConnectionRequired as exc:
            print(str(exc), file=sys.stderr)
            return 2
        except ConnectorError as exc:
            print(f"The check could not finish: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(report.to_json()) if args.json else report.text)
        return 0 if report.ok else 1
    finally:
        store.close()
