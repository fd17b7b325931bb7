"""App registrations: what a developer registers for an app at Xero or Intuit, held by a sandbox.

A sandbox started with a registration (``kcc-desktop sandbox --client-id ID --redirect-uri URI ...``)
refuses the sign-in exactly where the real identity service would: an unknown client, a redirect URI
that is not an exact match, a scope the app may not ask for, PKCE missing for a public (Xero) client, a
plain-http, localhost or IP-address redirect for a production Intuit app, a call outside the token's
scopes. Without one (the demo, most tests) the sandbox stays permissive: any client id, any loopback
redirect, any scope.

Sources: Xero's developer docs ("Troubleshooting": a bad client id, redirect URI or scope stops the
authorize step on Xero's own error screen; redirect URIs are matched exactly) and its granular-scopes
FAQ; Intuit's "Set app redirect URIs" (production redirect URIs must be https and may not be IP
addresses; localhost without https only for development keys). See
../shared/reference/integration-facts.md, "Sign-in against the real services".
"""

from __future__ import annotations

import html
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .http import Response

XERO_SCOPE_KINDS = ("granular", "broad")
INTUIT_ENVIRONMENTS = ("development", "production")


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback_name(host: str) -> bool:
    host = host.strip("[]").lower()
    return host == "localhost" or (is_ip_address(host) and ipaddress.ip_address(host).is_loopback)


def intuit_production_problem(uri: str) -> str:
    """Why Intuit would not take ``uri`` as a production redirect URI ("" when it would)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme != "https":
        return "Production redirect URIs must begin with https."
    if host.lower() == "localhost":
        return "Production redirect URIs may not point at localhost; localhost is for development keys only."
    if is_ip_address(host):
        return "Production redirect URIs may not be IP addresses."
    return ""


@dataclass(frozen=True)
class AppRegistration:
    """One app as registered at the identity service. Redirect URIs are compared exactly (scheme, host,
    port, path): neither service allows wildcards."""

    client_id: str
    redirect_uris: tuple[str, ...] = field(default_factory=tuple)
    scopes: str = "granular"          # Xero: "granular" (apps created on or after 2 March 2026) or "broad"
    client_secret: str = ""           # Intuit: the app's secret (its token endpoint wants Basic auth)
    environment: str = "development"  # Intuit: which keys, "development" or "production"

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("A registration needs the app's client id.")
        if not self.redirect_uris:
            raise ValueError("A registration needs at least one redirect URI.")
        if self.scopes not in XERO_SCOPE_KINDS:
            raise ValueError(f"--scopes must be one of {', '.join(XERO_SCOPE_KINDS)}.")
        if self.environment not in INTUIT_ENVIRONMENTS:
            raise ValueError(f"--environment must be one of {', '.join(INTUIT_ENVIRONMENTS)}.")
        for uri in self.redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{uri!r} is not an http(s) address.")

    def check_for_xero(self) -> AppRegistration:
        """Xero's portal takes https addresses, and plain http only back to this computer."""
        for uri in self.redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme == "http" and not is_loopback_name(parts.hostname or ""):
                raise ValueError(f"Xero accepts plain http redirect URIs only for localhost: {uri}")
        return self

    def check_for_intuit(self) -> AppRegistration:
        """Intuit's portal refuses what its production keys may not use; an app needs its secret."""
        if not self.client_secret:
            raise ValueError("An Intuit app registration needs its client secret (--client-secret).")
        if self.environment == "production":
            for uri in self.redirect_uris:
                problem = intuit_production_problem(uri)
                if problem:
                    raise ValueError(f"Intuit would not register {uri} for production keys: {problem}")
        return self

    def knows_redirect(self, uri: str) -> bool:
        return uri in self.redirect_uris


def error_page(status: int, title: str, text: str, service: str) -> Response:
    """The identity service's own error page: the browser stays on it, nothing goes back to the app.

    Laid out as Xero's ("Sorry, something went wrong ... Error code: 500 ... Error: unauthorized_client :
    Invalid redirect_uri", as quoted in github.com/XeroAPI/xero-node-oauth2-app/issues/58 and
    XeroAPI/xero-netstandard-oauth2-samples/issues/5); Intuit's words are not published, so its page
    takes the same shape.
    """
    body = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(service)}</title></head>"
            f"<body><h1>Sorry, something went wrong</h1><p>Go back and try again.</p><p>Error code: {status}</p>"
            f"<p id=\"error\">Error: {html.escape(title)} : {html.escape(text)}</p></body></html>")
    return Response(status, {"Content-Type": "text/html; charset=utf-8"}, body.encode("utf-8"))
