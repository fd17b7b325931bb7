"""Connection settings: which package, which organisation, which endpoints.

Nothing secret lives here (tokens and client secrets go to the keyring, see ``tokens.py``), so the
settings can sit in the app's database. Endpoints default to the real production URLs; a sandbox
root can be given by ``KCC_XERO_URL`` / ``KCC_QBO_URL`` (wins, so a test or demo run never touches a
saved production connection by accident) or by ``ConnectionSettings.api_root``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from .base import ConnectorError
from .provider import Provider

XERO = Provider.XERO
QUICKBOOKS = Provider.QUICKBOOKS
PROVIDERS = tuple(Provider)

XERO_DEFAULT_SCOPES = ["openid", "profile", "email", "accounting.transactions", "accounting.contacts",
                       "accounting.settings", "offline_access"]
QBO_DEFAULT_SCOPES = ["com.intuit.quickbooks.accounting"]
DEFAULT_SCOPES = {XERO: XERO_DEFAULT_SCOPES, QUICKBOOKS: QBO_DEFAULT_SCOPES}

ENV_ROOT = {XERO: "KCC_XERO_URL", QUICKBOOKS: "KCC_QBO_URL"}
ENV_CLIENT_ID = {XERO: "KCC_XERO_CLIENT_ID", QUICKBOOKS: "KCC_QBO_CLIENT_ID"}


class InsecureEndpoint(ConnectorError, ValueError):
    """An endpoint would carry tokens over plain http to a host that is not this computer."""


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (brackets allowed)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def require_secure(url: str) -> str:
    """Return ``url`` if it is https, or plain http on a loopback host; otherwise raise InsecureEndpoint."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return url
    raise InsecureEndpoint(
        f"Refusing to use {url!r}: only https addresses, or plain http on this computer "
        "(localhost, 127.x.x.x, ::1), may carry accounting-package tokens.",
        "Check the sandbox address (KCC_XERO_URL / KCC_QBO_URL or the connection settings).")


def allow_insecure_transport_for(url: str) -> None:
    """oauthlib refuses plain http; allow it only when ``url`` is a loopback sandbox."""
    if urlsplit(url).scheme == "http" and is_loopback_url(url):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


@dataclass(frozen=True)
class Endpoints:
    """Every address one provider needs. ``web_url`` is the root for "Goto document" links."""

    provider: str
    root: str                 # "" for production
    api_url: str              # Xero: .../api.xro/2.0 ; QuickBooks: .../v3
    authorize_url: str
    token_url: str
    connections_url: str = ""  # Xero only
    revoke_url: str = ""
    web_url: str = ""

    @property
    def is_sandbox(self) -> bool:
        return bool(self.root)

    def check(self) -> Endpoints:
        for url in (self.api_url, self.authorize_url, self.token_url, self.connections_url,
                    self.revoke_url, self.web_url):
            if url:
                require_secure(url)
        return self


PRODUCTION = {
    XERO: Endpoints(
        provider=XERO, root="",
        api_url="https://api.xero.com/api.xro/2.0",
        authorize_url="https://login.xero.com/identity/connect/authorize",
        token_url="https://identity.xero.com/connect/token",
        connections_url="https://api.xero.com/connections",
        revoke_url="https://identity.xero.com/connect/revocation",
        web_url="https://go.xero.com",
    ),
    QUICKBOOKS: Endpoints(
        provider=QUICKBOOKS, root="",
        api_url="https://quickbooks.api.intuit.com/v3",
        authorize_url="https://appcenter.intuit.com/connect/oauth2",
        token_url="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        revoke_url="https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        web_url="https://app.qbo.intuit.com/app",
    ),
}

# Where each address sits under a sandbox root. Kept in one table so a change in the sandbox's
# layout is a one-line fix here.
SANDBOX_PATHS = {
    XERO: {"api_url": "/api.xro/2.0", "authorize_url": "/identity/connect/authorize",
           "token_url": "/connect/token", "connections_url": "/connections",
           "revoke_url": "/connect/revocation", "web_url": "/web"},
    QUICKBOOKS: {"api_url": "/v3", "authorize_url": "/connect/oauth2",
                 "token_url": "/oauth2/v1/tokens/bearer", "revoke_url": "/oauth2/v1/tokens/revoke",
                 "web_url": "/app"},
}


def check_provider(provider: str) -> Provider:
    """``provider`` as a ``Provider``; a ValueError naming the known ones if it is none of them."""
    if provider not in PROVIDERS:
        raise ValueError(f"Unknown accounting package {provider!r}; expected one of {', '.join(PROVIDERS)}.")
    return Provider(provider)


def sandbox_endpoints(provider: str, root: str) -> Endpoints:
    """The endpoints of a sandbox served at ``root`` (e.g. ``http://127.0.0.1:8765``)."""
    root = require_secure(root.rstrip("/"))
    paths = SANDBOX_PATHS[check_provider(provider)]
    return Endpoints(provider=provider, root=root, **{k: root + v for k, v in paths.items()}).check()


def resolve_root(provider: str, override: str = "") -> str:
    """The sandbox root in force for ``provider``: env var first, then the settings' override, else ""."""
    return (os.environ.get(ENV_ROOT[check_provider(provider)], "").strip() or (override or "").strip())


def endpoints_for(provider: str, root_override: str = "") -> Endpoints:
    """Production endpoints unless a sandbox root is configured (see module docstring)."""
    root = resolve_root(provider, root_override)
    return sandbox_endpoints(provider, root) if root else PRODUCTION[check_provider(provider)]


@dataclass
class ConnectionSettings:
    """The one active connection. ``tenant_id`` is Xero's tenant id or QuickBooks' realm id."""

    provider: str = XERO
    api_root: str = ""                     # "" = production (unless the env var says otherwise)
    client_id: str = ""
    scopes: list[str] = field(default_factory=list)
    tenant_id: str = ""
    organisation_name: str = ""
    environment: str = "production"        # QuickBooks: "production" or "sandbox"; Xero: informational

    def __post_init__(self) -> None:
        provider = check_provider(self.provider)
        if not self.scopes:
            self.scopes = list(DEFAULT_SCOPES[provider])
        if not self.client_id:
            self.client_id = os.environ.get(ENV_CLIENT_ID[provider], "")

    @property
    def realm_id(self) -> str:
        return self.tenant_id

    @realm_id.setter
    def realm_id(self, value: str) -> None:
        self.tenant_id = value

    @property
    def connected(self) -> bool:
        """Settings say an organisation was chosen (the keyring decides whether tokens still work)."""
        return bool(self.tenant_id)

    def endpoints(self) -> Endpoints:
        return endpoints_for(self.provider, self.api_root)


# --- persistence ------------------------------------------------------------------------------------

class SettingsStore(Protocol):
    """Anything that keeps string settings: the app's database, or ``MemorySettingsStore`` in tests."""

    def get(self, key: str, default: str | None = None) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class MemorySettingsStore:
    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


PREFIX = "connection."
_FIELDS = ("provider", "api_root", "client_id", "scopes", "tenant_id", "organisation_name", "environment")


def load_connection(store: SettingsStore) -> ConnectionSettings | None:
    """The saved connection, or None if none was ever saved."""
    provider = store.get(PREFIX + "provider")
    if not provider:
        return None
    values = {name: store.get(PREFIX + name) or "" for name in _FIELDS if name != "scopes"}
    return ConnectionSettings(**values, scopes=(store.get(PREFIX + "scopes") or "").split())


def save_connection(store: SettingsStore, settings: ConnectionSettings) -> None:
    for name in _FIELDS:
        value = getattr(settings, name)
        store.set(PREFIX + name, " ".join(value) if name == "scopes" else str(value or ""))


def point_at(store: SettingsStore, provider: str, api_root: str = "", client_id: str = "") -> None:
    """Aims the next Connect at ``provider`` (and a root URL, e.g. a sandbox). Switching provider forgets
    the other provider's scopes, organisation and environment, which would otherwise be sent along."""
    check_provider(provider)
    previous = load_connection(store)
    if previous is None or previous.provider != provider:
        for name in ("scopes", "tenant_id", "organisation_name", "environment"):
            store.set(PREFIX + name, "")
    store.set(PREFIX + "provider", provider)
    if api_root:
        store.set(PREFIX + "api_root", api_root)
    if client_id:
        store.set(PREFIX + "client_id", client_id)
