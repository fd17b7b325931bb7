"""Letting the window's thread run while a worker thread grinds through rows.

The window's thread stalled 100-150 ms while an upload planned 100,000 rows: a thread waiting for the
GIL is woken each time this one lets go of it around a SQLite step (every row), finds it taken again
and starts its wait over, so CPython's forced switch never comes. A real pause every ``YIELD_EVERY``
seconds of work hands the GIL over (costs at most ``YIELD_FOR / YIELD_EVERY`` of the time).

A grid's paint calls into Python ~800 times (``data()`` per cell and role), taking the GIL anew for each
call: behind a busy worker each take can wait, and a paint of 30 rows held the window 100-130 ms while
Create & Allocate ran. ``gui_turn()`` around the paint parks workers at their next ``yield_gil`` until the
paint is done (at most ``MAX_PARK`` seconds, so a paint that never ends cannot stop the work).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

YIELD_EVERY = 0.01
YIELD_FOR = 0.0005
CHUNK = 500            # ids per IN (...) list (SQLite's variable limit)
MAX_PARK = 0.1
GUI_SWITCH_INTERVAL = 0.0001

_yielded = threading.local()
_gui_free = threading.Event()
_gui_free.set()
_gui_depth = 0          # gui_turn() nests (a paint inside a paint); only the window's thread calls it
T = TypeVar("T")


@contextmanager
def gui_turn() -> Iterator[None]:
    """On the window's thread, around work that calls into Python many times (a grid's paint): workers
    wait at their next ``yield_gil`` until it ends."""
    global _gui_depth
    _gui_depth += 1
    if _gui_depth == 1:
        _gui_free.clear()
        interval = sys.getswitchinterval()
        # A worker deep in a query does not reach yield_gil: make it hand the GIL over within 0.1 ms of
        # being asked (the default is 5 ms, paid on each of the paint's calls into Python).
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    try:
        yield
    finally:
        _gui_depth -= 1
        if _gui_depth == 0:
            sys.setswitchinterval(interval)
            _gui_free.set()


def yield_gil() -> None:
    """Wait while the window's thread has its turn; else pause briefly if this thread has worked
    ``YIELD_EVERY`` seconds since it last paused."""
    if not _gui_free.is_set():
        _gui_free.wait(MAX_PARK)   # the GIL is released while waiting
        _yielded.at = time.monotonic()
        return
    now = time.monotonic()
    if now - getattr(_yielded, "at", 0.0) >= YIELD_EVERY:
        time.sleep(YIELD_FOR)
        _yielded.at = time.monotonic()


def chunks(seq: Sequence[T], n: int = CHUNK) -> Iterator[Sequence[T]]:
    """``seq`` in slices of ``n`` (for IN lists), yielding the GIL between them."""
    for i in range(0, len(seq), n):
        yield_gil()
        yield seq[i:i + n]
