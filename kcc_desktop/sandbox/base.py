"""What every sandbox provider shares: stats, faults, rate limits, idempotency, persistence and the
``/_sandbox/*`` control endpoints tests and the demo use to steer the server.

A provider subclasses ``SandboxProvider`` and fills in the hooks (``dispatch``, ``reset_books``,
``snapshot``/``restore``, token hooks, and how a 429 looks in its API). ``handle`` is not overridden:
it is the one place that orders limits, faults, state lock, persistence and the dropped connection.

Control endpoints (JSON in and out, never rate limited or faulted):
  GET  /_sandbox/stats          request counts by method and endpoint pattern, 429s, faults played, and the
                                span from the first request to the last answer (host clock, time.time)
  POST /_sandbox/stats          the counts back to zero (books, limits and faults kept)
  POST /_sandbox/reset          books back to the seed company; {"tokens": true} also forgets logins
  GET|POST /_sandbox/faults     read / change FaultConfig fields; {"replace": true} starts from defaults
  POST /_sandbox/limits         change limits at runtime: {"minute": 3, "concurrent": 1, "time_scale": 0.01}
  POST /_sandbox/revoke         revoke every token of the connection (the app must reconnect)
  POST /_sandbox/expire-tokens  access tokens expire now (the app must refresh)
  POST /_sandbox/advance-clock  {"seconds": 1900}: move the provider's clock on (grace periods, lifetimes)
  GET  /_sandbox/state          the provider's snapshot, for debugging
A provider adds its own through ``control`` (Xero: ``/_sandbox/organisation``, ``/_sandbox/merge-contacts``).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from .faults import FaultConfig, FaultInjector
from .http import Provider, Request, Response
from .idempotency import CONFLICT, REPLAY, WINDOW_SECONDS, IdempotencyStore, fingerprint
from .json_types import JSONObject, JSONValue
from .limits import Decision, RateLimiter, merge_limits
from .state import dumps_exact, dumps_tagged, load_state, save_state

WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})
_ID_SEGMENT = re.compile(r"/(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+)(?=/|$)")


def exact_json(status: int, obj: JSONValue, headers: dict[str, str] | None = None) -> Response:
    """Like ``http.json_response`` but Decimals go out as exact JSON numbers."""
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return Response(status, h, dumps_exact(obj).encode("utf-8"))


class SandboxProvider(Provider):
    name = "sandbox"
    default_limits: ClassVar[Mapping[str, int | None]] = {}
    idempotency_window = WINDOW_SECONDS  # seconds a key is remembered (scaled by time_scale; see idempotency.py)

    def __init__(self, state_file: str | None = None, faults: FaultConfig | JSONObject | None = None,
                 limits: Mapping[str, int | None] | None = None, time_scale: float = 1.0,
                 persist_delay: float = 0.2) -> None:
        super().__init__()
        self.state_file = state_file
        # Writes to the state file are coalesced: at most one every ``persist_delay`` seconds (0: at once),
        # and always on ``close()`` (SandboxServer.stop). A big company file then costs one dump per burst,
        # not one per call.
        self.persist_delay = persist_delay
        self._dirty = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = threading.Event()
        self.time_scale = time_scale
        self.faults = FaultInjector(faults)
        self.limit_config = merge_limits(self.default_limits, limits)
        self.limiter = RateLimiter(self.limit_config, time_scale=time_scale)
        # Wall-clock times (kept in the state file), on the provider's clock that advance-clock moves.
        self.idempotency = IdempotencyStore(self.idempotency_window, time_scale=time_scale,
                                            clock=lambda: self.wall_now().timestamp())
        self._stats_lock = threading.Lock()
        self._stats: Counter[str] = Counter()
        self._by_method: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self.rate_limited_count = 0
        # The host's clock (time.time) when the first API request arrived and the last answer left: the span
        # the package was worked, which benchmarks compare without the clients' own start-up.
        self._span: list[float] = []
        # Test hooks: callables (request, response) told of every non-control answer (contract checks).
        self.observers: list[Callable[[Request, Response], None]] = []
        # Time travel for token lifetimes and grace periods: providers read ``wall_now()``.
        self.clock_offset = timedelta(0)

    def wall_now(self) -> datetime:
        """The provider's idea of "now" (aware UTC), moved on by ``POST /_sandbox/advance-clock``."""
        return datetime.now(UTC) + self.clock_offset

    # --- hooks for providers -------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:  # pragma: no cover - abstract
        """Serve one non-control request. Runs under ``self.lock``."""
        raise NotImplementedError

    def is_api(self, request: Request) -> bool:
        """Whether limits and faults apply (the data API, not the OAuth pages)."""
        return True

    def is_write(self, request: Request) -> bool:
        """Whether the request may change the books (saved, and eligible for ``drop_after_commit``)."""
        return request.method in WRITE_METHODS

    def limit_key(self, request: Request) -> str:
        """Limits are per organisation/company: Xero keys by tenant id, QuickBooks by realm."""
        return "default"

    def rate_limited(self, decision: Decision) -> Response:
        return exact_json(429, {"Message": f"rate limit exceeded: {decision.problem}"},
                          {"Retry-After": decision.retry_after_header})

    def limit_headers(self, request: Request, decision: Decision) -> dict[str, str]:
        return {}

    def server_error(self, status: int) -> Response:
        return exact_json(status, {"Message": "An error occurred" if status == 500 else "Service Unavailable"})

    def reset_books(self, tokens: bool = False) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def snapshot(self) -> JSONObject:  # pragma: no cover - abstract
        """Everything the state file keeps (Decimal, date and datetime values allowed)."""
        raise NotImplementedError

    def restore(self, data: JSONObject) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def revoke_tokens(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def expire_tokens(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def control(self, what: str, method: str, body: JSONObject) -> Response | None:
        """A provider's own ``/_sandbox/<what>`` endpoints (None: not one of them). Runs outside the lock."""
        return None

    def endpoint_pattern(self, request: Request) -> str:
        return f"{request.method} {_ID_SEGMENT.sub('/{id}', request.path)}"

    # --- persistence ------------------------------------------------------------------------------

    def load(self) -> bool:
        """Restore from ``state_file`` if it exists; call at the end of a provider's ``__init__``."""
        if not self.state_file:
            return False
        data = load_state(self.state_file)
        if data is None:
            self.persist()
            return False
        if not isinstance(data, dict):
            raise ValueError(f"{self.state_file} is not a sandbox state file")
        keys = data.pop("idempotency", [])
        self.restore(data)
        self.idempotency.load_state(keys if isinstance(keys, list) else [])
        return True

    def full_snapshot(self) -> JSONObject:
        """What the state file keeps: the provider's snapshot and the idempotency keys inside their window
        (a replay after a restart must still find the first answer)."""
        return {**self.snapshot(), "idempotency": self.idempotency.to_state()}

    def persist(self) -> None:
        """Note a change: written now (``persist_delay`` 0) or by the writer thread shortly."""
        if not self.state_file:
            return
        if self.persist_delay <= 0 or self._closed.is_set():
            self.flush()
            return
        self._dirty.set()
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_behind, name=f"sandbox-{self.name}-state", daemon=True)
            self._writer.start()

    def flush(self) -> None:
        """Write the state file now (atomically), whatever is pending."""
        if not self.state_file:
            return
        with self.lock:
            self._dirty.clear()
            save_state(self.state_file, self.full_snapshot())

    def close(self) -> None:
        """Called by ``SandboxServer.stop``: the last changes reach the disk before the server goes."""
        self._closed.set()
        self._dirty.set()  # wake the writer so it can leave
        if self._writer is not None:
            self._writer.join(timeout=5)
        self.flush()

    def _write_behind(self) -> None:
        while not self._closed.is_set():
            self._dirty.wait()
            if self._closed.is_set():
                return
            time.sleep(self.persist_delay)  # let a burst of writes land first
            with contextlib.suppress(OSError):  # a full disk must not kill the server; close() tries again
                self.flush()

    # --- idempotency ------------------------------------------------------------------------------

    def idempotent(self, request: Request, key: str | None, action: Callable[[], Response],
                   conflict: Callable[[], Response], ignore_query: tuple[str, ...] = ()) -> Response:
        """Run ``action`` once per key: a repeat replays the first answer, another request conflicts.

        Only answers below 500 are remembered, so a failed call can be retried for real.
        """
        if not key:
            return action()
        fp = fingerprint(request, ignore_query)
        outcome, stored = self.idempotency.lookup(key, fp)
        if outcome == REPLAY and stored is not None:
            return stored
        if outcome == CONFLICT:
            return conflict()
        resp = action()
        if resp.status < 500:
            self.idempotency.store(key, fp, resp)
        return resp

    # --- the request pipeline ---------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        with self._stats_lock:
            self._stats[self.endpoint_pattern(request)] += 1
            self._by_method[request.method] += 1
            if not self._span:
                self._span[:] = [time.time()] * 2
        resp = self._handle_counted(request)
        with self._stats_lock:
            self._span[1] = time.time()
            self._by_status[str(resp.status)] += 1
            if resp.status == 429:
                self.rate_limited_count += 1
        for observe in list(self.observers):
            observe(request, resp)
        return resp

    def _handle_counted(self, request: Request) -> Response:
        write = self.is_write(request)
        if not self.is_api(request):
            with self.lock:
                resp = self.dispatch(request)
                if write:  # even a 400 may have saved part of a batch (Xero's summarised errors)
                    self.persist()
            return resp
        key = self.limit_key(request)
        if self.faults.take_forced_429():
            forced = Decision(False, "minute", self.limiter.time_scale * 60, self.limiter.remaining(key))
            resp = self.rate_limited(forced)
            resp.headers.update(self.limit_headers(request, forced))
            return resp
        decision = self.limiter.acquire(key)
        if not decision.allowed:
            resp = self.rate_limited(decision)
            resp.headers.update(self.limit_headers(request, decision))
            return resp
        try:
            fault = self.faults.before_call()
            if fault in ("500", "503"):
                resp = self.server_error(int(fault))
            elif fault == "timeout":
                resp = exact_json(504, {"Message": "Gateway Timeout"})
            else:
                with self.lock:
                    resp = self.dispatch(request)
                    if write:  # even a 400 may have saved part of a batch (Xero's summarised errors)
                        self.persist()
                if write and 200 <= resp.status < 300 and self.faults.drop_after_commit():
                    resp.drop_connection = True
                resp.drip = self.faults.drip()
        finally:
            self.limiter.release(key)
        resp.headers.update(self.limit_headers(request, decision))
        return resp

    # --- /_sandbox/* ------------------------------------------------------------------------------

    def stats(self) -> JSONObject:
        with self._stats_lock:
            return {
                "provider": self.name,
                "requests": sum(self._by_method.values()),
                "by_method": dict(self._by_method),
                "by_endpoint": dict(self._stats),
                "by_status": dict(self._by_status),
                "rate_limited": self.rate_limited_count,
                "faults": dict(self.faults.counts),
                "limits": dict(self.limit_config),
                "time_scale": self.time_scale,
                "first_request_at": self._span[0] if self._span else None,
                "last_answer_at": self._span[1] if self._span else None,
            }

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()
            self._by_method.clear()
            self._by_status.clear()
            self.rate_limited_count = 0
            self._span.clear()
        self.faults.reset_counts()

    def set_limits(self, data: JSONObject) -> JSONObject:
        data = dict(data)
        if "time_scale" in data:
            self.time_scale = float(data.pop("time_scale"))
            self.idempotency.window = self.idempotency_window * self.time_scale
            for limiter in self.other_limiters():   # every window on the same clock, or a scaled client
                limiter.time_scale = self.time_scale   # pacing to one would be refused by the other
        self.limit_config = merge_limits(self.limit_config, data)
        self.limiter = RateLimiter(self.limit_config, time_scale=self.time_scale)
        return {"limits": self.limit_config, "time_scale": self.time_scale}

    def other_limiters(self) -> list[RateLimiter]:
        """The provider's limits beyond ``limiter`` (QuickBooks' batches, Xero's app-wide minute)."""
        return []

    def _control(self, request: Request) -> Response:
        what = request.path[len("/_sandbox/"):].strip("/")
        try:
            body = request.json() or {}
        except ValueError:
            return exact_json(400, {"error": "body must be JSON"})
        if not isinstance(body, dict):
            return exact_json(400, {"error": "body must be a JSON object"})
        get, post = request.method == "GET", request.method == "POST"
        try:
            if what == "stats" and (get or post):
                if post:
                    self.reset_stats()
                return exact_json(200, self.stats())
            if what == "faults" and (get or post):
                if post:
                    body = dict(body)
                    replace = bool(body.pop("replace", False))
                    self.faults.configure(body, replace=replace)
                return exact_json(200, self.faults.config.to_dict())
            if what == "limits" and post:
                return exact_json(200, self.set_limits(body))
            if what == "reset" and post:
                with self.lock:
                    self.reset_books(tokens=bool(body.get("tokens", False)))
                    self.idempotency.clear()
                    self.limiter.reset()
                    self.reset_stats()
                    self.persist()
                return exact_json(200, {"reset": True})
            if what == "revoke" and post:
                with self.lock:
                    n = self.revoke_tokens()
                    self.persist()
                return exact_json(200, {"revoked": n})
            if what == "expire-tokens" and post:
                with self.lock:
                    n = self.expire_tokens()
                    self.persist()
                return exact_json(200, {"expired": n})
            if what == "advance-clock" and post:
                self.clock_offset += timedelta(seconds=float(body.get("seconds", 0)))
                return exact_json(200, {"clock_offset_seconds": self.clock_offset.total_seconds(),
                                        "now": self.wall_now().isoformat()})
            if what == "state" and get:
                with self.lock:
                    state = dumps_tagged(self.full_snapshot())
                return Response(200, {"Content-Type": "application/json"}, state.encode())
            own = self.control(what, request.method, body)
            if own is not None:
                return own
        except ValueError as exc:
            return exact_json(400, {"error": str(exc)})
        return exact_json(404, {"error": f"no control endpoint {request.method} /_sandbox/{what}"})
