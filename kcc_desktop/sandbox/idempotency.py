"""Idempotency keys: the first response to a key is replayed; the same key on another request conflicts.

Both packages offer this (Xero's ``Idempotency-Key`` header, QuickBooks' ``requestid``); it is what
lets a client retry a write whose answer was lost without making a duplicate.

The replay window. Xero: about 6 minutes (integration-facts.md, "Idempotency": "kept about 6 minutes,
*unconfirmed*"). QuickBooks documents no window at all (Intuit's developer blog, "Request ID update for
QuickBooks Online integration", 2015-04-06: a requestid "must be unique for all requests for a given
company" and a repeat gets "the same response as it did for the original request"); the sandbox assumes
the same 6 minutes, the conservative choice: the app must never count on an older replay, and looks
the document up before creating it again instead. Both are scaled by ``time_scale``.

A real service keeps its keys through its own restarts, so the sandbox does too: the keys, each with
its fingerprint, first response and the time it was first answered, go into the state file
(``to_state``/``load_state``) and are dropped once older than the window. Times are wall-clock (the
provider's ``wall_now``, which ``/_sandbox/advance-clock`` moves on), not a monotonic clock, which would
mean nothing in the next process.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Final, Literal, TypeAlias

from .http import Request, Response
from .json_types import JSONValue

Outcome: TypeAlias = Literal["new", "replay", "conflict"]
NEW: Final = "new"
REPLAY: Final = "replay"
CONFLICT: Final = "conflict"
WINDOW_SECONDS: Final = 360.0


def fingerprint(request: Request, ignore_query: tuple[str, ...] = ()) -> str:
    """What makes two requests "the same": method, path, query (minus ``ignore_query``) and body."""
    skip = {q.lower() for q in ignore_query}
    query = sorted((k.lower(), tuple(v)) for k, v in request.query.items() if k.lower() not in skip)
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path} {query!r}\n".encode())
    h.update(request.body)
    return h.hexdigest()


class IdempotencyStore:
    """key -> (first answered at, fingerprint, first response), forgotten after ``window_seconds`` (scaled by
    ``time_scale``). ``clock`` gives seconds since the epoch."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS, time_scale: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
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

    # --- the state file ---------------------------------------------------------------------------------

    def to_state(self) -> list[JSONValue]:
        """The keys still inside the window, with their first responses, for the state file."""
        with self._lock:
            self._expire(self.clock())
            return [{"key": key, "at": at, "fingerprint": fp, "status": r.status, "headers": dict(r.headers),
                     "body": base64.b64encode(r.body).decode("ascii")}
                    for key, (at, fp, r) in self._entries.items()]

    def load_state(self, entries: list[JSONValue]) -> None:
        """Keys saved by ``to_state`` (a previous run); those past the window are dropped."""
        restored: dict[str, tuple[float, str, Response]] = {}
        for item in entries:
            if not isinstance(item, dict):
                raise ValueError("an idempotency entry in the state file is not an object")
            restored[str(item["key"])] = (_number(item["at"]), str(item["fingerprint"]),
                                          Response(int(_number(item["status"])), _headers(item["headers"]),
                                                   base64.b64decode(str(item["body"]))))
        with self._lock:
            self._entries = restored
            self._expire(self.clock())


def _number(value: JSONValue) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number in an idempotency entry: {value!r}")
    return float(value)


def _headers(value: JSONValue) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("idempotency entry headers are not an object")
    return {str(k): str(v) for k, v in value.items()}


__all__ = ["CONFLICT", "NEW", "REPLAY", "WINDOW_SECONDS", "IdempotencyStore", "fingerprint"]
