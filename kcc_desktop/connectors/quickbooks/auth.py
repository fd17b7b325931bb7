"""Signing in to QuickBooks with intuit-oauth: the AuthClient, its failures, the app's credentials, and
trading the sign-in's code for tokens.

The browser part (the loopback redirect bringing back code and realmId) is shared with Xero in
``connectors/oauth.py``. intuit-oauth's ``AuthClient`` reads Intuit's discovery document in its
constructor (a network call), so it is made only when a sign-in, refresh or revoke needs it, and a
failure there is translated like any other.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.config import DISCOVERY_URL
from intuitlib.exceptions import AuthClientError

from ..base import ConnectionRequired, MalformedResponse, Rejected, TransientError
from ..oauth import code_refused
from ..settings import QUICKBOOKS, ConnectionSettings, require_secure
from ..tokens import TokenResponse, TokenSet, TokenStore, bind, redact, register_secret
from .http import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)

# Where a sandbox serves its OpenID discovery document, under its root.
SANDBOX_DISCOVERY_PATH = "/.well-known/openid_configuration"
SANDBOX_CLIENT_ID = "kcc-desktop-sandbox"
# A local sandbox accepts any client credentials; a real Intuit app's secret lives in the keyring
# (or arrives once through this variable and is then moved there).
SANDBOX_CLIENT_SECRET = "kcc-desktop-sandbox-secret"
ENV_CLIENT_SECRET = "KCC_QBO_CLIENT_SECRET"


class _AuthClient(AuthClient):  # type: ignore[misc]  # intuit-oauth ships no types: its class is Any
    """intuit-oauth's client with a timeout on every call (it sets none, even for discovery)."""

    def __init__(self, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        self.kcc_timeout = timeout        # set first: the parent constructor already makes a request
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.kcc_timeout)
        return super().request(method, url, *args, **kwargs)


def auth_failure(exc: BaseException, doing: str) -> BaseException:
    """intuit-oauth failures in plain words; never the response body (it may echo a token)."""
    if isinstance(exc, requests.RequestException):
        return TransientError(f"Could not reach the QuickBooks sign-in service to {doing} "
                              f"({type(exc).__name__}).")
    if isinstance(exc, AuthClientError):
        status = exc.status_code
        error = _error_code(exc)
        if status >= 500 or status == 429:
            return TransientError(f"The QuickBooks sign-in service had a problem (HTTP {status}) "
                                  f"while trying to {doing}.")
        if error in ("invalid_grant", "invalid_client", "unauthorized_client") or status in (401, 403):
            return ConnectionRequired("Valid Connection Required: QuickBooks no longer accepts KCC Desktop's "
                                      f"sign-in ({error or 'HTTP ' + str(status)}); it was revoked or has expired.")
        return Rejected(f"The QuickBooks sign-in service refused to {doing} (HTTP {status}"
                        f"{', ' + redact(error) if error else ''}).")
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return MalformedResponse(f"The QuickBooks sign-in service answered in an unexpected shape "
                                 f"while trying to {doing}.")
    return exc  # not ours to translate


def discovery_url(settings: ConnectionSettings) -> str:
    endpoints = settings.endpoints()
    if endpoints.is_sandbox:
        return endpoints.root + SANDBOX_DISCOVERY_PATH
    return str(DISCOVERY_URL["sandbox" if settings.environment == "sandbox" else "production"])


def make_auth_client(settings: ConnectionSettings, client_secret: str, redirect_uri: str = "",
                     timeout: float = DEFAULT_TIMEOUT) -> AuthClient:
    """An intuit-oauth AuthClient. Its constructor fetches the discovery document (a network call)."""
    if not settings.client_id:
        raise ConnectionRequired("Valid Connection Required: no QuickBooks client id is configured.",
                                 "Enter the app's client id in the connection settings, then Connect.")
    url = discovery_url(settings)
    try:
        client = _AuthClient(settings.client_id, client_secret, redirect_uri or "http://127.0.0.1/callback",
                             require_secure(url), timeout=timeout)
    except Exception as exc:
        failure = auth_failure(exc, "read its settings")
        if failure is exc:
            raise
        raise failure from None
    # The discovery document decides where tokens go: hold it to the same rule as our own settings.
    for endpoint in (client.token_endpoint, client.revoke_endpoint):
        require_secure(endpoint)
    return client


def token_json(client: AuthClient) -> TokenResponse:
    """What intuit-oauth left on the client after a token call, as token-endpoint JSON."""
    for secret in (client.access_token, client.refresh_token):
        register_secret(secret)
    if not client.access_token:
        raise MalformedResponse("The QuickBooks sign-in service answered without an access token.")
    return {"access_token": client.access_token, "refresh_token": client.refresh_token,
            "expires_in": client.expires_in, "token_type": "Bearer",
            "x_refresh_token_expires_in": getattr(client, "x_refresh_token_expires_in", None)}


def client_id_for(settings: ConnectionSettings) -> str:
    if settings.client_id:
        return settings.client_id
    if settings.endpoints().is_sandbox:
        return SANDBOX_CLIENT_ID
    raise ConnectionRequired("No QuickBooks app client id is configured for KCC Desktop.",
                             "Set KCC_QBO_CLIENT_ID to your Intuit app's client id, then connect again.")


def client_secret_for(settings: ConnectionSettings, token_store: TokenStore) -> str:
    client_id = client_id_for(settings)
    secret = token_store.client_secret(QUICKBOOKS, client_id)
    if secret:
        return secret
    from_env = os.environ.get(ENV_CLIENT_SECRET, "").strip()
    if from_env:
        token_store.set_client_secret(QUICKBOOKS, client_id, from_env)
        return from_env
    if settings.endpoints().is_sandbox:
        return SANDBOX_CLIENT_SECRET
    raise ConnectionRequired("Valid Connection Required: the QuickBooks app's client secret is not saved in the "
                             "system keyring.",
                             f"Set {ENV_CLIENT_SECRET} once (it is then kept in the keyring), then connect again.")


def finish_connect(settings: ConnectionSettings, code: str, realm_id: str, redirect_uri: str, *,
                   client_secret: str, timeout: float = DEFAULT_TIMEOUT) -> TokenSet:
    """Trade the code for tokens (intuit-oauth); returns them bound to the settings' endpoints and the
    company. The caller saves them (only once the whole sign-in has succeeded)."""
    if not realm_id:
        raise Rejected("QuickBooks did not say which company was chosen (no realmId came back).",
                       "Start Connect again.")
    client = make_auth_client(settings, client_secret, redirect_uri, timeout=timeout)
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except AuthClientError as exc:
        error = _error_code(exc)
        if error in ("invalid_grant", "invalid_client", "unauthorized_client") or exc.status_code in (401, 403):
            raise code_refused("Intuit", error or "invalid_client", settings.client_id, has_secret=True) from None
        raise auth_failure(exc, "finish connecting") from None
    except Exception as exc:
        failure = auth_failure(exc, "finish connecting")
        if failure is exc:
            raise
        raise failure from None
    tokens = TokenSet.from_response(token_json(client))
    tokens.extra["realm_id"] = realm_id
    bind(tokens, settings.endpoints().audience, realm_id)
    log.info("Signed in to QuickBooks company %s.", realm_id)
    return tokens


def _error_code(exc: AuthClientError) -> str:
    try:
        return str((exc.response.json() or {}).get("error", ""))
    except (ValueError, AttributeError):
        return ""
