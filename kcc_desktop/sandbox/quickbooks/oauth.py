"""Intuit OAuth 2.0 as intuit-oauth and requests-oauthlib use it.

Consent is given at once: ``GET /connect/oauth2`` redirects straight to the redirect_uri with ``code``,
``state`` and ``realmId``. The token endpoint wants HTTP Basic client credentials. Without an app
registration any id and secret pass and any loopback redirect is taken. With one
(``registration.AppRegistration``) the authorize step shows Intuit's error page, with no redirect, for
an unknown client, a redirect URI not registered exactly, or (production keys) a redirect that is not
https or names localhost or an IP address (Intuit, "Set app redirect URIs"); the token endpoint wants the
registered id and secret (``invalid_client`` otherwise).

Refresh tokens roll: each refresh returns a new one and the token just used stays valid until the new
one is used, so a client that lost a refresh answer can retry, while one that always keeps the newest
token never breaks. Revoking ends the whole grant.

Codes and tokens are held only as SHA-256 digests (``state.token_digest``), as a real authorisation
server would, so the state file never holds a usable credential; a token issued before a restart still
works after it because its digest was saved.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..http import Request, Response, json_response, redirect
from ..json_types import JSONObject
from ..registration import AppRegistration, error_page, intuit_production_problem
from ..state import as_digest, token_digest
from . import errors

SCOPE = "com.intuit.quickbooks.accounting"
CODE_SECONDS = 300
REFRESH_SECONDS = 100 * 86400
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class CodeEntry(TypedDict):
    client_id: str
    redirect_uri: str
    realm: str
    expires: datetime


class RefreshEntry(TypedDict):
    digest: str
    expires: datetime


class Grant(TypedDict):
    """One connection (a user's consent for a client and a company); ends when revoked."""

    client_id: str
    realm: str
    refresh: list[RefreshEntry]   # the live refresh tokens: the newest, and the one just used


class AccessEntry(TypedDict):
    grant: str
    realm: str
    expires: datetime


def discovery(root: str) -> dict[str, Any]:
    """The fields intuitlib reads (issuer, endpoints, jwks_uri) plus the usual OIDC extras."""
    return {
        "issuer": root + "/op/v1",
        "authorization_endpoint": root + "/connect/oauth2",
        "token_endpoint": root + "/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": root + "/v1/openid_connect/userinfo",
        "revocation_endpoint": root + "/oauth2/v1/tokens/revoke",
        "jwks_uri": root + "/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone", SCOPE],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def _oauth_error(status: int, error: str, description: str = "") -> Response:
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(status, body)


def _basic_credentials(req: Request) -> tuple[str, str] | None:
    header = req.headers.get("Authorization") or ""
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (client_id, secret) if client_id and secret else None


# Intuit's wording for a redirect it does not know is not published; this is the closest we found in its
# "Set app redirect URIs" and OAuth troubleshooting pages.
UNKNOWN_REDIRECT = ("The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect "
                    "URIs section on your app's Keys & OAuth tab and matches it exactly.")


class OAuthServer:
    """Intuit's authorisation server for one sandbox company: codes, grants and tokens by digest."""

    def __init__(self, realm_id: str, clock: Callable[[], datetime], access_seconds: int = 3600,
                 registration: AppRegistration | None = None) -> None:
        self.realm_id = realm_id
        self.registration = registration
        self.clock = clock
        self.access_seconds = access_seconds
        self.codes: dict[str, CodeEntry] = {}       # by code digest
        self.grants: dict[str, Grant] = {}          # by grant id
        self.access: dict[str, AccessEntry] = {}    # by access token digest

    # --- state -----------------------------------------------------------------------------------
    def to_state(self) -> JSONObject:
        return {"codes": self.codes, "grants": self.grants, "access": self.access}

    def load_state(self, data: JSONObject) -> None:
        # as_digest: older state files held the codes and tokens themselves; hash them on load.
        self.codes = {as_digest(k): v for k, v in data["codes"].items()}
        self.access = {as_digest(k): v for k, v in data["access"].items()}
        grants: dict[str, Any] = data["grants"]
        for grant in grants.values():
            grant["refresh"] = [{"digest": r["digest"] if "digest" in r else token_digest(r["token"]),
                                 "expires": r["expires"]} for r in grant["refresh"]]
        self.grants = grants

    def reset(self) -> None:
        self.codes.clear()
        self.grants.clear()
        self.access.clear()

    # --- browser side ----------------------------------------------------------------------------
    def authorize(self, req: Request) -> Response:
        client_id, redirect_uri = req.arg("client_id"), req.arg("redirect_uri")
        if not client_id or not redirect_uri:
            return Response(400, {"Content-Type": "text/plain"}, b"client_id and redirect_uri are required")
        parts = urlsplit(redirect_uri)
        reg = self.registration
        if reg is not None:
            refusal = self._refuse_app(client_id, redirect_uri)
            if refusal is not None:
                return refusal
        elif parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
            return Response(400, {"Content-Type": "text/plain"},
                            b"The sandbox only redirects to loopback addresses (127.0.0.1, localhost)")
        state = req.arg("state")
        params: dict[str, str] = {"state": state} if state is not None else {}
        if req.arg("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif SCOPE not in (req.arg("scope") or "").split():
            params["error"] = "invalid_scope"
        else:
            code = "AB" + secrets.token_urlsafe(30)
            self.codes[token_digest(code)] = {"client_id": client_id, "redirect_uri": redirect_uri,
                                              "realm": self.realm_id,
                                              "expires": self.clock() + timedelta(seconds=CODE_SECONDS)}
            params = {"code": code, **params, "realmId": self.realm_id}
        query = dict(parse_qsl(parts.query))
        query.update(params)
        return redirect(parts._replace(query=urlencode(query)).geturl())

    def _refuse_app(self, client_id: str, redirect_uri: str) -> Response | None:
        """Intuit's error page for a request its registration does not allow (None when it does)."""
        reg = self.registration
        assert reg is not None
        if client_id != reg.client_id:
            return error_page(400, "invalid_client", "The client_id is not valid for any app.", "Intuit")
        if reg.environment == "production":
            problem = intuit_production_problem(redirect_uri)
            if problem:
                return error_page(400, "invalid_redirect_uri", f"{problem} {UNKNOWN_REDIRECT}", "Intuit")
        if not reg.knows_redirect(redirect_uri):
            return error_page(400, "invalid_redirect_uri", UNKNOWN_REDIRECT, "Intuit")
        return None

    # --- token endpoint --------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        credentials = _basic_credentials(req)
        if credentials is None:
            return _oauth_error(401, "invalid_client", "HTTP Basic client authentication is required")
        client_id, secret = credentials
        if self.registration is not None and (client_id, secret) != (self.registration.client_id,
                                                                     self.registration.client_secret):
            return _oauth_error(401, "invalid_client")
        form = dict(parse_qsl(req.text()))
        grant_type = form.get("grant_type")
        now = self.clock()
        if grant_type == "authorization_code":
            code = self.codes.pop(token_digest(form.get("code", "")), None)
            if (code is None or code["expires"] <= now or code["client_id"] != client_id
                    or code["redirect_uri"] != form.get("redirect_uri")):
                return _oauth_error(400, "invalid_grant")
            grant_id = secrets.token_hex(8)
            self.grants[grant_id] = {"client_id": client_id, "realm": code["realm"], "refresh": []}
            return self._issue(grant_id, None)
        if grant_type == "refresh_token":
            key = token_digest(form.get("refresh_token", ""))
            for grant_id, grant in self.grants.items():
                live = [r for r in grant["refresh"] if r["digest"] == key and r["expires"] > now]
                if live and grant["client_id"] == client_id:
                    return self._issue(grant_id, key)
            return _oauth_error(400, "invalid_grant", "Incorrect or invalid refresh token")
        return _oauth_error(400, "unsupported_grant_type")

    def _issue(self, grant_id: str, used: str | None) -> Response:
        """New tokens for the grant; ``used`` is the digest of the refresh token just exchanged."""
        now = self.clock()
        grant = self.grants[grant_id]
        refresh = "RT1-" + secrets.token_urlsafe(32)
        # Keep the token just used (until the new one is used) and the new one; older ones die.
        grant["refresh"] = [r for r in grant["refresh"] if r["digest"] == used]
        grant["refresh"].append({"digest": token_digest(refresh),
                                 "expires": now + timedelta(seconds=REFRESH_SECONDS)})
        access = "eyJ" + secrets.token_urlsafe(48)
        key = token_digest(access)
        self.access[key] = {"grant": grant_id, "realm": grant["realm"],
                            "expires": now + timedelta(seconds=self.access_seconds)}
        self.access = {k: v for k, v in self.access.items() if v["expires"] > now or k == key}
        return json_response(200, {"token_type": "bearer", "access_token": access, "refresh_token": refresh,
                                   "expires_in": self.access_seconds, "x_refresh_token_expires_in": REFRESH_SECONDS})

    def revoke(self, req: Request) -> Response:
        if _basic_credentials(req) is None:
            return _oauth_error(401, "invalid_client")
        try:
            token = (req.json() or {}).get("token", "")
        except ValueError:
            token = dict(parse_qsl(req.text())).get("token", "")
        self.revoke_token(token)
        return Response(200, {"Content-Type": "application/json"}, b"")

    def revoke_token(self, token: str) -> bool:
        key = token_digest(token)
        access = self.access.get(key)
        grant_id = access["grant"] if access else None
        if grant_id is None:
            grant_id = next((g for g, v in self.grants.items()
                             if any(r["digest"] == key for r in v["refresh"])), None)
        if grant_id is None:
            return False
        self._end_grant(grant_id)
        return True

    def _end_grant(self, grant_id: str) -> None:
        self.grants.pop(grant_id, None)
        self.access = {k: v for k, v in self.access.items() if v["grant"] != grant_id}

    def revoke_all(self) -> int:
        n = len(self.grants)
        for g in list(self.grants):
            self._end_grant(g)
        return n

    def expire_access_tokens(self) -> int:
        """Make every access token expired now (tests of the 401-then-refresh path)."""
        past = self.clock() - timedelta(seconds=1)
        for v in self.access.values():
            v["expires"] = past
        return len(self.access)

    # --- API side --------------------------------------------------------------------------------
    def check_bearer(self, req: Request, realm: str) -> Response | None:
        """None when the call may proceed, else the 401/403 Intuit would send."""
        header = req.headers.get("Authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        entry = self.access.get(token_digest(token))
        if entry is None:
            return json_response(401, errors.auth_failed("Token invalid"),
                                 {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
        if entry["expires"] <= self.clock():
            return json_response(401, errors.auth_failed("Token expired"),
                                 {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
        if entry["realm"] != realm:
            body = errors.auth_failed("The token does not grant access to this company")
            body["fault"]["error"][0].update(
                {"message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                 "code": "3100"})
            return json_response(403, body)
        return None

    def userinfo(self, req: Request) -> Response:
        header = req.headers.get("Authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        entry = self.access.get(token_digest(token)) if token is not None else None
        if entry is None or entry["expires"] <= self.clock():
            return _oauth_error(401, "invalid_token")
        return json_response(200, {"sub": "sandbox-user", "email": "bookkeeper@kcc-sandbox.example",
                                   "emailVerified": True, "givenName": "Sandbox", "familyName": "Bookkeeper"})
