"""Discounted lines in a form Xero accepts, with the ledger's totals to the penny.

Xero supports ``DiscountRate`` only on ACCREC invoices ("ACCPAY invoices and credit notes in Xero do not
support discounts": spec, LineItem.DiscountRate); elsewhere it ignores it and the totals drift. There, and
on a sales invoice whose discount has more than two decimals, the line goes as its discounted net: the
same quantity at a unit amount of at most four decimals (``unitdp=4``) whose product Xero rounds to the
ledger's net; where no such unit amount exists (large quantities), one of quantity 1 at the net, the
quantity and price named in the description. Xero then taxes the same net the ledger taxed.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from ..base import DocKind, DocumentIn, LineIn

CENT = Decimal("0.01")
UNIT4 = Decimal("0.0001")
_TRIES = 3   # unit amounts either side of net / quantity worth trying


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _net(line: LineIn) -> Decimal:
    """The ledger's net for the line (sent with it; computed the ledger's way if not)."""
    if line.line_amount:
        return Decimal(line.line_amount)
    return _money(Decimal(line.quantity) * Decimal(line.unit_amount) * (1 - Decimal(line.discount_rate) / 100))


def _label(line: LineIn, with_quantity: bool) -> str:
    rate = f"{Decimal(line.discount_rate).normalize():f}"
    what = f"{Decimal(line.quantity).normalize():f} × {Decimal(line.unit_amount):.2f} " if with_quantity else ""
    return f"{line.description} ({what}less {rate}% discount)"


def as_net(line: LineIn) -> LineIn:
    """The line with its discount folded into the unit amount (or into one unit)."""
    net = _net(line)
    qty = Decimal(line.quantity).quantize(UNIT4)
    if qty:
        first = (net / qty).quantize(UNIT4, rounding=ROUND_HALF_UP)
        for step in sorted(range(-_TRIES, _TRIES + 1), key=abs):
            unit = first + step * UNIT4
            if _money(qty * unit) == net:
                return replace(line, unit_amount=unit, discount_rate=Decimal(0), description=_label(line, False),
                               line_amount=net)
    return replace(line, quantity=Decimal(1), unit_amount=net, discount_rate=Decimal(0),
                   description=_label(line, True), line_amount=net)


def discount_supported(kind: DocKind, rate: Decimal) -> bool:
    """Whether Xero applies this DiscountRate itself, exactly as the ledger did."""
    return kind == DocKind.SALES_INVOICE and Decimal(rate) == _money(Decimal(rate))


def lines_for_xero(d: DocumentIn) -> list[LineIn]:
    return [line if not line.discount_rate or discount_supported(d.kind, line.discount_rate) else as_net(line)
            for line in d.lines]
