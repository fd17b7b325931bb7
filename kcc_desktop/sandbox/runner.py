"""Start a sandbox from Python (tests, demo, benchmarks) or from the command line.

    kcc-desktop sandbox --provider xero --port 8765 --state demo-xero.json --latency 0.2

With ``--client-id`` and ``--redirect-uri`` (and for QuickBooks ``--client-secret``) the sandbox holds an
app registration and refuses sign-ins as the real identity service does (see ``registration.py``);
without, it stays permissive (the demo).

On start the CLI prints ONE JSON line ({"provider", "root", "api_url", "authorize_url", "token_url", ...,
"urls": {...}, "pid"}: every URL at the top level too) so a parent process
can read where to connect, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from .base import SandboxProvider
from .faults import FaultConfig
from .http import SandboxServer
from .registration import INTUIT_ENVIRONMENTS, XERO_SCOPE_KINDS, AppRegistration

PROVIDERS = ("xero", "quickbooks")


def make_provider(provider: str = "xero", **options: Any) -> SandboxProvider:
    """Build a provider by name; the package modules are imported only when asked for."""
    if provider == "xero":
        from .xero import XeroProvider
        return XeroProvider(**options)
    if provider == "quickbooks":
        from .quickbooks import QuickBooksProvider
        return QuickBooksProvider(**options)
    raise ValueError(f"unknown sandbox provider {provider!r}; choose from {', '.join(PROVIDERS)}")


def start_sandbox(provider: str = "xero", host: str = "127.0.0.1", port: int = 0,
                  state_file: str | os.PathLike[str] | None = None, **options: Any) -> SandboxServer:
    """A started server on a free port (``port=0``). Options go to the provider's constructor:
    ``faults`` (FaultConfig or dict), ``limits`` (dict), ``time_scale``, and for Xero ``tenants``.
    Stop it with ``server.stop()`` or use it as a context manager."""
    prov = make_provider(provider, state_file=str(state_file) if state_file else None, **options)
    return SandboxServer(prov, host=host, port=port).start()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser
    p.add_argument("--provider", choices=PROVIDERS, default="xero")
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--state", dest="state_file", default=None, help="JSON file that keeps the books across runs")
    p.add_argument("--tenants", type=int, default=None, help="Xero: number of organisations in the connection")
    lim = p.add_argument_group("rate limits (default: the package's own)")
    lim.add_argument("--in-flight", type=int, default=None)
    lim.add_argument("--per-second", type=int, default=None)
    lim.add_argument("--per-minute", type=int, default=None)
    lim.add_argument("--per-day", type=int, default=None)
    lim.add_argument("--time-scale", type=float, default=1.0,
                     help="length of a limit window relative to real time (0.0167: a 'minute' is 1 s)")
    reg = p.add_argument_group("app registration (the sandbox is then as strict as the real sign-in)")
    reg.add_argument("--client-id", default=None, help="the registered app's client id")
    reg.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                     help="a registered redirect URI, matched exactly (repeat for more)")
    reg.add_argument("--scopes", choices=XERO_SCOPE_KINDS, default="granular",
                     help="Xero: granular (apps made on or after 2 March 2026) or broad (older apps)")
    reg.add_argument("--client-secret", default=None, help="QuickBooks: the registered app's client secret")
    reg.add_argument("--environment", choices=INTUIT_ENVIRONMENTS, default="development",
                     help="QuickBooks: development or production keys")
    flt = p.add_argument_group("fault injection")
    flt.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    flt.add_argument("--error-rate", type=float, default=0.0, help="share of calls answered 500/503")
    flt.add_argument("--timeout-rate", type=float, default=0.0, help="share of calls that hang, then 504")
    flt.add_argument("--timeout-seconds", type=float, default=FaultConfig.timeout_seconds)
    flt.add_argument("--drop-after-commit-rate", type=float, default=0.0,
                     help="share of writes committed but whose connection is cut")
    flt.add_argument("--drop-after-commit-count", type=int, default=0)
    flt.add_argument("--forced-429", type=int, default=0, help="answer the next N calls with 429")
    flt.add_argument("--drip-rate", type=float, default=0.0, help="share of answers sent a byte at a time")
    flt.add_argument("--seed", type=int, default=0, help="seed for the fault dice")


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    limits = {k: getattr(args, a) for k, a in (("concurrent", "in_flight"), ("second", "per_second"),
                                              ("minute", "per_minute"), ("day", "per_day"))
              if getattr(args, a) is not None}
    faults = FaultConfig(latency=args.latency, error_rate=args.error_rate, timeout_rate=args.timeout_rate,
                         timeout_seconds=args.timeout_seconds,
                         drop_after_commit_rate=args.drop_after_commit_rate,
                         drop_after_commit_count=args.drop_after_commit_count,
                         forced_429=args.forced_429, drip_rate=args.drip_rate, seed=args.seed)
    opts: dict[str, Any] = {"faults": faults, "limits": limits, "time_scale": args.time_scale}
    if args.tenants is not None:
        if args.provider != "xero":
            raise ValueError("--tenants applies to --provider xero only")
        opts["tenants"] = args.tenants
    registration = registration_from_args(args)
    if registration is not None:
        opts["registration"] = registration
    return opts


def registration_from_args(args: argparse.Namespace) -> AppRegistration | None:
    """The app registration the options describe, or None (a permissive sandbox)."""
    client_id = getattr(args, "client_id", None)
    uris = tuple(getattr(args, "redirect_uri", None) or ())
    if not client_id and not uris and not getattr(args, "client_secret", None):
        return None
    if not client_id or not uris:
        raise SystemExit("A registration needs both --client-id and at least one --redirect-uri.")
    try:
        registration = AppRegistration(client_id=client_id, redirect_uris=uris, scopes=args.scopes,
                                       client_secret=args.client_secret or "", environment=args.environment)
        return registration.check_for_intuit() if args.provider == "quickbooks" else registration.check_for_xero()
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def main(args: argparse.Namespace | list[str] | None = None) -> int:
    """Exit codes as the app's commands (README "Command line"): 0 served until stopped; 1 could not serve
    (the port is taken, the state file unreadable); 2 wrong arguments."""
    if not isinstance(args, argparse.Namespace):
        parser = argparse.ArgumentParser(prog="kcc-desktop sandbox", description=__doc__.splitlines()[0])
        add_arguments(parser)
        args = parser.parse_args(args)
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"kcc-desktop sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        server = start_sandbox(args.provider, host=args.host, port=args.port, state_file=args.state_file,
                               **options)
    except OSError as exc:
        print(f"kcc-desktop sandbox: cannot serve on {args.host}:{args.port} with state file "
              f"{args.state_file or '(none)'}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:   # a state file that is not the sandbox's JSON
        print(f"kcc-desktop sandbox: the state file {args.state_file} cannot be read: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)
    registration = getattr(server.provider, "registration", None)
    registered = {"client_id": registration.client_id, "redirect_uris": list(registration.redirect_uris),
                  "scopes": registration.scopes, "environment": registration.environment} if registration else None
    print(json.dumps({"provider": args.provider, **server.urls(), "urls": server.urls(), "pid": os.getpid(),
                      "registered": registered}), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":  # python -m kcc_desktop.sandbox.runner
    sys.exit(main())
