"""The integration options, typed, kept in the company file; every change lands in the audit trail.

Stored as strings in ``app_setting`` through DbSettingsStore (booleans as "1"/"0") so the ledger's
payment guard can read ``integration.enabled`` without importing this module.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import func, select

from ..ledger.service import INTEGRATION_ENABLED_KEY
from ..models import NominalCode, NominalKind
from ..settings_db import DbSettingsStore
from ..store import Store

PROVIDERS = ("xero", "quickbooks")
PROVIDER_LABELS = {"xero": "Xero", "quickbooks": "QuickBooks Online"}

# Field name -> settings key. ``enabled`` uses the key the ledger's payment guard reads.
KEYS = {
    "enabled": INTEGRATION_ENABLED_KEY,
    "provider": "integration.provider",
    "create_authorised": "integration.create_authorised",
    "only_export_stock_on_invoices": "integration.only_export_stock_on_invoices",
    "use_rollup_transactions": "integration.use_rollup_transactions",
    "multicurrency": "integration.multicurrency",
    "default_sales_nominal": "integration.default_sales_nominal",
    "default_purchase_nominal": "integration.default_purchase_nominal",
    "default_prepayment_nominal": "integration.default_prepayment_nominal",
    "default_delivery_nominal": "integration.default_delivery_nominal",
}

# What the audit trail and the window call each option.
LABELS = {
    "enabled": "Integration enabled",
    "provider": "Accounting package",
    "create_authorised": "Create Authorised Invoices",
    "only_export_stock_on_invoices": "Only Export Stock on Invoices",
    "use_rollup_transactions": "Use Rollup Transactions",
    "multicurrency": "MultiCurrency",
    "default_sales_nominal": "Default Sales nominal",
    "default_purchase_nominal": "Default Purchase nominal",
    "default_prepayment_nominal": "Default Prepayment nominal",
    "default_delivery_nominal": "Default Delivery nominal",
}

# Which ledger nominal kind each default picker offers.
DEFAULT_NOMINAL_KINDS = {
    "default_sales_nominal": NominalKind.SALES,
    "default_purchase_nominal": NominalKind.PURCHASE,
    "default_prepayment_nominal": NominalKind.PREPAYMENT,
    "default_delivery_nominal": NominalKind.DELIVERY,
}

CONNECTION_PROVIDER_KEY = "connection.provider"  # saved by the connectors when a connection is made


class OptionError(ValueError):
    """An option value the app cannot use; the message says which values are allowed."""


@dataclass
class IntegrationOptions:
    enabled: bool = False
    provider: str = "xero"
    create_authorised: bool = True      # else invoices go up as drafts
    only_export_stock_on_invoices: bool = False
    use_rollup_transactions: bool = False  # one line per tax rate instead of one per stock line
    multicurrency: bool = False         # off: documents in another currency are held back
    default_sales_nominal: str = ""     # ledger nominal codes; "" = the first nominal of that kind
    default_purchase_nominal: str = ""
    default_prepayment_nominal: str = ""
    default_delivery_nominal: str = ""


_DEFAULTS = IntegrationOptions()
_BOOLS = {f.name for f in fields(IntegrationOptions) if isinstance(getattr(_DEFAULTS, f.name), bool)}


def _encode(name: str, value) -> str:
    if name in _BOOLS:
        return "1" if value else "0"
    return str(value or "")


def _decode(name: str, raw: str | None):
    default = getattr(_DEFAULTS, name)
    if raw is None:
        return default
    if name in _BOOLS:
        return raw == "1"
    return raw


def display_value(key: str, raw: str) -> str:
    """An option's stored value as the audit trail shows it ("On"/"Off", "Xero", ...)."""
    name = next((n for n, k in KEYS.items() if k == key), None)
    if name in _BOOLS:
        return {"1": "On", "0": "Off"}.get(raw, raw)
    if name == "provider":
        return PROVIDER_LABELS.get(raw, raw)
    return raw


def label_for_key(key: str) -> str:
    name = next((n for n, k in KEYS.items() if k == key), None)
    return LABELS.get(name, key)


class OptionsService:
    """Read and change the integration options; one audited transaction per change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = DbSettingsStore(store)

    def load(self) -> IntegrationOptions:
        saved = self.settings.items("integration.")
        values = {name: _decode(name, saved.get(key)) for name, key in KEYS.items()}
        if KEYS["provider"] not in saved:
            # Until chosen here, follow the package the user connected to.
            values["provider"] = self.settings.get(CONNECTION_PROVIDER_KEY) or _DEFAULTS.provider
        return IntegrationOptions(**values)

    def set(self, name: str, value) -> bool:
        """Changes one option; returns False when it already had that value (nothing is audited)."""
        if name not in KEYS:
            raise OptionError(f"There is no integration option called {name!r}.")
        self._validate(name, value)
        current = getattr(self.load(), name)
        if current == value and self.settings.get(KEYS[name]) is not None:
            return False
        self.settings.set(KEYS[name], _encode(name, value), audit=True)
        return True

    def update(self, **changes) -> list[str]:
        """Changes several options; returns the names that really changed."""
        return [name for name, value in changes.items() if self.set(name, value)]

    def save(self, options: IntegrationOptions) -> list[str]:
        return self.update(**{f.name: getattr(options, f.name) for f in fields(IntegrationOptions)})

    def _validate(self, name: str, value) -> None:
        if name in _BOOLS and not isinstance(value, bool):
            raise OptionError(f"{LABELS[name]} is on or off (True or False), not {value!r}.")
        if name == "provider" and value not in PROVIDERS:
            raise OptionError(f"The accounting package must be one of {', '.join(PROVIDERS)}, not {value!r}.")
        if name in DEFAULT_NOMINAL_KINDS and value:
            kind = DEFAULT_NOMINAL_KINDS[name]
            with self.store.session() as s:
                found = s.scalar(select(NominalCode.kind).where(NominalCode.code == value))
            if found is None:
                raise OptionError(f"There is no nominal code {value} in the ledger; choose one from the list.")
            if found != kind:
                raise OptionError(f"{LABELS[name]} must be a {kind.value} nominal; {value} is {found}.")

    def default_nominal_id(self, name: str) -> int | None:
        """The ledger nominal the default picker ``name`` stands for: the chosen one, else the first of its kind."""
        kind = DEFAULT_NOMINAL_KINDS[name]
        code = getattr(self.load(), name)
        with self.store.session() as s:
            if code:
                found = s.scalar(select(NominalCode.id).where(NominalCode.code == code))
                if found is not None:
                    return found
            return s.scalar(select(func.min(NominalCode.id)).where(NominalCode.kind == kind))
