"""The company every fresh sandbox starts with: a small UK trading business on QBO's UK chart.

Ids, names and AcctNum codes are fixed so tests and the demo can refer to them
(bank 1200, stock 1001, debtors 1100, creditors 2100, VAT 2200, sales 4000).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

COMPANY_NAME = "KCC Sandbox Trading Ltd"

# (Id, Name, AcctNum, AccountType, AccountSubType, Classification)
ACCOUNTS = [
    ("1", "Sales of Product Income", "4000", "Income", "SalesOfProductIncome", "Revenue"),
    ("2", "Services", "4010", "Income", "ServiceFeeIncome", "Revenue"),
    ("3", "Delivery/Shipping income", "4020", "Income", "OtherPrimaryIncome", "Revenue"),
    ("4", "Cost of Goods Sold", "5000", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("5", "Purchases", "5010", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("6", "Inventory Asset", "1001", "Other Current Asset", "Inventory", "Asset"),
    ("7", "Accounts Receivable (Debtors)", "1100", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("8", "Business Bank Account", "1200", "Bank", "Checking", "Asset"),
    ("9", "Undeposited Funds", "1230", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("10", "Accounts Payable (Creditors)", "2100", "Accounts Payable", "AccountsPayable", "Liability"),
    ("11", "Credit Card", "2110", "Credit Card", "CreditCard", "Liability"),
    ("12", "VAT Control", "2200", "Other Current Liabilities", "GlobalTaxPayable", "Liability"),
    ("13", "Retained Earnings", "3200", "Equity", "RetainedEarnings", "Equity"),
    ("14", "Bank Charges", "7900", "Expense", "BankCharges", "Expense"),
    ("15", "Office Expenses", "7500", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense"),
]

# TaxRate (Id, Name, RateValue); each VAT code has a sales rate and a purchase rate, as QBO UK does.
TAX_RATES = [
    ("1", "20.0% S (Sales)", "20"), ("2", "20.0% S (Purchases)", "20"),
    ("3", "5.0% R (Sales)", "5"), ("4", "5.0% R (Purchases)", "5"),
    ("5", "0.0% Z (Sales)", "0"), ("6", "0.0% Z (Purchases)", "0"),
    ("7", "Exempt (Sales)", "0"), ("8", "Exempt (Purchases)", "0"),
    ("9", "No VAT (Sales)", "0"), ("10", "No VAT (Purchases)", "0"),
]

# TaxCode (Id, Name, Description, sales rate id, purchase rate id)
TAX_CODES = [
    ("1", "20.0% S", "Standard rated 20%", "1", "2"),
    ("2", "5.0% R", "Reduced rate 5%", "3", "4"),
    ("3", "0.0% Z", "Zero rated", "5", "6"),
    ("4", "Exempt", "Exempt from VAT", "7", "8"),
    ("5", "No VAT", "Outside the scope of VAT", "9", "10"),
]


def _rate_list(rate_id: str, kind: str) -> dict[str, Any]:
    return {"TaxRateDetail": [{"TaxRateRef": {"value": rate_id}, "TaxTypeApplicable": "TaxOnAmount",
                               "TaxOrder": 0}]}


def seed_objects() -> dict[str, list[dict[str, Any]]]:
    """Plain entity dicts by entity name; the store stamps Id/SyncToken/MetaData where missing."""
    accounts = [
        {"Id": i, "Name": n, "AcctNum": num, "AccountType": t, "AccountSubType": st, "Classification": c,
         "FullyQualifiedName": n, "SubAccount": False, "Active": True, "CurrentBalance": Decimal("0.00"),
         "CurrencyRef": {"value": "GBP", "name": "British Pound Sterling"}}
        for i, n, num, t, st, c in ACCOUNTS
    ]
    rates = [
        {"Id": i, "Name": n, "Description": n, "RateValue": Decimal(v), "Active": True,
         "SpecialTaxType": "ZERO_RATE" if v == "0" else "NONE", "DisplayType": "ReadOnly",
         "AgencyRef": {"value": "1"}}
        for i, n, v in TAX_RATES
    ]
    codes = [
        {"Id": i, "Name": n, "Description": d, "Active": True, "Taxable": n != "No VAT", "TaxGroup": False,
         "Hidden": False, "SalesTaxRateList": _rate_list(s, "Sales"),
         "PurchaseTaxRateList": _rate_list(p, "Purchase")}
        for i, n, d, s, p in TAX_CODES
    ]
    items = [
        {"Id": "1", "Name": "Services", "FullyQualifiedName": "Services", "Type": "Service", "Active": True,
         "Taxable": True, "UnitPrice": Decimal("0"), "IncomeAccountRef": {"value": "2", "name": "Services"},
         "SalesTaxCodeRef": {"value": "1", "name": "20.0% S"}, "TrackQtyOnHand": False},
        {"Id": "2", "Name": "Delivery", "FullyQualifiedName": "Delivery", "Type": "Service", "Active": True,
         "Taxable": True, "UnitPrice": Decimal("5.95"),
         "IncomeAccountRef": {"value": "3", "name": "Delivery/Shipping income"},
         "SalesTaxCodeRef": {"value": "1", "name": "20.0% S"}, "TrackQtyOnHand": False},
    ]
    customers = [
        {"Id": "1", "DisplayName": "Bridgewater Garden Centre", "CompanyName": "Bridgewater Garden Centre Ltd",
         "PrintOnCheckName": "Bridgewater Garden Centre Ltd", "Active": True, "Balance": Decimal("0.00"),
         "CurrencyRef": {"value": "GBP"}},
    ]
    vendors = [
        {"Id": "1", "DisplayName": "Northern Timber Supplies", "CompanyName": "Northern Timber Supplies Ltd",
         "PrintOnCheckName": "Northern Timber Supplies Ltd", "Active": True, "Balance": Decimal("0.00"),
         "CurrencyRef": {"value": "GBP"}},
    ]
    company = {"Id": "1", "CompanyName": COMPANY_NAME, "LegalName": COMPANY_NAME, "Country": "GB",
               "CompanyAddr": {"Line1": "1 Mill Lane", "City": "Leeds", "PostalCode": "LS1 4AP", "Country": "GB"},
               "FiscalYearStartMonth": "April", "SupportedLanguages": "en", "CompanyStartDate": "2024-04-01",
               "Email": {"Address": "accounts@kcc-sandbox.example"}, "NameValue": []}
    prefs = {"Id": "1", "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "GBP"}},
             "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False,
                                     "ClassTrackingPerTxnLine": False, "CustomerTerminology": "Customers"},
             "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
             "SalesFormsPrefs": {"CustomTxnNumbers": True}}
    return {"Account": accounts, "TaxRate": rates, "TaxCode": codes, "Item": items, "Customer": customers,
            "Vendor": vendors, "CompanyInfo": [company], "Preferences": [prefs]}
