"""The rules behind Apply Default Setup and the account pickers: which package types fit which nominal
kind, and how a ledger record is matched to a package account (by code, then by name and type).

Plain functions over plain values, so each rule can be read and tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from ..models import NominalKind

# Which package account types fit which nominal kind. None: any type. Missing kind: nothing fits.
_XERO_INCOME = frozenset({"REVENUE", "SALES", "OTHERINCOME"})
_XERO_COSTS = frozenset({"DIRECTCOSTS", "EXPENSE", "OVERHEADS"})
_XERO_LIAB = frozenset({"CURRLIAB", "LIABILITY"})
_QBO_INCOME = frozenset({"Income", "Other Income"})
_QBO_COSTS = frozenset({"Cost of Goods Sold", "Expense", "Other Expense"})
_QBO_LIAB = frozenset({"Other Current Liability", "Other Current Liabilities"})
FITTING_TYPES: dict[str, dict[str, frozenset[str] | None]] = {
    "xero": {
        NominalKind.SALES: _XERO_INCOME, NominalKind.DELIVERY: _XERO_INCOME,
        NominalKind.PURCHASE: _XERO_COSTS, NominalKind.BANK: frozenset({"BANK"}),
        NominalKind.PREPAYMENT: _XERO_LIAB, NominalKind.TAX: _XERO_LIAB,
        NominalKind.DEBTORS: frozenset({"CURRENT"}), NominalKind.CREDITORS: frozenset({"CURRLIAB"}),
        NominalKind.OTHER: _XERO_INCOME | _XERO_COSTS,
    },
    "quickbooks": {
        NominalKind.SALES: _QBO_INCOME, NominalKind.DELIVERY: _QBO_INCOME,
        NominalKind.PURCHASE: _QBO_COSTS, NominalKind.BANK: frozenset({"Bank"}),
        NominalKind.PREPAYMENT: _QBO_LIAB, NominalKind.TAX: _QBO_LIAB,
        NominalKind.DEBTORS: frozenset({"Accounts Receivable"}),
        NominalKind.CREDITORS: frozenset({"Accounts Payable"}),
        NominalKind.OTHER: _QBO_INCOME | _QBO_COSTS,
    },
}
# Control accounts the package keeps itself: no document line is ever coded to them, so leaving them
# unmapped is not a problem.
NOT_NEEDED_KINDS = frozenset({NominalKind.DEBTORS, NominalKind.CREDITORS, NominalKind.TAX})

# Kinds where the single account of a fitting type may be suggested when nothing matches by code or name.
ONLY_ONE_IS_ENOUGH = frozenset({NominalKind.BANK, NominalKind.SALES, NominalKind.PURCHASE, NominalKind.DELIVERY})

# Words in a tax rate's name that say which side it is for (Xero: "20% (VAT on Income)").
_SALES_WORDS = {"income", "sales", "output", "revenue"}
_PURCHASE_WORDS = {"expenses", "expense", "purchases", "purchase", "input"}
# Words too general to say two accounts are the same ("Office Costs" is not "Cost of Goods Sold").
_STOP_WORDS = {"and", "of", "the", "on", "a", "account", "accounts", "vat", "control", "rate", "rated", "cost",
               "costs", "expense", "expenses", "income", "other", "general", "miscellaneous", "business"}


_STOP_STEMS = _STOP_WORDS | {w.rstrip("s") for w in _STOP_WORDS}


def words(text: str) -> set[str]:
    """The telling words of a name, plurals folded ("Purchases" and "Purchase" match)."""
    found = set()
    for w in re.findall(r"\d+(?:\.\d+)?|[a-z]+", text.lower()):
        if w[0].isdigit():
            w = f"{Decimal(w).normalize():f}"   # "20.0%" and "20%" are the same rate
        elif w == "zero":
            w = "0"                              # "Zero rated" is "0.0% Z"
        found.add(w.rstrip("s") if len(w) > 3 else w)
    return found - _STOP_STEMS


def tax_side(name: str) -> str:
    """Which documents a package tax rate is for, from its name: "sales", "purchases" or "both"."""
    found = set(re.findall(r"[a-z]+", name.lower()))
    if found & _SALES_WORDS:
        return "sales"
    if found & _PURCHASE_WORDS:
        return "purchases"
    return "both"



class AccountLike(Protocol):
    """A package account as the suggestions read it (a fetched account, or a choice offered for one)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def rate(self) -> Decimal | None: ...


def fmt_rate(rate: Decimal | None) -> str:
    return "" if rate is None else f"{Decimal(rate).normalize():f}%"


def best_by_words(name: str, options: Sequence[AccountLike]) -> tuple[AccountLike, set[str]] | None:
    """The option whose name shares most words with ``name`` (then the plainest name); None if none shares any."""
    mine = words(name)
    best: tuple[AccountLike, set[str]] | None = None
    best_key: tuple[int, int] | None = None
    for c in options:
        shared = mine & words(c.name)
        if not shared:
            continue
        # Most words shared, then fewest extra words (the plainer name); ties keep the package's order.
        key = (len(shared), -len(words(c.name) - mine))
        if best_key is None or key > best_key:
            best, best_key = (c, shared), key
    return best


def suggest_account(pkg: str, is_bank: bool, code: str, name: str, kind: str,
                    options: Sequence[AccountLike]) -> tuple[str, str]:
    """(remote code or "", why) for a nominal or bank account, from the active options that fit it."""
    what = "bank account" if is_bank else f"account that fits {kind}"
    if not options:
        return "", f"{pkg} has no active {what} (use Get Nominal & Tax Accounts first)."
    for c in options:
        if c.code == code:
            return c.code, f"Same code {code} in {pkg} ({c.name}{', ' + c.type + ' fits ' + kind if c.type else ''})."
    for c in options:
        if c.name.strip().lower() == name.strip().lower():
            return c.code, f"Same name \u201c{c.name}\u201d in {pkg}, and {c.type or 'its type'} fits {kind}."
    best = best_by_words(name, options)
    if best is not None:
        c, shared = best
        return c.code, (f"Name shares \u201c{', '.join(sorted(shared))}\u201d with {pkg} account "
                        f"{c.code} {c.name}, and {c.type or 'its type'} fits {kind}.")
    # Only where one account of a fitting type is an obvious home: never for prepayments or control
    # accounts, where "the only liability" is usually the VAT account.
    if len(options) == 1 and (is_bank or kind in ONLY_ONE_IS_ENOUGH):
        c = options[0]
        if is_bank:
            return c.code, f"The only {pkg} bank account: {c.code} {c.name}."
        return c.code, f"The only {pkg} account that fits {kind}: {c.code} {c.name} ({c.type})."
    return "", (f"No {pkg} account has the same code or a similar name among {len(options)} that fit {kind}; "
                "map it by hand.")


# A package account that takes money not yet banked (QuickBooks' Undeposited Funds, where it files a receipt
# when no bank is chosen): offered among the bank accounts, proposed for a ledger bank only by code, name or a
# telling word, and never as "the only bank account".
CLEARING = "clearing"
_CLEARING_WORDS = frozenset({"undeposited", "clearing"})


def suggest_bank(pkg: str, code: str, name: str, options: Sequence[AccountLike]) -> tuple[str, str]:
    """(remote code or "", why) for a ledger bank account: a clearing account only where it is named so."""
    for c in options:
        if c.type != CLEARING:
            continue
        if c.code == code or c.name.strip().lower() == name.strip().lower() or words(name) & _CLEARING_WORDS:
            return c.code, (f"{pkg} files receipts not yet banked in {c.name}, and {name} is the ledger's "
                            "account for them.")
    return suggest_account(pkg, True, code, name, "bank", [c for c in options if c.type != CLEARING])


def suggest_tax(pkg: str, sales: bool, code: str, name: str, rate: Decimal | None,
                options: Sequence[AccountLike]) -> tuple[str, str]:
    """(remote code or "", why) for one side of a ledger tax code: same code, else same rate and closest name."""
    side = "sales" if sales else "purchases"
    rate_text = fmt_rate(rate)
    if not options:
        return "", f"{pkg} has no active tax rate for {side} (use Get Nominal & Tax Accounts first)."
    for c in options:
        if c.code == code:
            return c.code, f"Same code {code} in {pkg} ({c.name})."
    same_rate = [c for c in options if c.rate is not None and rate is not None and c.rate == rate]
    if not same_rate:
        return "", f"No {pkg} tax rate for {side} at {rate_text}; map it by hand."
    best = best_by_words(name, same_rate)
    if best is not None:
        c, shared = best
        return c.code, (f"Same rate {rate_text} for {side}, and the name shares "
                        f"\u201c{', '.join(sorted(shared))}\u201d with {c.name}.")
    c = min(same_rate, key=lambda c: len(words(c.name)))
    extra = f" (the simplest of {len(same_rate)} at that rate; check it)" if len(same_rate) > 1 else ""
    return c.code, f"Same rate {rate_text} for {side}: {c.name}{extra}."
