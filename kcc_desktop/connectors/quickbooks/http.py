"""The HTTP underneath python-quickbooks, and QuickBooks' failures turned into ours.

python-quickbooks sends every request through ``qb.session.request(...)`` after setting the
``Authorization`` header from ``qb.session.access_token``. ``QboSession`` stands in for its
requests-oauthlib session so that, below the SDK, every request goes through the shared ``Transport``
(``connectors/transport.py``): the bearer token from the ``TokenManager`` (one forced refresh on a
401), a place in the organisation's ``Pacer`` (batch calls in the batch window too), and the one retry
policy for transient failures and 429 / ThrottleExceeded (the SDK never sees a throttle). There is
always a timeout (the SDK sets none); a 5xx that outlasts the policy becomes ``TransientError``.

What the SDK still raises (Faults by code range, unreadable JSON) is translated by ``translate``;
``request_id`` turns the caller's idempotency key into QuickBooks' ``requestid``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from quickbooks import exceptions as qbx

from ..base import (
    ConnectionRequired,
    ConnectorError,
    MalformedResponse,
    RateLimited,
    Rejected,
    TransientError,
    ValidationFailed,
)
from ..pacing import Pacer
from ..tokens import TokenManager, redact
from ..transport import RETRY_POLICY, RetryPolicy, Throttle, Transport, parse_retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
# Fault codes that mean "this content is wrong" (the caller can fix it), by name for the messages.
VALIDATION_CODES = {6000, 6240, 6140, 2500, 5010, 6210, 610, 2020, 2050}
THROTTLE_CODE = 3001
REQUEST_ID_MAX = 50          # outside a batch
BATCH_REQUEST_ID_MAX = 36    # on a batch request


def request_id(key: str, limit: int = REQUEST_ID_MAX) -> str:
    """The caller's idempotency key as a QBO ``requestid``: itself if it fits, else a stable hash.

    The hash keeps a retry of the same key mapping to the same requestid, which is the whole point.
    """
    key = str(key)
    if 0 < len(key) <= limit and key.isascii() and key.isprintable():
        return key
    return "k" + hashlib.sha256(key.encode("utf-8")).hexdigest()[: limit - 1]


class QboTransport(Transport[requests.Response]):
    """The shared transport, reading QuickBooks' answers: a throttle may come as 429 or as a Fault."""

    network_errors = (TransientError,)     # ``QboSession._send`` has already put them in our words

    def timed_out(self, seconds: float) -> Exception:
        return TransientError(f"QuickBooks did not finish answering within {seconds:g} seconds; the request may "
                              "or may not have been applied.")

    def status(self, reply: requests.Response) -> int:
        return reply.status_code

    def headers(self, reply: requests.Response) -> Mapping[str, str]:
        return reply.headers

    def throttle(self, reply: requests.Response) -> Throttle | None:
        if reply.status_code == 429 or _is_throttle(reply):
            # Intuit sends no Retry-After as a rule: None waits a (scaled) minute.
            return Throttle("minute", parse_retry_after(reply.headers.get("Retry-After")))
        return None


class QboSession(requests.Session):
    """A ``requests.Session`` the SDK can use as ``qb.session``: every request goes through the transport."""

    def __init__(self, tokens: TokenManager, pacer: Pacer, timeout: float = DEFAULT_TIMEOUT,
                 policy: RetryPolicy = RETRY_POLICY, connect_timeout: float | None = None) -> None:
        super().__init__()
        self.tokens = tokens
        self.transport = QboTransport(tokens, pacer, policy)
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout
        self._local = threading.local()

    @property
    def request_count(self) -> int:
        """API requests sent (every send counts): the exporter's request figures."""
        return self.transport.request_count

    # The SDK reads this to build its Authorization header; we overwrite that header anyway.
    @property
    def access_token(self) -> str:
        return self.tokens.access_token()

    @property
    def last_status(self) -> int | None:
        """HTTP status of this thread's last API answer (to tell a bad 200 from a bad 4xx)."""
        status: int | None = getattr(self._local, "status", None)
        return status

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (self.connect_timeout, self.timeout))
        verb, address = _text(method).upper(), _text(url).rstrip("/")
        params = kwargs.get("params") or {}
        # Reads, queries and writes carrying a requestid may go again: QBO replays the first answer.
        repeatable = verb == "GET" or address.endswith("/query") or "requestid" in params
        self._local.status = None
        resp = self.transport.send(lambda token: self._send(method, url, token, args, kwargs),
                                   repeatable=repeatable, batch=address.endswith("/batch"))
        if resp.status_code >= 500:
            raise TransientError(f"QuickBooks had a problem answering (HTTP {resp.status_code}); "
                                 "the request may or may not have been applied.")
        self._local.status = resp.status_code
        return resp

    def _send(self, method: str | bytes, url: str | bytes, token: str, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> requests.Response:
        headers = dict(kwargs.get("headers") or {})
        headers["Authorization"] = "Bearer " + token
        try:
            return super().request(method, url, *args, **{**kwargs, "headers": headers})
        except requests.Timeout:
            raise TransientError(f"QuickBooks did not answer within {self.timeout:g} seconds; "
                                 "the request may or may not have been applied.") from None
        except requests.RequestException as exc:
            # Connection dropped or refused. Never echo the exception: it can quote the URL and headers.
            raise TransientError(f"The connection to QuickBooks failed ({type(exc).__name__}); "
                                 "the request may or may not have been applied.") from None


def _text(value: str | bytes) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _is_throttle(resp: requests.Response) -> bool:
    # QBO has sent 3001 ThrottleExceeded with other statuses (and as XML); look for it cheaply.
    return resp.status_code in (200, 400, 403) and b"ThrottleExceeded" in resp.content[:2000]


def translate(exc: BaseException, last_status: int | None = None, what: str = "the request") -> ConnectorError:
    """A python-quickbooks exception (or a parsing slip on a bad answer) as one of our failures."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, qbx.AuthorizationException):
        log.info("QuickBooks refused the renewed sign-in (%s) during %s: a reconnect is needed.", _code(exc), what)
        return ConnectionRequired("Valid Connection Required: QuickBooks no longer accepts KCC Desktop's "
                                  f"sign-in ({_code(exc)}).")
    if isinstance(exc, qbx.QuickbooksException):
        code = fault_code(exc)
        message = redact(str(exc.message or "")).strip()
        detail = redact(str(exc.detail or "")).strip()
        if message.startswith("Error reading json response"):
            if last_status and 200 <= last_status < 300:
                return MalformedResponse(f"QuickBooks answered {what} with something that is not JSON.",
                                         "Try again; if it keeps happening, tell support.")
            return Rejected(f"QuickBooks refused {what} (HTTP {last_status or 'unknown'}).")
        if message.startswith("Error returned with status code"):
            if last_status == 403:
                # Intuit's 403 (code 3100): this sign-in does not reach this company any more.
                log.info("QuickBooks refused this sign-in for the company (HTTP 403) during %s: a reconnect is "
                         "needed.", what)
                return ConnectionRequired("Valid Connection Required: QuickBooks says this sign-in may not use "
                                          "the connected company (HTTP 403).")
            return Rejected(f"QuickBooks refused {what} (HTTP {last_status or 'unknown'}).")
        if code == THROTTLE_CODE:
            return RateLimited("QuickBooks is limiting how fast KCC Desktop may send.", limit="minute",
                               retry_after=60.0)
        words = fault_text(message, detail)
        if code in VALIDATION_CODES or isinstance(exc, (qbx.ValidationException, qbx.ObjectNotFoundException)) \
                or type(exc) is qbx.QuickbooksException:
            return ValidationFailed(f"QuickBooks refused {what}: {words}", [words],
                                    "Correct the details shown, then send again.")
        return Rejected(f"QuickBooks refused {what}: {words}")
    if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError, IndexError)):
        return MalformedResponse(f"QuickBooks answered {what} in a shape KCC Desktop does not understand.",
                                 "Try again; if it keeps happening, tell support.")
    raise exc


def fault_text(message: str, detail: str) -> str:
    if not detail or detail == message:
        return message
    return f"{message}: {detail}" if message else detail


def fault_code(exc: qbx.QuickbooksException) -> int:
    try:
        return int(exc.error_code)
    except (TypeError, ValueError):
        return 0


def _code(exc: qbx.QuickbooksException) -> str:
    code = fault_code(exc)
    return f"code {code}" if code else "no code"


def guarded(fn: Callable[[], T], session: QboSession, what: str) -> T:
    """Run one SDK call and translate whatever it raises."""
    try:
        return fn()
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate(exc, session.last_status, what) from None
