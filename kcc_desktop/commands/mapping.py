"""`kcc-desktop [--db PATH] mapping fetch|auto|list|set NOMINAL ACCOUNT_CODE [--json]`.

Exit codes: 0 done; 1 a mapping or the package refused; 2 no company file, or (``fetch``) no valid sign-in:
missing, revoked, or made for another address (Connect again).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from . import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("mapping", help="map ledger nominals, tax codes and bank accounts to the package's accounts")
    actions = p.add_subparsers(dest="mapping_action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="Get Nominal & Tax Accounts from the connected package")
    auto = actions.add_parser("auto", help="Apply Default Setup (by code, then by name and type; never over yours)")
    lst = actions.add_parser("list", help="every nominal, tax code and bank account with its mapping")
    lst.add_argument("--category", choices=["nominal", "tax", "tax_purchase", "bank"])
    lst.add_argument("--problems", action="store_true", help="only what the pre-check would report")
    st = actions.add_parser("set", help="map one ledger record (\"\" as ACCOUNT_CODE clears it)")
    st.add_argument("nominal", metavar="NOMINAL", help="the ledger's code (nominal, tax code or bank account)")
    st.add_argument("account_code", metavar="ACCOUNT_CODE", help="the package's account / tax rate / bank code")
    st.add_argument("--category", default="nominal", choices=["nominal", "tax", "tax_purchase", "bank"])
    for q in (fetch, auto, lst, st):
        q.add_argument("--json", action="store_true", help="print JSON")
        q.set_defaults(run=run)


def _print(args: argparse.Namespace, data: object, text: str) -> None:
    print(json.dumps(data, indent=None, sort_keys=True, default=str) if args.json else text)


def run(args: argparse.Namespace) -> int:
    from ..connectors.base import ConnectionRequired, ConnectorError
    from ..context import AppContext
    from ..sync.mapping import MappingService
    from ..sync.mapping_types import MappingError
    from . import FAILED, NO_COMPANY_FILE, NO_SIGN_IN, open_company_file

    store = open_company_file(args.db)
    if store is None:
        return NO_COMPANY_FILE
    try:
        svc = MappingService(store)
        if args.mapping_action == "fetch":
            summary = svc.fetch(AppContext(store).package())
            data = {"provider": summary.provider, "accounts": summary.accounts, "tax_rates": summary.tax_rates,
                    "bank_accounts": summary.bank_accounts, "newly_archived": summary.newly_archived,
                    "newly_deleted": summary.newly_deleted, "flagged": [asdict(p) for p in summary.flagged]}
            _print(args, data, summary.text)
        elif args.mapping_action == "auto":
            suggestions = svc.apply_default_setup()
            _print(args, [asdict(s) for s in suggestions],
                   "\n".join(f"{s.category:<12} {s.local_code:<6} -> {s.remote_code or '(none)':<16} {s.reason}"
                             for s in suggestions))
        elif args.mapping_action == "list":
            if args.problems:
                problems = svc.problems(args.category)
                _print(args, [asdict(p) for p in problems], "\n".join(p.message for p in problems) or "No problems.")
            else:
                rows = svc.rows(args.category)
                _print(args, [asdict(r) for r in rows],
                       "\n".join(f"{r.category:<12} {r.local_code:<6} {r.local_name[:28]:<28} {r.kind:<12} "
                                 f"{r.remote_label[:40]:<40} {r.status}" for r in rows))
        else:
            svc.set_mapping(args.category, svc.find_local(args.category, args.nominal), args.account_code)
            row = svc.row(args.category, svc.find_local(args.category, args.nominal))
            _print(args, asdict(row), f"{row.local_code} {row.local_name} -> {row.remote_label or '(not mapped)'}")
        return 0
    except (MappingError, ConnectorError) as exc:
        print(exc, file=sys.stderr)
        return NO_SIGN_IN if isinstance(exc, ConnectionRequired) else FAILED
    finally:
        store.close()
