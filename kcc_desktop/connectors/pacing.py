"""Client-side pacing: stay under the package's limits instead of bouncing off them.

A ``Pacer`` (one per provider and organisation: see ``pacer_for``) holds an in-flight semaphore and
a sliding one-minute log of call starts (plus a separate log for QuickBooks batch calls). It also
reads the remaining-calls headers the package sends back and slows down when they run low. On a 429
it waits out ``Retry-After`` and retries a few times; a daily limit is never waited out: it raises
``RateLimited(limit="day")`` with the time uploads can resume.

``time_scale`` shrinks the window (0.0166 -> a "minute" of one second) for a time-scaled sandbox;
``clock`` and ``sleep`` are injectable so tests need no real waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Mapping, TypeVar

from .base import RateLimited

T = TypeVar("T")


@dataclass(frozen=True)
class PacingPolicy:
    label: str                     # shown in messages: "Xero", "QuickBooks"
    in_flight: int
    per_window: int                # calls per window (a minute unless scaled)
    batches_per_window: int | None = None
    window_seconds: float = 60.0
    max_retries: int = 3           # 429s waited out per call before giving up
    max_retry_wait: float = 120.0  # never sleep longer than this on one Retry-After
    low_water: int = 5             # remaining-minute calls below which calls are spaced evenly
    # The package logs a call when it arrives, a little after we log its start: hold each call in
    # our window slightly longer than the package does, or the first call of a new window can 429.
    window_margin: float = 0.03

    def scaled(self, time_scale: float) -> "PacingPolicy":
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        return replace(self, window_seconds=self.window_seconds * time_scale,
                       max_retry_wait=max(self.max_retry_wait * time_scale, 2.0))


XERO_POLICY = PacingPolicy("Xero", in_flight=5, per_window=60)
QBO_POLICY = PacingPolicy("QuickBooks", in_flight=10, per_window=500, batches_per_window=40)
POLICIES = {"xero": XERO_POLICY, "quickbooks": QBO_POLICY}


class Throttled(Exception):
    """Raised by a connector's call (inside ``Pacer.run``) when the package answered 429."""

    def __init__(self, limit: str | None, retry_after: float | None) -> None:
        super().__init__(f"throttled ({limit or 'unknown'} limit), retry after {retry_after}")
        self.limit = (limit or "minute").lower()
        self.retry_after = retry_after


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    try:
        return max(0.0, float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


class Pacer:
    def __init__(self, policy: PacingPolicy, *, time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.policy = policy.scaled(time_scale) if time_scale != 1.0 else policy
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self._slots = threading.BoundedSemaphore(self.policy.in_flight)
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._batches: deque[float] = deque()
        self._min_remaining: int | None = None
        self._day_remaining: int | None = None
        self._day_blocked_until: datetime | None = None
        self.waited = 0.0              # total seconds spent waiting (for tests and benchmarks)
        self.throttled = 0             # 429s seen

    # --- the windows ---------------------------------------------------------------------------

    @property
    def window(self) -> float:
        return self.policy.window_seconds * (1 + self.policy.window_margin)

    def _prune(self, now: float) -> None:
        edge = now - self.window
        for log in (self._calls, self._batches):
            while log and log[0] <= edge:
                log.popleft()

    def _delay(self, now: float, batch: bool) -> float:
        """Seconds to wait before one more call may start (0 = go)."""
        p = self.policy
        self._prune(now)
        waits = [0.0]
        if len(self._calls) >= p.per_window:
            waits.append(self._calls[len(self._calls) - p.per_window] + self.window - now)
        if batch and p.batches_per_window and len(self._batches) >= p.batches_per_window:
            waits.append(self._batches[len(self._batches) - p.batches_per_window] + self.window - now)
        # The package's own count runs low (other apps on the same organisation, or our window
        # being out of step with its window): spread the remaining calls evenly.
        if self._min_remaining is not None and self._min_remaining <= p.low_water and self._calls:
            spacing = p.window_seconds / p.per_window
            if self._min_remaining <= 0:
                spacing = p.window_seconds / max(1, p.in_flight)
            waits.append(self._calls[-1] + spacing - now)
        return max(waits)

    def _check_day(self) -> None:
        if self._day_blocked_until is not None:
            if self.now() < self._day_blocked_until:
                raise self._day_error(self._day_blocked_until)
            self._day_blocked_until = None

    def _day_error(self, resumes_at: datetime) -> RateLimited:
        local = resumes_at.astimezone()
        retry_after = max(0.0, (resumes_at - self.now()).total_seconds())
        return RateLimited(f"{self.policy.label}'s daily limit is reached; uploads resume at {local:%H:%M}.",
                           limit="day", retry_after=retry_after, resumes_at=resumes_at)

    @contextmanager
    def slot(self, batch: bool = False) -> Iterator[None]:
        """Hold one in-flight place and one place in the window(s) for the duration of a call."""
        with self._lock:
            self._check_day()
        self._slots.acquire()
        try:
            while True:
                with self._lock:
                    now = self.clock()
                    delay = self._delay(now, batch)
                    if delay <= 0:
                        self._calls.append(now)
                        if batch:
                            self._batches.append(now)
                        break
                self._wait(delay)
            yield
        finally:
            self._slots.release()

    def _wait(self, seconds: float) -> None:
        seconds = max(seconds, 0.001)
        self.waited += seconds
        self.sleep(seconds)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Read X-MinLimit-Remaining / X-DayLimit-Remaining from a response."""
        minute = _header(headers, "X-MinLimit-Remaining")
        day = _header(headers, "X-DayLimit-Remaining")
        with self._lock:
            if minute is not None and minute.strip().lstrip("-").isdigit():
                self._min_remaining = int(minute)
            if day is not None and day.strip().lstrip("-").isdigit():
                self._day_remaining = int(day)

    @property
    def day_remaining(self) -> int | None:
        return self._day_remaining

    # --- running a call ----------------------------------------------------------------------------

    def run(self, fn: Callable[[], T], *, batch: bool = False) -> T:
        """Call ``fn`` inside a slot; on ``Throttled`` wait out Retry-After and retry (bounded).

        A daily limit raises ``RateLimited(limit="day")`` at once; running out of retries raises
        ``RateLimited`` for the limit that was hit.
        """
        attempt = 0
        while True:
            try:
                with self.slot(batch):
                    return fn()
            except Throttled as t:
                with self._lock:
                    self.throttled += 1
                wait = parse_retry_after(None if t.retry_after is None else str(t.retry_after),
                                         default=self.policy.window_seconds)
                if t.limit == "day":
                    resumes = self.now() + timedelta(seconds=wait)
                    with self._lock:
                        self._day_blocked_until = resumes
                    raise self._day_error(resumes) from None
                attempt += 1
                if attempt > self.policy.max_retries or wait > self.policy.max_retry_wait:
                    raise RateLimited(f"{self.policy.label} is limiting how fast KCC Desktop may send "
                                      f"({t.limit} limit) and asked to wait {wait:.0f} seconds.",
                                      limit=t.limit, retry_after=wait) from None
                # Retry-After is the package's own answer to "when": wait it out, then trust the
                # next response's headers rather than the stale count.
                self._wait(wait)
                with self._lock:
                    self._min_remaining = None


# --- one pacer per organisation ---------------------------------------------------------------------------

_pacers: dict[tuple[str, str, float], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(provider: str, tenant: str, time_scale: float = 1.0) -> Pacer:
    """The shared pacer for one organisation: every connector instance on it must count together."""
    key = (provider, tenant, time_scale)
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(POLICIES[provider], time_scale=time_scale)
        return pacer


def reset_pacers() -> None:
    """Forget every shared pacer (tests; switching organisations)."""
    with _pacers_lock:
        _pacers.clear()
