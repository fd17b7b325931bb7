"""Making QuickBooks Online keep the ledger's VAT and line amounts to the penny.

Outside the US QuickBooks works VAT out per rate: the lines at one rate are added up and taxed once,
rounded once (Intuit, "Manage sales tax for non-US locales"), while the ledger rounds each line's VAT
(README, "The ledger rules"). Sent only the lines, QuickBooks can land a penny away from the ledger
(demo invoice INV100001: 70.06 in the ledger, 70.07 per rate). It recalculates a bare
``TxnTaxDetail.TotalTax`` but keeps a ``TaxLine`` per rate whose ``NetAmountTaxable`` is that rate's net
(python-quickbooks issue #301; quickbooks-ruby issue #547), so each document carries one TaxLine per rate
with the ledger's own sum of that rate's line VAT.

A line's ``Amount`` must equal ``Qty x UnitPrice`` as QuickBooks multiplies and rounds (error 6070); a
discounted unit price (1.755) need not give the ledger's rounded amount (23 x 1.755 is 40.365, which
QuickBooks' floating point makes 40.36, not the ledger's 40.37). So the quantity and price go only where
they multiply to the amount exactly; otherwise a price that does (amount / quantity, at most
``PRICE_DP`` decimals) or, failing that, the amount alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from quickbooks.objects.base import Ref
from quickbooks.objects.tax import TaxLine, TaxLineDetail, TxnTaxDetail

CENT = Decimal("0.01")
PRICE_DP = 5   # QuickBooks shows and keeps unit prices to five decimals


@dataclass(frozen=True)
class TaxRateOf:
    """The rate a QuickBooks tax code charges on one side (sales or purchases)."""

    rate_id: str
    percent: Decimal


# (tax code id, sales?) -> the rate; read once a run from TaxCode and TaxRate.
TaxRates = dict[tuple[str, bool], TaxRateOf]


def qty_and_price(quantity: Decimal, unit_price: Decimal, amount: Decimal) -> tuple[Decimal, Decimal] | None:
    """(Qty, UnitPrice) whose product is exactly ``amount``, or None when only the amount can go."""
    if quantity and quantity * unit_price == amount:
        return quantity, unit_price
    if not quantity:
        return None
    price = amount / quantity
    if price == price.quantize(Decimal(1).scaleb(-PRICE_DP)) and quantity * price == amount:
        return quantity, price.normalize() if price == price.to_integral() else price
    return None


def tax_detail(lines: list[tuple[str, Decimal, Decimal]], sales: bool, rates: TaxRates) -> TxnTaxDetail | None:
    """One TaxLine per rate from (tax code, net, ledger VAT) of each line: the net of its lines and the
    ledger's VAT on them (summed per line)."""
    per_rate: dict[str, list[Decimal]] = {}
    percents: dict[str, Decimal] = {}
    for tax_code, net, tax in lines:
        rate = rates.get((tax_code, sales))
        if rate is None:
            continue
        bucket = per_rate.setdefault(rate.rate_id, [Decimal("0"), Decimal("0")])
        bucket[0] += net
        # The ledger's VAT on the line; where a caller left it out, the ledger's rule: net x rate, per line.
        bucket[1] += tax if tax or not net else (net * rate.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        percents[rate.rate_id] = rate.percent
    if not per_rate:
        return None
    detail = TxnTaxDetail()
    detail.TxnTaxCodeRef = None
    detail.TotalTax = sum((tax for _net, tax in per_rate.values()), Decimal("0"))
    for rate_id, (net, tax) in per_rate.items():
        tax_line = TaxLine()
        tax_line.Amount = tax
        tax_line.DetailType = "TaxLineDetail"
        line_detail = TaxLineDetail()
        ref = Ref()
        ref.value, ref.name, ref.type = rate_id, None, None
        line_detail.TaxRateRef = ref
        line_detail.PercentBased = True
        line_detail.TaxPercent = percents[rate_id]
        line_detail.NetAmountTaxable = net
        tax_line.TaxLineDetail = line_detail
        detail.TaxLine.append(tax_line)
    return detail
