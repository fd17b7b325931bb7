"""Fault injection: the failures a real connection to an accounting package shows, on demand.

All randomness comes from one seeded ``random.Random`` so a test run is repeatable. Counts
(``forced_429``, ``drop_after_commit_count``) are consumed one per call, before any rate applies.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class FaultConfig:
    """Which faults to play (``POST /_sandbox/faults`` changes it at run time; all off by default)."""

    latency: float = 0.0                 # seconds added to every API call
    error_rate: float = 0.0              # share of calls answered 500 or 503 (nothing applied)
    timeout_rate: float = 0.0            # share of calls that hang ``timeout_seconds`` and then 504
    timeout_seconds: float = 35.0        # longer than a typical client timeout (SDKs use ~30 s)
    drop_after_commit_rate: float = 0.0  # share of successful writes whose connection is cut after commit
    drop_after_commit_count: int = 0     # the next N successful writes are cut after commit
    forced_429: int = 0                  # the next N API calls get 429 whatever the limits say
    drip_rate: float = 0.0               # share of answers sent a byte at a time (a socket timeout never fires)
    drip_seconds: float = 0.2            # the pause between two bytes of a dripped answer
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FaultConfig:
        cfg = cls()
        cfg.update(data or {})
        return cfg

    def update(self, data: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        bad = set(data) - set(known)
        if bad:
            raise ValueError(f"unknown fault option(s): {sorted(bad)}")
        for k, v in data.items():
            cast = int if k in ("drop_after_commit_count", "forced_429", "seed") else float
            setattr(self, k, cast(v))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Decides, per call, which fault (if any) to play. Thread-safe."""

    def __init__(self, config: FaultConfig | dict[str, Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config if isinstance(config, FaultConfig) else FaultConfig.from_dict(config)
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()
        self.sleep = sleep
        self.counts = {"latency": 0, "error": 0, "timeout": 0, "dropped": 0, "forced_429": 0, "dripped": 0}

    def configure(self, data: dict[str, Any], replace: bool = False) -> FaultConfig:
        """Apply ``POST /_sandbox/faults`` JSON; ``replace`` starts from defaults (all faults off)."""
        with self._lock:
            cfg = FaultConfig() if replace else FaultConfig(**self.config.to_dict())
            cfg.update(data)
            self.config = cfg
            if replace or "seed" in data:
                self._rng = random.Random(cfg.seed)
            return cfg

    def take_forced_429(self) -> bool:
        """Consume one forced 429, if any are queued (checked before the rate limiter counts the call)."""
        with self._lock:
            if self.config.forced_429 > 0:
                self.config.forced_429 -= 1
                self.counts["forced_429"] += 1
                return True
            return False

    def before_call(self) -> str | None:
        """Play latency, then pick "500", "503", "timeout" or None (serve normally).

        Called while the call holds its in-flight slot but outside the state lock, so slow calls
        overlap and pile up against the concurrency limit as real ones do.
        """
        with self._lock:
            cfg = self.config
            choice = None
            if cfg.error_rate and self._rng.random() < cfg.error_rate:
                choice = self._rng.choice(["500", "503"])
                self.counts["error"] += 1
            elif cfg.timeout_rate and self._rng.random() < cfg.timeout_rate:
                choice = "timeout"
                self.counts["timeout"] += 1
            latency, timeout = cfg.latency, cfg.timeout_seconds
            if latency > 0:
                self.counts["latency"] += 1
        if latency > 0:
            self.sleep(latency)
        if choice == "timeout":
            self.sleep(timeout)
        return choice

    def drop_after_commit(self) -> bool:
        """Whether to cut the connection of a write that has just been committed."""
        with self._lock:
            cfg = self.config
            drop = False
            if cfg.drop_after_commit_count > 0:
                cfg.drop_after_commit_count -= 1
                drop = True
            elif cfg.drop_after_commit_rate and self._rng.random() < cfg.drop_after_commit_rate:
                drop = True
            if drop:
                self.counts["dropped"] += 1
            return drop

    def drip(self) -> float:
        """Seconds between the bytes of this answer (0: sent at once). A slow-drip answer keeps a client whose
        only guard is a socket read timeout waiting for as long as the body lasts."""
        with self._lock:
            cfg = self.config
            if cfg.drip_rate and self._rng.random() < cfg.drip_rate:
                self.counts["dripped"] += 1
                return cfg.drip_seconds
            return 0.0

    def reset_counts(self) -> None:
        with self._lock:
            for k in self.counts:
                self.counts[k] = 0
