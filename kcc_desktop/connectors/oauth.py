"""OAuth 2.0 Authorization Code flow for a desktop app (RFC 8252), shared by Xero and QuickBooks.

The app listens on 127.0.0.1 on a free port; the redirect is ``http://127.0.0.1:PORT/callback``.
Xero uses PKCE (S256) with no client secret; QuickBooks sends its client id and secret with Basic
auth. A random ``state`` ties the redirect to this attempt: a mismatch stops the flow, nothing saved.

Token requests use plain ``requests`` (not requests-oauthlib's session, which logs token bodies at
DEBUG); every secret that comes back is registered for redaction before anything else happens.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import os
import queue
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import cast
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from .base import ConnectionRequired, ConnectorError, MalformedResponse, Rejected, TransientError
from .settings import require_secure
from .tokens import RefreshFn, TokenResponse, redact, register_secret

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
ENV_REDIRECT_PORT = "KCC_OAUTH_REDIRECT_PORT"


class AuthorizationError(ConnectorError):
    """The sign-in in the browser did not complete."""

    hint = "Nothing was saved. Start Connect again."


class StateMismatch(AuthorizationError):
    pass


class AuthorizationTimeout(AuthorizationError):
    pass


class AuthorizationDenied(AuthorizationError):
    pass


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


# --- the loopback listener ------------------------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>KCC Desktop</title></head>
<body style="font-family:sans-serif;margin:3em"><h2>{title}</h2><p>{text}</p></body></html>"""


class LoopbackListener:
    """Waits for one redirect to ``http://127.0.0.1:PORT/callback`` on a free port.

    Use as a context manager; ``wait(timeout)`` returns the callback's query parameters.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._results: queue.Queue[dict[str, str]] = queue.Queue()
        self.expected_state: str | None = None      # set by ``authorize``: lets the page tell the truth
        results = self._results
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass   # quiet: the callback's address carries the code

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                state_ok = listener.expected_state is None or params.get("state") == listener.expected_state
                ok = "code" in params and "error" not in params and state_ok
                title = "Signed in - you can close this window." if ok else "Sign-in did not complete."
                text = ("Return to KCC Desktop." if ok else
                        "This answer does not belong to the current connection attempt." if not state_ok else
                        html.escape(params.get("error_description") or params.get("error") or "No code was sent."))
                body = _PAGE.format(title=title, text=text).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                results.put(params)

        self._server = HTTPServer((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def start(self) -> LoopbackListener:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="oauth-loopback", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            raise AuthorizationTimeout(
                f"No answer came back from the sign-in page within {timeout:g} seconds.") from None

    def __enter__(self) -> LoopbackListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class AuthorizationResult:
    code: str
    redirect_uri: str
    state: str
    code_verifier: str = ""
    realm_id: str = ""                      # QuickBooks sends realmId with the code
    params: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"AuthorizationResult(redirect_uri={self.redirect_uri!r}, realm_id={self.realm_id!r})"


def authorize(authorize_url: str, client_id: str, scopes: list[str], *, use_pkce: bool = True,
              open_browser: bool = True, timeout: float = 300, print_fn: Callable[[str], None] = print,
              extra_params: dict[str, str] | None = None, listener: LoopbackListener | None = None
              ) -> AuthorizationResult:
    """Send the user to the sign-in page and wait for the redirect; returns the code (+ realmId).

    Prints the address (always: the browser may not open, e.g. over SSH) and opens the system
    browser unless ``open_browser`` is False. Raises StateMismatch, AuthorizationDenied or
    AuthorizationTimeout.
    """
    state = secrets.token_urlsafe(24)
    pkce = make_pkce() if use_pkce else None
    own = listener is None
    # Some app registrations need one fixed redirect port; by default any free port will do (RFC 8252).
    listener = listener or LoopbackListener(port=int(os.environ.get(ENV_REDIRECT_PORT) or 0))
    if own:
        listener.start()
    listener.expected_state = state
    try:
        url = authorization_url(authorize_url, client_id, listener.redirect_uri, scopes, state, pkce, extra_params)
        print_fn(f"Open this address in your browser to connect:\n{url}")
        if open_browser:
            try:
                webbrowser.open(url, new=1, autoraise=True)
            except Exception:  # no browser: the printed address still works
                log.info("Could not open a browser; the address was printed instead.")
        params = listener.wait(timeout)
    finally:
        if own:
            listener.stop()
    if params.get("state") != state:
        raise StateMismatch("The sign-in answer did not match this connection attempt (state mismatch); "
                            "it may have come from an old or forged page.")
    if "error" in params:
        raise AuthorizationDenied(f"The sign-in was not completed: "
                                  f"{params.get('error_description') or params['error']}.")
    if not params.get("code"):
        raise AuthorizationError("The sign-in page came back without an authorisation code.")
    register_secret(params["code"])
    return AuthorizationResult(code=params["code"], redirect_uri=listener.redirect_uri, state=state,
                               code_verifier=pkce.verifier if pkce else "",
                               realm_id=params.get("realmId", ""), params=params)


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
        raise ConnectionRequired(
            "Valid Connection Required: the accounting package no longer accepts this app's sign-in "
            f"({error or 'HTTP ' + str(resp.status_code)}); the connection was revoked or has expired.")
    if resp.status_code >= 400:
        detail = redact((body or {}).get("error_description") or error or f"HTTP {resp.status_code}") \
            if isinstance(body, dict) else f"HTTP {resp.status_code}"
        raise Rejected(f"The sign-in service refused the request: {detail}.", "Start Connect again.")
    if not isinstance(body, dict) or not body.get("access_token"):
        raise MalformedResponse("The sign-in service answered with something that is not a token.",
                                "Try again; if it keeps happening, check the service address.")
    return cast(TokenResponse, body)   # a JSON object carrying an access token: the endpoint's answer


def exchange_code(token_url: str, result: AuthorizationResult, client_id: str, *,
                  client_secret: str | None = None, timeout: float = 30,
                  session: requests.Session | None = None) -> TokenResponse:
    """Trade the authorisation code for tokens; returns the token endpoint's JSON."""
    data = {"grant_type": "authorization_code", "code": result.code, "redirect_uri": result.redirect_uri}
    if result.code_verifier:
        data["code_verifier"] = result.code_verifier
    return _post_token(token_url, data, client_id, client_secret, timeout, session)


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
