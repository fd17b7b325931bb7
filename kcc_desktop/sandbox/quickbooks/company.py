"""The company's own settings, as QuickBooks Online keeps them in ``Preferences`` and ``CompanyCurrency``,
and the checks that follow from them: the closing date, custom transaction numbers, multicurrency.

Sources: Intuit API reference, Preferences entity (``AccountingInfoPrefs.BookCloseDate``: the closing
date, read only; ``SalesFormsPrefs.CustomTxnNumbers``; ``CurrencyPrefs.MultiCurrencyEnabled``, which can
be turned on through the API but never off, and ``HomeCurrency``, read only) and CompanyCurrency entity
(minor version 32+: the currencies a multicurrency company has added); error 6210 from Intuit's error
list ("Account Period Closed"). A sparse update of Preferences changes only the writable fields and
silently keeps the read-only ones, as QuickBooks does with every read-only attribute.

What the real API cannot set (the closing date, the home currency) is set for tests and the demo through
``POST /_sandbox/company`` (``apply_company``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from . import errors
from .errors import QboFault

# (group, field) of Preferences an update may change (Intuit's Preferences reference marks the rest read only).
WRITABLE = {("SalesFormsPrefs", "CustomTxnNumbers"), ("SalesFormsPrefs", "AllowDiscount"),
            ("SalesFormsPrefs", "AllowDeposit"), ("SalesFormsPrefs", "AllowShipping"),
            ("CurrencyPrefs", "MultiCurrencyEnabled"), ("AccountingInfoPrefs", "TrackDepartments"),
            ("AccountingInfoPrefs", "ClassTrackingPerTxn"), ("AccountingInfoPrefs", "ClassTrackingPerTxnLine"),
            ("EmailMessagesPrefs", "InvoiceMessage")}
CURRENCY_NAMES = {"GBP": "British Pound Sterling", "EUR": "Euro", "USD": "United States Dollar",
                  "CAD": "Canadian Dollar", "AUD": "Australian Dollar"}


def period_closed(closed: date, when: str) -> QboFault:
    return QboFault(6210, "Account Period Closed, Cannot Update Through Services API",
                    f"The account period has closed and the account books cannot be updated through the QBO "
                    f"Services API. Please use the QBO website to make these changes. (TxnDate {when} is on or "
                    f"before the closing date {closed.isoformat()})", element="TxnDate")


class CompanySettings:
    """Reads and changes the settings kept in the books' Preferences and CompanyCurrency records."""

    def __init__(self, books: Any) -> None:
        self.books = books

    @property
    def prefs(self) -> dict[str, Any]:
        prefs: dict[str, Any] = self.books.get("Preferences", "1")
        return prefs

    def _group(self, name: str) -> dict[str, Any]:
        group: dict[str, Any] = self.prefs.setdefault(name, {})
        return group

    # --- reading ---------------------------------------------------------------------------------
    def book_close_date(self) -> date | None:
        raw = self._group("AccountingInfoPrefs").get("BookCloseDate")
        return date.fromisoformat(str(raw)[:10]) if raw else None

    def custom_numbers(self) -> bool:
        return bool(self._group("SalesFormsPrefs").get("CustomTxnNumbers", True))

    def multicurrency(self) -> bool:
        return bool(self._group("CurrencyPrefs").get("MultiCurrencyEnabled", False))

    def home_currency(self) -> str:
        home = self._group("CurrencyPrefs").get("HomeCurrency") or {}
        return str(home.get("value") or "GBP")

    def active_currencies(self) -> set[str]:
        found = {c["Code"] for c in self.books.all("CompanyCurrency") if c.get("Active", True)}
        return found | {self.home_currency()}

    def exchange_rate(self, code: str) -> Decimal:
        for c in self.books.all("CompanyCurrency"):
            if c["Code"] == code and c.get("_rate") is not None:
                return Decimal(str(c["_rate"]))
        return Decimal("1")

    # --- checks ----------------------------------------------------------------------------------
    def check_open(self, txn_date: str) -> None:
        """6210 for a transaction dated on or before the closing date."""
        closed = self.book_close_date()
        if closed is not None and date.fromisoformat(txn_date[:10]) <= closed:
            raise period_closed(closed, txn_date[:10])

    def currency(self, obj: dict[str, Any], party: dict[str, Any] | None) -> tuple[dict[str, Any], Decimal]:
        """(CurrencyRef, ExchangeRate) a transaction keeps; refuses a currency the company cannot take."""
        home = self.home_currency()
        sent = obj.get("CurrencyRef")
        code = str((sent.get("value") if isinstance(sent, dict) else sent) or "")
        if party is not None and not code:
            code = str((party.get("CurrencyRef") or {}).get("value") or home)
        code = code or home
        if code != home and not self.multicurrency():
            # *unconfirmed* wording; Intuit documents that a non-multicurrency company takes its home currency only.
            raise errors.business(f"Multicurrency is not enabled for this company; {code} cannot be used",
                                  "CurrencyRef")
        if code not in self.active_currencies():
            raise errors.invalid_reference("CurrencyRef", code, "Currency")
        party_code = str(((party or {}).get("CurrencyRef") or {}).get("value") or home)
        if party is not None and party_code != code:
            raise errors.business(f"The currency of the transaction ({code}) must be the currency of "
                                  f"{party.get('DisplayName', 'the customer or vendor')} ({party_code})", "CurrencyRef")
        if code == home:
            return {"value": home, "name": CURRENCY_NAMES.get(home, home)}, Decimal("1")
        rate = obj.get("ExchangeRate")
        kept = Decimal(str(rate)) if rate not in (None, "", 0, "0") else self.exchange_rate(code)
        return {"value": code, "name": CURRENCY_NAMES.get(code, code)}, kept

    # --- changing --------------------------------------------------------------------------------
    def update_preferences(self, body: dict[str, Any]) -> dict[str, Any]:
        """A (sparse) Preferences update: writable fields change, read-only ones are ignored."""
        new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.prefs.items()}
        for group, fields in body.items():
            if not isinstance(fields, dict):
                continue
            for name, value in fields.items():
                if (group, name) not in WRITABLE:
                    continue
                if (group, name) == ("CurrencyPrefs", "MultiCurrencyEnabled") and self.multicurrency() and not value:
                    raise errors.business("Multicurrency cannot be turned off once it is on",
                                          "CurrencyPrefs.MultiCurrencyEnabled")
                new.setdefault(group, {})[name] = value
        return new

    def apply_company(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /_sandbox/company``: settings the real API keeps read only, plus shorthands.

        Keys: ``book_close_date`` (YYYY-MM-DD or null), ``custom_txn_numbers``, ``multicurrency``,
        ``home_currency``, ``currencies`` ({"EUR": "0.85", ...}: code -> home units per unit; each is added
        as an active CompanyCurrency).
        """
        prefs = self.prefs
        if "book_close_date" in body:
            value = body["book_close_date"]
            prefs.setdefault("AccountingInfoPrefs", {})["BookCloseDate"] = (
                date.fromisoformat(str(value)).isoformat() if value else None)
            if not value:
                prefs["AccountingInfoPrefs"].pop("BookCloseDate", None)
        if "custom_txn_numbers" in body:
            prefs.setdefault("SalesFormsPrefs", {})["CustomTxnNumbers"] = bool(body["custom_txn_numbers"])
        if "multicurrency" in body:
            prefs.setdefault("CurrencyPrefs", {})["MultiCurrencyEnabled"] = bool(body["multicurrency"])
        if "home_currency" in body:
            code = str(body["home_currency"]).upper()
            prefs.setdefault("CurrencyPrefs", {})["HomeCurrency"] = {"value": code}
        for code, rate in dict(body.get("currencies") or {}).items():
            code = str(code).upper()
            existing = next((c for c in self.books.all("CompanyCurrency") if c["Code"] == code), None)
            if existing is None:
                self.books.insert("CompanyCurrency", {"Code": code, "Name": CURRENCY_NAMES.get(code, code),
                                                      "Active": True, "_rate": str(Decimal(str(rate)))})
            else:
                existing["_rate"] = str(Decimal(str(rate)))
                existing["Active"] = True
        self.books.touch(prefs)
        return self.summary()

    def summary(self) -> dict[str, Any]:
        closed = self.book_close_date()
        return {"book_close_date": closed.isoformat() if closed else None,
                "custom_txn_numbers": self.custom_numbers(), "multicurrency": self.multicurrency(),
                "home_currency": self.home_currency(), "currencies": sorted(self.active_currencies())}
