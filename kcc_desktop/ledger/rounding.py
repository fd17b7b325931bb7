"""Per-line rounding, as Xero and QuickBooks Online compute invoice totals.

The rule (both packages, "tax calculated per line", exclusive amounts):
  1. line net   = round(quantity × unit price × (1 − discount% / 100), 2), half away from zero;
  2. line tax   = round(line net × tax rate% / 100, 2), half away from zero;
  3. document net, tax and gross are the sums of the rounded line figures; nothing is rounded twice.
Rounding the document tax once from the summed net would differ by pennies on multi-line invoices, and
then the ledger and the package would disagree; so we never do.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
HUNDRED = Decimal("100")


def money(value: Decimal | int | str) -> Decimal:
    """Round to pennies, half away from zero (Xero's and Intuit's rounding)."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount_rate: Decimal = Decimal("0")) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_price) * (HUNDRED - Decimal(discount_rate)) / HUNDRED)


def line_tax(net: Decimal, rate: Decimal) -> Decimal:
    return money(Decimal(net) * Decimal(rate) / HUNDRED)


def line_amounts(quantity: Decimal | int | str, unit_price: Decimal | int | str, discount_rate: Decimal | int | str,
                 tax_rate: Decimal | int | str) -> tuple[Decimal, Decimal]:
    net = line_net(Decimal(quantity), Decimal(unit_price), Decimal(discount_rate))
    return net, line_tax(net, Decimal(tax_rate))
