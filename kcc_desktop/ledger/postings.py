"""The double-entry rules, as pure functions over plain values.

Each returns journal legs ``(nominal_id, amount, tags)``: amount > 0 is a debit, < 0 a credit; the legs
of one posting always sum to zero. The ORM services and the bulk demo builder both use these, so the
rules live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .rounding import money

ZERO = Decimal("0")


@dataclass(frozen=True)
class Controls:
    """The control nominals postings need (ids)."""

    debtors: int
    creditors: int
    vat: int
    prepayment: int


@dataclass(frozen=True)
class Tags:
    company_id: int | None = None
    document_id: int | None = None
    bank_account_id: int | None = None


@dataclass(frozen=True)
class Leg:
    nominal_id: int
    amount: Decimal
    tags: Tags = field(default_factory=Tags)


@dataclass(frozen=True)
class PostedLine:
    """What a document line contributes: its nominal, rounded net and tax, and its stock movement."""

    nominal_id: int
    net: Decimal
    tax: Decimal
    stock_nominal_id: int | None = None
    cost_of_sale_nominal_id: int | None = None
    cost_value: Decimal = ZERO  # quantity × unit cost, rounded to pennies


def document_legs(kind: str, company_id: int, document_id: int, lines: list[PostedLine], c: Controls) -> list[Leg]:
    """Sales invoice: Dr debtors gross / Cr sales net / Cr VAT; stock items also Dr cost of sale, Cr stock.
    Purchase invoice: Cr creditors gross / Dr purchases (or stock, for stock items) net / Dr VAT.
    Credit notes reverse their invoice's signs."""
    sales = kind in ("sales_invoice", "sales_credit")
    sign = Decimal(1) if kind in ("sales_invoice", "purchase_credit") else Decimal(-1)
    doc_tags = Tags(company_id=company_id, document_id=document_id)
    legs: list[Leg] = []
    gross = ZERO
    tax = ZERO
    for line in lines:
        gross += line.net + line.tax
        tax += line.tax
        if sales:
            legs.append(Leg(line.nominal_id, -sign * line.net))
            if line.cost_value and line.stock_nominal_id and line.cost_of_sale_nominal_id:
                legs.append(Leg(line.cost_of_sale_nominal_id, sign * line.cost_value))
                legs.append(Leg(line.stock_nominal_id, -sign * line.cost_value))
        else:
            target = line.stock_nominal_id or line.nominal_id
            legs.append(Leg(target, -sign * line.net))
    if tax:
        legs.append(Leg(c.vat, -sign * tax))
    control = c.debtors if sales else c.creditors
    legs.append(Leg(control, sign * gross, doc_tags))
    return [leg for leg in legs if leg.amount]


def payment_legs(
    kind: str, company_id: int, bank_nominal_id: int, bank_account_id: int, amount: Decimal,
    allocations: list[tuple[int, Decimal]], c: Controls,
) -> list[Leg]:
    """Receipt: Dr bank / Cr debtors per invoice paid, the rest on account (untagged by document).
    Supplier payment: Cr bank / Dr creditors likewise. Prepayment: Dr bank / Cr prepayments."""
    bank = Tags(bank_account_id=bank_account_id)
    if kind == "prepayment":
        return [Leg(bank_nominal_id, amount, bank), Leg(c.prepayment, -amount, Tags(company_id=company_id))]
    receipt = kind == "receipt"
    control = c.debtors if receipt else c.creditors
    sign = Decimal(1) if receipt else Decimal(-1)
    legs = [Leg(bank_nominal_id, sign * amount, bank)]
    allocated = ZERO
    for document_id, part in allocations:
        allocated += part
        legs.append(Leg(control, -sign * part, Tags(company_id=company_id, document_id=document_id)))
    rest = amount - allocated
    if rest:
        legs.append(Leg(control, -sign * rest, Tags(company_id=company_id)))
    return legs


def credit_allocation_legs(sales: bool, company_id: int, credit_note_id: int, invoice_id: int,
                           amount: Decimal, c: Controls) -> list[Leg]:
    """Moves a credit note's balance onto the invoice: both legs on the control account."""
    control = c.debtors if sales else c.creditors
    sign = Decimal(1) if sales else Decimal(-1)
    return [
        Leg(control, sign * amount, Tags(company_id=company_id, document_id=credit_note_id)),
        Leg(control, -sign * amount, Tags(company_id=company_id, document_id=invoice_id)),
    ]


def prepayment_allocation_legs(company_id: int, invoice_id: int, amount: Decimal, c: Controls) -> list[Leg]:
    """Applies money paid up front to an invoice: Dr prepayments / Cr debtors for that invoice."""
    return [
        Leg(c.prepayment, amount, Tags(company_id=company_id)),
        Leg(c.debtors, -amount, Tags(company_id=company_id, document_id=invoice_id)),
    ]


def cost_value(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_cost))


def assert_balanced(legs: list[Leg]) -> None:
    total = sum((leg.amount for leg in legs), ZERO)
    if total != 0:
        raise AssertionError(f"unbalanced posting: legs sum to {total}")
