"""Refusals of a sign-in: found within seconds, and told in words that name the fix.

Xero and Intuit refuse a bad authorize request in two ways. A client id or redirect URI they do not
know stops on the service's own error page (Xero's troubleshooting page calls it "a 500 error screen"):
nothing ever comes back to the app. A scope the app may not ask for (or a request Xero finds incomplete)
is sent back to the registered redirect URI as ``error=...&error_description=...``. So before the
browser opens, ``preflight`` loads the authorize address itself, as the browser would, without following
it back to the app: an error page or an error sent back ends the sign-in at once. A login page (or, at a
local sandbox, a code) lets the browser go on.

The exact words on the services' error pages are not published; ``page_error`` looks for the OAuth error
codes (RFC 6749 section 4.1.2.1) on a page answered with an error status, and for the line Xero's page
shows whatever its status, "Error: unauthorized_client : Invalid redirect_uri" (as reported in
github.com/XeroAPI/xero-node-oauth2-app/issues/58 and xero-python-oauth2-starter/issues/13). A page
that names no error (one drawn by script) lets the browser go on: the person then sees the refusal there.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from .oauth import SignInRefused
from .provider import Provider
from .settings import ENV_CLIENT_ID, ENV_REDIRECT_URI, XERO_BROAD_SCOPES, XERO_GRANULAR_SCOPES, is_loopback_host

log = logging.getLogger(__name__)

OAUTH_ERRORS = ("unauthorized_client", "invalid_client", "invalid_redirect_uri", "invalid_scope",
                "invalid_request", "access_denied", "unsupported_response_type", "server_error")
_TAG = re.compile(r"<[^>]+>")
_SHOWN_ERROR = re.compile(r"\bError:\s*(" + "|".join(OAUTH_ERRORS) + r")\b")
BROAD_ONLY = {"accounting.transactions", "accounting.transactions.read", "accounting.reports.read"}


def page_error(status: int, text: str) -> tuple[str, str] | None:
    """(error, description) shown on an identity service's error page, or None if it is not one."""
    plain = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    shown = _SHOWN_ERROR.search(plain)
    if shown:
        return shown.group(1), _rest(plain[shown.end():])
    if status < 400:
        return None
    for error in OAUTH_ERRORS:
        at = plain.find(error)
        if at >= 0:
            return error, _rest(plain[at + len(error):])
    return None


def _rest(text: str) -> str:
    return text.lstrip(" :-–\"'")[:300].strip()


def preflight(url: str, redirect_uri: str, timeout: float = 10) -> tuple[str, str] | None:
    """Load the authorize address as a browser would, stopping before anything reaches the app.

    Returns (error, description) when the identity service refuses the request, else None (a login or
    consent page, a code for the app, or no answer: the browser then tries for itself).
    """
    back = redirect_uri.split("?")[0]
    target = url
    deadline = time.monotonic() + timeout   # the whole look, however many hops: the browser is waiting
    try:
        with requests.Session() as session:
            for _hop in range(6):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                resp = session.get(target, allow_redirects=False, timeout=left,
                                   headers={"Accept": "text/html,application/xhtml+xml"})
                location = resp.headers.get("Location")
                if resp.is_redirect and location:
                    target = urljoin(target, location)
                    if target.startswith(back):   # on its way back to the app: read it, never deliver it
                        params = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
                        return (params["error"], params.get("error_description", "")) if "error" in params else None
                    continue
                return page_error(resp.status_code, resp.text)
    except requests.RequestException as exc:
        log.info("Could not load the sign-in page ahead of the browser (%s); the browser will try.",
                 type(exc).__name__)
    return None


def explain(provider: str, error: str, description: str, *, redirect_uri: str, client_id: str,
            scopes: list[str], environment: str = "production") -> SignInRefused:
    """A refusal of the authorize step, saying what to change."""
    if provider == Provider.QUICKBOOKS:
        return _explain_intuit(error, description, redirect_uri, client_id, environment)
    return _explain_xero(error, description, redirect_uri, client_id, scopes)


def _said(error: str, description: str) -> str:
    return f"{error}: {description}" if description else error


def _explain_xero(error: str, description: str, redirect_uri: str, client_id: str,
                  scopes: list[str]) -> SignInRefused:
    words = description.lower()
    if "redirect" in words:
        return SignInRefused(
            f"Xero refused the sign-in: the redirect URI {redirect_uri} is not registered for this app "
            f"({_said(error, description)}).",
            "Add it under your app's Redirect URIs at developer.xero.com, or set "
            f"{ENV_REDIRECT_URI} to one that is. Nothing was saved.")
    if error == "invalid_client" or (error == "unauthorized_client" and "scope" not in words):
        return SignInRefused(
            f"Xero refused the sign-in: it does not know the client id {client_id or '(none)'} "
            f"({_said(error, description)}).",
            f"Copy the client id of your app at developer.xero.com into {ENV_CLIENT_ID[Provider.XERO]} or the "
            "connection settings. Nothing was saved.")
    if error == "invalid_scope" or "scope" in words:
        broad = [s for s in scopes if s in BROAD_ONLY]
        if broad:
            return SignInRefused(
                f"Xero refused the sign-in: this app may not ask for {' '.join(broad)} "
                f"({_said(error, description)}). Apps created on or after 2 March 2026 must use Xero's granular "
                "scopes.",
                "Connect with the granular scopes: kcc-desktop connect xero --scopes granular, or Scopes: Granular "
                "in Mapping → Connection Settings. Nothing was saved.")
        if set(scopes) == set(XERO_GRANULAR_SCOPES):
            return SignInRefused(
                f"Xero refused the sign-in: this app may not ask for Xero's granular scopes "
                f"({_said(error, description)}).",
                "An app created before 2 March 2026 may still need the broad scopes: kcc-desktop connect xero "
                "--scopes broad, or Scopes: Broad in Mapping → Connection Settings. Nothing was saved.")
        return SignInRefused(
            f"Xero refused the sign-in: this app may not ask for the scopes {' '.join(scopes)} "
            f"({_said(error, description)}).",
            "Choose granular (apps created on or after 2 March 2026) or broad (older apps) scopes: "
            f"kcc-desktop connect xero --scopes granular. The broad set is {' '.join(XERO_BROAD_SCOPES)}. "
            "Nothing was saved.")
    if error == "access_denied":
        return SignInRefused("The sign-in was cancelled in the browser (access_denied).",
                             "Start Connect again and allow KCC Desktop access. Nothing was saved.")
    return SignInRefused(f"Xero refused the sign-in ({_said(error, description)}).",
                         "Nothing was saved. Start Connect again.")


def _explain_intuit(error: str, description: str, redirect_uri: str, client_id: str,
                    environment: str) -> SignInRefused:
    keys = "production" if environment == "production" else "development"
    if "redirect" in error or "redirect" in description.lower():
        parts = urlsplit(redirect_uri)
        plain_http = parts.scheme != "https" or is_loopback_host(parts.hostname) or _is_ip(parts.hostname or "")
        extra = (" Production keys take only https addresses that are neither localhost nor an IP address: host "
                 "resources/oauth/callback.html on an https address of yours (see the README) and use its address."
                 if keys == "production" and plain_http else "")
        return SignInRefused(
            f"Intuit refused the sign-in: the redirect URI {redirect_uri} is not registered for this app's {keys} "
            f"keys ({_said(error, description)}).{extra}",
            f"Add it under Keys & OAuth → Redirect URIs ({keys}) at developer.intuit.com, or set "
            f"{ENV_REDIRECT_URI} to one that is. Nothing was saved.")
    if error in ("invalid_client", "unauthorized_client"):
        return SignInRefused(
            f"Intuit refused the sign-in: it does not know the client id {client_id or '(none)'} for {keys} keys "
            f"({_said(error, description)}).",
            f"Copy the {keys} client id from Keys & OAuth at developer.intuit.com into "
            f"{ENV_CLIENT_ID[Provider.QUICKBOOKS]} (and check --environment). Nothing was saved.")
    if error == "invalid_scope":
        return SignInRefused(
            f"Intuit refused the sign-in ({_said(error, description)}): the app must be allowed the QuickBooks "
            "Online Accounting scope (com.intuit.quickbooks.accounting).",
            "Tick it under your app's Permissions at developer.intuit.com. Nothing was saved.")
    if error == "access_denied":
        return SignInRefused("The sign-in was cancelled in the browser (access_denied).",
                             "Start Connect again and allow KCC Desktop access. Nothing was saved.")
    return SignInRefused(f"Intuit refused the sign-in ({_said(error, description)}).",
                         "Nothing was saved. Start Connect again.")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
