"""What a QuickBooks company is like, read once and shared by the package's sending threads.

The company record, its Preferences, its currencies, the chart of accounts, the tax codes' rates and the
items that post to each income account are read at most once a run (the chart again only when a code
is missing). Upload Data sends batches from several threads; without the lock each thread that found a
cache empty read it again (5-12 extra queries a run). One re-entrant lock guards every cache: a thread
that finds one being filled waits for it instead of asking QuickBooks too.

Preferences (Intuit API reference, Preferences entity): ``AccountingInfoPrefs.BookCloseDate`` is the
closing date; ``SalesFormsPrefs.CustomTxnNumbers`` off means QuickBooks numbers sales forms itself;
``CurrencyPrefs.MultiCurrencyEnabled`` and ``HomeCurrency``; the currencies a multicurrency company has
added are its active ``CompanyCurrency`` records. DocNumber holds at most 21 characters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ..base import MalformedResponse, Organisation, OrganisationSettings, RemoteAccount
from . import mapping as m
from .api import QboApi
from .mapping import Row
from .vat import TaxRateOf, TaxRates

DOC_NUMBER_MAX = 21
CLOSING_DATE = "closing date"


class CompanyLookups:
    def __init__(self, api: QboApi, realm_id: str) -> None:
        self.api = api
        self.realm_id = realm_id
        self._lock = threading.RLock()
        self._org: Organisation | None = None
        self._prefs: Row | None = None
        self._accounts: list[RemoteAccount] | None = None
        self._tax: tuple[list[Row], dict[str, Decimal]] | None = None
        self._rates: TaxRates | None = None
        self._income_items: dict[str, str] | None = None

    def _once(self, read: Callable[[], None], ready: Callable[[], bool]) -> None:
        with self._lock:
            if not ready():
                read()

    # --- the company and its preferences ----------------------------------------------------------

    def preferences(self) -> Row:
        def read() -> None:
            rows = self.api.query("SELECT * FROM Preferences", "the preferences request")
            self._prefs = rows[0] if rows else {}
        self._once(read, lambda: self._prefs is not None)
        return self._prefs or {}

    def organisation(self) -> Organisation:
        def read() -> None:
            # A query rather than GET /companyinfo/{realm}: works whatever Id the company record has.
            rows = self.api.query("SELECT * FROM CompanyInfo", "the company details request")
            try:
                info = rows[0]
                self._org = Organisation(id=str(info.get("Id") or self.realm_id),
                                         name=str(info.get("CompanyName") or ""), base_currency=self._home())
            except (KeyError, TypeError, AttributeError, IndexError):
                raise MalformedResponse("QuickBooks sent company details KCC Desktop does not understand.") from None
        self._once(read, lambda: self._org is not None)
        assert self._org is not None
        return self._org

    def _home(self) -> str:
        currency = (self.preferences().get("CurrencyPrefs") or {}).get("HomeCurrency") or {}
        return str((currency.get("value") if isinstance(currency, dict) else currency) or "GBP")

    def multicurrency(self) -> bool:
        return bool((self.preferences().get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled", False))

    def settings(self) -> OrganisationSettings:
        prefs = self.preferences()
        base = self.organisation().base_currency
        currencies = {base}
        if self.multicurrency():
            rows = self.api.query_all("CompanyCurrency", "Active = true", what="the currencies request")
            currencies |= {str(r.get("Code")) for r in rows if r.get("Code")}
        closed = (prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate")
        try:
            lock = date.fromisoformat(str(closed)[:10]) if closed else None
        except ValueError:
            raise MalformedResponse(f"QuickBooks sent {closed!r} as the closing date.") from None
        kept = (prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", True)
        return OrganisationSettings(base_currency=base, currencies=frozenset(currencies), lock_date=lock,
                                    lock_date_label=CLOSING_DATE if lock else "",
                                    document_numbers_kept=bool(kept), document_number_max=DOC_NUMBER_MAX)

    # --- the chart, tax codes and items -------------------------------------------------------------

    def accounts(self, refresh: bool = False) -> list[RemoteAccount]:
        def read() -> None:
            rows = self.api.query_all("Account", "Active IN (true, false)", what="the chart of accounts request")
            try:
                self._accounts = [RemoteAccount(id=str(r["Id"]), code=str(r.get("AcctNum") or ""),
                                                name=str(r.get("Name") or ""), type=str(r.get("AccountType") or ""),
                                                status="ACTIVE" if r.get("Active", True) else "ARCHIVED",
                                                tax_type=m.ref_value(r.get("TaxCodeRef")))
                                  for r in rows]
            except KeyError:
                raise MalformedResponse("QuickBooks sent an account without an Id.") from None
        with self._lock:
            if refresh:
                self._accounts = None
            self._once(read, lambda: self._accounts is not None)
            return list(self._accounts or [])

    def tax_tables(self, refresh: bool = False) -> tuple[list[Row], dict[str, Decimal]]:
        """(the TaxCode rows, TaxRate id -> percent): read once a run, again only when ``refresh``
        (Get Nominal & Tax Accounts)."""
        def read() -> None:
            rates = {str(r.get("Id")): m.to_decimal(r.get("RateValue"))
                     for r in self.api.query_all("TaxRate", what="the tax rates request")}
            self._tax = (self.api.query_all("TaxCode", what="the tax codes request"), rates)
            self._rates = None
        with self._lock:
            if refresh:
                self._tax = None
            self._once(read, lambda: self._tax is not None)
            assert self._tax is not None
            return list(self._tax[0]), dict(self._tax[1])

    def tax_rates(self) -> TaxRates:
        """(tax code id, sales?) -> the rate it charges on that side."""
        def read() -> None:
            codes, rates = self.tax_tables()
            out: TaxRates = {}
            for code in codes:
                for sales, list_name in ((True, "SalesTaxRateList"), (False, "PurchaseTaxRateList")):
                    details = (code.get(list_name) or {}).get("TaxRateDetail") or []
                    if len(details) == 1:   # a group of several rates is taxed by QuickBooks alone
                        rate_id = m.ref_value(details[0].get("TaxRateRef"))
                        out[(str(code.get("Id")), sales)] = TaxRateOf(rate_id, rates.get(rate_id, Decimal("0")))
            self._rates = out
        self._once(read, lambda: self._rates is not None)
        return dict(self._rates or {})

    def income_items(self, wanted: set[str]) -> dict[str, str]:
        """``ACCOUNT_ITEM + account code`` -> id of the first active item whose income account it is; read
        again when a wanted code is missing."""
        with self._lock:
            if self._income_items is None or any(m.ACCOUNT_ITEM + c not in self._income_items for c in wanted):
                codes = {a.id: a.code or a.id for a in self.accounts()}
                out: dict[str, str] = {}
                for row in self.api.query_all("Item", what="the item list request"):
                    code = codes.get(m.ref_value(row.get("IncomeAccountRef")))
                    if code and row.get("Type") != "Inventory":
                        out.setdefault(m.ACCOUNT_ITEM + code, str(row.get("Id")))
                self._income_items = out
            return dict(self._income_items)
