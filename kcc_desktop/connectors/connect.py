"""Connecting to a package, reporting the connection, and opening a connector on it.

``connect`` runs the whole sign-in (browser, loopback redirect, token exchange, organisation choice)
and saves tokens to the keyring BEFORE the settings name the organisation, so the settings never
point at an organisation without a sign-in. For QuickBooks the browser part is shared (no PKCE:
client id + secret) and ``quickbooks/auth.py`` finishes it (``finish_connect``: the code exchange
through intuit-oauth, tokens saved).

Each package's connector is imported inside the functions that need it, never at the top: the SDKs
(xero-python, python-quickbooks, intuit-oauth) are slow to import and only the connected package's is
ever used, so start-up (and ``status``) loads neither.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from . import oauth
from .base import AccountingPackage, ConnectionRequired, ConnectorError
from .settings import (
    QUICKBOOKS,
    XERO,
    ConnectionSettings,
    SettingsStore,
    check_provider,
    load_connection,
    save_connection,
)
from .tokens import KeyringUnavailable, TokenManager, TokenSet, TokenStore

log = logging.getLogger(__name__)

ChooseTenant = Callable[[list[dict[str, str]]], str]   # [{"tenant_id", "name", "type"}] -> tenant_id

# The client id of KCC Desktop's own Xero app (PKCE: public, not a secret). Sandboxes accept any id.
XERO_CLIENT_ID = os.environ.get("KCC_XERO_CLIENT_ID", "")
SANDBOX_CLIENT_ID = "kcc-desktop-sandbox"
ENV_TIME_SCALE = "KCC_PACING_TIME_SCALE"


def _new_settings(provider: str, store: SettingsStore) -> ConnectionSettings:
    """Fresh settings for ``provider``, keeping what the user configured before (root, client id, scopes)."""
    previous = load_connection(store)
    if previous is not None and previous.provider == provider:
        return ConnectionSettings(provider=provider, api_root=previous.api_root, client_id=previous.client_id,
                                  scopes=list(previous.scopes), environment=previous.environment)
    return ConnectionSettings(provider=provider)


def connect(provider: str, store: SettingsStore, token_store: TokenStore, *, open_browser: bool = True,
            timeout: float = 300, choose_tenant: ChooseTenant | None = None,
            print_fn: Callable[[str], None] = print) -> ConnectionSettings:
    """Sign in to ``provider`` in the browser and save the connection; returns the saved settings.

    With several Xero organisations, ``choose_tenant`` picks one (without it, the first is used and
    named through ``print_fn``).
    """
    check_provider(provider)
    settings = _new_settings(provider, store)
    token_store.check_available()  # fail before the browser opens if there is nowhere safe to keep tokens
    if provider == QUICKBOOKS:
        return _connect_quickbooks(settings, store, token_store, open_browser, timeout, print_fn)
    return _connect_xero(settings, store, token_store, open_browser, timeout, choose_tenant, print_fn)


def _connect_xero(settings: ConnectionSettings, store: SettingsStore, token_store: TokenStore, open_browser: bool,
                  timeout: float, choose_tenant: ChooseTenant | None,
                  print_fn: Callable[[str], None]) -> ConnectionSettings:
    from .xero import list_connections

    endpoints = settings.endpoints().check()
    if not settings.client_id:
        settings.client_id = XERO_CLIENT_ID or (SANDBOX_CLIENT_ID if endpoints.is_sandbox else "")
    if not settings.client_id:
        raise ConnectorError("No Xero app client id is configured for KCC Desktop.",
                             "Set KCC_XERO_CLIENT_ID to the client id of your Xero app, then connect again.")
    result = oauth.authorize(endpoints.authorize_url, settings.client_id, settings.scopes, use_pkce=True,
                             open_browser=open_browser, timeout=timeout, print_fn=print_fn)
    tokens = TokenSet.from_response(oauth.exchange_code(endpoints.token_url, result, settings.client_id))
    tenants = list_connections(endpoints.connections_url, tokens.access_token)
    if not tenants:
        raise ConnectorError("The Xero sign-in worked but gave KCC Desktop no organisation to use.",
                             "Connect again and tick an organisation on Xero's consent page.")
    chosen = tenants[0]
    if len(tenants) > 1:
        if choose_tenant is not None:
            wanted = choose_tenant(tenants)
            matches = [t for t in tenants if t["tenant_id"] == wanted]
            if not matches:
                raise ConnectorError("The organisation chosen is not one this sign-in can use.",
                                     "Connect again and choose from the list offered.")
            chosen = matches[0]
        else:
            print_fn(f"Several organisations are connected; using {chosen['name']}.")
    previous = load_connection(store)
    settings.tenant_id = chosen["tenant_id"]
    settings.organisation_name = chosen["name"]
    settings.environment = "sandbox" if endpoints.is_sandbox else "production"
    token_store.save(XERO, settings.tenant_id, tokens)   # tokens first: settings never point at nothing
    save_connection(store, settings)
    if previous and previous.tenant_id and (previous.provider, previous.tenant_id) != (XERO, settings.tenant_id):
        token_store.delete(previous.provider, previous.tenant_id)   # no orphaned sign-ins in the keyring
    log.info("Connected to Xero organisation %s (%d offered by the sign-in).", settings.tenant_id, len(tenants))
    return settings


def _connect_quickbooks(settings: ConnectionSettings, store: SettingsStore, token_store: TokenStore,
                        open_browser: bool, timeout: float, print_fn: Callable[[str], None]) -> ConnectionSettings:
    from .quickbooks import QuickBooksPackage, finish_connect

    endpoints = settings.endpoints().check()
    if not settings.client_id:
        raise ConnectorError("No QuickBooks app client id is configured for KCC Desktop.",
                             "Set KCC_QBO_CLIENT_ID (and save the client secret), then connect again.")
    result = oauth.authorize(endpoints.authorize_url, settings.client_id, settings.scopes, use_pkce=False,
                             open_browser=open_browser, timeout=timeout, print_fn=print_fn)
    if not result.realm_id:
        raise oauth.AuthorizationError("QuickBooks did not say which company was chosen (no realmId).")
    previous = load_connection(store)
    finish_connect(settings, result.code, result.realm_id, result.redirect_uri, token_store=token_store)  # saves tokens
    settings.realm_id = result.realm_id
    # The redirect names the company only by id; ask for its name (a failure here is not fatal).
    try:
        settings.organisation_name = QuickBooksPackage(settings, token_store).organisation().name
    except ConnectorError as exc:
        print_fn(f"Connected, but the company's name could not be read ({exc.message}).")
    save_connection(store, settings)
    if previous and previous.tenant_id and (previous.provider, previous.tenant_id) != (QUICKBOOKS, settings.realm_id):
        token_store.delete(previous.provider, previous.tenant_id)
    log.info("Connected to QuickBooks company %s.", settings.realm_id)
    return settings


def _is_sandbox(settings: ConnectionSettings | None) -> bool:
    try:
        return bool(settings and settings.endpoints().is_sandbox)
    except ValueError:      # an insecure sandbox address: open_package will say so
        return False


def status(store: SettingsStore, token_store: TokenStore) -> dict[str, Any]:
    """What the app knows about its connection, without calling the package.

    Keys: provider, connected, organisation, tenant_id, environment, sandbox, reconnect_needed, message.
    """
    settings = load_connection(store)
    out: dict[str, Any] = {"provider": settings.provider if settings else None, "connected": False,
                           "organisation": settings.organisation_name if settings else None,
                           "tenant_id": settings.tenant_id if settings else None,
                           "environment": settings.environment if settings else None,
                           "sandbox": _is_sandbox(settings),
                           "reconnect_needed": False, "message": ""}
    if settings is None or not settings.tenant_id:
        out["message"] = "Not connected to an accounting package."
        return out
    try:
        tokens = token_store.load(settings.provider, settings.tenant_id)
    except KeyringUnavailable as exc:
        out.update(reconnect_needed=True, message=str(exc))
        return out
    if tokens is None or not tokens.refresh_token:
        out.update(reconnect_needed=True,
                   message="Valid Connection Required: no saved sign-in was found. Use Connect to reconnect.")
        return out
    out.update(connected=True, message=f"Connected to {settings.organisation_name or settings.tenant_id}.")
    return out


def open_package(store: SettingsStore, token_store: TokenStore, **options: Any) -> AccountingPackage:
    """The connector for the saved connection. Raises ConnectionRequired when there is none.

    ``options`` go to the connector (e.g. ``timeout``, ``time_scale``, ``pacer``);
    ``KCC_PACING_TIME_SCALE`` sets ``time_scale`` for a time-scaled sandbox.
    """
    settings = load_connection(store)
    if settings is None or not settings.tenant_id:
        raise ConnectionRequired("Valid Connection Required: KCC Desktop is not connected to an accounting package.")
    if os.environ.get(ENV_TIME_SCALE) and "time_scale" not in options:
        options["time_scale"] = float(os.environ[ENV_TIME_SCALE])
    if settings.provider == QUICKBOOKS:
        from .quickbooks import QuickBooksPackage

        return QuickBooksPackage(settings, token_store, **options)
    from .xero import XeroPackage

    endpoints = settings.endpoints().check()
    manager = TokenManager(token_store, XERO, settings.tenant_id,
                           oauth.refresher(endpoints.token_url, settings.client_id))
    return XeroPackage(settings, manager, endpoints=endpoints, **options)


# --- command-line front ends (the lead wires these into kcc-desktop) ------------------------------------

def _stdin_chooser(print_fn: Callable[[str], None]) -> ChooseTenant | None:
    if not sys.stdin or not sys.stdin.isatty():
        return None

    def choose(tenants: list[dict[str, str]]) -> str:
        for n, t in enumerate(tenants, 1):
            print_fn(f"  {n}. {t['name']}")
        while True:
            answer = input(f"Organisation to use [1-{len(tenants)}]: ").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(tenants):
                return tenants[int(answer) - 1]["tenant_id"]
    return choose


def connect_command(store: SettingsStore, token_store: TokenStore, provider: str, no_browser: bool = False,
                    timeout: float = 300) -> int:
    """``kcc-desktop connect xero|quickbooks [--no-browser]``: 0 once connected, 1 on failure."""
    try:
        settings = connect(provider, store, token_store, open_browser=not no_browser, timeout=timeout,
                           choose_tenant=_stdin_chooser(print), print_fn=lambda s: print(s, flush=True))
    except (ConnectorError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Connected to {settings.organisation_name or settings.tenant_id} ({settings.provider}).")
    return 0


def status_command(store: SettingsStore, token_store: TokenStore, as_json: bool = False) -> int:
    """``kcc-desktop status [--json]``: always 0 (the output says whether a reconnect is needed)."""
    info = status(store, token_store)
    if as_json:
        print(json.dumps(info, sort_keys=True))
    else:
        print(info["message"])
        if info["connected"]:
            print(f"Package: {info['provider']}  Organisation: {info['organisation']}"
                  f"{'  (sandbox)' if info['sandbox'] else ''}")
    return 0
