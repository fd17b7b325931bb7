"""`kcc-desktop sandbox --provider xero|quickbooks [...]`: a local stand-in for the accounting package."""

from __future__ import annotations

from . import Subparsers


def register(sub: Subparsers) -> None:
    from ..sandbox import runner

    p = sub.add_parser("sandbox", help="serve a local Xero or QuickBooks Online sandbox on loopback",
                       description="Serves a local Xero or QuickBooks Online sandbox that speaks the real API. "
                                   "Prints one JSON line with its URLs, then serves until stopped.")
    runner.add_arguments(p)
    p.set_defaults(run=runner.main)
