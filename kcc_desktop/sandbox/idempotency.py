"""Idempotency keys: the first response to a key is replayed; the same key on another request conflicts.

Both packages offer this (Xero's ``Idempotency-Key`` header, QuickBooks' ``requestid``); it is what
lets a client retry a write whose answer was lost without making a duplicate.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Final, Literal, TypeAlias

from .http import Request, Response

Outcome: TypeAlias = Literal["new", "replay", "conflict"]
NEW: Final = "new"
REPLAY: Final = "replay"
CONFLICT: Final = "conflict"


def fingerprint(request: Request, ignore_query: tuple[str, ...] = ()) -> str:
    """What makes two requests "the same": method, path, query (minus ``ignore_query``) and body."""
    skip = {q.lower() for q in ignore_query}
    query = sorted((k.lower(), tuple(v)) for k, v in request.query.items() if k.lower() not in skip)
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path} {query!r}\n".encode())
    h.update(request.body)
    return h.hexdigest()


class IdempotencyStore:
    """key -> (fingerprint, first response), forgotten after ``window_seconds`` (scaled by ``time_scale``)."""

    def __init__(self, window_seconds: float = 360.0, time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds * time_scale
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str, Response]] = {}

    def _expire(self, now: float) -> None:
        for k in [k for k, (t, _, _) in self._entries.items() if now - t >= self.window]:
            del self._entries[k]

    def lookup(self, key: str, fp: str) -> tuple[Outcome, Response | None]:
        """(NEW, None) | (REPLAY, copy of the first response) | (CONFLICT, None)."""
        with self._lock:
            self._expire(self.clock())
            entry = self._entries.get(key)
            if entry is None:
                return NEW, None
            if entry[1] != fp:
                return CONFLICT, None
            return REPLAY, copy.deepcopy(entry[2])

    def store(self, key: str, fp: str, response: Response) -> None:
        with self._lock:
            stored = copy.deepcopy(response)
            stored.drop_connection = False  # the replay is the answer the client missed
            self._entries.setdefault(key, (self.clock(), fp, stored))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
