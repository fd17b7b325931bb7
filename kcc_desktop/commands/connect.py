"""`kcc-desktop connect xero|quickbooks [--no-browser]` and `kcc-desktop status [--json]`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import Subparsers

if TYPE_CHECKING:
    from ..context import AppContext


def register(sub: Subparsers) -> None:
    p = sub.add_parser("connect", help="sign in to Xero or QuickBooks Online (OAuth 2.0 in the browser)")
    p.add_argument("provider", choices=["xero", "quickbooks"])
    p.add_argument("--no-browser", action="store_true", help="print the address to open instead of opening it")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the sign-in (default 300)")
    p.add_argument("--root", default="", help="point the provider at another root URL (e.g. a local sandbox)")
    p.add_argument("--client-id", default="", help="the app's client id (QuickBooks: also asks for the secret)")
    p.set_defaults(run=run_connect)

    s = sub.add_parser("status", help="which accounting package this company file is connected to")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=run_status)


def _open(args: argparse.Namespace) -> AppContext | None:
    from ..context import AppContext
    from . import open_company_file

    store = open_company_file(args.db)
    return AppContext(store) if store is not None else None


def run_connect(args: argparse.Namespace) -> int:
    from ..connectors.connect import connect_command
    from ..connectors.settings import point_at

    ctx = _open(args)
    if ctx is None:
        return 2
    if args.root or args.client_id:
        point_at(ctx.settings, args.provider, args.root, args.client_id)
    return connect_command(ctx.settings, ctx.token_store(), args.provider, no_browser=args.no_browser,
                           timeout=args.timeout)


def run_status(args: argparse.Namespace) -> int:
    from ..connectors.connect import status_command

    ctx = _open(args)
    if ctx is None:
        return 2
    return status_command(ctx.settings, ctx.token_store(), as_json=args.json)
