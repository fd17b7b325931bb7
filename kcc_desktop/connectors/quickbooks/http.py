"""The HTTP underneath python-quickbooks: auth, pacing, timeouts, and turning failures into ours.

python-quickbooks sends every request through ``qb.session.request(...)`` after setting the
``Authorization`` header from ``qb.session.access_token``. ``QboSession`` stands in for its
requests-oauthlib session so that, below the SDK:

- the bearer token comes from the shared ``TokenManager`` (refreshed ahead of expiry), and a 401 is
  retried once after a forced refresh;
- every call holds a place in the organisation's ``Pacer`` (batch calls in the batch window too), and a
  429 / ThrottleExceeded is waited out there and retried (the SDK never sees it);
- there is always a timeout (the SDK sets none), and 5xx answers become ``TransientError``.

What the SDK still raises (Faults by code range, unreadable JSON) is translated by ``translate``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

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
from ..pacing import Pacer, Throttled
from ..tokens import TokenManager, redact

log = logging.getLogger(__name__)

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


class QboSession(requests.Session):
    """A ``requests.Session`` the SDK can use as ``qb.session``."""

    def __init__(self, tokens: TokenManager, pacer: Pacer, timeout: float = DEFAULT_TIMEOUT,
                 transient_retries: int = 1, connect_timeout: float | None = None) -> None:
        super().__init__()
        self.tokens = tokens
        self.pacer = pacer
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout
        self.transient_retries = transient_retries
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.request_count = 0   # API requests sent (retries included): the exporter's request figures

    # The SDK reads this to build its Authorization header; we overwrite that header anyway.
    @property
    def access_token(self) -> str:
        return self.tokens.access_token()

    @property
    def last_status(self) -> int | None:
        """HTTP status of this thread's last API answer (to tell a bad 200 from a bad 4xx)."""
        return getattr(self._local, "status", None)

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", (self.connect_timeout, self.timeout))
        batch = str(url).rstrip("/").endswith("/batch")
        params = kwargs.get("params") or {}
        # Reads, queries and writes carrying a requestid may be repeated: QBO replays the first answer.
        safe = method.upper() == "GET" or str(url).rstrip("/").endswith("/query") or "requestid" in params
        retries = self.transient_retries if safe else 0
        self._local.status = None

        def once() -> requests.Response:
            with self._count_lock:
                self.request_count += 1
            token = self.tokens.access_token()
            resp = self._send(method, url, token, args, kwargs)
            if resp.status_code == 401:
                # Expired early or revoked: one forced refresh (invalid_grant -> ConnectionRequired).
                fresh = self.tokens.force_refresh(stale_access_token=token)
                resp = self._send(method, url, fresh.access_token, args, kwargs)
            if resp.status_code == 429 or _is_throttle(resp):
                raise Throttled("minute", _retry_after(resp))
            if resp.status_code >= 500:
                raise TransientError(f"QuickBooks had a problem answering (HTTP {resp.status_code}); "
                                     "the request may or may not have been applied.")
            return resp

        while True:
            try:
                resp = self.pacer.run(once, batch=batch)
                break
            except TransientError as exc:
                if retries <= 0:
                    raise
                retries -= 1
                log.info("Retrying a QuickBooks call after: %s", exc.message)
        self._local.status = resp.status_code
        return resp

    def _send(self, method, url, token: str, args, kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = "Bearer " + token
        try:
            return super().request(method, url, *args, headers=headers, **kwargs)
        except requests.Timeout:
            raise TransientError(f"QuickBooks did not answer within {self.timeout:g} seconds; "
                                 "the request may or may not have been applied.") from None
        except requests.RequestException as exc:
            # Connection dropped or refused. Never echo the exception: it can quote the URL and headers.
            raise TransientError(f"The connection to QuickBooks failed ({type(exc).__name__}); "
                                 "the request may or may not have been applied.") from None
        finally:
            kwargs["headers"] = headers


def _is_throttle(resp: requests.Response) -> bool:
    # QBO has sent 3001 ThrottleExceeded with other statuses (and as XML); look for it cheaply.
    if resp.status_code in (200, 400, 403) and b"ThrottleExceeded" in resp.content[:2000]:
        return True
    return False


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return float(value) if value else None   # None: the pacer waits a (scaled) minute
    except ValueError:
        return None


def translate(exc: BaseException, last_status: int | None = None, what: str = "the request") -> ConnectorError:
    """A python-quickbooks exception (or a parsing slip on a bad answer) as one of our failures."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, qbx.AuthorizationException):
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


def guarded(fn: Callable[[], object], session: QboSession, what: str):
    """Run one SDK call and translate whatever it raises."""
    try:
        return fn()
    except ConnectorError:
        raise
    except Exception as exc:
        raise translate(exc, session.last_status, what) from None
