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

# Never across classes: an expense never goes to revenue, a customer prepayment never to payables or tax.
# A ledger nominal's class comes from its kind; an "other" nominal's from its code, by the UK chart's ranges
# (0-1999 assets, 2000-2999 liabilities, 3000-3999 capital, 4000-4999 income, 5000-8999 costs). A code
# outside them has no class: Apply Default Setup leaves it for the user.
INCOME, EXPENSE, ASSET, LIABILITY, EQUITY = "income", "expense", "asset", "liability", "equity"
BANK_CLASS, TAX_CLASS, PREPAYMENT_CLASS = "bank", "tax", "prepayment"
DEBTORS_CLASS, CREDITORS_CLASS = "debtors", "creditors"
_KIND_CLASS = {
    NominalKind.SALES: INCOME, NominalKind.DELIVERY: INCOME, NominalKind.PURCHASE: EXPENSE,
    NominalKind.BANK: BANK_CLASS, NominalKind.TAX: TAX_CLASS, NominalKind.PREPAYMENT: PREPAYMENT_CLASS,
    NominalKind.DEBTORS: DEBTORS_CLASS, NominalKind.CREDITORS: CREDITORS_CLASS,
}
_CODE_RANGES = ((0, 1999, ASSET), (2000, 2999, LIABILITY), (3000, 3999, EQUITY), (4000, 4999, INCOME),
                (5000, 8999, EXPENSE))
CLASS_WORDS = {INCOME: "an income account", EXPENSE: "an expense account", ASSET: "an asset account",
               LIABILITY: "a liability account", EQUITY: "a capital account", BANK_CLASS: "a bank account",
               TAX_CLASS: "a VAT account", PREPAYMENT_CLASS: "a customer prepayments (deposits) account",
               DEBTORS_CLASS: "the debtors account", CREDITORS_CLASS: "the creditors account"}


def nominal_class(kind: str, code: str) -> str | None:
    """What a ledger nominal is, for matching: income, expense, asset, liability, ...; None when unknown."""
    if kind in _KIND_CLASS:
        return _KIND_CLASS[NominalKind(kind)]
    if kind != NominalKind.OTHER or not code.isdigit():
        return None
    number = int(code)
    return next((cls for low, high, cls in _CODE_RANGES if low <= number <= high), None)


_XERO_INCOME = frozenset({"REVENUE", "SALES", "OTHERINCOME"})
_XERO_COSTS = frozenset({"DIRECTCOSTS", "EXPENSE", "OVERHEADS"})
_XERO_LIAB = frozenset({"CURRLIAB", "LIABILITY"})
_QBO_INCOME = frozenset({"Income", "Other Income"})
_QBO_COSTS = frozenset({"Cost of Goods Sold", "Expense", "Other Expense"})
_QBO_LIAB = frozenset({"Other Current Liability", "Other Current Liabilities"})
_PROFIT_AND_LOSS = _XERO_INCOME | _XERO_COSTS | _QBO_INCOME | _QBO_COSTS
# Which package account types fit which class. Missing class: nothing fits.
FITTING_TYPES: dict[str, dict[str, frozenset[str]]] = {
    "xero": {
        INCOME: _XERO_INCOME, EXPENSE: _XERO_COSTS | {"DEPRECIATN"}, BANK_CLASS: frozenset({"BANK"}),
        ASSET: frozenset({"CURRENT", "FIXED", "NONCURRENT", "INVENTORY", "PREPAYMENT"}),
        LIABILITY: _XERO_LIAB | {"TERMLIAB"}, EQUITY: frozenset({"EQUITY"}),
        PREPAYMENT_CLASS: _XERO_LIAB, TAX_CLASS: _XERO_LIAB,
        DEBTORS_CLASS: frozenset({"CURRENT"}), CREDITORS_CLASS: frozenset({"CURRLIAB"}),
    },
    "quickbooks": {
        INCOME: _QBO_INCOME, EXPENSE: _QBO_COSTS, BANK_CLASS: frozenset({"Bank"}),
        ASSET: frozenset({"Other Current Asset", "Fixed Asset", "Other Asset"}),
        LIABILITY: _QBO_LIAB | {"Long Term Liability"}, EQUITY: frozenset({"Equity"}),
        PREPAYMENT_CLASS: _QBO_LIAB, TAX_CLASS: _QBO_LIAB,
        DEBTORS_CLASS: frozenset({"Accounts Receivable"}),
        CREDITORS_CLASS: frozenset({"Accounts Payable"}),
    },
}
# Liabilities share a type, so their names tell them apart: payables and tax are never a prepayment's
# home, and the VAT nominal goes only to a tax account ("VAT", "VAT Control"; "PAYE Payable" is not VAT).
_PAYABLE_WORDS = {"payable", "payables", "creditors", "creditor", "claims"}
_TAX_WORDS = {"vat", "gst", "tax"}
_PREPAYMENT_WORDS = {"prepayment", "prepayments", "deposit", "deposits", "advance", "unearned", "deferred"}
_SYSTEM_WORDS = {"rounding", "historical", "tracking", "suspense", "transfers", "paye", "payroll", "wages"}


def account_fits(provider: str, kind: str, code: str, account_type: str, account_name: str) -> bool:
    """Whether a package account (its type and name) may hold a ledger nominal of this kind and code."""
    cls = nominal_class(kind, code)
    if cls is None:   # no class known: the picker offers profit-and-loss accounts; nothing is suggested
        return account_type in _PROFIT_AND_LOSS
    if account_type not in FITTING_TYPES.get(provider, {}).get(cls, frozenset()):
        return False
    named = set(re.findall(r"[a-z]+", account_name.lower()))
    if cls == PREPAYMENT_CLASS:
        return bool(named & _PREPAYMENT_WORDS) and not named & (_PAYABLE_WORDS | _TAX_WORDS)
    if cls == TAX_CLASS:
        return bool(named & _TAX_WORDS) and not named & _SYSTEM_WORDS
    if cls == LIABILITY:
        return not named & (_PAYABLE_WORDS | _TAX_WORDS | _SYSTEM_WORDS | _PREPAYMENT_WORDS)
    return True


# Control accounts the package keeps itself: no document line is ever coded to them, so leaving them
# unmapped is not a problem. Nor is a customer prepayment ever coded on a document: an allocation goes to
# the package as a payment into the mapped bank account.
NOT_NEEDED_KINDS = frozenset({NominalKind.DEBTORS, NominalKind.CREDITORS, NominalKind.TAX, NominalKind.PREPAYMENT})

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
    """(remote code or "", why) for a nominal or bank account, from the active options that fit it (the
    caller offers only accounts of the nominal's own class: never an expense to revenue, say). The reason
    says which rule made the match, in those words."""
    cls = BANK_CLASS if is_bank else nominal_class(kind, code)
    if cls is None:
        return "", (f"{code} {name} is an \u201cother\u201d nominal and its code does not say whether it is income, "
                    "a cost, an asset or a liability, so nothing is guessed; map it by hand.")
    what = CLASS_WORDS[cls]
    if not options:
        return "", (f"{pkg} has no active account that can hold it ({what}); create one in {pkg}, then Get "
                    "Nominal & Tax Accounts and map it by hand." if cls != BANK_CLASS else
                    f"{pkg} has no active bank account (use Get Nominal & Tax Accounts first).")
    for c in options:
        if c.code == code:
            fits = f", {c.type} fits {kind}" if c.type else ""
            return c.code, f"Same code {code} in {pkg} ({c.name}{fits}: {what})."
    for c in options:
        if c.name.strip().lower() == name.strip().lower():
            return c.code, f"Same name \u201c{c.name}\u201d in {pkg}, and {c.type or 'its type'} fits {kind} ({what})."
    best = best_by_words(name, options)
    if best is not None:
        c, shared = best
        return c.code, (f"Name shares \u201c{', '.join(sorted(shared))}\u201d with {pkg} account "
                        f"{c.code} {c.name}, and {c.type or 'its type'} fits {kind} ({what}).")
    # Only where one account of a fitting type is an obvious home: never for prepayments or control
    # accounts, where "the only liability" is usually the VAT account.
    if len(options) == 1 and (is_bank or kind in ONLY_ONE_IS_ENOUGH):
        c = options[0]
        if is_bank:
            return c.code, f"The only {pkg} bank account: {c.code} {c.name}."
        return c.code, f"The only {pkg} account that fits {kind}: {c.code} {c.name} ({c.type}, {what})."
    return "", (f"No {pkg} account has the same code or a similar name among the {len(options)} that can hold "
                f"it ({what}); map it by hand.")


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
