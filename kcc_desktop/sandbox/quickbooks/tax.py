"""VAT on a QuickBooks Online document outside the US: worked out per rate, not per line.

Sources: Intuit, "Manage sales tax for non-US locales" (each line's TaxCodeRef names the rates; QuickBooks
calculates the tax and reports it in ``TxnTaxDetail``, one ``TaxLine`` per rate whose ``NetAmountTaxable`` is
the sum of the lines at that rate) and the Invoice reference (``TxnTaxDetail.TotalTax``: "total tax calculated
for the transaction"). Tax is rounded once per rate, half up, so several lines at one rate can come to a
penny more or less than the same lines taxed and rounded one by one.

What QuickBooks does with tax the request itself sends (our assumptions, and why):
- ``TotalTax`` alone is not honoured: it is recalculated from the lines (python-quickbooks issue #301,
  "Cannot change total tax amount: it always only calculates it based on tax percent").
- A ``TaxLine`` is honoured as an override of that rate's tax (quickbooks-ruby issue #547: a TaxLine sent
  with Amount 448.40 was kept although the rate gives 448.39), but only when it names a rate the lines use
  and its ``NetAmountTaxable`` is what the lines at that rate add up to; a TaxLine for a rate no line uses,
  or for another net, cannot stand for that rate and is recalculated. The sandbox keeps an override within
  one penny per line at that rate of the calculated tax (the most per-line rounding can move it), and
  refuses a larger one: QuickBooks' own VAT screen would flag it, and nothing KCC sends should need it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import errors

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class RateBucket:
    """The lines of one document at one tax rate."""

    percent: Decimal
    net: Decimal = ZERO
    lines: int = 0
    inclusive_tax: Decimal = ZERO   # TaxInclusive documents: the tax already taken out of each line

    def calculated(self, inclusive: bool) -> Decimal:
        return self.inclusive_tax if inclusive else money(self.net * self.percent / 100)


@dataclass
class TaxWork:
    """Tax rate id -> bucket, in the order the lines first use each rate."""

    buckets: dict[str, RateBucket] = field(default_factory=dict)

    def add(self, rate_id: str, percent: Decimal, net: Decimal, inclusive_tax: Decimal = ZERO) -> None:
        bucket = self.buckets.setdefault(rate_id, RateBucket(percent))
        bucket.net += net
        bucket.lines += 1
        bucket.inclusive_tax += inclusive_tax


def _sent_overrides(sent: Any, to_decimal: Callable[[Any, str], Decimal]) -> dict[str, tuple[Decimal, Decimal | None]]:
    """Rate id -> (Amount, NetAmountTaxable) of each TaxLine the request carries."""
    out: dict[str, tuple[Decimal, Decimal | None]] = {}
    if not isinstance(sent, dict):
        return out
    for line in sent.get("TaxLine") or []:
        detail = line.get("TaxLineDetail") if isinstance(line, dict) else None
        if not isinstance(detail, dict):
            continue
        rate = detail.get("TaxRateRef")
        rate_id = str(rate.get("value")) if isinstance(rate, dict) else str(rate or "")
        if not rate_id or line.get("Amount") in (None, ""):
            continue
        net = detail.get("NetAmountTaxable")
        out[rate_id] = (money(to_decimal(line["Amount"], "TxnTaxDetail.TaxLine.Amount")),
                        None if net in (None, "") else to_decimal(net, "TaxLineDetail.NetAmountTaxable"))
    return out


def tax_detail(work: TaxWork, sent: Any, inclusive: bool,
               to_decimal: Callable[[Any, str], Decimal]) -> tuple[dict[str, Any], Decimal]:
    """The stored ``TxnTaxDetail`` and its TotalTax, from the lines' rates and the TaxLines sent."""
    overrides = _sent_overrides(sent, to_decimal)
    tax_lines = []
    total = ZERO
    for rate_id, bucket in work.buckets.items():
        amount = bucket.calculated(inclusive)
        override = overrides.get(rate_id)
        if override is not None and not inclusive and override[1] is not None and money(override[1]) == bucket.net:
            if abs(override[0] - amount) > CENT * bucket.lines:
                raise errors.business(
                    f"The VAT amount {override[0]} for rate {rate_id} is too far from {amount}, the VAT on "
                    f"{bucket.net} at {bucket.percent.normalize():f}%", "TxnTaxDetail.TaxLine")
            amount = override[0]
        total += amount
        tax_lines.append({"Amount": amount, "DetailType": "TaxLineDetail",
                          "TaxLineDetail": {"TaxRateRef": {"value": rate_id}, "PercentBased": True,
                                            "TaxPercent": bucket.percent, "NetAmountTaxable": bucket.net}})
    return {"TotalTax": total, "TaxLine": tax_lines}, total
