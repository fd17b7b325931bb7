"""``QuickBooksProvider``: routes QBO's OAuth pages and ``/v3/company/{realm}`` API to the modules
here, and plugs them into the shared sandbox pipeline (limits, faults, idempotency, state file).

Limits per realm: 500 calls a minute and 10 in flight (``limits`` overrides), plus 40 batch
requests a minute. Over a limit: HTTP 429 with Fault code 3001 and no Retry-After (Intuit sends none).

``requestid`` (at most 50 characters): the first answer to an id is replayed for any later request
with that id in the same realm, whatever its body - Intuit's documented behaviour - for the
idempotency window (6 minutes, scaled by ``time_scale``: Intuit documents none; see ``idempotency.py``).
Answers of 500 and above are not kept. The ids and their answers are kept in the state file, so a replay
after a restart still gets the first answer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from ..base import SandboxProvider, exact_json
from ..faults import FaultConfig
from ..http import Request, Response
from ..idempotency import REPLAY
from ..json_types import JSONObject, JSONValue
from ..limits import Decision, RateLimiter
from ..registration import AppRegistration
from ..state import dumps_exact
from . import errors
from .api import Api
from .errors import QboFault
from .oauth import OAuthServer, discovery
from .store import Books, kind_named, render

DEFAULT_REALM = "9341453050000001"
MAX_REQUEST_ID = 50
_API = re.compile(r"^/v3/company/(?P<realm>[^/]+)/(?P<seg>[^/]+)(?:/(?P<id>[^/]+))?/?$")


class QuickBooksProvider(SandboxProvider):
    """QuickBooks Online for one company (``realm_id``): its OAuth pages and its v3 data API."""

    name = "quickbooks"
    default_limits: ClassVar[Mapping[str, int | None]] = {"minute": 500, "concurrent": 10}

    def __init__(self, state_file: str | None = None, faults: FaultConfig | JSONObject | None = None,
                 limits: Mapping[str, int | None] | None = None,
                 time_scale: float = 1.0, realm_id: str = DEFAULT_REALM, access_token_seconds: int = 3600,
                 batch_per_minute: int = 40, clock: Callable[[], datetime] | None = None,
                 registration: AppRegistration | None = None, **_unused: Any) -> None:
        super().__init__(state_file=state_file, faults=faults, limits=limits, time_scale=time_scale)
        self.realm_id = realm_id
        # The shared wall clock (moved by POST /_sandbox/advance-clock); tests may also swap ``clock``.
        self.clock = clock or self.wall_now
        self.books = Books(clock=self.now)
        self.api = Api(self.books)
        # With a registration the sign-in is as strict as Intuit's (registration.py).
        self.registration = registration.check_for_intuit() if registration else None
        self.oauth = OAuthServer(realm_id, self.now, access_token_seconds, self.registration)
        self.batch_limiter = RateLimiter({"minute": batch_per_minute}, time_scale=time_scale)
        self.load()

    def now(self) -> datetime:
        return self.clock()

    def urls(self, root: str) -> dict[str, str]:
        return {
            "root": root,
            "api_url": root + "/v3",
            "authorize_url": root + "/connect/oauth2",
            "token_url": root + "/oauth2/v1/tokens/bearer",
            "revoke_url": root + "/oauth2/v1/tokens/revoke",
            "discovery_url": root + "/.well-known/openid_configuration",
            "userinfo_url": root + "/v1/openid_connect/userinfo",
            "web_url": root + "/app",
            "realm_id": self.realm_id,
        }

    # --- hooks of the shared pipeline ------------------------------------------------------------
    def is_api(self, request: Request) -> bool:
        return request.path.startswith("/v3/")

    def is_write(self, request: Request) -> bool:
        # A query is POSTed but reads: cutting its connection "after commit" would fault a read.
        return super().is_write(request) and not request.path.rstrip("/").endswith("/query")

    def limit_key(self, request: Request) -> str:
        m = _API.match(request.path)
        return m.group("realm") if m else "default"

    def rate_limited(self, decision: Decision) -> Response:
        return exact_json(429, errors.throttled().body(self.now()))

    def server_error(self, status: int) -> Response:
        msg = ("An application error has occurred while processing your request" if status == 500
               else "Service is temporarily unavailable")
        return exact_json(status, QboFault(10000, msg, f"System Failure Error: {msg}", fault_type="SystemFault",
                                           status=status).body(self.now()))

    def other_limiters(self) -> list[RateLimiter]:
        return [self.batch_limiter]

    def reset_books(self, tokens: bool = False) -> None:
        self.books.seed()
        self.batch_limiter.reset()
        if tokens:
            self.oauth.reset()

    def snapshot(self) -> JSONObject:
        return {"realm_id": self.realm_id, "books": self.books.to_state(), "oauth": self.oauth.to_state()}

    def restore(self, data: JSONObject) -> None:
        self.books.load_state(data["books"])
        self.oauth.load_state(data["oauth"])

    def revoke_tokens(self) -> int:
        return self.oauth.revoke_all()

    def expire_tokens(self) -> int:
        return self.oauth.expire_access_tokens()

    # --- the company's settings the real API keeps read only ---------------------------------------
    def handle(self, request: Request) -> Response:
        """``GET|POST /_sandbox/company``: the closing date, custom transaction numbers, multicurrency and the
        currencies with their rates (see ``company.CompanySettings.apply_company``); other paths as usual."""
        if request.path.rstrip("/") != "/_sandbox/company":
            return super().handle(request)
        try:
            body = request.json() or {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            with self.lock:
                if request.method == "POST":
                    answer = self.api.rules.company.apply_company(body)
                    self.persist()
                else:
                    answer = self.api.rules.company.summary()
        except (ValueError, ArithmeticError) as exc:
            return exact_json(400, {"error": str(exc)})
        return exact_json(200, answer)

    # --- routing ---------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        path, method = req.path.rstrip("/") or "/", req.method
        root = "http://" + (req.headers.get("Host") or "127.0.0.1")
        if path == "/.well-known/openid_configuration" and method == "GET":
            return exact_json(200, discovery(root))
        if path == "/connect/oauth2" and method == "GET":
            return self.oauth.authorize(req)
        if path == "/oauth2/v1/tokens/bearer" and method == "POST":
            return self.oauth.token(req)
        if path == "/oauth2/v1/tokens/revoke" and method == "POST":
            return self.oauth.revoke(req)
        if path == "/v1/openid_connect/userinfo" and method == "GET":
            return self.oauth.userinfo(req)
        if path == "/op/v1/jwks" and method == "GET":
            return exact_json(200, {"keys": []})
        if path.startswith("/app"):
            return self._web(req)
        m = _API.match(req.path)
        if m:
            return self._api(req, m.group("realm"), m.group("seg"), m.group("id"))
        return exact_json(404, {"error": f"no route {method} {req.path}"})

    def _api(self, req: Request, realm: str, seg: str, obj_id: str | None) -> Response:
        denied = self.oauth.check_bearer(req, realm)
        if denied is not None:
            return denied
        request_id = req.arg("requestid")
        if request_id is None or req.method != "POST":
            return self._serve(req, seg, obj_id)
        if len(request_id) > MAX_REQUEST_ID:
            return self._fault(errors.invalid_value("requestid",
                                                    f"requestid is longer than {MAX_REQUEST_ID} characters"))
        key = f"{realm}:{request_id}"
        outcome, stored = self.idempotency.lookup(key, "requestid")  # one fingerprint: any body replays
        if outcome == REPLAY and stored is not None:
            return stored
        resp = self._serve(req, seg, obj_id)
        if resp.status < 500:
            self.idempotency.store(key, "requestid", resp)
        return resp

    def _serve(self, req: Request, seg: str, obj_id: str | None) -> Response:
        try:
            body = self._route(req, seg.lower(), obj_id)
        except QboFault as fault:
            return self._fault(fault)
        return exact_json(200, body)

    def _route(self, req: Request, seg: str, obj_id: str | None) -> JSONObject:
        method = req.method
        if seg == "query" and obj_id is None and method in ("GET", "POST"):
            return self.api.query(req.arg("query") if method == "GET" else req.text())
        if seg == "batch" and method == "POST":
            decision = self.batch_limiter.acquire(self.realm_id)
            self.batch_limiter.release(self.realm_id)
            if not decision.allowed:
                raise errors.throttled()
            return self.api.batch(self._json(req))
        if seg == "cdc" and method == "GET":
            return self.api.cdc(req)
        if kind_named(seg) is None:
            raise errors.unsupported(f"Unsupported entity or operation: {seg}")
        if method == "GET" and (obj_id is not None or seg == "preferences"):
            if seg == "companyinfo" and obj_id == self.realm_id:
                obj_id = "1"  # Intuit's docs read companyinfo/{realmId}; the record's Id is 1
            return self.api.read(seg, obj_id or "1")
        if method == "POST" and obj_id is None:
            return self.api.write(seg, self._json(req), req.arg("operation"), req.arg("include"))
        raise errors.unsupported(f"{method} is not supported on {req.path}")

    @staticmethod
    def _json(req: Request) -> JSONValue:
        try:
            return req.json()
        except ValueError:
            raise QboFault(2010, "Request has invalid or unsupported property",
                           "The request body is not valid JSON") from None

    def _fault(self, fault: QboFault) -> Response:
        return exact_json(fault.status, fault.body(self.now()))

    def _web(self, req: Request) -> Response:
        """A bare stand-in for the QBO web app: /app/{entity}?txnId=N shows the record."""
        parts = [p for p in req.path.split("/") if p]
        kind = kind_named(parts[1]) if len(parts) > 1 else None
        obj = self.books.find(kind.name, req.arg("txnId") or "") if kind else None
        text = "QuickBooks sandbox: open /app/{entity}?txnId={id}"
        if obj is not None:
            text = dumps_exact(render(obj))
        page = f"<html><body><h1>{html.escape(self.realm_id)}</h1><pre>{html.escape(text)}</pre></body></html>"
        return Response(200 if obj is not None or kind is None else 404,
                        {"Content-Type": "text/html; charset=utf-8"}, page.encode())
