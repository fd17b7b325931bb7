"""Rate limits as the packages apply them: calls in flight plus sliding windows (second/minute/day).

Each window is a log of call times, so ``Retry-After`` is exact: the moment the oldest call in the
window falls out. ``time_scale`` shrinks every window (0.0166 makes a "minute" last one second) so
benchmarks and tests can hit and leave a limit without waiting real minutes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Standard window names and their length in (unscaled) seconds.
WINDOW_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
CONCURRENT = "concurrent"


@dataclass
class Decision:
    """The outcome of one ``acquire``: allowed, or which limit was hit and how long to wait."""

    allowed: bool
    problem: str | None = None          # "concurrent", "second", "minute", "day"
    retry_after: float = 0.0            # real seconds until a retry can pass
    remaining: dict[str, int] = field(default_factory=dict)  # per window, after this call

    @property
    def retry_after_header(self) -> str:
        # Header wants whole seconds; never 0, or a client would spin.
        return str(max(1, math.ceil(self.retry_after)))


class RateLimiter:
    """Thread-safe limiter keyed by tenant/realm.

    ``limits`` maps a window name ("second", "minute", "hour", "day") or "concurrent" to a call count;
    a missing or ``None`` entry means no limit of that kind.
    """

    def __init__(self, limits: Mapping[str, int | None], time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        unknown = set(limits) - set(WINDOW_SECONDS) - {CONCURRENT}
        if unknown:
            raise ValueError(f"unknown rate-limit window(s): {sorted(unknown)}")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.limits = {k: v for k, v in limits.items() if v is not None}
        self.time_scale = time_scale
        self.clock = clock
        self._lock = threading.Lock()
        self._log: dict[tuple[str, str], deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def window_seconds(self, name: str) -> float:
        return WINDOW_SECONDS[name] * self.time_scale

    def _windows(self) -> list[tuple[str, int]]:
        return [(n, lim) for n, lim in self.limits.items() if n != CONCURRENT]

    def _prune(self, key: str, now: float) -> None:
        for name, _ in self._windows():
            log = self._log.setdefault((key, name), deque())
            edge = now - self.window_seconds(name)
            while log and log[0] <= edge:
                log.popleft()

    def _remaining(self, key: str) -> dict[str, int]:
        out = {name: max(0, lim - len(self._log[(key, name)])) for name, lim in self._windows()}
        if CONCURRENT in self.limits:
            out[CONCURRENT] = max(0, self.limits[CONCURRENT] - self._in_flight.get(key, 0))
        return out

    def acquire(self, key: str = "default") -> Decision:
        """Count one call. When allowed the caller MUST ``release(key)`` once the call is done."""
        with self._lock:
            now = self.clock()
            self._prune(key, now)
            if CONCURRENT in self.limits and self._in_flight.get(key, 0) >= self.limits[CONCURRENT]:
                # Xero asks for a short back-off on the concurrency limit.
                return Decision(False, CONCURRENT, 1.0, self._remaining(key))
            # The longest window decides: being over the day limit matters more than the minute one.
            for name, lim in sorted(self._windows(), key=lambda w: -WINDOW_SECONDS[w[0]]):
                log = self._log[(key, name)]
                if len(log) >= lim:
                    wait = log[0] + self.window_seconds(name) - now
                    return Decision(False, name, max(wait, 0.0), self._remaining(key))
            for name, _ in self._windows():
                self._log[(key, name)].append(now)
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return Decision(True, None, 0.0, self._remaining(key))

    def release(self, key: str = "default") -> None:
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def remaining(self, key: str = "default") -> dict[str, int]:
        with self._lock:
            self._prune(key, self.clock())
            return self._remaining(key)

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._in_flight.clear()


def merge_limits(defaults: Mapping[str, int | None],
                 overrides: Mapping[str, int | None] | None) -> dict[str, int | None]:
    """Provider defaults with caller overrides on top; accepts CLI-style aliases (per_minute, in_flight)."""
    aliases = {"in_flight": CONCURRENT, "per_second": "second", "per_minute": "minute",
               "per_hour": "hour", "per_day": "day"}
    out = dict(defaults)
    for k, v in (overrides or {}).items():
        out[aliases.get(k, k)] = v
    return out
