"""`kcc-desktop connect xero|quickbooks [...]` and `kcc-desktop status [--json]`.

Exit codes (the README's table): ``connect`` 0 once connected, 1 when the sign-in failed or was refused
(the message says what to fix), 2 when the company file could not be opened or the arguments are wrong;
``status`` 0 when connected, 2 when there is no valid sign-in (not connected, revoked, or made for
another address).

While ``connect`` waits, a line typed (or piped) on standard input is taken as the address the browser
ended on: the fallback when the browser cannot hand the answer back itself.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import NO_COMPANY_FILE, NO_SIGN_IN, Subparsers

if TYPE_CHECKING:
    from ..connectors.connect import ChooseTenant, ConnectOptions
    from ..connectors.loopback import AnswerBox
    from ..connectors.settings import SettingsStore
    from ..connectors.tokens import TokenStore
    from ..context import AppContext


def register(sub: Subparsers) -> None:
    p = sub.add_parser("connect", help="sign in to Xero or QuickBooks Online (OAuth 2.0 in the browser)",
                       description="Signs in to Xero or QuickBooks Online in the browser. Options given here are "
                                   "saved only if the sign-in succeeds.")
    p.add_argument("provider", choices=["xero", "quickbooks"])
    p.add_argument("--no-browser", action="store_true", help="print the address to open instead of opening it")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the sign-in (default 300)")
    p.add_argument("--root", default=None, help="point the provider at another root URL (e.g. a local sandbox)")
    p.add_argument("--client-id", default=None, help="the app's client id (default: KCC_XERO_CLIENT_ID or "
                                                     "KCC_QBO_CLIENT_ID, else the one saved)")
    p.add_argument("--scopes", default=None,
                   help='Xero: "granular" (the default, apps created on or after 2 March 2026), "broad" (older '
                        'apps) or the scopes themselves, e.g. "openid offline_access accounting.settings ..."')
    p.add_argument("--environment", choices=["production", "sandbox"], default=None,
                   help="QuickBooks: Intuit's production companies (production keys) or its sandbox companies "
                        "(development keys)")
    p.add_argument("--redirect-uri", default=None,
                   help="where the browser brings the answer back, exactly as registered with the app (default: "
                        "KCC_OAUTH_REDIRECT_URI, else http://localhost:53682/callback)")
    p.add_argument("--save-callback-page", default=None, metavar="FILE",
                   help="write the https hand-off page to FILE (to host for QuickBooks production keys), then exit")
    p.set_defaults(run=run_connect)

    s = sub.add_parser("status", help="which accounting package this company file is connected to")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=run_status)


def _open(args: argparse.Namespace) -> AppContext | None:
    from ..context import AppContext
    from . import open_company_file

    store = open_company_file(args.db)
    return AppContext(store) if store is not None else None


def options_from_args(args: argparse.Namespace) -> ConnectOptions:
    """The Connect's options; a ValueError names a wrong one."""
    from ..connectors.connect import ConnectOptions
    from ..connectors.settings import parse_scopes, require_secure

    if args.root:
        require_secure(args.root)
    if args.environment and args.provider != "quickbooks":
        raise ValueError("--environment applies to QuickBooks only.")
    return ConnectOptions(api_root=args.root, client_id=args.client_id,
                          scopes=parse_scopes(args.provider, args.scopes) if args.scopes else None,
                          environment=args.environment, redirect_uri=args.redirect_uri)


def save_callback_page(target: str) -> int:
    from pathlib import Path

    from ..connectors.loopback import callback_page_path

    try:
        Path(target).write_bytes(callback_page_path().read_bytes())
    except OSError as exc:
        print(f"Could not write the page to {target}: {exc.strerror or exc}.", file=sys.stderr)
        return 1
    print(f"Wrote {target}. Host it at an https address, register that address as your app's redirect URI, and "
          "set KCC_OAUTH_REDIRECT_URI to it.")
    return 0


def run_connect(args: argparse.Namespace) -> int:
    if args.save_callback_page:
        return save_callback_page(args.save_callback_page)
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    ctx = _open(args)
    if ctx is None:
        return NO_COMPANY_FILE
    return connect_command(ctx.settings, ctx.token_store(), args.provider, options, no_browser=args.no_browser,
                           timeout=args.timeout)


class ConsoleAnswers:
    """Standard input while ``connect`` runs: a pasted address goes to the sign-in, later lines answer the
    organisation question. One reader, so the two never compete for a line."""

    def __init__(self, box: AnswerBox, interactive: bool) -> None:
        self.box = box
        self.interactive = interactive
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, name="connect-stdin", daemon=True).start()

    def _pump(self) -> None:
        try:
            for line in sys.stdin:
                if self.box.answered.is_set() or not line.strip():
                    self.lines.put(line)
                    continue
                try:
                    self.box.paste(line)
                except ValueError as exc:
                    print(str(exc), file=sys.stderr, flush=True)
        except (OSError, ValueError):   # no usable standard input (closed, or a test's capture)
            return

    def chooser(self, print_fn: Callable[[str], None]) -> ChooseTenant | None:
        if not self.interactive:
            return None

        def choose(tenants: list[dict[str, str]]) -> str:
            for n, t in enumerate(tenants, 1):
                print_fn(f"  {n}. {t['name']}")
            while True:
                print_fn(f"Organisation to use [1-{len(tenants)}]:")
                answer = self.lines.get().strip()
                if answer.isdigit() and 1 <= int(answer) <= len(tenants):
                    return tenants[int(answer) - 1]["tenant_id"]
        return choose


def connect_command(store: SettingsStore, token_store: TokenStore, provider: str,
                    options: ConnectOptions | None = None, no_browser: bool = False, timeout: float = 300) -> int:
    """Connect, saying what happened: 0 once connected, 1 on a failure, 2 when an argument is wrong."""
    from ..connectors.base import ConnectorError
    from ..connectors.connect import connect
    from ..connectors.loopback import AnswerBox

    def say(text: str) -> None:
        print(text, flush=True)

    box = AnswerBox()
    console = ConsoleAnswers(box, interactive=bool(sys.stdin and sys.stdin.isatty()))
    try:
        settings = connect(provider, store, token_store, options=options, open_browser=not no_browser,
                           timeout=timeout, choose_tenant=console.chooser(say), print_fn=say, answers=box)
    except ValueError as exc:          # an insecure root, a malformed redirect URI, an unknown environment
        print(str(exc), file=sys.stderr)
        return 2
    except ConnectorError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Connected to {settings.organisation_name or settings.tenant_id} ({settings.provider}).")
    return 0


def run_status(args: argparse.Namespace) -> int:
    ctx = _open(args)
    if ctx is None:
        return NO_COMPANY_FILE
    return status_command(ctx.settings, ctx.token_store(), as_json=args.json)


def status_command(store: SettingsStore, token_store: TokenStore, as_json: bool = False) -> int:
    """``kcc-desktop status [--json]``: 0 when connected, 2 when there is no valid sign-in."""
    from ..connectors.connect import status

    info = status(store, token_store)
    if as_json:
        print(json.dumps(info, sort_keys=True))
    else:
        print(info["message"])
        if info["connected"]:
            print(f"Package: {info['provider']}  Organisation: {info['organisation']}"
                  f"{'  (sandbox)' if info['sandbox'] else ''}")
    return 0 if info["connected"] else NO_SIGN_IN
