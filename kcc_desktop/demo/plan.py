"""The demo company as a plan of plain values, drawn from one seeded random generator.

The plan says what happens (who buys what, who pays which invoice) and nothing about how it is written:
``demo.py`` writes it either through the ledger services or in bulk, and both must give the same books.
Everything derives from ``random.Random(seed)`` and a fixed anchor date, never from today's date, so the
same seed always gives the same company.

Amounts are computed with the ledger's own per-line rule (``rounding.line_amounts``) so the plan knows
each document's total and only ever allocates what is really outstanding.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from ..ledger.rounding import line_amounts, money
from . import data

BASE_ANCHOR = date(2026, 3, 31)  # the seed moves the anchor up to six months on from here
FOURDP = Decimal("0.0001")


@dataclass(slots=True)
class PlanCompany:
    code: str
    name: str
    kind: str               # customer | supplier
    is_account: bool = True
    currency: str = "GBP"
    email: str = ""
    discount: Decimal = Decimal("0")  # a trade customer's standing discount, percent


@dataclass(slots=True)
class PlanItem:
    code: str
    description: str
    price: Decimal
    cost: Decimal
    sales_nominal: str
    tax_code: str


@dataclass(slots=True)
class PlanLine:
    item: str | None        # stock code, or None for free text
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_code: str
    nominal: str
    net: Decimal
    tax: Decimal


@dataclass(slots=True)
class PlanDocument:
    kind: str
    number: str
    company: str
    date: dt.date
    due_date: dt.date | None
    currency: str
    reference: str
    lines: list[PlanLine]
    against: int | None = None  # a credit note's invoice (document index); plan-only, not stored

    @property
    def gross(self) -> Decimal:
        return sum((ln.net + ln.tax for ln in self.lines), Decimal(0))


@dataclass(slots=True)
class PlanPayment:
    kind: str               # receipt | supplier_payment | prepayment
    company: str
    bank: str
    amount: Decimal
    date: date
    reference: str
    allocations: list[tuple[int, Decimal]] = field(default_factory=list)  # (document index, amount)


@dataclass(slots=True)
class PlanPrepaymentAllocation:
    payment: int            # index among the plan's payments
    invoice: int            # document index
    amount: Decimal
    date: date


@dataclass(slots=True)
class PlanCreditAllocation:
    credit: int             # document index of the credit note
    invoice: int
    amount: Decimal


Operation = PlanPayment | PlanPrepaymentAllocation | PlanCreditAllocation
Event = tuple[date, int, list[Operation]]   # (when, tie-breaker, what happens then)


@dataclass
class DemoPlan:
    seed: int
    anchor: date
    customers: list[PlanCompany]
    suppliers: list[PlanCompany]
    items: list[PlanItem]
    documents: list[PlanDocument] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)  # after all documents, in this order


def anchor_date(seed: int) -> date:
    return BASE_ANCHOR + timedelta(days=random.Random(f"anchor:{seed}").randrange(0, 184))


def make_plan(documents: int, seed: int, tax_rates: dict[str, Decimal]) -> DemoPlan:
    rng = random.Random(seed)
    anchor = anchor_date(seed)
    taken: set[str] = set()  # company codes are unique across customers and suppliers
    plan = DemoPlan(seed, anchor, _customers(rng, taken), _suppliers(taken), _items(rng))
    _Documents(rng, plan, tax_rates).make(documents)
    _Money(rng, plan).make()
    return plan


# --- master data ----------------------------------------------------------------------------------

def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("&", "and"))


def _code(name: str, taken: set[str]) -> str:
    """Sage-style account codes: the first letters of the name and a number, e.g. THAMES01."""
    stem = re.sub(r"[^A-Z]", "", name.upper())[:6] or "ACC"
    n = 1
    while f"{stem}{n:02d}" in taken:
        n += 1
    taken.add(f"{stem}{n:02d}")
    return f"{stem}{n:02d}"


def _email(box: str, name: str) -> str:
    words = [w for w in re.split(r"\s+", name) if w not in data.COMPANY_SUFFIXES]
    return f"{box}@{_slug(' '.join(words))[:30]}.co.uk"


def _customers(rng: random.Random, taken: set[str]) -> list[PlanCompany]:
    pairs = rng.sample([(p, t) for p in data.PLACES for t in data.TRADES], 28)
    out = []
    for place, trade in pairs:
        suffix = rng.choice(data.COMPANY_SUFFIXES)
        name = f"{place} {trade}" if trade.endswith(data.UNINCORPORATED) else f"{place} {trade} {suffix}".strip()
        discount = rng.choice([Decimal("0")] * 6 + [Decimal("2.5"), Decimal("5"), Decimal("10")])
        out.append(PlanCompany(_code(name, taken), name, "customer", True, "GBP", _email("accounts", name),
                               discount))
    for name, email in data.EUR_CUSTOMERS:
        out.append(PlanCompany(_code(name, taken), name, "customer", True, "EUR", email))
    no_email = set(rng.sample(range(len(data.NON_ACCOUNT_NAMES)), 2))
    for i, name in enumerate(data.NON_ACCOUNT_NAMES):
        email = "" if i in no_email else _email("hello", name)
        out.append(PlanCompany(_code(name, taken), name, "customer", False, "GBP", email))
    return out


def _suppliers(taken: set[str]) -> list[PlanCompany]:
    names = list(data.GOODS_SUPPLIERS) + [o[0] for o in data.OVERHEAD_SUPPLIERS]
    return [PlanCompany(_code(n, taken), n, "supplier", True, "GBP", _email("accounts", n)) for n in names]


def _round_price(value: Decimal) -> Decimal:
    return value.quantize(FOURDP) if value < 1 else money(value)


def _items(rng: random.Random) -> list[PlanItem]:
    out: list[PlanItem] = []
    counters: dict[str, int] = {}
    for prefix, description, variants, cost, nominal, tax in data.CATALOGUE:
        for i, variant in enumerate(variants):
            counters[prefix] = counters.get(prefix, 0) + 1
            code = f"{prefix}{counters[prefix]:03d}"
            if prefix in data.SERVICE_PRICES:
                hourly, annual = (Decimal(p) for p in data.SERVICE_PRICES[prefix])
                base = annual if "annual" in description else hourly
                price, unit_cost = money(base * (1 + Decimal(i) / 4)), Decimal("0")
            else:
                unit_cost = _round_price(Decimal(cost) * rng.randrange(90, 111) / 100)
                price = _round_price(unit_cost * rng.randrange(135, 191) / 100)
            out.append(PlanItem(code, f"{description} - {variant}", price, unit_cost, nominal, tax))
    return out


# --- documents ------------------------------------------------------------------------------------

class _Documents:
    def __init__(self, rng: random.Random, plan: DemoPlan, tax_rates: dict[str, Decimal]) -> None:
        self.rng, self.plan, self.rates = rng, plan, tax_rates
        self.items = {i.code: i for i in plan.items}
        self.goods = [i for i in plan.items if i.cost > 0]
        goods_suppliers = [s for s in plan.suppliers if s.name in data.GOODS_SUPPLIERS]
        # Each goods supplier sells a slice of the catalogue.
        self.ranges = {s.code: self.goods[k::len(goods_suppliers)] for k, s in enumerate(goods_suppliers)}
        self.goods_suppliers = goods_suppliers
        self.overhead_suppliers = [s for s in plan.suppliers if s.name not in data.GOODS_SUPPLIERS]
        self.weights = [3 if c.is_account and c.currency == "GBP" else 1 for c in plan.customers]
        self.counters = {"sales_invoice": 100000, "sales_credit": 0, "purchase_invoice": 0, "purchase_credit": 0}
        self.history: dict[str, list[int]] = {}  # company code -> its invoices' document indexes

    def line(self, item: str | None, description: str, qty: Decimal | int | str, price: Decimal | int | str,
             discount: Decimal | int | str, tax_code: str, nominal: str) -> PlanLine:
        qty, price, discount = Decimal(qty), Decimal(price), Decimal(discount)
        net, tax = line_amounts(qty, price, discount, self.rates[tax_code])
        return PlanLine(item, description, qty, price, discount, tax_code, nominal, net, tax)

    def number(self, kind: str) -> str:
        self.counters[kind] += 1
        prefix = {"sales_invoice": "INV", "sales_credit": "CRN", "purchase_invoice": "PIN",
                  "purchase_credit": "PCN"}[kind]
        return f"{prefix}{self.counters[kind]:06d}"

    def make(self, count: int) -> None:
        rng, start = self.rng, self.plan.anchor - timedelta(days=364)
        days = sorted(rng.randrange(365) for _ in range(count))
        for offset in days:
            when = start + timedelta(days=offset)
            if when.weekday() >= 5:  # orders are invoiced on working days
                when -= timedelta(days=when.weekday() - 4)
            r = rng.random()
            doc = None
            if r < 0.06:
                doc = self.sales_credit(when)
            elif r < 0.09:
                doc = self.purchase_credit(when)
            elif r < 0.20:
                doc = self.purchase_invoice(when)
            doc = doc or self.sales_invoice(when)
            if doc.kind.endswith("invoice"):
                self.history.setdefault(doc.company, []).append(len(self.plan.documents))
            self.plan.documents.append(doc)

    def sales_invoice(self, when: date) -> PlanDocument:
        rng = self.rng
        c = rng.choices(self.plan.customers, self.weights)[0]
        export = c.currency != "GBP"
        lines = []
        for _ in range(rng.choices(range(1, 7), [30, 25, 18, 12, 9, 6])[0]):
            item = rng.choice(self.plan.items)
            if item.cost == 0:
                qty = 1 if "annual" in item.description else rng.randint(1, 8)
            elif item.price < 1:
                qty = rng.choice([100, 250, 500, 1000])
            else:
                qty = rng.randint(1, 24 if item.price < 10 else 6)
            discount = c.discount if item.cost else Decimal(0)
            if not discount and rng.random() < 0.05:
                discount = Decimal(rng.choice(["2.5", "5", "12.5"]))
            price = _round_price(item.price * Decimal("1.16")) if export else item.price
            lines.append(self.line(item.code, item.description, qty, price, discount,
                                   "T0" if export else item.tax_code, "4020" if export else item.sales_nominal))
        if rng.random() < 0.25:
            text, carriage = rng.choice(data.CARRIAGE)
            lines.append(self.line(None, text, 1, carriage, 0, "T0" if export else "T1", "4905"))
        due = when + timedelta(days=30) if c.is_account else when
        ref = f"PO {rng.randrange(1000, 99999)}" if c.is_account else f"Web order {rng.randrange(10000, 99999)}"
        return PlanDocument("sales_invoice", self.number("sales_invoice"), c.code, when, due, c.currency, ref, lines)

    def _earlier_invoice(self, kind: str) -> tuple[int, PlanDocument | None]:
        docs = self.plan.documents
        pool = [code for code, idx in self.history.items() if docs[idx[-1]].kind == kind]
        if not pool:
            return -1, None
        code = self.rng.choice(sorted(pool))
        index = self.rng.choice(self.history[code][-10:])
        return index, docs[index]

    def sales_credit(self, when: date) -> PlanDocument | None:
        at, inv = self._earlier_invoice("sales_invoice")
        if inv is None:
            return None
        src = self.rng.choice(inv.lines)
        if src.item and self.items[src.item].cost and self.rng.random() < 0.7:  # goods come back
            qty = self.rng.randint(1, int(src.quantity))
            line = self.line(src.item, f"Return: {src.description}", qty, src.unit_price, src.discount,
                             src.tax_code, src.nominal)
        else:
            price = max(Decimal("1.00"), money(src.net / 10))
            line = self.line(None, f"Price adjustment on {inv.number}", 1, price, 0, src.tax_code, src.nominal)
        return PlanDocument("sales_credit", self.number("sales_credit"), inv.company, max(when, inv.date),
                            None, inv.currency, inv.number, [line], at)

    def purchase_invoice(self, when: date) -> PlanDocument:
        rng = self.rng
        if rng.random() < 0.12:
            s = rng.choice(self.overhead_suppliers)
            _, text, nominal, tax, listed = next(o for o in data.OVERHEAD_SUPPLIERS if o[0] == s.name)
            amount = money(Decimal(listed) * rng.randrange(90, 111) / 100) if tax == "T1" else Decimal(listed)
            lines = [self.line(None, f"{text} {when:%B %Y}", 1, amount, 0, tax, nominal)]
        else:
            s = rng.choice(self.goods_suppliers)
            lines = []
            for item in rng.sample(self.ranges[s.code], min(len(self.ranges[s.code]), rng.randint(2, 6))):
                qty = rng.choice([1000, 2000, 5000]) if item.cost < 1 else rng.randint(8, 36)
                lines.append(self.line(item.code, item.description, qty, item.cost, 0, item.tax_code, "5000"))
            if rng.random() < 0.2:
                lines.append(self.line(None, "Carriage inwards", 1, rng.choice(["15.00", "22.50", "35.00"]), 0,
                                       "T1", "5020"))
        ref = f"{s.code[:3]}-{rng.randrange(10000, 99999)}"
        return PlanDocument("purchase_invoice", self.number("purchase_invoice"), s.code, when,
                            when + timedelta(days=30), "GBP", ref, lines)

    def purchase_credit(self, when: date) -> PlanDocument | None:
        at, inv = self._earlier_invoice("purchase_invoice")
        if inv is None or not inv.lines[0].item:
            return None
        src = self.rng.choice([ln for ln in inv.lines if ln.item])
        qty = self.rng.randint(1, int(src.quantity))
        line = self.line(src.item, f"Returned: {src.description}", qty, src.unit_price, 0, src.tax_code, src.nominal)
        return PlanDocument("purchase_credit", self.number("purchase_credit"), inv.company, max(when, inv.date),
                            None, "GBP", inv.reference, [line], at)


# --- money: credit allocations, receipts, supplier payments, prepayments ------------------------

class _Money:
    def __init__(self, rng: random.Random, plan: DemoPlan) -> None:
        self.rng, self.plan = rng, plan
        self.outstanding = [d.gross for d in plan.documents]
        self.companies = {c.code: c for c in plan.customers + plan.suppliers}

    def make(self) -> None:
        self.credit_allocations()
        events: list[Event] = []
        by_company: dict[str, list[int]] = {}
        for i, d in enumerate(self.plan.documents):
            if d.kind.endswith("invoice"):
                by_company.setdefault(d.company, []).append(i)
        for code in sorted(by_company):
            company = self.companies[code]
            if company.kind == "customer" and not company.is_account:
                self.prepayments(company, by_company[code], events)
            else:
                self.settlements(company, by_company[code], events)
        events.sort(key=lambda e: (e[0], e[1]))
        payments = 0
        for _, _, ops in events:
            for op in ops:
                if isinstance(op, PlanPayment):
                    payments += 1
                elif isinstance(op, PlanPrepaymentAllocation):
                    op.payment = payments - 1  # the prepayment just before it, in the same event
                self.plan.operations.append(op)

    def credit_allocations(self) -> None:
        for i, d in enumerate(self.plan.documents):
            if d.against is None or self.rng.random() >= 0.8:
                continue
            inv = d.against
            amount = min(self.outstanding[i], self.outstanding[inv])
            if amount > 0:
                self.outstanding[i] -= amount
                self.outstanding[inv] -= amount
                self.plan.operations.append(PlanCreditAllocation(i, inv, amount))

    def settlements(self, company: PlanCompany, invoices: list[int], events: list[Event]) -> None:
        """Account customers and suppliers pay on terms, sometimes several invoices at once."""
        rng, docs, anchor = self.rng, self.plan.documents, self.plan.anchor
        customer = company.kind == "customer"
        slow = 30 if company.currency != "GBP" else 0
        group: list[int] = []
        for pos, i in enumerate(invoices):
            if self.outstanding[i] <= 0:
                continue
            group.append(i)
            pay_on = docs[i].date + timedelta(days=rng.randint(14, 55) + slow)
            if pos + 1 < len(invoices) and rng.random() < 0.3:
                continue  # wait and pay this one with the next on one remittance
            if pay_on > anchor or rng.random() < 0.07:
                group = []  # not paid yet: the aged debt the demo shows
                continue
            allocations = [(j, self.outstanding[j]) for j in group]
            amount = sum((a for _, a in allocations), Decimal(0))
            if customer and allocations[-1][1] >= 1 and rng.random() < 0.05:  # part payment of the last
                j, full = allocations[-1]
                allocations[-1] = (j, money(full / 2))
                amount -= full - allocations[-1][1]
            elif customer and rng.random() < 0.03:  # rounded up: the rest stays on account
                amount = (amount / 10).to_integral_value(rounding=ROUND_CEILING) * 10 + 10
            for j, part in allocations:
                self.outstanding[j] -= part
            kind = "receipt" if customer else "supplier_payment"
            ref = (f"BACS {company.code}" if rng.random() < 0.8 else f"Cheque {rng.randrange(100000, 999999)}") \
                if customer else f"BACS run {pay_on:%d/%m/%Y}"
            events.append((pay_on, len(events), [PlanPayment(kind, company.code, "CUR", amount, pay_on, ref,
                                                             allocations)]))
            group = []

    def prepayments(self, company: PlanCompany, invoices: list[int], events: list[Event]) -> None:
        """Non-account customers pay when they order; the money is then allocated to the invoice."""
        rng, docs, anchor = self.rng, self.plan.documents, self.plan.anchor
        for i in invoices:
            due = self.outstanding[i]
            if due <= 0:
                continue
            paid_on = docs[i].date - timedelta(days=rng.randint(0, 3))
            amount = due
            if rng.random() < 0.05:
                amount = (due / 5).to_integral_value(rounding=ROUND_CEILING) * 5 + 5
            payment = PlanPayment("prepayment", company.code, "CUR", amount, paid_on, f"Card {docs[i].number}")
            ops: list[Operation] = [payment]
            if not (docs[i].date >= anchor - timedelta(days=14) and rng.random() < 0.3):
                ops.append(PlanPrepaymentAllocation(-1, i, due, docs[i].date))
                self.outstanding[i] = Decimal(0)
            events.append((paid_on, len(events), ops))
