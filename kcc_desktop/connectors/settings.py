"""Connection settings: which package, which organisation, which endpoints.

Nothing secret lives here (tokens and client secrets go to the keyring, see ``tokens.py``), so the
settings can sit in the app's database. Endpoints default to the real production URLs; a sandbox
root can be given by ``KCC_XERO_URL`` / ``KCC_QBO_URL`` (wins, so a test or demo run never touches a
saved production connection by accident) or by ``ConnectionSettings.api_root``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from .base import ConnectorError
from .provider import Provider

XERO = Provider.XERO
QUICKBOOKS = Provider.QUICKBOOKS
PROVIDERS = tuple(Provider)

# Xero's granular scopes, exactly those KCC Desktop's features use: the organisation, accounts, tax rates
# and items (accounting.settings); customers and suppliers (accounting.contacts); invoices and credit notes
# (accounting.invoices); payments, overpayments and prepayment allocations (accounting.payments); reading
# the bank transaction behind an overpayment (accounting.banktransactions.read). Apps created on or after
# 2 March 2026 may ask for nothing else; see ../shared/reference/integration-facts.md.
XERO_IDENTITY_SCOPES = ["openid", "profile", "email", "offline_access"]
XERO_GRANULAR_SCOPES = [*XERO_IDENTITY_SCOPES, "accounting.settings", "accounting.contacts", "accounting.invoices",
                        "accounting.payments", "accounting.banktransactions.read"]
# Apps created before 2 March 2026 (until September 2027): the broad transactions scope.
XERO_BROAD_SCOPES = [*XERO_IDENTITY_SCOPES, "accounting.transactions", "accounting.contacts", "accounting.settings"]
XERO_SCOPE_SETS = {"granular": XERO_GRANULAR_SCOPES, "broad": XERO_BROAD_SCOPES}
XERO_DEFAULT_SCOPES = XERO_GRANULAR_SCOPES
QBO_DEFAULT_SCOPES = ["com.intuit.quickbooks.accounting"]
DEFAULT_SCOPES = {XERO: XERO_DEFAULT_SCOPES, QUICKBOOKS: QBO_DEFAULT_SCOPES}
# Intuit's two sets of hosts: production companies, or the sandbox companies of a developer account.
QBO_ENVIRONMENTS = ("production", "sandbox")

ENV_ROOT = {XERO: "KCC_XERO_URL", QUICKBOOKS: "KCC_QBO_URL"}
ENV_CLIENT_ID = {XERO: "KCC_XERO_CLIENT_ID", QUICKBOOKS: "KCC_QBO_CLIENT_ID"}
# Where the browser brings the sign-in's answer back. Register exactly this address with the app (Xero:
# developer.xero.com; Intuit: development keys). ``KCC_OAUTH_REDIRECT_PORT`` is the older way to set its port.
ENV_REDIRECT_URI = "KCC_OAUTH_REDIRECT_URI"
ENV_REDIRECT_PORT = "KCC_OAUTH_REDIRECT_PORT"
DEFAULT_REDIRECT_PORT = 53682
DEFAULT_REDIRECT_URI = f"http://localhost:{DEFAULT_REDIRECT_PORT}/callback"


def parse_scopes(provider: str, text: str) -> list[str]:
    """A scope setting as the user gives it: "granular", "broad" (Xero), or the scopes themselves."""
    words = text.replace(",", " ").split()
    if not words:
        raise ValueError("No scopes were given.")
    if len(words) == 1 and words[0].lower() in XERO_SCOPE_SETS:
        if check_provider(provider) != XERO:
            raise ValueError("granular and broad are Xero's scope sets; give QuickBooks' scopes by name.")
        return list(XERO_SCOPE_SETS[words[0].lower()])
    return words


def scope_setting(scopes: list[str]) -> str:
    """The name of a scope list ("granular", "broad") or "custom"."""
    return next((name for name, known in XERO_SCOPE_SETS.items() if set(scopes) == set(known)), "custom")


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

    @property
    def audience(self) -> str:
        """Where a sign-in made on these endpoints may be used: tokens are saved bound to it, and are never
        sent anywhere else (a changed root or environment needs a new sign-in)."""
        return f"{self.api_url} {self.token_url}"

    @property
    def host(self) -> str:
        """The API's address without its path, for messages."""
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"

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
# Intuit's sandbox companies: the same sign-in hosts, other API and web hosts (Intuit's "sandbox" docs).
INTUIT_SANDBOX = replace(PRODUCTION[QUICKBOOKS], api_url="https://sandbox-quickbooks.api.intuit.com/v3",
                         web_url="https://app.sandbox.qbo.intuit.com/app")

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


def endpoints_for(provider: str, root_override: str = "", environment: str = "production") -> Endpoints:
    """Production endpoints unless a sandbox root is configured (see module docstring); QuickBooks'
    ``environment`` "sandbox" picks Intuit's sandbox hosts."""
    root = resolve_root(provider, root_override)
    if root:
        return sandbox_endpoints(provider, root)
    if check_provider(provider) == QUICKBOOKS and environment == "sandbox":
        return INTUIT_SANDBOX
    return PRODUCTION[check_provider(provider)]


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
    redirect_uri: str = ""                 # "" = KCC_OAUTH_REDIRECT_URI, else the default (see redirect_uri_for)

    def __post_init__(self) -> None:
        provider = check_provider(self.provider)
        self.environment = self.environment or "production"
        if provider == QUICKBOOKS and self.environment not in QBO_ENVIRONMENTS:
            raise ValueError(f"Unknown QuickBooks environment {self.environment!r}; "
                             f"expected one of {', '.join(QBO_ENVIRONMENTS)}.")
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
        return endpoints_for(self.provider, self.api_root, self.environment)

    def redirect_uri_for_sign_in(self) -> str:
        """Where the browser brings the answer: ``KCC_OAUTH_REDIRECT_URI``, else the saved address, else
        ``http://localhost:53682/callback``. Intuit's production keys take only https: there is no default."""
        explicit = os.environ.get(ENV_REDIRECT_URI, "").strip() or self.redirect_uri
        if explicit:
            return explicit
        port = os.environ.get(ENV_REDIRECT_PORT, "").strip()
        if port:
            return f"http://localhost:{int(port)}/callback"
        if self.provider == QUICKBOOKS and self.environment == "production" and not self.endpoints().is_sandbox:
            raise ConnectorError(
                "QuickBooks production keys need an https redirect URI, and none is set.",
                "Host the page resources/oauth/callback.html on an https address of yours (see the README, "
                "'Register your app with Intuit'), register that address in your app's production Keys & OAuth, "
                f"and set {ENV_REDIRECT_URI} to it, or choose --environment sandbox with development keys.")
        return DEFAULT_REDIRECT_URI


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
_FIELDS = ("provider", "api_root", "client_id", "scopes", "tenant_id", "organisation_name", "environment",
           "redirect_uri")


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
