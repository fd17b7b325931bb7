"""The company a new UK Xero organisation starts with: chart of accounts, VAT rates, one bank account.

Codes and names follow Xero's UK default chart, so mappings an accountant sets up against the
sandbox look like the ones they would set up against a real organisation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from ..json_types import Record
from .books import XeroBooks
from .serial import stable_id

# code, name, type, tax type, system account
UK_ACCOUNTS: list[tuple[str, str, str, str, str]] = [
    ("090", "Business Bank Account", "BANK", "NONE", ""),
    ("200", "Sales", "REVENUE", "OUTPUT2", ""),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2", ""),
    ("270", "Interest Income", "REVENUE", "EXEMPTOUTPUT", ""),
    ("300", "Purchases", "DIRECTCOSTS", "INPUT2", ""),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", ""),
    ("320", "Direct Wages", "DIRECTCOSTS", "NONE", ""),
    ("325", "Direct Expenses", "DIRECTCOSTS", "INPUT2", ""),
    ("400", "Advertising & Marketing", "OVERHEADS", "INPUT2", ""),
    ("401", "Audit & Accountancy fees", "OVERHEADS", "INPUT2", ""),
    ("404", "Bank Fees", "OVERHEADS", "EXEMPTINPUT", ""),
    ("408", "Cleaning", "OVERHEADS", "INPUT2", ""),
    ("412", "Consulting", "OVERHEADS", "INPUT2", ""),
    ("416", "Depreciation Expense", "DEPRECIATN", "NONE", ""),
    ("420", "Entertainment-100% business", "OVERHEADS", "INPUT2", ""),
    ("425", "Postage, Freight & Courier", "OVERHEADS", "INPUT2", ""),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", ""),
    ("433", "Insurance", "OVERHEADS", "EXEMPTINPUT", ""),
    ("437", "Interest Paid", "OVERHEADS", "EXEMPTINPUT", ""),
    ("445", "Light, Power, Heating", "OVERHEADS", "INPUT2", ""),
    ("449", "Motor Vehicle Expenses", "OVERHEADS", "INPUT2", ""),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT2", ""),
    ("469", "Rent", "OVERHEADS", "INPUT2", ""),
    ("473", "Repairs & Maintenance", "OVERHEADS", "INPUT2", ""),
    ("477", "Salaries", "OVERHEADS", "NONE", ""),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT2", ""),
    ("493", "Travel - National", "OVERHEADS", "INPUT2", ""),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "DEBTORS"),
    ("620", "Prepayments", "CURRENT", "NONE", ""),
    ("630", "Inventory", "INVENTORY", "NONE", ""),
    ("710", "Office Equipment", "FIXED", "INPUT2", ""),
    ("720", "Computer Equipment", "FIXED", "INPUT2", ""),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "CREDITORS"),
    ("801", "Unpaid Expense Claims", "CURRLIAB", "NONE", "UNPAIDEXPCLM"),
    ("820", "VAT", "CURRLIAB", "NONE", "GST"),
    ("825", "PAYE Payable", "CURRLIAB", "NONE", ""),
    ("840", "Historical Adjustment", "CURRLIAB", "NONE", "HISTORICAL"),
    ("860", "Rounding", "CURRLIAB", "NONE", "ROUNDING"),
    ("877", "Tracking Transfers", "CURRLIAB", "NONE", "TRACKINGTRANSFERS"),
    ("900", "Loan", "NONCURRENT", "NONE", ""),
    ("960", "Retained Earnings", "EQUITY", "NONE", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", ""),
]

ACCOUNT_CLASS = {
    "BANK": "ASSET", "CURRENT": "ASSET", "INVENTORY": "ASSET", "FIXED": "ASSET", "PREPAYMENT": "ASSET",
    "NONCURRENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE", "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE", "DEPRECIATN": "EXPENSE",
}

BANK_ACCOUNT_NUMBER = "20-40-60 12345678"

# tax type, name, rate, report tax type, applies to revenue, applies to expenses
UK_TAX_RATES: list[tuple[str, str, str, str, bool, bool]] = [
    ("OUTPUT2", "20% (VAT on Income)", "20", "OUTPUT", True, False),
    ("INPUT2", "20% (VAT on Expenses)", "20", "INPUT", False, True),
    ("RROUTPUT", "5% (VAT on Income)", "5", "OUTPUT", True, False),
    ("RRINPUT", "5% (VAT on Expenses)", "5", "INPUT", False, True),
    ("ZERORATEDOUTPUT", "Zero Rated Income", "0", "OUTPUT", True, False),
    ("ZERORATEDINPUT", "Zero Rated Expenses", "0", "INPUT", False, True),
    ("EXEMPTOUTPUT", "Exempt Income", "0", "EXEMPTOUTPUT", True, False),
    ("EXEMPTINPUT", "Exempt Expenses", "0", "EXEMPTINPUT", False, True),
    ("CAPEXOUTPUT2", "20% (VAT on Capital Sales)", "20", "OUTPUT", True, False),
    ("CAPEXINPUT2", "20% (VAT on Capital Purchases)", "20", "INPUT", False, True),
    ("NONE", "No VAT", "0", "NONE", True, True),
]

TENANT_NAMES = ["Demo Company (UK)", "Second Company (UK)", "Third Company (UK)"]


def tenant_id(index: int) -> str:
    return stable_id("tenant", index)


def tenant_name(index: int) -> str:
    return TENANT_NAMES[index] if index < len(TENANT_NAMES) else f"Company {index + 1} (UK)"


def seed_books(index: int, now: datetime | None = None) -> XeroBooks:
    """The books of tenant ``index`` as a new organisation has them."""
    now = now or datetime.now(UTC)
    tid = tenant_id(index)
    accounts: dict[str, Record] = {}
    for code, name, typ, tax, system in UK_ACCOUNTS:
        acc: Record = {
            "AccountID": stable_id(tid, "account", code), "Code": code, "Name": name, "Type": typ,
            "TaxType": tax, "Status": "ACTIVE", "Class": ACCOUNT_CLASS[typ],
            "EnablePaymentsToAccount": typ == "BANK", "ShowInExpenseClaims": typ in ("OVERHEADS",),
            "ReportingCode": "", "HasAttachments": False, "AddToWatchlist": False, "UpdatedDateUTC": now,
            "Description": "" if typ == "BANK" else None,
        }
        if system:
            acc["SystemAccount"] = system
        if typ == "BANK":
            acc.update({"BankAccountNumber": BANK_ACCOUNT_NUMBER, "BankAccountType": "BANK", "CurrencyCode": "GBP"})
        accounts[acc["AccountID"]] = acc
    tax_rates: dict[str, Record] = {}
    for tax_type, name, rate, report, revenue, expenses in UK_TAX_RATES:
        r = Decimal(rate)
        tax_rates[tax_type] = {
            "Name": name, "TaxType": tax_type, "ReportTaxType": report, "Status": "ACTIVE",
            "TaxComponents": [{"Name": "VAT", "Rate": r, "IsCompound": False, "IsNonRecoverable": False}],
            "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": expenses,
            "CanApplyToLiabilities": True, "CanApplyToRevenue": revenue,
            "DisplayTaxRate": r, "EffectiveRate": r,
        }
    organisation: Record = {
        "OrganisationID": stable_id(tid, "organisation"), "APIKey": "", "Name": tenant_name(index),
        "LegalName": tenant_name(index).replace(" (UK)", " Ltd"), "PaysTax": True, "Version": "UK",
        "OrganisationType": "COMPANY", "BaseCurrency": "GBP", "CountryCode": "GB", "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE", "RegistrationNumber": "01234567", "TaxNumber": "GB123456789",
        "FinancialYearEndDay": 31, "FinancialYearEndMonth": 3, "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1", "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": now, "OrganisationEntityType": "COMPANY", "Timezone": "GMTSTANDARDTIME",
        "ShortCode": f"!kcc{index}", "Edition": "BUSINESS", "Class": "STANDARD",
        "LineOfBusiness": "Wholesale trade", "Addresses": [], "Phones": [], "ExternalLinks": [],
        "PaymentTerms": {},
    }
    return {
        "tenant_id": tid, "tenant_name": tenant_name(index), "organisation": organisation,
        "accounts": accounts, "tax_rates": tax_rates, "contacts": {}, "items": {}, "invoices": {},
        "credit_notes": {}, "payments": {}, "overpayments": {}, "prepayments": {}, "bank_transactions": {},
        "currencies": {"GBP": {"Code": "GBP", "Description": "British Pound"}}, "rates": {},
        "counters": {"ACCREC": 0, "ACCRECCREDIT": 0}, "number_index": {}, "approved": {},
    }


def upgrade_books(saved: dict[str, Any]) -> XeroBooks:
    """Books from a state file written before prepayments, currencies and the number index existed."""
    saved.setdefault("prepayments", {})
    saved.setdefault("currencies", {"GBP": {"Code": "GBP", "Description": "British Pound"}})
    saved.setdefault("rates", {})
    saved.setdefault("number_index", {})   # rebuilt on first use (documents.number_index)
    saved.setdefault("approved", {})
    books: XeroBooks = cast(XeroBooks, saved)
    return books
