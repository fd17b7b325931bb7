"""Waiting for a condition that sends no signal (a child process, a sandbox in another thread): poll it
until it holds, failing after ``timeout``. A deadline for a condition, never a bound on how long
something took (timings live in benchmarks/)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.02) -> None:
    end = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < end, f"timed out after {timeout} s waiting for {condition}"
        pause.wait(interval)
