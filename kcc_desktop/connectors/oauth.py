"""OAuth 2.0 Authorization Code flow for a desktop app (RFC 8252), shared by Xero and QuickBooks: the
authorisation address, PKCE, and the token endpoint. Where the answer comes back is ``loopback.py``.

Xero uses PKCE (S256) with no client secret; QuickBooks sends its client id and secret with Basic
auth. Token requests use plain ``requests`` (not requests-oauthlib's session, which logs token bodies at
DEBUG); every secret that comes back is registered for redaction before anything else happens.

A refusal at the token step while signing in (a code already used or expired, a PKCE verifier or redirect
URI that does not match, an unknown client) is ``SignInRefused``, in words that say what to fix; the
same refusal of a refresh is ``ConnectionRequired`` (the sign-in was revoked or has expired).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode, urlsplit

import requests

from .base import ConnectionRequired, ConnectorError, MalformedResponse, Rejected, TransientError
from .settings import require_secure
from .tokens import RefreshFn, TokenResponse, redact, register_secret

log = logging.getLogger(__name__)


class AuthorizationError(ConnectorError):
    """The sign-in in the browser did not complete."""

    hint = "Nothing was saved. Start Connect again."


class SignInRefused(AuthorizationError):
    """The identity service refused the sign-in, at its authorize page or its token endpoint."""

    hint = "Nothing was saved."


class TokenRefused(ConnectionRequired):
    """The token endpoint refused a grant; ``error`` is its OAuth error code."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


# --- PKCE and the authorisation address --------------------------------------------------------------

@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    method: str = "S256"


def make_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(64)[:96]     # 43..128 characters of [A-Za-z0-9-._~]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    register_secret(verifier)
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorization_url(authorize_url: str, client_id: str, redirect_uri: str, scopes: list[str],
                      state: str, pkce: Pkce | None = None, extra: dict[str, str] | None = None) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": " ".join(scopes), "state": state}
    if pkce:
        params.update(code_challenge=pkce.challenge, code_challenge_method=pkce.method)
    params.update(extra or {})
    sep = "&" if urlsplit(authorize_url).query else "?"
    return f"{require_secure(authorize_url)}{sep}{urlencode(params)}"


# --- token endpoint ----------------------------------------------------------------------------------------

def _post_token(token_url: str, data: dict[str, str], client_id: str, client_secret: str | None,
                timeout: float, session: requests.Session | None) -> TokenResponse:
    require_secure(token_url)
    auth = None
    if client_secret:
        auth = (client_id, client_secret)       # QuickBooks: Basic auth
    else:
        data = dict(data, client_id=client_id)  # Xero PKCE: public client, id in the body
    poster = session or requests
    try:
        resp = poster.post(token_url, data=data, auth=auth, timeout=timeout,
                           headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise TransientError(f"Could not reach the sign-in service ({type(exc).__name__}).") from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("access_token", "refresh_token", "id_token"):
            register_secret(body.get(key))
    if resp.status_code >= 500:
        raise TransientError(f"The sign-in service had a problem (HTTP {resp.status_code}).")
    if resp.status_code == 429:
        raise TransientError("The sign-in service is busy (HTTP 429).")
    error = body.get("error") if isinstance(body, dict) else None
    if error in ("invalid_grant", "unauthorized_client", "invalid_client") or resp.status_code in (401, 403):
        raise TokenRefused(
            "Valid Connection Required: the accounting package no longer accepts this app's sign-in "
            f"({error or 'HTTP ' + str(resp.status_code)}); the connection was revoked or has expired.",
            str(error or ""))
    if resp.status_code >= 400:
        detail = redact((body or {}).get("error_description") or error or f"HTTP {resp.status_code}") \
            if isinstance(body, dict) else f"HTTP {resp.status_code}"
        raise Rejected(f"The sign-in service refused the request: {detail}.", "Start Connect again.")
    if not isinstance(body, dict) or not body.get("access_token"):
        raise MalformedResponse("The sign-in service answered with something that is not a token.",
                                "Try again; if it keeps happening, check the service address.")
    return cast(TokenResponse, body)   # a JSON object carrying an access token: the endpoint's answer


# What each token-endpoint refusal means while signing in (RFC 6749 section 5.2), and what to do.
_CODE_REFUSALS = {
    "invalid_grant": "the authorisation code was already used or has expired, or the PKCE verifier or the "
                     "redirect URI did not match the authorisation",
    "invalid_client": "it does not know this app's client id{secret}",
    "unauthorized_client": "this app may not use the authorisation-code sign-in",
    "invalid_request": "the request was incomplete",
}


def exchange_code(token_url: str, code: str, redirect_uri: str, client_id: str, *, code_verifier: str = "",
                  client_secret: str | None = None, label: str = "The accounting package", timeout: float = 30,
                  session: requests.Session | None = None) -> TokenResponse:
    """Trade the authorisation code for tokens; returns the token endpoint's JSON. Raises SignInRefused."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        data["code_verifier"] = code_verifier
    try:
        return _post_token(token_url, data, client_id, client_secret, timeout, session)
    except TokenRefused as exc:
        raise code_refused(label, exc.error or "invalid_grant", client_id, bool(client_secret)) from None


def code_refused(label: str, error: str, client_id: str, has_secret: bool = False) -> SignInRefused:
    """The token endpoint's refusal of an authorisation code, in words that say what to fix."""
    why = _CODE_REFUSALS.get(error, error).format(secret=" or secret" if has_secret else "")
    if error in ("invalid_client", "unauthorized_client"):
        return SignInRefused(f"{label} refused the sign-in ({error}): {why} ({client_id}).",
                             "Nothing was saved. Check the app's client id"
                             f"{' and secret' if has_secret else ''}, then start Connect again.")
    return SignInRefused(f"{label} refused the sign-in ({error}): {why}.", "Nothing was saved. Start Connect again.")


def refresh_tokens(token_url: str, refresh_token: str, client_id: str, *, client_secret: str | None = None,
                   timeout: float = 30, session: requests.Session | None = None) -> TokenResponse:
    """Use a refresh token; ``invalid_grant`` (revoked or expired) raises ConnectionRequired."""
    return _post_token(token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token},
                       client_id, client_secret, timeout, session)


def refresher(token_url: str, client_id: str, client_secret: str | None = None,
              timeout: float = 30) -> RefreshFn:
    """A ``TokenManager`` refresh function bound to one provider's token endpoint."""
    return lambda refresh_token: refresh_tokens(token_url, refresh_token, client_id,
                                                client_secret=client_secret, timeout=timeout)
