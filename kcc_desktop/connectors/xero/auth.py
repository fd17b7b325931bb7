"""Signing in to Xero: what xero-python needs to know about tokens, and the organisations a sign-in reaches.

The browser part (PKCE, the loopback redirect, the code exchange) is shared with QuickBooks in
``connectors/oauth.py``; what is Xero's alone lives here.

SDK quirks handled here (see ``../shared/reference/integration-facts.md``):
- ``Configuration`` is a process-wide singleton factory: ``Configuration()`` returns a copy of the
  first one ever built, so we build it bare and then assign our own ``oauth2_token``.
- The SDK would refresh tokens itself via the class attribute ``TokenApi.refresh_token_url``; it can't
  (a PKCE app has no client secret), so ``TokenManager`` refreshes ahead of expiry and the SDK always
  gets a token dict with only its allowed keys, scope as a list and no ``expires_at``. The class
  attribute is still pointed at the configured token URL so nothing can ever reach production.
"""

from __future__ import annotations

import threading

import requests
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi

from ..base import ConnectionRequired, MalformedResponse, Rejected, TransientError
from ..tokens import TokenManager, TokenResponse, TokenSet

_sdk_lock = threading.Lock()


def make_api_client(client_id: str, token_url: str, tokens: TokenManager) -> ApiClient:
    """An SDK ``ApiClient`` whose token comes from ``tokens`` (the SDK never refreshes it itself)."""
    with _sdk_lock:
        config = Configuration()    # a copy of the process-wide default: safe to change
        config.oauth2_token = OAuth2Token(client_id=client_id)  # no secret: the SDK never refreshes
        TokenApi.refresh_token_url = token_url

    def saved(token: TokenResponse) -> None:
        # Only reached if the SDK ever refreshed on its own: keep its rotated refresh token.
        new = TokenSet.from_response(token, previous=tokens.tokens())
        tokens.store.save(tokens.provider, tokens.tenant, new)
        tokens.forget()

    return ApiClient(config, pool_threads=1, oauth2_token_getter=lambda: tokens.tokens().sdk_dict(),
                     oauth2_token_saver=saved)


Tenant = dict[str, str]   # {"tenant_id", "name", "type"}


def list_connections(connections_url: str, access_token: str, timeout: float = 30) -> list[Tenant]:
    """The organisations this sign-in may use: [{"tenant_id", "name", "type"}] (organisations only)."""
    try:
        resp = requests.get(connections_url, timeout=timeout,
                            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    except requests.RequestException as exc:
        raise TransientError(f"Could not reach Xero to list organisations ({type(exc).__name__}).") from None
    if resp.status_code in (401, 403):
        raise ConnectionRequired("Valid Connection Required: Xero did not accept the sign-in when listing "
                                 "organisations.")
    if resp.status_code >= 500:
        raise TransientError(f"Xero had a problem listing organisations (HTTP {resp.status_code}).")
    if resp.status_code >= 400:
        raise Rejected(f"Xero refused to list organisations (HTTP {resp.status_code}).")
    try:
        rows = resp.json()
        tenants = [{"tenant_id": str(r["tenantId"]), "name": str(r.get("tenantName") or ""),
                    "type": str(r.get("tenantType") or "ORGANISATION")} for r in rows]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise MalformedResponse("Xero's list of organisations was not in the expected shape.") from None
    return [t for t in tenants if t["type"].upper() == "ORGANISATION"]

