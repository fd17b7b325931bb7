"""Client-side pacing: stay under the package's limits instead of bouncing off them.

A ``Pacer`` (one per provider and organisation: see ``pacer_for``) holds an in-flight semaphore and
a sliding one-minute window of calls (plus a separate one for QuickBooks batch calls). The package
counts a call when it *arrives*, somewhere between our send and our reading the answer, so a call
stays in our window from its start until a window after it *finished*: however late it reached the
package (network jitter, a slow body upload), the package has dropped it before we send the call
that replaces it. Calls the pacer did not make (another process, the same organisation used by
another app) show in the ``X-MinLimit-Remaining`` header; the pacer adds them to its window so it
still stays inside the package's count. The pacer never sends anything again itself: what to do
about a 429 is the transport's decision (``transport.py``, where the one retry policy lives); the
pacer keeps the daily block the transport sets (``block_for_day``), so no call leaves until then.

``time_scale`` shrinks the window (0.0166 -> a "minute" of one second) for a time-scaled sandbox;
``clock`` and ``sleep`` are injectable so tests need no real waiting.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from .base import RateLimited

T = TypeVar("T")


@dataclass(frozen=True)
class PacingPolicy:
    label: str                     # shown in messages: "Xero", "QuickBooks"
    in_flight: int
    per_window: int                # calls per window (a minute unless scaled)
    batches_per_window: int | None = None
    window_seconds: float = 60.0
    # Each call already stays in our window until a window after its answer came back (later than
    # the package's count of it); the margin only covers clock-rate and timer differences.
    window_margin: float = 0.01

    def scaled(self, time_scale: float) -> PacingPolicy:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        return replace(self, window_seconds=self.window_seconds * time_scale)


XERO_POLICY = PacingPolicy("Xero", in_flight=5, per_window=60)
QBO_POLICY = PacingPolicy("QuickBooks", in_flight=10, per_window=500, batches_per_window=40)
POLICIES = {"xero": XERO_POLICY, "quickbooks": QBO_POLICY}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


class _Window:
    """Calls in one sliding window: those in flight plus those that finished less than ``length`` ago.

    Finished calls are kept two windows, so the count as it was when an earlier call started can
    still be read (``count_since``). Not thread-safe: the Pacer's lock guards it.
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.ends: list[float] = []      # finish times of completed calls, ascending

    def prune(self, now: float, length: float) -> None:
        del self.ends[:bisect.bisect_right(self.ends, now - 2 * length)]

    def count_since(self, edge: float) -> int:
        """Calls in flight plus those that finished after ``edge``."""
        return self.in_flight + len(self.ends) - bisect.bisect_right(self.ends, edge)

    def delay(self, now: float, length: float, limit: int) -> float:
        """Seconds until one more call fits under ``limit`` (0 = now)."""
        first = bisect.bisect_right(self.ends, now - length)    # the oldest finish still in the window
        over = self.in_flight + len(self.ends) - first - limit  # this many + 1 must leave first
        if over < 0:
            return 0.0
        if first + over < len(self.ends):
            return self.ends[first + over] + length - now
        return length / max(limit, 1)   # everything is in flight (limit <= in-flight): poll

    def finish(self, end: float) -> None:
        self.in_flight -= 1
        bisect.insort(self.ends, end)

    def add_unseen(self, n: int, now: float) -> None:
        """Calls the package counted but we never made: assume the latest time they could leave."""
        for _ in range(n):
            bisect.insort(self.ends, now)


class Pacer:
    def __init__(self, policy: PacingPolicy, *, time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.base_policy = policy
        self.time_scale = time_scale
        self.policy = policy.scaled(time_scale) if time_scale != 1.0 else policy
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self._slots = threading.BoundedSemaphore(self.policy.in_flight)
        self._lock = threading.Lock()
        self._calls = _Window()
        self._batches = _Window()
        self._local = threading.local()   # the start of the call this thread is making
        self._probing = False             # a call is out alone to read the package's count
        self._day_remaining: int | None = None
        self._day_blocked_until: datetime | None = None
        self.waited = 0.0              # total seconds spent waiting (for tests and benchmarks)
        self.throttled = 0             # 429s seen
        self.unseen = 0                # calls the package counted that this pacer did not make

    def rescale(self, time_scale: float) -> None:
        """Another time scale for the same organisation (a time-scaled sandbox); the window is kept."""
        with self._lock:
            self.policy = self.base_policy.scaled(time_scale) if time_scale != 1.0 else self.base_policy
            self.time_scale = time_scale

    # --- the windows ---------------------------------------------------------------------------

    @property
    def window(self) -> float:
        return self.policy.window_seconds * (1 + self.policy.window_margin)

    def _prune(self, now: float) -> None:
        self._calls.prune(now, self.window)
        self._batches.prune(now, self.window)

    def _delay(self, now: float, batch: bool) -> float:
        """Seconds to wait before one more call may start (0 = go)."""
        p = self.policy
        self._prune(now)
        waits = [self._calls.delay(now, self.window, p.per_window)]
        if batch and p.batches_per_window:
            waits.append(self._batches.delay(now, self.window, p.batches_per_window))
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
        """Hold one in-flight place and one place in the window(s) for the duration of a call.

        The place in the window is held until a window after the call finished (answer, error or
        429 alike: the package may have counted it whichever way it ended).
        """
        with self._lock:
            self._check_day()
        self._slots.acquire()
        try:
            while True:
                with self._lock:
                    now = self.clock()
                    delay = self._delay(now, batch)
                    if self._probing:
                        delay = max(delay, self.window / 600)
                    elif delay <= 0:
                        # The first call after a quiet window goes alone: its remaining-calls header
                        # then counts exactly the calls others made (see _reconcile).
                        probe = self._calls.count_since(now - self.window) == 0
                        self._probing = probe
                        self._calls.in_flight += 1
                        if batch:
                            self._batches.in_flight += 1
                        break
                self.wait(delay)   # never under self._lock
            self._local.start = now
            try:
                yield
            finally:
                self._local.start = None
                with self._lock:
                    if probe:
                        self._probing = False
                    end = self.clock()
                    self._calls.finish(end)
                    if batch:
                        self._batches.finish(end)
        finally:
            self._slots.release()

    def observe(self, headers: Mapping[str, str] | None, *, counted: bool = True, known: int = 0) -> None:
        """Read X-MinLimit-Remaining / X-DayLimit-Remaining from a response (called inside ``slot``).

        ``counted=False`` for a 429: the package did not count the refused call, and Retry-After
        already says when to come back. ``known``: calls in the window that other desks on the company
        made, which the shared budget already counts with their real times (``sync/pacing_budget.py``).
        """
        minute = _header(headers, "X-MinLimit-Remaining")
        day = _header(headers, "X-DayLimit-Remaining")
        with self._lock:
            if day is not None and day.strip().lstrip("-").isdigit():
                self._day_remaining = int(day)
            if counted and minute is not None and minute.strip().lstrip("-").isdigit():
                self._reconcile(max(0, int(minute)), known)

    def _reconcile(self, remaining: int, known: int = 0) -> None:
        """Add calls the package counted in its window that this pacer never made.

        The package counted ``per_window - remaining`` calls when this one arrived, itself included.
        Every call of ours it can have counted finished less than a window before this call started
        (it arrived within a window before this one did), so anything beyond that count of ours is
        someone else's: an earlier process, another app on the organisation. Our own calls in
        flight at the same time (counted by us, perhaps not yet by the package) only lower the
        estimate, never make it up; that is why the first call after a quiet window goes alone. The
        ``known`` calls of other desks are not someone else's: the shared budget holds them, with their own
        times, where stamping them now would keep them in this window long after the package dropped them.
        """
        start = getattr(self._local, "start", None)
        now = self.clock()
        self._prune(now)
        mine = self._calls.count_since((now if start is None else start) - self.window)
        theirs = self.policy.per_window - remaining - mine - known
        if theirs > 0:
            self._calls.add_unseen(theirs, now)
            self.unseen += theirs

    @property
    def day_remaining(self) -> int | None:
        return self._day_remaining

    # --- running a call ----------------------------------------------------------------------------

    def run(self, fn: Callable[[], T], *, batch: bool = False) -> T:
        """Call ``fn`` once inside a slot (never again: retrying is the transport's decision)."""
        with self.slot(batch):
            return fn()

    def wait(self, seconds: float) -> None:
        """Sleep (the injectable ``sleep``) and count it in ``waited``: the window's waits and the
        transport's (backoff, Retry-After) alike. Never call it holding ``_lock``."""
        with self._lock:
            self.waited += max(seconds, 0.001)
        self.sleep(max(seconds, 0.001))

    def note_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def block_for_day(self, retry_after: float) -> RateLimited:
        """The daily limit was hit: no call leaves for ``retry_after`` seconds. Returns the error to raise."""
        resumes = self.now() + timedelta(seconds=retry_after)
        with self._lock:
            self._day_blocked_until = resumes
        return self._day_error(resumes)


# --- one pacer per organisation ---------------------------------------------------------------------------

_pacers: dict[tuple[str, str], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(provider: str, tenant: str, time_scale: float = 1.0) -> Pacer:
    """The shared pacer for one organisation: every connector instance on it must count together.

    Keyed by provider and organisation only: a connector opened with another ``time_scale`` (a
    time-scaled sandbox) re-scales the shared pacer and keeps its window, never starts a second one.
    """
    key = (provider, tenant)
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(POLICIES[provider], time_scale=time_scale)
        elif pacer.time_scale != time_scale:
            pacer.rescale(time_scale)
        return pacer


def reset_pacers() -> None:
    """Forget every shared pacer (tests; switching organisations)."""
    with _pacers_lock:
        _pacers.clear()
