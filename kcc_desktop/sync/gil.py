"""Letting the window's thread run while a worker thread grinds through rows.

The window's thread stalled 100-150 ms while an upload planned 100,000 rows: a thread waiting for the
GIL is woken each time this one lets go of it around a SQLite step (every row), finds it taken again
and starts its wait over, so CPython's forced switch never comes. A real pause every ``YIELD_EVERY``
seconds of work hands the GIL over (costs at most ``YIELD_FOR / YIELD_EVERY`` of the time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

YIELD_EVERY = 0.01
YIELD_FOR = 0.0005
CHUNK = 500            # ids per IN (...) list (SQLite's variable limit)

_yielded = threading.local()
T = TypeVar("T")


def yield_gil() -> None:
    """Pause briefly if this thread has worked ``YIELD_EVERY`` seconds since it last paused."""
    now = time.monotonic()
    if now - getattr(_yielded, "at", 0.0) >= YIELD_EVERY:
        time.sleep(YIELD_FOR)
        _yielded.at = time.monotonic()


def chunks(seq: Sequence[T], n: int = CHUNK) -> Iterator[Sequence[T]]:
    """``seq`` in slices of ``n`` (for IN lists), yielding the GIL between them."""
    for i in range(0, len(seq), n):
        yield_gil()
        yield seq[i:i + n]
