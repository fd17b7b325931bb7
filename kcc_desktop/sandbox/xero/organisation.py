"""What an organisation's own settings refuse: lock dates, currencies it has not added, tax rates an
account may not use, and the invoices and bills its plan lets it approve each month.

Set through ``POST /_sandbox/organisation`` (``set_organisation``), as a bookkeeper sets them in Xero's
settings screens, which the API cannot change:
``{"PeriodLockDate": "2026-03-31", "EndOfYearLockDate": "2025-12-31", "BaseCurrency": "GBP",
"Currencies": ["EUR", "USD"], "Rates": {"EUR": "1.1650"}, "Plan": "STARTER"}`` (``null`` clears a date).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..json_types import JSONObject, Record
from .books import XeroBooks
from .serial import parse_date, to_decimal

CURRENCY_NAMES = {
    "GBP": "British Pound", "EUR": "Euro", "USD": "United States Dollar", "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar", "CAD": "Canadian Dollar", "CHF": "Swiss Franc", "SEK": "Swedish Krona",
    "NOK": "Norwegian Krone", "DKK": "Danish Krone", "PLN": "Polish Zloty", "JPY": "Japanese Yen",
    "ZAR": "South African Rand", "SGD": "Singapore Dollar", "HKD": "Hong Kong Dollar",
}
# The sandbox's stand-in for the XE.com day rate Xero uses when a document gives no CurrencyRate
# (spec, Invoice.CurrencyRate): units of each currency per one pound; cross rates are derived.
DAILY_RATES = {"GBP": Decimal("1"), "EUR": Decimal("1.1650"), "USD": Decimal("1.2710"), "AUD": Decimal("1.9420"),
               "NZD": Decimal("2.1380"), "CAD": Decimal("1.7350"), "CHF": Decimal("1.1240"),
               "SEK": Decimal("13.6200"), "NOK": Decimal("13.5900"), "DKK": Decimal("8.6900"),
               "PLN": Decimal("5.0100"), "JPY": Decimal("191.3000"), "ZAR": Decimal("23.4100"),
               "SGD": Decimal("1.7060"), "HKD": Decimal("9.9200")}

# Invoices (ACCREC) and bills (ACCPAY) a plan approves per calendar month of the document's date; the
# Organisation's ``Class`` names the plan (spec, Organisation.Class). Sources: Auxo Workshop's Xero
# troubleshooting page (Starter / Early / Ignite: 20 invoices and 5 bills a month, counted by invoice
# date, refused with "You have reached the limit of invoices you can approve."); Link My Books' "Transaction
# limit error in Xero" (Ignite UK: 20 invoices and 10 bills; Simple: 10 invoices; bills on Simple not
# stated, so not capped here). The bills wording is not confirmed: it follows the invoices one.
PLAN_CAPS: dict[str, dict[str, int]] = {
    "STARTER": {"ACCREC": 20, "ACCPAY": 5},
    "IGNITE": {"ACCREC": 20, "ACCPAY": 10},
    "SIMPLE": {"ACCREC": 10},
}
# Organisation.Class, the plan (spec, Organisation.Class enum): the SDK refuses any other value.
PLAN_CLASSES = ("DEMO", "TRIAL", "STARTER", "STANDARD", "PREMIUM", "PREMIUM_20", "PREMIUM_50", "PREMIUM_100",
                "LEDGER", "GST_CASHBOOK", "NON_GST_CASHBOOK", "ULTIMATE", "LITE", "ULTIMATE_10", "ULTIMATE_20",
                "ULTIMATE_50", "ULTIMATE_100", "IGNITE", "GROW", "COMPREHENSIVE", "SIMPLE", "BASICLITE", "ULTRA")
LIMIT_REACHED = {"ACCREC": "You have reached the limit of invoices you can approve.",
                 "ACCPAY": "You have reached the limit of bills you can approve."}

# Account Class -> the TaxRate flag that lets a tax rate be used on it (spec, TaxRate.CanApplyTo*).
CAN_APPLY = {"ASSET": "CanApplyToAssets", "EQUITY": "CanApplyToEquity", "EXPENSE": "CanApplyToExpenses",
             "LIABILITY": "CanApplyToLiabilities", "REVENUE": "CanApplyToRevenue"}


def currency_record(code: str) -> Record:
    return {"Code": code, "Description": CURRENCY_NAMES.get(code, code)}


def base_currency(books: XeroBooks) -> str:
    return str(books["organisation"].get("BaseCurrency") or "GBP")


# --- lock dates ------------------------------------------------------------------------------------

def lock_error(books: XeroBooks, when: date | None, what: str = "document") -> str | None:
    """Xero refuses what is dated on or before a lock date (Settings → Advanced → Lock dates: "stop
    changes on and before"). Wording from xeroizer issue #92 ("The document date cannot be before the end
    of year lock date, currently set at 31-Jul-2013"); the period lock date's follows it. For payments
    the same sentence names the payment date (not confirmed)."""
    if when is None:
        return None
    org = books["organisation"]
    for key, label in (("EndOfYearLockDate", "end of year lock date"), ("PeriodLockDate", "period lock date")):
        lock = org.get(key)
        if isinstance(lock, date) and when <= lock:
            return f"The {what} date cannot be before the {label}, currently set at {lock:%d-%b-%Y}"
    return None


# --- currencies ------------------------------------------------------------------------------------

def day_rate(books: XeroBooks, code: str) -> Decimal:
    """Units of ``code`` per one of the base currency."""
    base = base_currency(books)
    if code == base:
        return Decimal("1")
    rates = books["rates"]
    own = rates.get(code) or DAILY_RATES.get(code) or Decimal("1")
    per_base = rates.get(base) or DAILY_RATES.get(base) or Decimal("1")
    return (own / per_base).quantize(Decimal("0.000001"))


def currency_of(books: XeroBooks, el: JSONObject, existing: Record | None,
                errors: list[str]) -> tuple[str, Decimal]:
    """A document's CurrencyCode (the base currency if none is sent, as Xero does) and CurrencyRate (the
    one sent, else the day rate). A currency the organisation has not added is refused (the wording is
    the sandbox's own: Xero's is not confirmed)."""
    code = str(el.get("CurrencyCode") or (existing or {}).get("CurrencyCode") or base_currency(books)).upper()
    if code not in books["currencies"]:
        errors.append(f"The currency '{code}' has not been added to this organisation. Add it in Settings → "
                      "Currencies first.")
        return code, Decimal("1")
    if code == base_currency(books):
        return code, Decimal("1")
    try:
        given = to_decimal(el.get("CurrencyRate"))
    except ValueError as exc:
        errors.append(str(exc))
        given = None
    if given is not None and given <= 0:
        errors.append("The currency rate must be greater than zero.")
        given = None
    if given is None and existing is not None and existing.get("CurrencyCode") == code:
        given = existing.get("CurrencyRate")
    return code, given or day_rate(books, code)


# --- tax rates on accounts -------------------------------------------------------------------------

def tax_on_account_error(books: XeroBooks, tax_type: str, account: Record) -> str | None:
    """Xero refuses a tax rate the account's class may not use (a sales rate on an expense account, a
    purchase rate on a revenue one). Wording as WorkGuru's list of Xero API messages quotes it."""
    rate = books["tax_rates"].get(tax_type)
    flag = CAN_APPLY.get(str(account.get("Class") or ""))
    if rate is None or flag is None or rate.get(flag, True):
        return None
    return f"The TaxType code '{tax_type}' cannot be used with account code '{account['Code']}'."


# --- plan limits -----------------------------------------------------------------------------------

def _month_key(typ: str, when: date) -> str:
    return f"{typ} {when:%Y-%m}"


def approval_error(books: XeroBooks, typ: str, when: date) -> str | None:
    cap = PLAN_CAPS.get(str(books["organisation"].get("Class") or ""), {}).get(typ)
    if cap is not None and books["approved"].get(_month_key(typ, when), 0) >= cap:
        return LIMIT_REACHED[typ]
    return None


def note_approval(books: XeroBooks, typ: str, when: date) -> None:
    """An invoice or bill was approved: it counts against its month for good (voiding gives nothing back)."""
    if typ in LIMIT_REACHED:
        key = _month_key(typ, when)
        books["approved"][key] = books["approved"].get(key, 0) + 1


# --- the settings screens --------------------------------------------------------------------------

def set_organisation(books: XeroBooks, body: JSONObject) -> list[str]:
    """Applies ``POST /_sandbox/organisation``; returns what was wrong with the body (nothing changed then)."""
    errors: list[str] = []
    org = dict(books["organisation"])
    for key in ("PeriodLockDate", "EndOfYearLockDate"):
        if key in body:
            try:
                org[key] = parse_date(body[key])
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
    base = str(body.get("BaseCurrency") or org.get("BaseCurrency") or "GBP").upper()
    codes = [str(c).upper() for c in body.get("Currencies", list(books["currencies"]))]
    rates: dict[str, Any] = dict(body.get("Rates") or {})
    errors += [f"{code!r} is not a currency code" for code in [base, *codes, *rates]
               if len(code) != 3 or not code.isalpha()]
    parsed: dict[str, Decimal] = {}
    for code, value in rates.items():
        try:
            rate = to_decimal(value)
        except ValueError as exc:
            errors.append(f"Rates[{code}]: {exc}")
            continue
        if rate is None or rate <= 0:
            errors.append(f"Rates[{code}] must be greater than zero")
        else:
            parsed[str(code).upper()] = rate
    if "Plan" in body:
        plan = str(body["Plan"] or "STANDARD").upper()
        if plan in PLAN_CLASSES:
            org["Class"] = plan
        else:
            errors.append(f"Plan: {plan!r} is not one of Xero's plans ({', '.join(PLAN_CLASSES)})")
    if errors:
        return errors
    org["BaseCurrency"] = base
    books["organisation"] = org
    books["currencies"] = {code: currency_record(code) for code in dict.fromkeys([base, *codes])}
    books["rates"].update(parsed)
    return []


def organisation_view(books: XeroBooks) -> JSONObject:
    """What the control endpoint answers: the settings as the sandbox now holds them."""
    org = books["organisation"]
    locks = {k: (org[k].isoformat() if isinstance(org.get(k), date) else None)
             for k in ("PeriodLockDate", "EndOfYearLockDate")}
    return {**locks, "BaseCurrency": base_currency(books), "Currencies": sorted(books["currencies"]),
            "Plan": org.get("Class"), "Caps": PLAN_CAPS.get(str(org.get("Class") or ""), {}),
            "Rates": {c: str(day_rate(books, c)) for c in sorted(books["currencies"])}}
