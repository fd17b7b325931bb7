"""Xero's identity service: Authorization Code + PKCE, refresh rotation with a grace period,
revocation, and the connections (tenants) list.

Consent is given at once (no login page): the authorize URL answers with a redirect to the app's
``redirect_uri`` carrying ``code`` and ``state``, so tests and the demo can "log in" with plain HTTP.
Without an app registration any client id, loopback redirect and scope is accepted. With one
(``registration.AppRegistration``) the authorize step refuses as Xero's does: an unknown client or a
redirect URI that is not registered exactly gets Xero's own error page and no redirect; a scope the app
may not ask for, or a request without PKCE (a desktop app is a public client), goes back to the app as
``error=...``. The token endpoint refuses an unknown client (``invalid_client``) and, always, a code
used twice, a verifier that is missing or wrong when the authorisation carried a challenge, a verifier
when it carried none (PKCE stripped on the way), or a redirect URI other than the authorisation's
(``invalid_grant``).

Tokens and codes are held only as SHA-256 digests (``state.token_digest``), as a real authorisation
server would, so the state file never holds a usable credential. The one exception is the refresh
grace: the new pair handed out for a refresh token is kept in memory (never saved) so a replay within
30 minutes gets the same pair again. After a sandbox restart that pair is gone, and a replay within
the grace gets a fresh pair instead (not invalid_grant), so the app stays signed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..http import Request, Response, redirect
from ..json_types import JSONObject
from ..registration import AppRegistration, error_page
from ..state import as_digest, token_digest
from . import scopes
from .serial import iso_utc, new_id

ACCESS_TTL = timedelta(minutes=30)
REFRESH_TTL = timedelta(days=60)
REFRESH_GRACE = timedelta(minutes=30)
CODE_TTL = timedelta(minutes=5)
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEFAULT_SCOPE = "openid profile email accounting.transactions accounting.contacts accounting.settings offline_access"


class CodeEntry(TypedDict):
    client_id: str
    redirect_uri: str
    challenge: str | None   # PKCE S256 challenge, if the client sent one
    scope: str
    expires_at: datetime


class AccessEntry(TypedDict):
    client_id: str
    scope: str
    expires_at: datetime


class RefreshEntry(TypedDict):
    client_id: str
    scope: str
    expires_at: datetime
    used_at: datetime | None
    successor: str | None   # digest of the refresh token it was exchanged for
    revoked: bool


class Connection(TypedDict):
    """One entry of GET /connections, as Xero lists a tenant the user connected."""

    id: str
    authEventId: str
    tenantId: str
    tenantType: str
    tenantName: str
    createdDateUtc: str
    updatedDateUtc: str


class IdentityState(TypedDict):
    """What the identity service keeps (and saves); codes and tokens are keyed by their digest."""

    codes: dict[str, CodeEntry]
    access: dict[str, AccessEntry]
    refresh: dict[str, RefreshEntry]
    connections: list[Connection]


class TokenPair(TypedDict):
    access_token: str
    refresh_token: str
    scope: str


class TokenBody(TypedDict):
    """The token endpoint's JSON answer."""

    access_token: str
    expires_in: int
    token_type: str
    refresh_token: str
    scope: str
    id_token: NotRequired[str]


def empty_identity() -> IdentityState:
    # codes, access and refresh are keyed by token digest, never by the token itself.
    return {"codes": {}, "access": {}, "refresh": {}, "connections": []}


def upgrade_identity(saved: JSONObject) -> IdentityState:
    """Loaded identity state with any plain tokens from an older state file turned into digests."""
    refresh: dict[str, Any] = {as_digest(k): v for k, v in saved.get("refresh", {}).items()}
    for entry in refresh.values():
        if isinstance(entry.get("successor"), dict):  # older files kept the whole successor pair
            entry["successor"] = token_digest(entry["successor"]["refresh_token"])
    return {"codes": {as_digest(k): v for k, v in saved.get("codes", {}).items()},
            "access": {as_digest(k): v for k, v in saved.get("access", {}).items()},
            "refresh": refresh, "connections": saved.get("connections", [])}


def _oauth_error(error: str, status: int = 400) -> Response:
    # Compact JSON on purpose: xero-python recognises invalid_grant only by this exact text.
    return Response(status, {"Content-Type": "application/json"},
                    json.dumps({"error": error}, separators=(",", ":")).encode())


def loopback_ok(redirect_uri: str) -> bool:
    """Plain http is allowed only back to this machine; https anywhere."""
    parts = urlsplit(redirect_uri)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Identity:
    """Token bookkeeping over the ``identity`` part of the provider state (a plain dict)."""

    def __init__(self, state: IdentityState, tenants: list[tuple[str, str]], now: Callable[[], datetime],
                 successors: dict[str, TokenPair] | None = None,
                 registration: AppRegistration | None = None) -> None:
        self.state = state
        self.registration = registration
        self.tenants = tenants  # (tenant id, name)
        self.now = now
        # refresh digest -> the pair it was exchanged for, for the grace replay; memory only, never saved
        self.successors = {} if successors is None else successors

    # --- authorize ---------------------------------------------------------------------------------

    def authorize(self, req: Request) -> Response:
        reg = self.registration
        redirect_uri = req.arg("redirect_uri") or ""
        client_id = req.arg("client_id") or ""
        if reg is not None:
            # Xero's troubleshooting page: a wrong client id or redirect URI stops on its own error screen
            # (shown as a 500), never redirected. Wording as Xero's identity server shows it (IdentityServer).
            if client_id != reg.client_id:
                return error_page(500, "unauthorized_client", "Unknown client or client not enabled", "Xero")
            if not reg.knows_redirect(redirect_uri):
                return error_page(500, "unauthorized_client", "Invalid redirect_uri", "Xero")
        elif not redirect_uri or not loopback_ok(redirect_uri):
            return Response(400, {"Content-Type": "text/plain"},
                            b"invalid redirect_uri: plain http is allowed only to a loopback address")
        state = req.arg("state")

        def back(params: dict[str, str]) -> Response:
            if state is not None:
                params["state"] = state
            sep = "&" if urlsplit(redirect_uri).query else "?"
            return redirect(redirect_uri + sep + urlencode(params))

        if req.arg("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        if not client_id:
            return back({"error": "invalid_request", "error_description": "client_id is required"})
        scope = req.arg("scope") or ("" if reg else DEFAULT_SCOPE)
        if reg is not None:
            refused = scopes.refusal(scope.split(), reg.scopes) if scope else ("invalid_scope", "scope is required")
            if refused:
                return back({"error": refused[0], "error_description": refused[1]})
        challenge, method = req.arg("code_challenge"), req.arg("code_challenge_method") or "plain"
        if challenge and method != "S256":
            return back({"error": "invalid_request", "error_description": "code_challenge_method must be S256"})
        if reg is not None and not challenge:
            # A PKCE app has no secret: without a challenge its code could be redeemed by anyone.
            return back({"error": "invalid_request", "error_description": "code challenge required"})
        code = secrets.token_urlsafe(24)
        self.state["codes"][token_digest(code)] = {
            "client_id": client_id, "redirect_uri": redirect_uri, "challenge": challenge,
            "scope": scope, "expires_at": self.now() + CODE_TTL,
        }
        self._connect()
        return back({"code": code, "scope": scope, "session_state": secrets.token_hex(8)})

    def _connect(self) -> None:
        """Consent connects every tenant of the sandbox (the user ticks them all)."""
        have = {c["tenantId"] for c in self.state["connections"]}
        now = iso_utc(self.now())
        for tid, name in self.tenants:
            if tid not in have:
                self.state["connections"].append({
                    "id": new_id(), "authEventId": new_id(), "tenantId": tid, "tenantType": "ORGANISATION",
                    "tenantName": name, "createdDateUtc": now, "updatedDateUtc": now})

    # --- token endpoint ----------------------------------------------------------------------------

    def token(self, req: Request) -> Response:
        form = dict(parse_qsl(req.text(), keep_blank_values=True))
        if self.registration is not None and form.get("client_id") != self.registration.client_id:
            return _oauth_error("invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._code_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type")

    def _code_grant(self, form: dict[str, str]) -> Response:
        entry = self.state["codes"].pop(token_digest(form.get("code", "")), None)  # single use either way
        if entry is None or entry["expires_at"] < self.now():
            return _oauth_error("invalid_grant")
        # RFC 6749 4.1.3: the same redirect URI as the authorisation, and the client it was issued to.
        if form.get("redirect_uri") != entry["redirect_uri"]:
            return _oauth_error("invalid_grant")
        if form.get("client_id") and form["client_id"] != entry["client_id"]:
            return _oauth_error("invalid_grant")
        verifier = form.get("code_verifier") or ""
        if entry["challenge"]:  # RFC 7636 4.6: a code issued with a challenge needs its verifier
            if not verifier or pkce_challenge(verifier) != entry["challenge"]:
                return _oauth_error("invalid_grant")
        elif verifier:
            # A verifier for a code issued without a challenge: PKCE was stripped from the authorisation on
            # its way (the downgrade attack of RFC 9700 section 4.8.2): refused, never a token.
            return _oauth_error("invalid_grant")
        return self._issue(entry["client_id"], entry["scope"])

    def _issue(self, client_id: str, scope: str) -> Response:
        pair = self._mint(client_id, scope)
        return self._token_response(pair)

    def _mint(self, client_id: str, scope: str) -> TokenPair:
        now = self.now()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.state["access"][token_digest(access)] = {"client_id": client_id, "scope": scope,
                                                      "expires_at": now + ACCESS_TTL}
        self.state["refresh"][token_digest(refresh)] = {"client_id": client_id, "scope": scope,
                                                        "expires_at": now + REFRESH_TTL, "used_at": None,
                                                        "successor": None, "revoked": False}  # successor: a digest
        return {"access_token": access, "refresh_token": refresh, "scope": scope}

    def _token_response(self, pair: TokenPair) -> Response:
        access = self.state["access"].get(token_digest(pair["access_token"]))
        expires_in = round((access["expires_at"] - self.now()).total_seconds()) if access else 0
        body: TokenBody = {"access_token": pair["access_token"], "expires_in": max(expires_in, 0),
                           "token_type": "Bearer", "refresh_token": pair["refresh_token"], "scope": pair["scope"]}
        if "openid" in pair["scope"].split():
            body["id_token"] = _fake_jwt({"sub": "sandbox-user", "xero_userid": "sandbox-user"})
        return Response(200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                        json.dumps(body).encode())

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        key = token_digest(form.get("refresh_token", ""))
        entry = self.state["refresh"].get(key)
        now = self.now()
        if entry is None or entry["revoked"] or entry["expires_at"] < now:
            return _oauth_error("invalid_grant")
        if entry["used_at"] is None:
            entry["used_at"] = now
            return self._token_response(self._succeed(key, entry, now))
        successor = self.state["refresh"].get(entry["successor"] or "")
        if now - entry["used_at"] <= REFRESH_GRACE and not (successor and successor["revoked"]):
            # Grace period: a client that lost the answer gets the same new pair again (a fresh one if
            # the sandbox restarted since, as the pair itself was never saved).
            return self._token_response(self.successors.get(key) or self._succeed(key, entry, now))
        return _oauth_error("invalid_grant")

    def _succeed(self, key: str, entry: RefreshEntry, now: datetime) -> TokenPair:
        pair = self._mint(entry["client_id"], entry["scope"])
        entry["successor"] = token_digest(pair["refresh_token"])
        for old in list(self.successors):  # past its grace a pair is never handed out again
            old_entry = self.state["refresh"].get(old)
            used = old_entry["used_at"] if old_entry else None
            if used is None or now - used > REFRESH_GRACE:
                del self.successors[old]
        self.successors[key] = pair
        return pair

    def revoke_endpoint(self, req: Request) -> Response:
        """POST /connect/revocation token=<refresh token>: the token, its family and the connections go."""
        form = dict(parse_qsl(req.text(), keep_blank_values=True))
        if token_digest(form.get("token") or "") in self.state["refresh"]:
            self.revoke_all()
        return Response(200, {"Content-Type": "application/json"}, b"")

    # --- sandbox hooks -----------------------------------------------------------------------------

    def revoke_all(self) -> int:
        n = len(self.state["access"]) + sum(not r["revoked"] for r in self.state["refresh"].values())
        self.state["access"].clear()
        for r in self.state["refresh"].values():
            r["revoked"] = True
        self.state["connections"].clear()
        self.successors.clear()
        return n

    def expire_all(self) -> int:
        past = self.now() - timedelta(seconds=1)
        for a in self.state["access"].values():
            a["expires_at"] = past
        return len(self.state["access"])

    # --- checks for API calls ----------------------------------------------------------------------

    def bearer(self, req: Request) -> tuple[AccessEntry | None, str]:
        """(token entry, "") or (None, reason) where reason is "missing", "unknown" or "expired: <when>"."""
        auth = req.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            return None, "missing"
        entry = self.state["access"].get(token_digest(auth[7:].strip()))
        if entry is None:
            return None, "unknown"
        if entry["expires_at"] <= self.now():
            return None, "expired: " + entry["expires_at"].strftime("%m/%d/%Y %H:%M:%S")
        return entry, ""

    def connected(self, tenant_id: str | None) -> bool:
        return bool(tenant_id) and any(c["tenantId"] == tenant_id for c in self.state["connections"])

    def connections(self) -> list[Connection]:
        return list(self.state["connections"])

    def disconnect(self, connection_id: str) -> bool:
        before = len(self.state["connections"])
        self.state["connections"][:] = [c for c in self.state["connections"] if c["id"] != connection_id]
        return len(self.state["connections"]) < before


def _fake_jwt(claims: dict[str, str]) -> str:
    """An unsigned JWT-shaped id_token: enough for clients that only decode the claims."""
    return f"{_b64_json({'alg': 'none', 'typ': 'JWT'})}.{_b64_json(claims)}."


def _b64_json(part: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

