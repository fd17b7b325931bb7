"""The connectors' transport: below each SDK, the one place a request to a package is sent again.

Both connectors hand every API request to ``Transport.send`` underneath their SDK (Xero: in place of
urllib3's pool manager, ``xero/http.py``; QuickBooks: in place of the requests session,
``quickbooks/http.py``). The transport already holds what a send needs: the access token
(``TokenManager``), the organisation's ``Pacer``, and the reading of the package's answer.

The retry policy (``RETRY_POLICY``). It is the only one in KCC Desktop: nothing above this layer
(connector methods, the upload run) and nothing below it (xero-python, python-quickbooks, urllib3,
requests: their retries are off) ever sends a request again.

- **At most 3 sends.** One request is sent at most ``sends`` = 3 times in all, whatever made it go
  again (a transient failure or a 429). Every send of a write carries the same idempotency key (Xero's
  ``Idempotency-Key``, QuickBooks' ``requestid``), so the package applies it at most once.
- **Transient failure** (HTTP 5xx or 408, a timeout, a dropped connection): the request is sent again after
  0.5 s, then 1 s (``backoff``, doubling), only if it is safe to repeat: a read, a query, or a write
  carrying its idempotency key. A write without one is sent once. Still failing after the last send:
  ``TransientError`` in the package's words ("the request may or may not have been applied").
- **429, minute or concurrency limits**: ``Retry-After`` is waited out (a whole window when the package
  gives none, as QuickBooks does) and the request sent again. A ``Retry-After`` over 120 s
  (``max_wait``) is not waited out, and a 429 on the last send is not either: both raise
  ``RateLimited`` ("Wait, then try again").
- **429, daily limit**: never waited out and never sent again. ``RateLimited(limit="day")`` at once,
  its message saying when uploads resume; the pacer lets no call out until that time.
- **A refused sign-in** (HTTP 401; Xero also 403): the token is refreshed once and the request sent
  once more; that send is not counted among the 3 (the request itself never reached the package).
  Refused again: the connector raises ``ConnectionRequired``. A call outside the token's scopes is not
  refreshed (a new token has the same scopes): the connector names the scope to connect again with.
- **A deadline on every send** (``deadline``, 60 s): however the answer comes (a server that drips its
  reply a byte at a time defeats a socket's read timeout), a send that has not finished by then is
  abandoned and counts as a transient failure: the request may or may not have been applied, so it is
  sent again only under its idempotency key. One request therefore takes at most about
  ``sends × deadline`` plus the waits between.
- **When a run gives up.** The upload run sends each batch once through its connector
  (``sync/export/sending.py``). A ``TransientError`` or unreadable answer stops the run with the
  batch's keys kept, so the next Upload Data replays them or looks the documents up: nothing is
  created twice. ``RateLimited`` and ``ConnectionRequired`` stop the run with their message. A
  look-up that fails or cannot be read leaves its item pending (unknown is never "not there"), and
  ``CONSECUTIVE_FAILURES`` (3) requests failing in a row stop the run: "Xero is not answering; nothing
  was lost; try again later" (``sync/export/recovery.py``).
- **Several desks, one organisation.** A transport may be given the organisation's shared pacing
  budget (``budget``, kept in the company store: ``sync/pacing_budget.py``); every send then takes a
  place in it as well as in this process's ``Pacer``, so desks together stay inside the package's limits.

So one injected transient failure costs 2 sends and a failure that persists 3; one forced 429 costs
2 sends, one that persists 3; a daily-limit 429 costs 1. Backoff and the wait cap shrink with a
time-scaled sandbox's scale, as the pacer's window does (never below 2 s for the cap).
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

from .base import RateLimited
from .pacing import Pacer
from .tokens import TokenManager

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    sends: int = 3              # sends in all for one request (transient failures and 429s alike)
    backoff: float = 0.5        # seconds before the second send after a transient failure; doubles
    max_wait: float = 120.0     # a Retry-After longer than this is not waited out
    deadline: float = 60.0      # seconds one send may take in all, however slowly its answer comes


class Place(NamedTuple):
    """A call's place in the organisation's shared budget, and how many calls of other desks on the company
    were in the window when it was given (the package counts them in its remaining-calls header)."""

    id: int
    others: int


class SharedBudget(Protocol):
    """The organisation's pacing shared by every desk (see ``sync/pacing_budget.py``)."""

    def acquire(self, pacer: Pacer, batch: bool) -> Place: ...

    def release(self, place: Place) -> None: ...


class DeadlineExceeded(TimeoutError):
    """A send did not finish within the policy's deadline."""


RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Throttle:
    """How a package said "too many": which limit, and how long it asked us to wait (None: unsaid)."""

    limit: str
    retry_after: float | None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (None when absent or unreadable; dates are not used)."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def is_transient_status(status: int) -> bool:
    """5xx, or 408 (the package timed the request out): it may or may not have been applied."""
    return status >= 500 or status == 408


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever its case in ``headers``."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class Transport(abc.ABC, Generic[R]):
    """Sends one package's requests under ``RETRY_POLICY``; ``R`` is the package's raw reply type.

    A subclass says how its package's replies read (``status``, ``headers``, ``throttle``), which
    exceptions of one send mean a transient failure (``network_errors``), and which statuses ask for
    a fresh token (``refresh_statuses``).
    """

    refresh_statuses: frozenset[int] = frozenset({401})
    network_errors: tuple[type[Exception], ...] = ()

    def __init__(self, tokens: TokenManager, pacer: Pacer, policy: RetryPolicy = RETRY_POLICY) -> None:
        self.tokens = tokens
        self.pacer = pacer
        self.policy = policy
        self.budget: SharedBudget | None = None
        self._count_lock = threading.Lock()
        self.request_count = 0      # requests put on the wire (every send counts)

    @abc.abstractmethod
    def status(self, reply: R) -> int: ...

    @abc.abstractmethod
    def headers(self, reply: R) -> Mapping[str, str]: ...

    def wants_refresh(self, reply: R) -> bool:
        """Whether a fresh token could change this answer (not so for a call outside the token's scopes)."""
        return self.status(reply) in self.refresh_statuses

    def throttle(self, reply: R) -> Throttle | None:
        """A 429 as the package's headers describe it (Xero: ``X-Rate-Limit-Problem``, ``Retry-After``)."""
        if self.status(reply) != 429:
            return None
        headers = self.headers(reply)
        limit = (header(headers, "X-Rate-Limit-Problem") or "minute").strip().lower()
        return Throttle(limit, parse_retry_after(header(headers, "Retry-After")))

    # --- the policy ----------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.pacer.policy.label

    def _scaled(self, seconds: float) -> float:
        return seconds * self.pacer.time_scale

    def send(self, once: Callable[[str], R], *, repeatable: bool, batch: bool = False) -> R:
        """Send with ``once(access_token)`` under the retry policy; returns the last reply.

        A reply that is not retried (any status) comes back for the connector to read and translate; an
        exception of the last send is raised as it is. ``repeatable``: a read, a query or a keyed write.
        """
        sends = 0
        refreshed = False
        while True:
            token = self.tokens.access_token()       # refreshed ahead of expiry
            with self._count_lock:
                self.request_count += 1
            try:
                with self.pacer.slot(batch), self._shared(batch) as others:
                    reply = self._within_deadline(once, token)
                    throttle = self.throttle(reply)
                    # A refused call was not counted by the package; Retry-After already says when.
                    self.pacer.observe(self.headers(reply), counted=throttle is None, known=others)
            except self.network_errors as exc:
                sends += 1
                if not repeatable or sends >= self.policy.sends:
                    raise
                self._back_off(sends, f"{type(exc).__name__} on the way")
                continue
            status = self.status(reply)
            if not refreshed and self.wants_refresh(reply):
                refreshed = True
                log.info("%s refused the sign-in (HTTP %d); renewing it, then sending again.", self.label, status)
                self.tokens.force_refresh(stale_access_token=token)
                continue
            sends += 1
            if throttle is not None:
                self._wait_out(throttle, last=sends >= self.policy.sends)
                continue
            if is_transient_status(status) and repeatable and sends < self.policy.sends:
                self._back_off(sends, f"HTTP {status}")
                continue
            return reply

    @contextmanager
    def _shared(self, batch: bool) -> Iterator[int]:
        """The call's place in the shared budget, if any; yields the other desks' calls in the window."""
        if self.budget is None:
            yield 0
            return
        place = self.budget.acquire(self.pacer, batch)
        try:
            yield place.others
        finally:
            self.budget.release(place)

    def timed_out(self, seconds: float) -> Exception:
        """What a send past its deadline raises: one of ``network_errors``, so the policy treats it as one."""
        return DeadlineExceeded(f"{self.label} did not finish answering within {seconds:g} seconds; the request "
                                "may or may not have been applied.")

    def _within_deadline(self, once: Callable[[str], R], token: str) -> R:
        """``once(token)`` on a helper thread, given up after ``policy.deadline`` (the thread, a daemon, ends
        with its socket's own timeout; nothing waits for it)."""
        box: list[R] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def target() -> None:
            try:
                box.append(once(token))
            except BaseException as exc:   # handed to the caller's thread as it is
                errors.append(exc)
            finally:
                done.set()

        threading.Thread(target=target, name="kcc-request", daemon=True).start()
        if not done.wait(self.policy.deadline):
            log.info("%s: a send passed its %.0f s deadline; abandoned.", self.label, self.policy.deadline)
            raise self.timed_out(self.policy.deadline)
        if errors:
            raise errors[0]
        return box[0]

    def _back_off(self, sends: int, reason: str) -> None:
        log.info("%s: transient failure (%s); sending again (send %d of %d).", self.label, reason, sends + 1,
                 self.policy.sends)
        self.pacer.wait(self._scaled(self.policy.backoff * 2 ** (sends - 1)))

    def _wait_out(self, throttle: Throttle, *, last: bool) -> None:
        """Wait a 429 out, or raise RateLimited when the policy says not to."""
        self.pacer.note_throttled()
        window = self.pacer.policy.window_seconds
        wait = throttle.retry_after if throttle.retry_after is not None else window
        if throttle.limit == "day":
            error = self.pacer.block_for_day(wait)
            log.info("%s's daily limit is reached; no call goes out for %.0f s.", self.label, wait)
            raise error
        cap = self.policy.max_wait if self.pacer.time_scale == 1.0 else max(self._scaled(self.policy.max_wait), 2.0)
        if last or wait > cap:
            log.info("%s is still limiting calls (%s limit); giving up after the policy's sends.", self.label,
                     throttle.limit)
            raise RateLimited(f"{self.label} is limiting how fast KCC Desktop may send ({throttle.limit} limit) "
                              f"and asked to wait {wait:.0f} seconds.", limit=throttle.limit, retry_after=wait)
        log.info("%s asked KCC Desktop to wait %.1f s (%s limit).", self.label, wait, throttle.limit)
        self.pacer.wait(wait)
