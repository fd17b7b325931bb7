"""Which fields each entity lets a query filter (WHERE) and sort (ORDER BY) on.

Source: Intuit's API reference, each entity's attribute table ("filterable", "sortable") and the query
language page ("Queryable"); a filter or sort on any other field - including one the entity does not
have - is refused with error 4001, "QueryValidationError: property '...' is not queryable". So a query a
connector writes against a field such as Account.AcctNum works nowhere but in a lenient stand-in.
"""

from __future__ import annotations

from .errors import QboFault

_META = {"MetaData.CreateTime", "MetaData.LastUpdatedTime"}
_TXN = {"Id", "DocNumber", "TxnDate", "TotalAmt"} | _META
_NAMES = {"Id", "DisplayName", "GivenName", "FamilyName", "CompanyName", "PrimaryEmailAddr", "Active",
          "Balance", "PrintOnCheckName"} | _META

# entity -> (filterable, sortable)
QUERYABLE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Account": (frozenset({"Id", "Name", "SubAccount", "ParentRef", "Description", "Active", "Classification",
                           "FullyQualifiedName", "AccountType", "AccountSubType", "CurrentBalance",
                           "CurrentBalanceWithSubAccounts", "CurrencyRef"} | _META),
                frozenset({"Id", "Name", "FullyQualifiedName", "AccountType", "CurrentBalance"} | _META)),
    "Customer": (frozenset(_NAMES | {"FullyQualifiedName", "ParentRef", "Job"}),
                 frozenset({"Id", "DisplayName", "GivenName", "FamilyName", "CompanyName", "Balance",
                            "FullyQualifiedName"} | _META)),
    "Vendor": (frozenset(_NAMES), frozenset({"Id", "DisplayName", "GivenName", "FamilyName", "CompanyName",
                                             "Balance"} | _META)),
    "Item": (frozenset({"Id", "Name", "Active", "Type", "Sku", "FullyQualifiedName", "ParentRef",
                        "UnitPrice"} | _META),
             frozenset({"Id", "Name", "Type", "Sku", "FullyQualifiedName", "UnitPrice"} | _META)),
    "TaxCode": (frozenset({"Id", "Name", "Active", "Taxable", "TaxGroup"}), frozenset({"Id", "Name"})),
    "TaxRate": (frozenset({"Id", "Name", "Active", "RateValue"}), frozenset({"Id", "Name"})),
    "CompanyInfo": (frozenset({"Id"} | _META), frozenset({"Id"} | _META)),
    "Preferences": (frozenset({"Id"} | _META), frozenset({"Id"} | _META)),
    "CompanyCurrency": (frozenset({"Id", "Code", "Name", "Active"} | _META), frozenset({"Id", "Code"} | _META)),
    "Invoice": (frozenset(_TXN | {"CustomerRef", "Balance", "DueDate"}),
                frozenset(_TXN | {"CustomerRef", "Balance", "DueDate"})),
    "CreditMemo": (frozenset(_TXN | {"CustomerRef", "Balance"}), frozenset(_TXN | {"CustomerRef"})),
    "Bill": (frozenset(_TXN | {"VendorRef", "Balance", "DueDate"}), frozenset(_TXN | {"VendorRef", "DueDate"})),
    "VendorCredit": (frozenset(_TXN | {"VendorRef"}), frozenset(_TXN | {"VendorRef"})),
    "Payment": (frozenset({"Id", "TxnDate", "TotalAmt", "CustomerRef", "PaymentRefNum"} | _META),
                frozenset({"Id", "TxnDate", "TotalAmt", "CustomerRef"} | _META)),
    "BillPayment": (frozenset(_TXN | {"VendorRef"}), frozenset(_TXN | {"VendorRef"})),
}


def not_queryable(prop: str) -> QboFault:
    return QboFault(4001, "Invalid query", f"QueryValidationError: property '{prop}' is not queryable",
                    element="query")


def _known(entity: str, prop: str, sortable: bool) -> bool:
    allowed = QUERYABLE.get(entity, (frozenset({"Id"}), frozenset({"Id"})))[1 if sortable else 0]
    return prop.casefold() in {a.casefold() for a in allowed}


def check(entity: str, where: list[str], order: list[str]) -> None:
    """Raise 4001 for the first field the entity does not let a query filter or sort on."""
    for prop in where:
        if not _known(entity, prop, sortable=False):
            raise not_queryable(prop)
    for prop in order:
        if not _known(entity, prop, sortable=True):
            raise not_queryable(prop)

