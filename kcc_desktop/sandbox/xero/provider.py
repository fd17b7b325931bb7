"""``XeroProvider``: Xero's URL layout, auth checks, batches with ``summarizeErrors``, list queries,
rate-limit headers and idempotency, over the books kept per tenant.

Paths: ``/identity/connect/authorize``, ``/connect/token``, ``/connect/revocation``, ``/connections``,
``/api.xro/2.0/<Collection>[/<id>[/Allocations]]``, and ``/web/...`` for document links.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, TypeAlias

from ..base import SandboxProvider, exact_json
from ..faults import FaultConfig
from ..http import Request, Response
from ..json_types import JSONObject, JSONValue, Record
from ..limits import Decision, RateLimiter
from ..registration import AppRegistration
from . import banking, masters, payments, scopes
from . import documents as docs
from . import organisation as org_settings
from .books import Collection, XeroBooks, credit_collection
from .masters import Ctx
from .oauth import Identity, IdentityState, TokenPair, empty_identity, upgrade_identity
from .query import WhereError, id_list, order_by, paginate, select
from .render import (
    envelope,
    error_echo,
    render_allocation,
    render_credit_note,
    render_invoice,
    render_overpayment,
    render_payment,
    render_plain,
    render_prepayment,
    validation_exception,
)
from .seed import seed_books, tenant_id, tenant_name, upgrade_books
from .serial import new_id, parse_instant

API = "/api.xro/2.0"

Saver: TypeAlias = Callable[[XeroBooks, JSONObject, Ctx], tuple[Record | None, list[str]]]
"""Saves one submitted element: (the stored record, []) or (None, the validation messages)."""
Renderer: TypeAlias = Callable[[XeroBooks, Record, bool], JSONObject]
"""(books, record, with line items) -> the record as Xero's JSON shows it."""


@dataclass(frozen=True)
class Entity:
    """One collection of the Accounting API and how the sandbox reads, saves and shows it."""

    key: str                       # JSON collection key and URL segment
    coll: Collection               # books key
    id_key: str
    save: Saver | None             # None: read-only in the sandbox
    render: Renderer
    number_key: str | None = None  # GET /X/{number} also works
    # (query param, record field), e.g. ("InvoiceNumbers", "InvoiceNumber")
    list_params: tuple[tuple[str, str], ...] = ()
    # Xero leaves details out of unpaged lists: LineItems of documents, a contact's MergedToContactID.
    details_only_paged: bool = False
    error_flag: str = "HasErrors"   # what marks a failed element (Payments: HasValidationErrors)


ENTITIES = {e.key: e for e in [
    Entity("Accounts", "accounts", "AccountID", masters.save_account, render_plain),
    Entity("TaxRates", "tax_rates", "TaxType", None, render_plain),
    Entity("Currencies", "currencies", "Code", None, render_plain),
    Entity("Contacts", "contacts", "ContactID", masters.save_contact, masters.render_contact, "ContactNumber",
           (("IDs", "ContactID"),), True),
    Entity("Items", "items", "ItemID", masters.save_item, render_plain, "Code"),
    Entity("Invoices", "invoices", "InvoiceID", docs.save_invoice, render_invoice, "InvoiceNumber",
           (("IDs", "InvoiceID"), ("InvoiceNumbers", "InvoiceNumber"), ("Statuses", "Status"),
            ("ContactIDs", "Contact.ContactID")), True),
    Entity("CreditNotes", "credit_notes", "CreditNoteID", docs.save_credit_note, render_credit_note,
           "CreditNoteNumber", (("IDs", "CreditNoteID"),), True),
    Entity("Payments", "payments", "PaymentID", payments.save_payment, render_payment,
           error_flag="HasValidationErrors"),
    Entity("BankTransactions", "bank_transactions", "BankTransactionID", banking.save_bank_transaction, render_plain),
    Entity("Overpayments", "overpayments", "OverpaymentID", None, render_overpayment),
    Entity("Prepayments", "prepayments", "PrepaymentID", None, render_prepayment, None,
           (("InvoiceNumbers", "InvoiceNumber"),), True),
]}
ALLOCATABLE = ("CreditNotes", "Overpayments", "Prepayments")


def _unauthorized(detail: str) -> Response:
    return exact_json(401, {"Type": None, "Title": "Unauthorized", "Status": 401, "Detail": detail,
                            "Instance": new_id(), "Extensions": {}},
                      {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _insufficient_scope() -> Response:
    # A call outside the token's scopes (see scopes.py for the sources).
    return exact_json(401, {"Type": None, "Title": "Unauthorized", "Status": 401, "Detail": "AuthorizationUnsuccessful",
                            "Instance": new_id(), "Extensions": {}},
                      {"WWW-Authenticate": 'Bearer error="insufficient_scope"'})


def _forbidden() -> Response:
    return exact_json(403, {"Type": None, "Title": "Forbidden", "Status": 403,
                            "Detail": "AuthenticationUnsuccessful", "Instance": new_id(), "Extensions": {}})


def _not_found() -> Response:
    return Response(404, {"Content-Type": "text/plain"}, b"The resource you're looking for cannot be found")


def _bad_request(message: str, type_: str = "PostDataInvalidException", number: int = 14) -> Response:
    return exact_json(400, {"ErrorNumber": number, "Type": type_, "Message": message})


class XeroProvider(SandboxProvider):
    """Xero for one connection: ``tenants`` organisations, each with its own books and rate limits."""

    name = "xero"
    default_limits: ClassVar[Mapping[str, int | None]] = {"concurrent": 5, "minute": 60, "day": 5000}
    app_minute_limit = 10_000

    def __init__(self, state_file: str | None = None, faults: FaultConfig | JSONObject | None = None,
                 limits: Mapping[str, int | None] | None = None, time_scale: float = 1.0,
                 tenants: int = 1, persist_delay: float = 0.2, registration: AppRegistration | None = None) -> None:
        super().__init__(state_file=state_file, faults=faults, limits=limits, time_scale=time_scale,
                         persist_delay=persist_delay)
        if tenants < 1:
            raise ValueError("tenants must be at least 1")
        # With a registration the identity service and the API are as strict as Xero's (registration.py).
        self.registration = registration.check_for_xero() if registration else None
        self.tenant_count = tenants
        self._clock_lock = threading.Lock()
        self._last_now = self.wall_now()
        self.app_limiter = RateLimiter({"minute": self.app_minute_limit}, time_scale=time_scale)
        self.books: dict[str, XeroBooks] = {}
        self.identity_state: IdentityState = empty_identity()
        self.refresh_successors: dict[str, TokenPair] = {}  # grace-period pairs, memory only (see oauth.py)
        self.reset_books(tokens=True)
        self.load()

    # --- clock: UpdatedDateUTC must move on every change, even within one millisecond -------------

    def now(self) -> datetime:
        with self._clock_lock:
            t = self.wall_now()
            t = t.replace(microsecond=t.microsecond // 1000 * 1000)
            if t <= self._last_now:
                t = self._last_now + timedelta(milliseconds=1)
            self._last_now = t
            return t

    @property
    def identity(self) -> Identity:
        tenants = [(tenant_id(i), tenant_name(i)) for i in range(self.tenant_count)]
        return Identity(self.identity_state, tenants, self.now, self.refresh_successors, self.registration)

    def urls(self, root: str) -> dict[str, str]:
        return {"root": root, "api_url": root + API, "authorize_url": root + "/identity/connect/authorize",
                "token_url": root + "/connect/token", "revocation_url": root + "/connect/revocation",
                "connections_url": root + "/connections", "web_url": root + "/web",
                "sandbox_url": root + "/_sandbox"}

    # --- SandboxProvider hooks ------------------------------------------------------------------

    def other_limiters(self) -> list[RateLimiter]:
        return [self.app_limiter]

    def reset_books(self, tokens: bool = False) -> None:
        now = self.now()
        self.books = {tenant_id(i): seed_books(i, now) for i in range(self.tenant_count)}
        if tokens:
            self.identity_state = empty_identity()
            self.refresh_successors.clear()

    def snapshot(self) -> JSONObject:
        return {"version": 1, "tenants": self.books, "identity": self.identity_state, "last_now": self._last_now}

    def restore(self, data: JSONObject) -> None:
        saved = data.get("tenants", {})
        for tid in list(self.books):
            if tid in saved:
                self.books[tid] = upgrade_books(saved[tid])
        identity = data.get("identity")
        self.identity_state = upgrade_identity(identity) if identity else empty_identity()
        if data.get("last_now"):
            self._last_now = max(self._last_now, data["last_now"])

    def revoke_tokens(self) -> int:
        return self.identity.revoke_all()

    def expire_tokens(self) -> int:
        return self.identity.expire_all()

    def is_api(self, request: Request) -> bool:
        return request.path.startswith(API + "/") or request.path == API

    def limit_key(self, request: Request) -> str:
        return request.headers.get("xero-tenant-id") or "-"

    def limit_headers(self, request: Request, decision: Decision) -> dict[str, str]:
        app = self.app_limiter.acquire("app")
        self.app_limiter.release("app")
        rem = decision.remaining
        return {"X-DayLimit-Remaining": str(rem.get("day", 5000)), "X-MinLimit-Remaining": str(rem.get("minute", 60)),
                "X-AppMinLimit-Remaining": str(app.remaining.get("minute", 0))}

    def rate_limited(self, decision: Decision) -> Response:
        return exact_json(429, {"Title": "Too Many Requests", "Status": 429,
                                "Detail": f"You've exceeded the per {decision.problem} rate limit"},
                          {"Retry-After": decision.retry_after_header,
                           "X-Rate-Limit-Problem": decision.problem or "minute"})

    # --- what only Xero's web app can change ------------------------------------------------------

    def control(self, what: str, method: str, body: JSONObject) -> Response | None:
        """``/_sandbox/organisation`` (GET; POST the settings, see organisation.py) and
        ``/_sandbox/merge-contacts`` (POST {"ContactID", "MergedToContactID"}), for the tenant named by
        ``"tenant"`` (an index or a tenant id; the first by default)."""
        if what not in ("organisation", "merge-contacts"):
            return None
        ref = body.get("tenant", 0)
        tid = tenant_id(ref) if isinstance(ref, int) else str(ref)
        if tid not in self.books:
            return exact_json(404, {"error": f"no tenant {ref!r}"})
        with self.lock:
            books = self.books[tid]
            if what == "organisation" and method == "GET":
                return exact_json(200, org_settings.organisation_view(books))
            if what == "organisation" and method == "POST":
                errors = org_settings.set_organisation(books, body)
            elif what == "merge-contacts" and method == "POST":
                errors = masters.merge_contacts(books, str(body.get("ContactID") or ""),
                                                str(body.get("MergedToContactID") or ""), self.now())
            else:
                return exact_json(405, {"error": f"{method} is not allowed on /_sandbox/{what}"})
            if errors:
                return exact_json(400, {"errors": errors})
            self.persist()
            return exact_json(200, org_settings.organisation_view(books))

    # --- routing ----------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> Response:
        path, method = req.path.rstrip("/") or "/", req.method
        ident = self.identity
        if path == "/identity/connect/authorize" and method == "GET":
            return ident.authorize(req)
        if path == "/connect/token" and method == "POST":
            return ident.token(req)
        if path == "/connect/revocation" and method == "POST":
            return ident.revoke_endpoint(req)
        if path.lower().startswith("/connections"):
            return self._connections(req, ident)
        if path.startswith("/web"):
            return self._web(req)
        if not self.is_api(req):
            return _not_found()
        entry, reason = ident.bearer(req)
        if entry is None:
            return _unauthorized("TokenExpired: token expired at " + reason[9:] if reason.startswith("expired")
                                 else "AuthenticationUnsuccessful")
        tid = req.headers.get("xero-tenant-id")
        if not ident.connected(tid) or tid not in self.books:
            return _forbidden()
        if self.registration is not None and not scopes.allowed(entry["scope"], method, path[len(API):]):
            return _insufficient_scope()
        books = self.books[tid]
        key = req.headers.get("Idempotency-Key")
        if key and method in ("PUT", "POST", "PATCH"):
            if len(key) > 128:
                return _bad_request("Idempotency-Key must be at most 128 characters")
            scoped = Request(req.method, req.path, req.query, req.headers, req.body, req.client)
            return self.idempotent(scoped, f"{tid}:{key}", lambda: self._api(req, books),
                                   lambda: _bad_request("The Idempotency-Key has already been used with a "
                                                        "different request", "IdempotencyConflict", 400))
        return self._api(req, books)

    def _connections(self, req: Request, ident: Identity) -> Response:
        entry, _ = ident.bearer(req)
        if entry is None:
            return _unauthorized("AuthenticationUnsuccessful")
        parts = req.path.strip("/").split("/")
        if req.method == "GET" and len(parts) == 1:
            return exact_json(200, ident.connections())
        if req.method == "DELETE" and len(parts) == 2:
            return Response(204) if ident.disconnect(parts[1]) else _not_found()
        return _not_found()

    def _web(self, req: Request) -> Response:
        """Document links open a small page naming the document (there is no Xero web app here)."""
        ref = (req.arg("InvoiceID") or req.arg("invoiceID") or req.arg("redirecturl") or req.path).split("=")[-1]
        found = next((d for b in self.books.values() for d in b["invoices"].values() if d["InvoiceID"] == ref), None)
        title = (f"{found['Type']} {found.get('InvoiceNumber', '')} total {found['Total']} ({found['Status']})"
                 if found else "Xero sandbox")
        body = f"<html><body><h1>{html.escape(title)}</h1><p>{html.escape(req.path)}</p></body></html>"
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())

    def _api(self, req: Request, books: XeroBooks) -> Response:
        parts = req.path[len(API):].strip("/").split("/")
        name = parts[0] if parts else ""
        try:
            if name == "Organisation" and req.method == "GET" and len(parts) == 1:
                organisation = render_plain(books, books["organisation"])
                return exact_json(200, envelope("Organisations", [organisation], self.now()))
            entity = ENTITIES.get(name)
            if entity is None:
                return _not_found()
            if len(parts) == 3 and parts[2] == "Allocations" and req.method in ("PUT", "POST") \
                    and name in ALLOCATABLE:
                return self._allocations(req, books, entity, parts[1])
            if req.method == "GET" and len(parts) == 1:
                return self._list(req, books, entity)
            if req.method == "GET" and len(parts) == 2:
                return self._get_one(req, books, entity, parts[1])
            if req.method in ("PUT", "POST") and len(parts) <= 2 and entity.save is not None:
                if req.method == "PUT" and len(parts) == 2:
                    return _not_found()
                return self._batch(req, books, entity, entity.save, create_only=req.method == "PUT",
                                   path_id=parts[1] if len(parts) == 2 else None)
        except WhereError as exc:
            return _bad_request(str(exc), "QueryParseException", 16)
        except ValueError as exc:  # bad JSON body
            return _bad_request(f"Invalid request: {exc}")
        return _not_found()

    # --- reads ------------------------------------------------------------------------------------

    def _find(self, books: XeroBooks, entity: Entity, ref: str) -> Record | None:
        if entity.coll == "invoices":
            return docs.find_document(books, docs.INVOICE, ref)   # by number in constant time
        if entity.coll == "credit_notes":
            return docs.find_document(books, docs.CREDIT_NOTE, ref)
        coll = books[entity.coll]
        rec = coll.get(ref)
        if rec is None and entity.number_key:
            rec = next((r for r in coll.values() if str(r.get(entity.number_key, "")).lower() == ref.lower()
                        and r.get("Status") != "DELETED"), None)
        return rec

    def _get_one(self, req: Request, books: XeroBooks, entity: Entity, ref: str) -> Response:
        rec = self._find(books, entity, ref)
        if rec is None:
            return _not_found()
        return exact_json(200, envelope(entity.key, [entity.render(books, rec, True)], self.now()))

    def _list(self, req: Request, books: XeroBooks, entity: Entity) -> Response:
        records = list(books[entity.coll].values())
        if entity.key == "Contacts" and (req.arg("includeArchived") or "").lower() != "true":
            records = [r for r in records if r.get("ContactStatus") != "ARCHIVED"]
        filters = {field: id_list(req.arg(param)) for param, field in entity.list_params if req.arg(param)}
        since = parse_instant(req.headers.get("If-Modified-Since") or "")
        records = select(records, req.arg("where"), since, filters)
        records = order_by(records, req.arg("order"))
        page, pagination = paginate(records, req.arg("page"), req.arg("pageSize"))
        with_lines = not entity.details_only_paged or pagination is not None
        if (req.arg("summaryOnly") or "").lower() == "true":
            with_lines = False
        return exact_json(200, envelope(entity.key, [entity.render(books, r, with_lines) for r in page],
                                        self.now(), pagination))

    # --- writes -----------------------------------------------------------------------------------

    def _elements(self, req: Request, key: str) -> list[JSONValue]:
        body = req.json()
        if isinstance(body, dict) and isinstance(body.get(key), list):
            elements: list[JSONValue] = body[key]
            return elements
        if isinstance(body, dict):
            return [body]  # a single object, as create_payment and update_* send
        if isinstance(body, list):
            return body
        raise ValueError("the body must be a JSON object")

    def _batch(self, req: Request, books: XeroBooks, entity: Entity, save: Saver, create_only: bool,
               path_id: str | None) -> Response:
        if path_id and not create_only:
            found = self._find(books, entity, path_id)
            if found is None:
                return _not_found()
            path_id = found[entity.id_key]
        summarize = (req.arg("summarizeErrors") or "true").lower() != "false"
        unitdp = 4 if req.arg("unitdp") == "4" else 2
        results: list[JSONObject] = []
        failed: list[JSONObject] = []
        for el in self._elements(req, entity.key):
            ctx = Ctx(create_only=create_only, path_id=path_id, unitdp=unitdp, now=self.now())
            if not isinstance(el, dict):
                rec, errors = None, ["Each element must be a JSON object"]
            else:
                rec, errors = save(books, el, ctx)
            if errors or rec is None:
                echo = error_echo(el, errors, summarize, entity.error_flag)
                failed.append(echo)
                results.append(echo)
            else:
                out = entity.render(books, rec, True)
                if not summarize:
                    out["StatusAttributeString"] = "OK"
                results.append(out)
        if failed and summarize:
            # The trap, as in Xero: the valid elements above are already saved, yet the answer is a 400.
            return exact_json(400, validation_exception(failed))
        return exact_json(200, envelope(entity.key, results, self.now()))

    def _allocations(self, req: Request, books: XeroBooks, entity: Entity, ref: str) -> Response:
        source = self._find(books, entity, ref)
        if source is None:
            return _not_found()
        coll = credit_collection(entity.coll)
        summarize = (req.arg("summarizeErrors") or "true").lower() != "false"
        results: list[JSONObject] = []
        failed: list[JSONObject] = []
        for el in self._elements(req, "Allocations"):
            rec, errors = payments.allocate(books, coll, source[entity.id_key], el, Ctx(now=self.now()))
            if errors or rec is None:
                echo = error_echo(el, errors, summarize)
                failed.append(echo)
                results.append(echo)
            else:
                results.append(render_allocation(books, rec, coll, source))
        if failed and summarize:
            return exact_json(400, validation_exception(failed))
        return exact_json(200, envelope("Allocations", results, self.now()))
