"""``kcc-desktop --db PATH trial-balance [--from DATE] [--to DATE] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from ..ledger.trial_balance import TrialBalance, trial_balance
from . import NO_COMPANY_FILE, Subparsers, open_company_file


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("trial-balance", help="print the trial balance for a date range",
                              description="Debit and credit per nominal code, summed from the journal.")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first date included, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last date included, YYYY-MM-DD")
    p.add_argument("--json", action="store_true",
                   help='print {"rows": [{"code", "name", "debit", "credit"}], "total_debit", "total_credit"}')
    p.set_defaults(run=run)


def _date(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-31.") from None


def run(args: argparse.Namespace) -> int:
    try:
        date_from = _date(args.date_from, "--from")
        date_to = _date(args.date_to, "--to")
    except ValueError as exc:
        print(f"kcc-desktop trial-balance: {exc}", file=sys.stderr)
        return 2
    if date_from and date_to and date_from > date_to:
        print(f"kcc-desktop trial-balance: --from {date_from} is after --to {date_to}.", file=sys.stderr)
        return 2
    store = open_company_file(args.db, must_exist=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        with store.session() as session:
            tb = trial_balance(session, date_from, date_to)
    finally:
        store.close()
    print(json.dumps(tb.to_json(), indent=2) if args.json else format_table(tb, date_from, date_to))
    return 0


def format_table(tb: TrialBalance, date_from: date | None, date_to: date | None) -> str:
    span = f"{date_from or 'the start'} to {date_to or 'the end'}"
    width = max([len(r.name) for r in tb.rows] + [20])
    out = [f"Trial balance, {span}", "",
           f"{'Code':<6} {'Name':<{width}} {'Debit':>14} {'Credit':>14}", "-" * (width + 37)]
    for r in tb.rows:
        mark = " *" if r.journal_by_hand else ""
        debit = f"{r.debit:,.2f}" if r.debit else ""
        credit = f"{r.credit:,.2f}" if r.credit else ""
        out.append(f"{r.code:<6} {r.name:<{width}} {debit:>14} {credit:>14}{mark}")
    out += ["-" * (width + 37), f"{'':<6} {'Total':<{width}} {tb.total_debit:>14,.2f} {tb.total_credit:>14,.2f}"]
    if any(r.journal_by_hand for r in tb.rows):
        out += ["", "* stock and cost of sale stay in KCC: journal these to the accounting package by hand."]
    return "\n".join(out)
