"""Drive the QuickBooks sandbox "as a bookkeeper" through the official SDKs (tests, demo, connectors).

``qbo_login`` plays the browser: it opens the authorise URL intuit-oauth builds, takes the ``code`` and
``realmId`` from the redirect (the sandbox consents at once) and exchanges the code with intuit-oauth.
``qbo_sdk_client`` returns a python-quickbooks client pointed at the sandbox's API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import parse_qs, urlsplit

import requests

if TYPE_CHECKING:  # the SDKs ship no types: these names are only documentation to mypy
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REDIRECT_URI = "http://127.0.0.1:8765/callback"  # never contacted: the code is read off the redirect
MINOR_VERSION = 75


class QboTokens(TypedDict):
    """What a connection keeps after "Connect to QuickBooks": tokens, realm and client settings."""

    access_token: str
    refresh_token: str
    expires_in: int
    x_refresh_token_expires_in: int
    realm_id: str
    client_id: str
    client_secret: str
    redirect_uri: str


def _allow_plain_http(url: str) -> None:
    """oauthlib refuses http:// unless told otherwise; only ever relax that for loopback."""
    if urlsplit(url).hostname in LOOPBACK:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def auth_client(urls: Mapping[str, str], client_id: str = "test", client_secret: str = "test",
                redirect_uri: str = REDIRECT_URI, **tokens: Any) -> AuthClient:
    """An intuit-oauth ``AuthClient`` whose discovery document comes from the sandbox."""
    from intuitlib.client import AuthClient

    return AuthClient(client_id, client_secret, redirect_uri, urls["discovery_url"], **tokens)


def qbo_login(urls: Mapping[str, str], client_id: str = "test", client_secret: str = "test",
              redirect_uri: str = REDIRECT_URI) -> QboTokens:
    """Connect like a user clicking "Connect to QuickBooks": returns the token dict to keep."""
    from intuitlib.enums import Scopes

    client = auth_client(urls, client_id, client_secret, redirect_uri)
    url = client.get_authorization_url([Scopes.ACCOUNTING])
    resp = requests.get(url, allow_redirects=False, timeout=10)
    if resp.status_code != 302:
        raise RuntimeError(f"authorise answered {resp.status_code}: {resp.text[:200]}")
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    if "error" in query:
        raise RuntimeError(f"authorise refused: {query['error'][0]}")
    if query.get("state", [None])[0] != client.state_token:
        raise RuntimeError("authorise returned another state (CSRF check failed)")
    realm_id = query["realmId"][0]
    client.get_bearer_token(query["code"][0], realm_id=realm_id)
    return {"access_token": client.access_token, "refresh_token": client.refresh_token,
            "expires_in": client.expires_in, "x_refresh_token_expires_in": client.x_refresh_token_expires_in,
            "realm_id": realm_id, "client_id": client_id, "client_secret": client_secret,
            "redirect_uri": redirect_uri}


def qbo_sdk_client(urls: Mapping[str, str], tokens: Mapping[str, Any], minorversion: int = MINOR_VERSION,
                   use_decimal: bool = True) -> QuickBooks:
    """A python-quickbooks client on the sandbox. ``use_decimal`` reads amounts back as Decimal."""
    from quickbooks import QuickBooks

    _allow_plain_http(urls["api_url"])
    client = auth_client(urls, tokens.get("client_id", "test"), tokens.get("client_secret", "test"),
                         tokens.get("redirect_uri", REDIRECT_URI), access_token=tokens["access_token"],
                         refresh_token=tokens["refresh_token"], realm_id=tokens["realm_id"])
    qb = QuickBooks(auth_client=client, refresh_token=tokens["refresh_token"], company_id=tokens["realm_id"],
                    minorversion=minorversion, use_decimal=use_decimal)
    qb.sandbox = False          # ``sandbox=True`` would switch to sandbox_api_url_v3
    qb.api_url_v3 = urls["api_url"]
    return qb


def qbo_refresh(urls: Mapping[str, str], tokens: Mapping[str, Any]) -> dict[str, Any]:
    """Refresh through intuit-oauth; returns the token dict with the new (rolled) tokens."""
    client = auth_client(urls, tokens.get("client_id", "test"), tokens.get("client_secret", "test"),
                         tokens.get("redirect_uri", REDIRECT_URI))
    client.refresh(refresh_token=tokens["refresh_token"])
    return dict(tokens, access_token=client.access_token, refresh_token=client.refresh_token,
                expires_in=client.expires_in, x_refresh_token_expires_in=client.x_refresh_token_expires_in)
