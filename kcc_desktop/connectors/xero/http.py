"""The HTTP underneath xero-python, and Xero's failures turned into ours.

- ``XeroWire`` stands in for urllib3's pool manager inside the SDK's REST client: every request the
  SDK makes goes through the shared ``Transport`` (tokens, pacing, the one retry policy: see
  ``connectors/transport.py``) and out through a real pool manager whose own retries are off.
- ``XeroClient`` is the SDK's ``AccountingApi`` on that wire; ``call`` runs one SDK method (passed as
  a method reference) and turns whatever it raises into a ``ConnectorError`` that says what was
  being done.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.exceptions import ApiException, HTTPStatusException

from ..base import (
    ConnectionRequired,
    ConnectorError,
    MalformedResponse,
    Rejected,
    TransientError,
    ValidationFailed,
)
from ..pacing import Pacer
from ..tokens import TokenManager, redact
from ..transport import RETRY_POLICY, RetryPolicy, Transport, is_transient_status
from . import mapping as m

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

NETWORK_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)
SHAPE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)
SHAPE_HINT = "Try again later; if it keeps happening, report it to support."


class UsageError(ValueError):
    """The caller broke the interface's rules (too many elements, a naive datetime): a bug, not Xero."""


def shape_guard(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Turn a crash while reading Xero's answer into MalformedResponse (never a traceback for the user)."""
    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except (ConnectorError, UsageError):
                raise
            except SHAPE_ERRORS as exc:
                raise MalformedResponse(f"Could not {what}: Xero answered with data in an unexpected shape "
                                        f"({type(exc).__name__}).", SHAPE_HINT) from None
        return inner
    return wrap


# --- the wire ------------------------------------------------------------------------------------------

class XeroTransport(Transport[urllib3.BaseHTTPResponse]):
    # Xero answers 403 for a token it no longer honours for this organisation, too: refresh once.
    refresh_statuses = frozenset({401, 403})
    network_errors = NETWORK_ERRORS

    def status(self, reply: urllib3.BaseHTTPResponse) -> int:
        return int(reply.status)

    def headers(self, reply: urllib3.BaseHTTPResponse) -> Mapping[str, str]:
        return reply.headers

    def wants_refresh(self, reply: urllib3.BaseHTTPResponse) -> bool:
        return super().wants_refresh(reply) and not outside_scopes(reply.headers, None)


class XeroWire:
    """What the SDK's ``RESTClientObject`` takes for its ``pool_manager``: ``request(method, url, **kw)``.

    The SDK's Authorization header is replaced by the transport's current token on every send.
    """

    def __init__(self, transport: XeroTransport, pool: urllib3.PoolManager) -> None:
        self.transport = transport
        self.pool = pool

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        headers: dict[str, str] = dict(kwargs.pop("headers", None) or {})
        # Reads, and writes carrying their Idempotency-Key, may go again: Xero replays the first answer.
        repeatable = method.upper() == "GET" or any(k.lower() == "idempotency-key" and v for k, v in headers.items())

        def once(token: str) -> urllib3.BaseHTTPResponse:
            headers["Authorization"] = f"Bearer {token}"
            # urllib3 would silently send a PUT again: only the transport decides that.
            return self.pool.request(method, url, headers=headers, retries=False, **kwargs)

        return self.transport.send(once, repeatable=repeatable)


# --- calling the API -----------------------------------------------------------------------------------

def _status(exc: ApiException) -> int:
    # AccountingBadRequestException.status parses the body; read the raw response's status instead.
    resp = getattr(exc, "http_resp", None)
    return int(getattr(resp, "status", None) or getattr(exc, "_status", None) or 0)


def _body(exc: ApiException) -> Any:
    try:
        return json.loads(getattr(exc.http_resp, "data", b"") or b"", parse_float=Decimal)
    except (ValueError, TypeError, AttributeError):
        return None


def outside_scopes(headers: Mapping[str, str] | None, body: Any) -> bool:
    """Xero's answer to a call the token's scopes do not allow: 401 (or 403) "AuthorizationUnsuccessful",
    with ``WWW-Authenticate: Bearer error="insufficient_scope"`` (see sandbox/xero/scopes.py for sources)."""
    challenge = next((v for k, v in (headers or {}).items() if k.lower() == "www-authenticate"), "")
    detail = body.get("Detail") if isinstance(body, dict) else None
    return "insufficient_scope" in challenge or detail == "AuthorizationUnsuccessful"


def status_error(exc: ApiException, status: int, what: str, method: str = "",
                 granted: list[str] | None = None) -> ConnectorError:
    """An HTTP refusal the transport handed back, in Xero's own words where it gave any."""
    body = _body(exc)
    messages = [redact(x) for x in m.error_messages(body)]
    if status in (401, 403) and outside_scopes(getattr(exc, "headers", None), body):
        return scope_missing(what, status, method, granted or [])
    if status in (401, 403):
        return ConnectionRequired(f"Valid Connection Required: Xero refused the sign-in while trying to {what} "
                                  f"(HTTP {status}).")
    if status == 400:
        if not messages:
            messages = ["Xero refused the request (HTTP 400)."]
        return ValidationFailed(f"Xero refused to {what}: " + "; ".join(messages), messages,
                                "Correct the details shown, then send again.")
    if is_transient_status(status):
        return TransientError(f"Could not {what}: Xero had a problem (HTTP {status}).")
    if status == 404:
        return Rejected(f"Could not {what}: Xero could not find it (HTTP 404).")
    detail = f": {'; '.join(messages)}" if messages else ""
    return Rejected(f"Xero refused to {what} (HTTP {status}){detail}.")


class XeroClient:
    """xero-python's ``AccountingApi`` for one organisation, on the transport's wire."""

    def __init__(self, api_client: ApiClient, api_url: str, tenant_id: str, tokens: TokenManager, pacer: Pacer,
                 timeout: tuple[float, float], policy: RetryPolicy = RETRY_POLICY) -> None:
        self.tenant_id = tenant_id
        self.timeout = timeout
        self.tokens = tokens
        self.transport = XeroTransport(tokens, pacer, policy)
        rest = api_client.rest_client
        # The SDK's own pool keeps its TLS set-up (certifi); the wire sends through it, retries off.
        rest.pool_manager = XeroWire(self.transport, rest.pool_manager)
        self.api: Any = AccountingApi(api_client, base_url=api_url)   # the SDK ships no types

    def call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method`` (a method of ``self.api``) for this organisation; failures as ConnectorErrors."""
        try:
            return method(self.tenant_id, *args, _request_timeout=self.timeout, **kwargs)
        except ConnectorError:
            raise                    # the transport's own (RateLimited, a refused refresh)
        except HTTPStatusException as exc:
            status = _status(exc)
            error = status_error(exc, status, what, getattr(method, "__name__", ""), self._granted())
            if isinstance(error, ScopeMissing):
                log.info("Xero refused to %s (HTTP %d): the sign-in lacks the scope %s.", what, status, error.scope)
            elif status in (401, 403):   # the transport already renewed the sign-in once
                log.info("Xero refused the renewed sign-in while trying to %s (HTTP %d): a reconnect is needed.",
                         what, status)
            raise error from None
        except ApiException as exc:   # status 0: SSL and request-building problems
            raise TransientError(f"Could not {what}: the secure connection to Xero failed "
                                 f"({redact(getattr(exc, 'reason', '') or type(exc).__name__)}).") from None
        except NETWORK_ERRORS as exc:
            raise TransientError(f"Could not {what}: the connection to Xero failed or timed out "
                                 f"({type(exc).__name__}).") from None
        except SHAPE_ERRORS as exc:
            raise MalformedResponse(f"Could not {what}: Xero answered with data in an unexpected shape "
                                    f"({type(exc).__name__}).", SHAPE_HINT) from None

    def _granted(self) -> list[str]:
        try:
            return list(self.tokens.tokens().scope)
        except ConnectorError:
            return []


# --- a call outside the sign-in's scopes ---------------------------------------------------------------

# The SDK method's resource -> the granular scope that allows it (accounting.transactions covers the
# invoices, payments and bank transactions of older apps). Sources: sandbox/xero/scopes.py.
_RESOURCE_SCOPES = {
    "organisations": "accounting.settings", "accounts": "accounting.settings", "tax_rates": "accounting.settings",
    "items": "accounting.settings", "contacts": "accounting.contacts", "invoices": "accounting.invoices",
    "credit_notes": "accounting.invoices", "credit_note_allocation": "accounting.invoices",
    "payments": "accounting.payments", "overpayments": "accounting.payments",
    "overpayment_allocations": "accounting.payments", "prepayments": "accounting.payments",
    "bank_transactions": "accounting.banktransactions",
}


class ScopeMissing(ConnectionRequired):
    """The sign-in's scopes do not allow this call: only a new sign-in, with the right scopes, helps."""

    def __init__(self, message: str, hint: str, scope: str) -> None:
        super().__init__(message, hint)
        self.scope = scope


def scope_needed(method: str) -> str:
    """The scope an SDK method (``get_invoices``, ``create_payments``...) needs; "" when unknown."""
    for prefix in ("update_or_create_", "create_", "update_", "get_", "delete_"):
        if method.startswith(prefix):
            scope = _RESOURCE_SCOPES.get(method[len(prefix):], "")
            return scope + ".read" if scope and prefix == "get_" else scope
    return ""


def scope_missing(what: str, status: int, method: str, granted: list[str]) -> ScopeMissing:
    scope = scope_needed(method)
    named = f"the scope {scope}" if scope else "the scope this needs"
    has = f" (it has {' '.join(granted)})" if granted else ""
    return ScopeMissing(
        f"Xero refused to {what} (HTTP {status}): this sign-in does not have {named}{has}.",
        "Connect again with scopes that include it: kcc-desktop connect xero --scopes granular (apps created on "
        "or after 2 March 2026), or --scopes broad for older apps; in the window, Mapping → Connection Settings, "
        "then Connect.", scope)
