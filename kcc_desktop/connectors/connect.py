"""Connecting to a package, reporting the connection, and opening a connector on it.

``connect`` runs the whole sign-in: the authorisation address (checked ahead of the browser, so a
refusal is reported in seconds: ``refusals.py``), the answer coming back to the redirect URI
(``loopback.py``), the token exchange, and the organisation choice. Nothing is saved unless all of it
succeeds: a new root, client id, scopes, environment or redirect URI given for this Connect
(``ConnectOptions``) is saved together with the new sign-in, tokens first (bound to the endpoints and
organisation they were issued for, ``tokens.bind``), so the settings never point at an organisation
without a sign-in, nor a sign-in at another address.

Each package's connector is imported inside the functions that need it, never at the top: the SDKs
(xero-python, python-quickbooks, intuit-oauth) are slow to import and only the connected package's is
ever used, so start-up (and ``status``) loads neither.
"""

from __future__ import annotations

import logging
import os
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import oauth, refusals
from .base import AccountingPackage, ConnectionRequired, ConnectorError
from .loopback import Answer, AnswerBox, SignIn
from .provider import Provider
from .settings import (
    ENV_CLIENT_ID,
    QUICKBOOKS,
    XERO,
    ConnectionSettings,
    Endpoints,
    SettingsStore,
    check_provider,
    load_connection,
    save_connection,
)
from .tokens import KeyringUnavailable, TokenManager, TokenSet, TokenStore, bind, binding_problem, register_secret

log = logging.getLogger(__name__)

ChooseTenant = Callable[[list[dict[str, str]]], str]   # [{"tenant_id", "name", "type"}] -> tenant_id

SANDBOX_CLIENT_ID = "kcc-desktop-sandbox"   # a local sandbox without a registration takes any client id
ENV_TIME_SCALE = "KCC_PACING_TIME_SCALE"


@dataclass
class ConnectOptions:
    """What one Connect may change (None: keep what is saved). Saved only when the sign-in succeeds."""

    api_root: str | None = None
    client_id: str | None = None
    scopes: list[str] | None = None
    environment: str | None = None       # QuickBooks: "production" or "sandbox"
    redirect_uri: str | None = None
    client_secret: str | None = field(default=None, repr=False)   # QuickBooks: to the keyring on success


@dataclass
class _Run:
    """How this Connect talks to the person: printing, the browser, the wait, where pasted answers go."""

    open_browser: bool
    timeout: float
    print_fn: Callable[[str], None]
    answers: AnswerBox | None
    preflight: bool


def settings_for_connect(provider: str, store: SettingsStore, options: ConnectOptions | None = None
                         ) -> ConnectionSettings:
    """The settings a Connect to ``provider`` will use: its options, else the environment's client id, else
    what was saved for the same provider. Nothing is saved here."""
    check_provider(provider)
    options = options or ConnectOptions()
    saved = load_connection(store)
    base = saved if saved is not None and saved.provider == provider else None
    client_id = (options.client_id or os.environ.get(ENV_CLIENT_ID[Provider(provider)], "").strip()
                 or (base.client_id if base else ""))
    return ConnectionSettings(
        provider=provider,
        api_root=(options.api_root if options.api_root is not None else base.api_root if base else "").strip(),
        client_id=client_id,
        scopes=list(options.scopes or (base.scopes if base else [])),
        environment=options.environment or (base.environment if base else "production"),
        redirect_uri=(options.redirect_uri if options.redirect_uri is not None
                      else base.redirect_uri if base else "").strip())


def connect(provider: str, store: SettingsStore, token_store: TokenStore, *, options: ConnectOptions | None = None,
            open_browser: bool = True, timeout: float = 300, choose_tenant: ChooseTenant | None = None,
            print_fn: Callable[[str], None] = print, answers: AnswerBox | None = None,
            preflight: bool = True) -> ConnectionSettings:
    """Sign in to ``provider`` in the browser and save the connection; returns the saved settings.

    With several Xero organisations, ``choose_tenant`` picks one (without it, the first is used and
    named through ``print_fn``). ``answers`` also takes an address the user pasted from the browser.
    """
    settings = settings_for_connect(provider, store, options)
    settings.endpoints().check()   # an insecure root is refused before anything else happens
    token_store.check_available()  # fail before the browser opens if there is nowhere safe to keep tokens
    run = _Run(open_browser, timeout, print_fn, answers, preflight)
    if provider == QUICKBOOKS:
        return _connect_quickbooks(settings, store, token_store, run, options or ConnectOptions())
    return _connect_xero(settings, store, token_store, run, options or ConnectOptions(), choose_tenant)


def _redirect_uri(settings: ConnectionSettings, options: ConnectOptions) -> str:
    """This Connect's own choice, else KCC_OAUTH_REDIRECT_URI, else the saved one, else the default."""
    return options.redirect_uri or settings.redirect_uri_for_sign_in()


def _ask_browser(sign_in: SignIn, endpoints: Endpoints, settings: ConnectionSettings, run: _Run,
                 pkce: oauth.Pkce | None) -> Answer:
    """Send the person to the sign-in page and wait for its answer; a refusal is explained at once."""
    url = oauth.authorization_url(endpoints.authorize_url, settings.client_id, sign_in.redirect_uri,
                                  settings.scopes, sign_in.state, pkce)

    def refused(error: str, description: str) -> oauth.SignInRefused:
        return refusals.explain(settings.provider, error, description, redirect_uri=sign_in.redirect_uri,
                                client_id=settings.client_id, scopes=settings.scopes,
                                environment=settings.environment)

    run.print_fn(f"Open this address in your browser to connect:\n{url}")
    if run.preflight:
        found = refusals.preflight(url, sign_in.redirect_uri)
        if found is not None:
            raise refused(*found)
    if sign_in.plan.relay or run.answers is not None:
        run.print_fn("If the browser does not come back to KCC Desktop, paste the address it ended on here.")
    if run.open_browser:
        try:
            webbrowser.open(url, new=1, autoraise=True)
        except Exception:  # no browser: the printed address still works
            log.info("Could not open a browser; the address was printed instead.")
    answer = sign_in.wait(run.timeout)
    if answer.error:
        raise refused(answer.error, answer.description)
    if not answer.code:
        raise oauth.AuthorizationError("The sign-in page came back without an authorisation code.")
    register_secret(answer.code)
    return answer


def _connect_xero(settings: ConnectionSettings, store: SettingsStore, token_store: TokenStore, run: _Run,
                  options: ConnectOptions, choose_tenant: ChooseTenant | None) -> ConnectionSettings:
    from .xero import list_connections

    endpoints = settings.endpoints().check()
    settings.client_id = settings.client_id or (SANDBOX_CLIENT_ID if endpoints.is_sandbox else "")
    if not settings.client_id:
        raise ConnectorError("No Xero app client id is configured for KCC Desktop.",
                             f"Set {ENV_CLIENT_ID[XERO]} to the client id of your Xero app (see the README, "
                             "'Register your app with Xero'), then connect again.")
    pkce = oauth.make_pkce()
    with SignIn(_redirect_uri(settings, options), run.answers) as sign_in:
        answer = _ask_browser(sign_in, endpoints, settings, run, pkce)
        tokens = TokenSet.from_response(oauth.exchange_code(
            endpoints.token_url, answer.code, sign_in.redirect_uri, settings.client_id,
            code_verifier=pkce.verifier, label="Xero"))
        tenants = list_connections(endpoints.connections_url, tokens.access_token)
        if not tenants:
            raise ConnectorError("The Xero sign-in worked but gave KCC Desktop no organisation to use.",
                                 "Connect again and tick an organisation on Xero's consent page.")
        sign_in.finish(True, "Return to KCC Desktop" + (" to choose the organisation." if len(tenants) > 1 else "."))
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
            run.print_fn(f"Several organisations are connected; using {chosen['name']}.")
    settings.tenant_id = chosen["tenant_id"]
    settings.organisation_name = chosen["name"]
    settings.environment = "sandbox" if endpoints.is_sandbox else "production"
    _save(store, token_store, settings, bind(tokens, endpoints.audience, settings.tenant_id))
    log.info("Connected to Xero organisation %s (%d offered by the sign-in).", settings.tenant_id, len(tenants))
    return settings


def _connect_quickbooks(settings: ConnectionSettings, store: SettingsStore, token_store: TokenStore, run: _Run,
                        options: ConnectOptions) -> ConnectionSettings:
    from .quickbooks import finish_connect
    from .quickbooks.auth import client_id_for, client_secret_for

    endpoints = settings.endpoints().check()
    settings.client_id = client_id_for(settings)
    if options.client_secret:
        register_secret(options.client_secret)
    secret = options.client_secret or client_secret_for(settings, token_store)
    with SignIn(_redirect_uri(settings, options), run.answers) as sign_in:
        answer = _ask_browser(sign_in, endpoints, settings, run, None)
        if not answer.realm_id:
            raise oauth.AuthorizationError("QuickBooks did not say which company was chosen (no realmId).")
        tokens = finish_connect(settings, answer.code, answer.realm_id, sign_in.redirect_uri, client_secret=secret)
        sign_in.finish(True, "Return to KCC Desktop.")
    settings.realm_id = answer.realm_id
    if options.client_secret:
        token_store.set_client_secret(QUICKBOOKS, settings.client_id, options.client_secret)
    _save(store, token_store, settings, tokens, before_settings=lambda: _name_company(settings, token_store))
    log.info("Connected to QuickBooks company %s.", settings.realm_id)
    return settings


def _name_company(settings: ConnectionSettings, token_store: TokenStore) -> None:
    """The redirect names the company only by id; ask for its name (a failure here is not fatal)."""
    from .quickbooks import QuickBooksPackage

    try:
        settings.organisation_name = QuickBooksPackage(settings, token_store).organisation().name
    except ConnectorError as exc:
        log.info("Connected, but the company's name could not be read (%s).", exc.message)


def _save(store: SettingsStore, token_store: TokenStore, settings: ConnectionSettings, tokens: TokenSet,
          before_settings: Callable[[], None] | None = None) -> None:
    """Tokens first (settings never point at nothing), then the settings; no orphaned sign-in is left."""
    previous = load_connection(store)
    token_store.save(settings.provider, settings.tenant_id, tokens)
    if before_settings is not None:
        before_settings()
    save_connection(store, settings)
    if previous and previous.tenant_id and (previous.provider, previous.tenant_id) != (settings.provider,
                                                                                      settings.tenant_id):
        token_store.delete(previous.provider, previous.tenant_id)


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
        endpoints = settings.endpoints()
    except (KeyringUnavailable, ValueError) as exc:
        out.update(reconnect_needed=True, message=str(exc))
        return out
    if tokens is None or not tokens.refresh_token:
        out.update(reconnect_needed=True,
                   message="Valid Connection Required: no saved sign-in was found. Use Connect to reconnect.")
        return out
    problem = binding_problem(tokens, endpoints.audience, unbound_ok=not endpoints.is_sandbox,
                              tenant=settings.tenant_id)
    if problem:
        out.update(reconnect_needed=True, message=f"Valid Connection Required: {problem}. Use Connect to sign in "
                                                  "there.")
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
                           oauth.refresher(endpoints.token_url, settings.client_id),
                           audience=endpoints.audience, unbound_ok=not endpoints.is_sandbox)
    return XeroPackage(settings, manager, endpoints=endpoints, **options)

