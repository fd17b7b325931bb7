"""Xero's OAuth scopes: which an app may ask for, and which each Accounting API call needs.

- **Asking.** Apps created on or after 2 March 2026 may not ask for the broad ``accounting.transactions``
  (and ``.read``) or ``accounting.reports.read``; Xero answers ``unauthorized_client`` with "Invalid
  scope for client". A name Xero does not know at all is ``invalid_scope``. Older apps keep the broad
  scopes (until September 2027) and may already ask for the granular ones. Sources: Xero's granular-scopes
  FAQ; Apideck's help article "Xero: Connecting a new app (created after March 2, 2026)".
- **Calling.** Each operation of the Accounting API lists the scopes that allow it in the OpenAPI spec's
  ``security`` section (tests/contract/xero_accounting.yaml; ``tests/sandbox`` checks this table against
  it): reads take the scope or its ``.read`` variant, writes the scope itself. The granular scopes split
  ``accounting.transactions`` by resource: ``accounting.invoices`` (invoices, credit notes, repeating
  invoices, purchase orders, quotes, linked transactions, and items, which ``accounting.settings`` also
  covers), ``accounting.payments`` (payments, batch payments, overpayments, prepayments),
  ``accounting.banktransactions`` (bank transactions and transfers), ``accounting.manualjournals``
  (Apideck, "Xero Scopes: What Changed", March 2026). A call outside the token's scopes is a 401,
  "AuthorizationUnsuccessful", with ``WWW-Authenticate: Bearer error="insufficient_scope"`` (Xero
  Developer Community, "OAuth 2.0 Scope"; Stack Overflow 61047303).
"""

from __future__ import annotations

IDENTITY = frozenset({"openid", "profile", "email", "offline_access"})
SETTINGS = "accounting.settings"
CONTACTS = "accounting.contacts"
ATTACHMENTS = "accounting.attachments"
TRANSACTIONS = "accounting.transactions"
INVOICES = "accounting.invoices"
PAYMENTS = "accounting.payments"
BANK_TRANSACTIONS = "accounting.banktransactions"
MANUAL_JOURNALS = "accounting.manualjournals"

# Asking for these is refused for apps created on or after 2 March 2026.
BROAD_ONLY = frozenset({TRANSACTIONS, TRANSACTIONS + ".read", "accounting.reports.read"})
_READ_WRITE = (SETTINGS, CONTACTS, ATTACHMENTS, TRANSACTIONS, INVOICES, PAYMENTS, BANK_TRANSACTIONS,
               MANUAL_JOURNALS, "accounting.classicexpenses")
KNOWN = (IDENTITY | set(_READ_WRITE) | {s + ".read" for s in _READ_WRITE}
         | {"accounting.journals.read", "accounting.budgets.read", "accounting.reports.read",
            "accounting.reports.tenninetynine.read", "paymentservices"})
# Other Xero APIs (payroll, files, assets, projects, ...) and the granular report scopes: not checked here.
KNOWN_PREFIXES = ("accounting.reports.", "payroll.", "files", "assets", "projects", "bankfeeds",
                  "finance.", "practicemanager", "app.connections", "marketplace.", "einvoicing")

# Accounting API resource -> the scopes that allow it (a read also takes each one's ".read").
RESOURCES: dict[str, tuple[str, ...]] = {
    "Organisation": (SETTINGS,), "Accounts": (SETTINGS,), "TaxRates": (SETTINGS,), "Currencies": (SETTINGS,),
    "TrackingCategories": (SETTINGS,), "BrandingThemes": (SETTINGS,), "Users": (SETTINGS,),
    "Items": (SETTINGS, INVOICES),
    "Contacts": (CONTACTS,), "ContactGroups": (CONTACTS,),
    "Invoices": (TRANSACTIONS, INVOICES), "CreditNotes": (TRANSACTIONS, INVOICES),
    "RepeatingInvoices": (TRANSACTIONS, INVOICES), "PurchaseOrders": (TRANSACTIONS, INVOICES),
    "Quotes": (TRANSACTIONS, INVOICES), "LinkedTransactions": (TRANSACTIONS, INVOICES),
    "Payments": (TRANSACTIONS, PAYMENTS), "BatchPayments": (TRANSACTIONS, PAYMENTS),
    "Overpayments": (TRANSACTIONS, PAYMENTS), "Prepayments": (TRANSACTIONS, PAYMENTS),
    "BankTransactions": (TRANSACTIONS, BANK_TRANSACTIONS), "BankTransfers": (TRANSACTIONS, BANK_TRANSACTIONS),
    "ManualJournals": (TRANSACTIONS, MANUAL_JOURNALS),
}
GRANULAR = frozenset({INVOICES, PAYMENTS, BANK_TRANSACTIONS, MANUAL_JOURNALS})


def is_known(scope: str) -> bool:
    return scope in KNOWN or scope.startswith(KNOWN_PREFIXES)


def refusal(requested: list[str], kind: str) -> tuple[str, str] | None:
    """(error, error_description) the authorize step answers for these scopes, or None when allowed.
    ``kind`` is the app's registration: "granular" (new apps) or "broad" (apps made before 2 March 2026)."""
    unknown = [s for s in requested if not is_known(s)]
    if unknown:
        return "invalid_scope", f"Invalid scope: {' '.join(unknown)}"
    if kind == "granular" and any(s in BROAD_ONLY for s in requested):
        return "unauthorized_client", "Invalid scope for client"
    return None


def required(method: str, api_path: str) -> frozenset[str] | None:
    """The scopes any one of which allows ``method`` on ``api_path`` (the part after ``/api.xro/2.0``);
    None for a path this table does not know (the sandbox answers 404 there anyway)."""
    parts = [p for p in api_path.strip("/").split("/") if p]
    if not parts or parts[0] not in RESOURCES:
        return None
    families: tuple[str, ...] = RESOURCES[parts[0]]
    if len(parts) >= 3 and parts[2] == "Attachments":
        families = (ATTACHMENTS,)
    if method.upper() == "GET":
        return frozenset(families) | {f + ".read" for f in families}
    return frozenset(families)


def allowed(granted: list[str] | str, method: str, api_path: str) -> bool:
    """Whether a token holding ``granted`` may make this call."""
    need = required(method, api_path)
    have = set(granted.split() if isinstance(granted, str) else granted)
    return need is None or bool(need & have)

