"""``kcc-desktop --db PATH demo [--documents N] [--seed S]``: build the demo company into a new file."""

from __future__ import annotations

import argparse
import sys

from ..demo.company import DEFAULT_DOCUMENTS, DEFAULT_SEED, DemoSummary, build_demo
from ..ledger.errors import LedgerError
from ..store import Store
from ..sync import queue
from . import NO_COMPANY_FILE, Subparsers, open_company_file


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="build a deterministic UK demo company in a new or empty company file",
        description="Builds a demo UK wholesaler: the standard chart, VAT at 20/5/0%%, about 50 customers, "
                    "20 suppliers, 200 stock items and N documents with payments and allocations. "
                    "The same seed always gives the same company.")
    p.add_argument("--documents", type=_count, default=DEFAULT_DOCUMENTS, metavar="N",
                   help=f"sales and purchase documents to create (default {DEFAULT_DOCUMENTS})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                   help=f"random seed; the same seed gives the same data (default {DEFAULT_SEED})")
    p.set_defaults(run=run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of documents cannot be negative")
    return value


def run(args: argparse.Namespace) -> int:
    store = open_company_file(args.db, create=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        summary = build_demo_file(store, args.documents, args.seed)
    except LedgerError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        store.close()
    print(summary.text())
    print(f"Company file: {store.label}")
    return 0


def build_demo_file(store: Store, documents: int = DEFAULT_DOCUMENTS, seed: int = DEFAULT_SEED) -> DemoSummary:
    """One transaction: the whole demo lands, queued for export when the export queue exists.

    The bulk rows pass no ORM flush, so the queue's listener cannot see them: its flush-time queuing is
    switched off for this session and ``enqueue_all`` queues everything once, at the end."""
    with store.transaction() as session:
        session.info[queue.SKIP_QUEUE] = True
        return build_demo(session, documents, seed, after=queue.enqueue_all)
