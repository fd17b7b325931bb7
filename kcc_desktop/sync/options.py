"""The integration options, typed, kept in the company file; every change lands in the audit trail.

Stored as strings in ``app_setting`` through DbSettingsStore (booleans as "1"/"0") so the ledger's
payment guard can read ``integration.enabled`` without importing this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import func, select

from ..connectors.provider import Provider
from ..ledger.service import INTEGRATION_ENABLED_KEY
from ..models import NominalCode, NominalKind
from ..settings_db import DbSettingsStore
from ..store import Store

log = logging.getLogger(__name__)

CONNECTION_PROVIDER_KEY = "connection.provider"  # saved by the connectors when a connection is made


def _option(default: bool | str, key: str, label: str, help: str = "") -> Any:
    """One option, declared once: its default, settings key, label and tooltip."""
    return field(default=default, metadata={"key": key, "label": label, "help": help})


@dataclass
class IntegrationOptions:
    """The options, each declared once. The accounting package is not one of them: it is whatever the
    connection is to (``connected_provider``), so the two can never disagree."""

    # ``enabled`` uses the key the ledger's payment guard reads.
    enabled: bool = _option(False, INTEGRATION_ENABLED_KEY, "Integration enabled",
                            "On: documents are exported, and account customers' payments come only from the package.")
    create_authorised: bool = _option(True, "integration.create_authorised", "Create Authorised Invoices",
                                      "Off: invoices are created as drafts in the package.")
    only_export_stock_on_invoices: bool = _option(
        False, "integration.only_export_stock_on_invoices", "Only Export Stock on Invoices",
        "Export only the stock items that appear on exported invoices.")
    use_rollup_transactions: bool = _option(False, "integration.use_rollup_transactions", "Use Rollup Transactions",
                                            "One line per tax rate instead of one line per stock line.")
    multicurrency: bool = _option(False, "integration.multicurrency", "MultiCurrency",
                                  "Off: documents in another currency are held back with a reason.")
    # Ledger nominal codes; "" = the first nominal of that kind.
    default_sales_nominal: str = _option("", "integration.default_sales_nominal", "Default Sales nominal")
    default_purchase_nominal: str = _option("", "integration.default_purchase_nominal", "Default Purchase nominal")
    default_prepayment_nominal: str = _option("", "integration.default_prepayment_nominal",
                                              "Default Prepayment nominal")
    default_delivery_nominal: str = _option("", "integration.default_delivery_nominal", "Default Delivery nominal")


_FIELDS = {f.name: f for f in fields(IntegrationOptions)}
KEYS: dict[str, str] = {name: f.metadata["key"] for name, f in _FIELDS.items()}
LABELS: dict[str, str] = {name: f.metadata["label"] for name, f in _FIELDS.items()}
HELP: dict[str, str] = {name: f.metadata["help"] for name, f in _FIELDS.items() if f.metadata["help"]}
_DEFAULTS = IntegrationOptions()
_BOOLS = {name for name in _FIELDS if isinstance(getattr(_DEFAULTS, name), bool)}
CHECKS = tuple(sorted(_BOOLS, key=list(_FIELDS).index))   # the on/off options, in declaration order

# Which ledger nominal kind each default picker offers.
DEFAULT_NOMINAL_KINDS = {
    "default_sales_nominal": NominalKind.SALES,
    "default_purchase_nominal": NominalKind.PURCHASE,
    "default_prepayment_nominal": NominalKind.PREPAYMENT,
    "default_delivery_nominal": NominalKind.DELIVERY,
}


def connected_provider(settings: DbSettingsStore) -> Provider:
    """The package the company is connected to (Xero until a connection names another)."""
    raw = settings.get(CONNECTION_PROVIDER_KEY)
    try:
        return Provider(raw or Provider.XERO)
    except ValueError:
        return Provider.XERO


class OptionError(ValueError):
    """An option value the app cannot use; the message says which values are allowed."""


OptionValue = bool | str


def _encode(name: str, value: OptionValue) -> str:
    if name in _BOOLS:
        return "1" if value else "0"
    return str(value or "")


def _decode(name: str, raw: str | None) -> OptionValue:
    default: OptionValue = getattr(_DEFAULTS, name)
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
    return raw


def label_for_key(key: str) -> str:
    name = next((n for n, k in KEYS.items() if k == key), "")
    return LABELS.get(name, key)


class OptionsService:
    """Read and change the integration options; one audited transaction per change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = DbSettingsStore(store)

    def load(self) -> IntegrationOptions:
        saved = self.settings.items("integration.")
        options = IntegrationOptions()
        for name, key in KEYS.items():
            setattr(options, name, _decode(name, saved.get(key)))   # the declared type: see _decode
        return options

    @property
    def provider(self) -> Provider:
        """The package the options apply to: the connection's."""
        return connected_provider(self.settings)

    def set(self, name: str, value: OptionValue) -> bool:
        """Changes one option; returns False when it already had that value (nothing is audited)."""
        if name not in KEYS:
            raise OptionError(f"There is no integration option called {name!r}.")
        self._validate(name, value)
        current = getattr(self.load(), name)
        if current == value and self.settings.get(KEYS[name]) is not None:
            return False
        self.settings.set(KEYS[name], _encode(name, value), audit=True)
        log.info("Option %s changed from %s to %s", LABELS[name], current, value)
        return True

    def update(self, **changes: OptionValue) -> list[str]:
        """Changes several options; returns the names that really changed."""
        return [name for name, value in changes.items() if self.set(name, value)]

    def save(self, options: IntegrationOptions) -> list[str]:
        return self.update(**{f.name: getattr(options, f.name) for f in fields(IntegrationOptions)})

    def _validate(self, name: str, value: OptionValue) -> None:
        if name in _BOOLS and not isinstance(value, bool):
            raise OptionError(f"{LABELS[name]} is on or off (True or False), not {value!r}.")
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
