"""The demo company: a deterministic, realistic UK wholesaler built into a new or empty company file.

``build_demo`` seeds the standard chart (plus a few realistic nominals), customers, suppliers and stock
items through the ORM, then writes the seeded plan of documents, payments and allocations (see
``plan.py``) in bulk (``bulk.py``). ``apply_with_services`` writes the same plan through
``service.py`` instead: slower, and used by the tests to prove the bulk path posts identical books.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from ..ledger import postings, service
from ..ledger.chart import seed_standard_chart
from ..ledger.errors import LedgerError
from ..models import (
    BankAccount,
    Company,
    Document,
    JournalLine,
    NominalCode,
    NominalKind,
    Payment,
    StockItem,
    TaxCode,
    from_stored,
    get_required,
)
from .bulk import TABLES, BulkWriter, Refs
from .data import EXTRA_NOMINALS
from .plan import DemoPlan, PlanCreditAllocation, PlanPayment, PlanPrepaymentAllocation, make_plan

DEFAULT_DOCUMENTS = 500
DEFAULT_SEED = 2026


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    customers: int
    suppliers: int
    stock_items: int
    documents: int
    payments: int
    allocations: int
    first_date: date | None
    last_date: date | None
    seconds: float

    def text(self) -> str:
        span = f", dated {self.first_date:%d %b %Y} to {self.last_date:%d %b %Y}" if self.first_date else ""
        return (f"Demo company built (seed {self.seed}): {self.customers} customers, {self.suppliers} suppliers, "
                f"{self.stock_items} stock items, {self.documents} documents, {self.payments} payments and "
                f"{self.allocations} allocations{span}, in {self.seconds:.1f} s.")


def build_demo(session: Session, documents: int = DEFAULT_DOCUMENTS, seed: int = DEFAULT_SEED, *,
               bulk: bool = True, after: Callable[[Session], object] | None = None) -> DemoSummary:
    """Builds the demo into ``session`` (the caller commits). Refuses a file that already has books.

    ``after(session)`` runs last, in the same transaction: the command passes the export queue's
    ``enqueue_all`` there, since no ORM event saw the bulk-written rows (and ledger must not import sync).
    """
    started = time.perf_counter()
    if documents < 0:
        raise LedgerError("The number of demo documents cannot be negative.")
    _require_empty(session)
    seed_standard_chart(session)
    have = set(session.scalars(select(NominalCode.code)))
    session.add_all(NominalCode(code=c, name=n, kind=k) for c, n, k in EXTRA_NOMINALS if c not in have)
    session.flush()
    rates = {t.code: t.rate for t in session.scalars(select(TaxCode))}
    with _no_cyclic_gc():
        plan = make_plan(documents, seed, rates)
        refs = create_master_data(session, plan)
        if bulk:
            _write_in_bulk(session, plan, refs)
        else:
            apply_with_services(session, plan, refs)
    post_opening_stock(session)
    if after is not None:
        after(session)
    payments = sum(1 for op in plan.operations if isinstance(op, PlanPayment))
    allocations = sum(len(op.allocations) if isinstance(op, PlanPayment) else 1 for op in plan.operations)
    dates = [d.date for d in plan.documents]
    return DemoSummary(seed, len(plan.customers), len(plan.suppliers), len(plan.items), len(plan.documents),
                       payments, allocations, min(dates, default=None), max(dates, default=None),
                       time.perf_counter() - started)


def _require_empty(session: Session) -> None:
    counts = {label: session.scalar(select(func.count()).select_from(model))
              for label, model in (("companies", Company), ("stock items", StockItem),
                                   ("documents", Document), ("payments", Payment))}
    found = {k: v for k, v in counts.items() if v}
    if found:
        listed = ", ".join(f"{v} {k}" for k, v in found.items())
        raise LedgerError(f"This company file already has books ({listed}). The demo company needs a new or "
                          "empty file: run the demo command with another --db path.")
    if service.integration_enabled(session):
        # The demo's account customers pay in the ledger, which the payment guard forbids while it is on.
        raise LedgerError("The accounts integration is already enabled in this company file, so its payment "
                          "guard would refuse the demo's customer receipts. Build the demo in a new file.")


def create_master_data(session: Session, plan: DemoPlan) -> Refs:
    """Companies and stock items through the ORM (a few hundred rows), and the ids the documents need."""
    nominal = {n.code: n.id for n in session.scalars(select(NominalCode))}
    tax = {t.code: t.id for t in session.scalars(select(TaxCode))}
    session.add_all(Company(code=c.code, name=c.name, kind=c.kind, is_account=c.is_account, currency=c.currency,
                            email=c.email) for c in plan.customers + plan.suppliers)
    session.add_all(StockItem(code=i.code, description=i.description, price=i.price, cost=i.cost,
                              sales_nominal_id=nominal[i.sales_nominal], purchase_nominal_id=nominal["5000"],
                              stock_nominal_id=nominal["1001"], cost_of_sale_nominal_id=nominal["5100"],
                              tax_code_id=tax[i.tax_code]) for i in plan.items)
    session.flush()
    companies = list(session.scalars(select(Company)))
    items = session.scalars(select(StockItem))
    return Refs(
        nominal=nominal, tax=tax,
        company={c.code: c.id for c in companies}, currency={c.code: c.currency for c in companies},
        item={i.code: (i.id, i.stock_nominal_id, i.cost_of_sale_nominal_id, i.cost) for i in items},
        bank={b.code: (b.id, b.nominal_id) for b in session.scalars(select(BankAccount))},
        controls=service.controls(session))


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Millions of short-lived tuples and Decimals, none in reference cycles: the cyclic collector would
    rescan the growing heap again and again (a quarter of the CPU time at 100,000 documents)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write_in_bulk(session: Session, plan: DemoPlan, refs: Refs) -> None:
    """Plain secondary indexes of the written tables are dropped and rebuilt once at the end (faster than
    updating them row by row). Safe: the file was checked empty, SQLite DDL is transactional, so a
    failure rolls the indexes back with everything else. A bigger page cache (memory only) for this
    transaction; durability settings are untouched."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    indexes = [i for t in TABLES for i in cast(Table, t.__table__).indexes if not i.unique] if sqlite else []
    previous = 0
    if sqlite:
        previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
        conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB
    try:
        for index in indexes:
            index.drop(conn)
        BulkWriter(session, refs).write(plan)
        for index in indexes:
            index.create(conn)
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size={previous}")


def apply_with_services(session: Session, plan: DemoPlan, refs: Refs) -> None:
    """Writes the plan through ``service.py`` one object at a time: the reference the bulk path must equal."""
    docs: list[Document] = []
    for d in plan.documents:
        lines = [service.LineInput(quantity=ln.quantity, unit_price=ln.unit_price,
                                   stock_item_id=refs.item[ln.item][0] if ln.item else None,
                                   description=ln.description, discount_rate=ln.discount,
                                   tax_code_id=refs.tax[ln.tax_code], nominal_id=refs.nominal[ln.nominal])
                 for ln in d.lines]
        company = get_required(session, Company, refs.company[d.company])
        docs.append(service.create_document(session, d.kind, company, d.number, d.date, lines,
                                            due_date=d.due_date, reference=d.reference, currency=d.currency))
    payments = []
    for op in plan.operations:
        if isinstance(op, PlanPayment):
            company = get_required(session, Company, refs.company[op.company])
            bank = get_required(session, BankAccount, refs.bank[op.bank][0])
            payments.append(service.record_payment(
                session, op.kind, company, bank, op.amount, op.date,
                [(docs[i], part) for i, part in op.allocations], reference=op.reference))
        elif isinstance(op, PlanPrepaymentAllocation):
            service.allocate_prepayment(session, payments[op.payment], docs[op.invoice], op.amount, op.date)
        elif isinstance(op, PlanCreditAllocation):
            service.allocate_credit_note(session, docs[op.credit], docs[op.invoice], op.amount)


OPENING_CAPITAL = "3000"
_ROUND_UP_TO = Decimal(1000)


def post_opening_stock(session: Session) -> Decimal:
    """The stock the demo company had when its books begin, so its stock never goes negative.

    The plan sells from stock it buys along the way, and early sales can outrun early purchases: without an
    opening balance the trial balance showed Stock in credit, which no warehouse can have. One journal the
    day before the first document, Dr Stock / Cr Capital Introduced, covers the lowest point the stock
    reaches, rounded up to the next thousand. Returns the amount (0 when none was needed)."""
    stock_id = session.scalar(select(func.min(NominalCode.id)).where(NominalCode.kind == NominalKind.STOCK))
    capital_id = session.scalar(select(NominalCode.id).where(NominalCode.code == OPENING_CAPITAL))
    if stock_id is None or capital_id is None:
        return Decimal(0)
    running, lowest, first = Decimal(0), Decimal(0), None
    for when, raw in session.execute(select(JournalLine.date, func.sum(JournalLine.amount))
                                     .where(JournalLine.nominal_id == stock_id)
                                     .group_by(JournalLine.date).order_by(JournalLine.date)).tuples():
        first = first or when
        running += from_stored(raw)
        lowest = min(lowest, running)
    if lowest >= 0 or first is None:
        return Decimal(0)
    amount = (-lowest / _ROUND_UP_TO).to_integral_value(rounding="ROUND_CEILING") * _ROUND_UP_TO
    service.post(session, first - timedelta(days=1), "opening", 0, "Opening stock",
                 [postings.Leg(stock_id, amount), postings.Leg(capital_id, -amount)])
    session.flush()
    return amount
