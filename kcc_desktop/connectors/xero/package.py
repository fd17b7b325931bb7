"""Xero, through the official xero-python SDK.

SDK quirks handled here (see /work/shared/reference/integration-facts.md):
- ``Configuration`` is a process-wide singleton factory: ``Configuration()`` returns a copy of the
  first one ever built, so we build it bare and then assign our own ``oauth2_token``.
- The SDK would refresh tokens itself via the class attribute ``TokenApi.refresh_token_url``; it can't
  (a PKCE app has no client secret), so ``TokenManager`` refreshes ahead of expiry and the SDK always
  gets a token dict with only its allowed keys, scope as a list and no ``expires_at``. The class
  attribute is still pointed at the configured token URL so nothing can ever reach production.
- Every batch goes out with ``summarizeErrors=false`` (else valid elements are created silently
  alongside a 400) and the caller's ``Idempotency-Key``.
- urllib3's own retries are off: retrying is our decision (only reads and keyed writes).
"""

from __future__ import annotations

import functools
import http.client
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import Contacts, CreditNotes, Invoices, Items, Payments
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, HTTPStatusException, RateLimitException

from ..base import (
    AccountingPackage,
    ConnectionRequired,
    ConnectorError,
    ContactIn,
    DocKind,
    DocumentIn,
    ItemIn,
    MalformedResponse,
    Organisation,
    PaymentIn,
    PaymentPage,
    Rejected,
    RemoteAccount,
    RemoteBankAccount,
    RemoteDocument,
    RemoteTaxRate,
    Result,
    TransientError,
    ValidationFailed,
)
from ..pacing import Pacer, Throttled, pacer_for, parse_retry_after
from ..settings import ConnectionSettings, Endpoints
from ..tokens import TokenManager, TokenSet, redact
from . import mapping as m

log = logging.getLogger(__name__)

PAGE_SIZE = 100          # GET /Payments pages hold 100
OVERPAYMENT_LOOKUP = 25  # overpayment ids per GET /BankTransactions where-clause (keeps the URL short)
_TRANSIENT_STATUSES = {500, 502, 503, 504}
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)
_sdk_lock = threading.Lock()
_SHAPE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


class UsageError(ValueError):
    """The caller broke the interface's rules (too many elements, a naive datetime): a bug, not Xero."""


def _shape_guard(what: str):
    """Turn a crash while reading Xero's answer into MalformedResponse (never a traceback for the user)."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (ConnectorError, UsageError):
                raise
            except _SHAPE_ERRORS as exc:
                raise MalformedResponse(f"Could not {what}: Xero answered with data in an unexpected shape "
                                        f"({type(exc).__name__}).",
                                        "Try again later; if it keeps happening, report it to support.") from None
        return inner
    return wrap


# --- the SDK client ---------------------------------------------------------------------------------------

def make_api_client(client_id: str, token_url: str, token_getter: Callable[[], dict],
                    token_saver: Callable[[dict], None]) -> ApiClient:
    with _sdk_lock:
        config = Configuration()    # a copy of the process-wide default: safe to change
        config.oauth2_token = OAuth2Token(client_id=client_id)  # no secret: the SDK never refreshes
        TokenApi.refresh_token_url = token_url
    client = ApiClient(config, pool_threads=1, oauth2_token_getter=token_getter, oauth2_token_saver=token_saver)
    # Our retry policy, not urllib3's (it would silently replay PUTs).
    client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    return client


def list_connections(connections_url: str, access_token: str, timeout: float = 30) -> list[dict[str, str]]:
    """The organisations this sign-in may use: [{"tenant_id", "name", "type"}] (organisations only)."""
    try:
        resp = requests.get(connections_url, timeout=timeout,
                            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    except requests.RequestException as exc:
        raise TransientError(f"Could not reach Xero to list organisations ({type(exc).__name__}).") from None
    if resp.status_code in (401, 403):
        raise ConnectionRequired("Valid Connection Required: Xero did not accept the sign-in when listing "
                                 "organisations.")
    if resp.status_code >= 500:
        raise TransientError(f"Xero had a problem listing organisations (HTTP {resp.status_code}).")
    if resp.status_code >= 400:
        raise Rejected(f"Xero refused to list organisations (HTTP {resp.status_code}).")
    try:
        rows = resp.json()
        tenants = [{"tenant_id": str(r["tenantId"]), "name": str(r.get("tenantName") or ""),
                    "type": str(r.get("tenantType") or "ORGANISATION")} for r in rows]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise MalformedResponse("Xero's list of organisations was not in the expected shape.") from None
    return [t for t in tenants if t["type"].upper() == "ORGANISATION"]


def _status(exc: ApiException) -> int:
    # AccountingBadRequestException.status parses the body; read the raw response's status instead.
    resp = getattr(exc, "http_resp", None)
    return int(getattr(resp, "status", None) or getattr(exc, "_status", None) or 0)


def _body(exc: ApiException) -> Any:
    import json
    from decimal import Decimal
    try:
        return json.loads(getattr(exc.http_resp, "data", b"") or b"", parse_float=Decimal)
    except (ValueError, TypeError, AttributeError):
        return None


class XeroPackage(AccountingPackage):
    provider = "xero"
    batch_size = 50

    def __init__(self, settings: ConnectionSettings, tokens: TokenManager, *, endpoints: Endpoints | None = None,
                 pacer: Pacer | None = None, timeout: float = 60.0, connect_timeout: float = 10.0,
                 transient_retries: int = 1, time_scale: float = 1.0) -> None:
        if not settings.tenant_id:
            raise ConnectionRequired("Valid Connection Required: no Xero organisation has been chosen.")
        self.settings = settings
        self.tenant_id = settings.tenant_id
        self.tokens = tokens
        self.endpoints = (endpoints or settings.endpoints()).check()
        self.pacer = pacer or pacer_for("xero", self.tenant_id, time_scale)
        self.timeout = (connect_timeout, timeout)
        self.transient_retries = transient_retries
        self.api_client = make_api_client(settings.client_id, self.endpoints.token_url,
                                          lambda: self.tokens.tokens().sdk_dict(), self._sdk_saved_token)
        self.api = AccountingApi(self.api_client, base_url=self.endpoints.api_url)
        self._org: Organisation | None = None
        self._bank_of_overpayment: dict[str, Any] = {}
        self.request_count = 0

    def _sdk_saved_token(self, token: dict) -> None:
        # Only reached if the SDK ever refreshed on its own: keep its rotated refresh token.
        new = TokenSet.from_response(token, previous=self.tokens.tokens())
        self.tokens.store.save(self.tokens.provider, self.tokens.tenant, new)
        self.tokens.forget()

    # --- calling the API ---------------------------------------------------------------------------

    def _attempt(self, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        fn = getattr(self.api, method)
        self.request_count += 1
        try:
            data, _status_code, headers = fn(self.tenant_id, *args, _return_http_data_only=False,
                                             _request_timeout=self.timeout, **kwargs)
        except RateLimitException as exc:
            headers = exc.headers or {}
            self.pacer.observe(headers, counted=False)
            raise Throttled(exc.rate_limit or headers.get("X-Rate-Limit-Problem"),
                            parse_retry_after(headers.get("Retry-After"))) from None
        self.pacer.observe(headers)
        return data

    def _call(self, what: str, method: str, *args: Any, retry_safe: bool = True, batch: bool = False,
              **kwargs: Any) -> Any:
        """One API call with pacing, one refresh on 401/403, bounded retries of transient failures.

        ``retry_safe``: reads, and writes carrying an Idempotency-Key, may be repeated.
        """
        refreshed = False
        retries_left = self.transient_retries if retry_safe else 0
        while True:
            used = self.tokens.tokens().access_token      # refreshes ahead of expiry
            try:
                return self.pacer.run(lambda: self._attempt(method, args, kwargs), batch=batch)
            except HTTPStatusException as exc:
                status = _status(exc)
                if status in (401, 403):
                    if not refreshed:
                        refreshed = True
                        self.tokens.force_refresh(used)
                        continue
                    raise ConnectionRequired(f"Valid Connection Required: Xero refused the sign-in while trying "
                                             f"to {what} (HTTP {status}).") from None
                error = self._status_error(exc, status, what)
            except ApiException as exc:   # status 0: SSL and request-building problems
                error = TransientError(f"Could not {what}: the secure connection to Xero failed "
                                       f"({redact(getattr(exc, 'reason', '') or type(exc).__name__)}).")
            except _NETWORK_ERRORS as exc:
                error = TransientError(f"Could not {what}: the connection to Xero failed or timed out "
                                       f"({type(exc).__name__}).")
            except _SHAPE_ERRORS as exc:
                raise MalformedResponse(f"Could not {what}: Xero answered with data in an unexpected shape "
                                        f"({type(exc).__name__}).",
                                        "Try again later; if it keeps happening, report it to support.") from None
            if isinstance(error, TransientError) and retries_left > 0:
                retries_left -= 1
                log.info("Retrying after a transient failure: %s", error.message)
                # A short pause (scaled with the pacer's window) so a struggling server gets a breath.
                self.pacer.sleep(0.5 * self.pacer.policy.window_seconds / 60.0)
                continue
            raise error

    def _status_error(self, exc: HTTPStatusException, status: int, what: str) -> ConnectorError:
        body = _body(exc)
        messages = [redact(x) for x in m.error_messages(body)]
        if status == 400:
            if not messages:
                messages = ["Xero refused the request (HTTP 400)."]
            return ValidationFailed(f"Xero refused to {what}: " + "; ".join(messages), messages,
                                    "Correct the details shown, then send again.")
        if status >= 500 or status in (408,):
            return TransientError(f"Could not {what}: Xero had a problem (HTTP {status}).")
        if status == 404:
            return Rejected(f"Could not {what}: Xero could not find it (HTTP 404).")
        detail = f": {'; '.join(messages)}" if messages else ""
        return Rejected(f"Xero refused to {what} (HTTP {status}){detail}.")

    # --- reference data ----------------------------------------------------------------------------

    @_shape_guard("read the organisation")
    def organisation(self) -> Organisation:
        if self._org is None:
            orgs = self._call("read the organisation", "get_organisations").organisations or []
            if not orgs:
                raise MalformedResponse("Xero returned no organisation for this connection.")
            o = orgs[0]
            self._org = Organisation(id=str(o.organisation_id or self.tenant_id), name=str(o.name or ""),
                                     base_currency=m.enum_value(o.base_currency, "GBP"))
        return self._org

    @_shape_guard("read the chart of accounts")
    def fetch_accounts(self) -> list[RemoteAccount]:
        return [m.remote_account(a) for a in self._call("read the chart of accounts", "get_accounts").accounts or []]

    @_shape_guard("read the tax rates")
    def fetch_tax_rates(self) -> list[RemoteTaxRate]:
        return [m.remote_tax_rate(t) for t in self._call("read the tax rates", "get_tax_rates").tax_rates or []]

    @_shape_guard("read the bank accounts")
    def fetch_bank_accounts(self) -> list[RemoteBankAccount]:
        rows = self._call("read the bank accounts", "get_accounts", where='Type=="BANK"').accounts or []
        return [m.remote_bank_account(a) for a in rows if m.enum_value(a.type) == "BANK"]

    def list_tenants(self) -> list[dict[str, str]]:
        if not self.endpoints.connections_url:
            return []
        return list_connections(self.endpoints.connections_url, self.tokens.access_token(), self.timeout[1])

    # --- batches -----------------------------------------------------------------------------------

    def _check_batch(self, items: Sequence[Any], idempotency_key: str) -> None:
        if len(items) > self.batch_size:
            raise UsageError(f"At most {self.batch_size} elements go in one Xero request; got {len(items)}.")
        if idempotency_key and len(idempotency_key) > 128:
            raise UsageError("Xero idempotency keys are at most 128 characters.")

    def _batch(self, what: str, items: Sequence[Any], build: Callable[[Any], Any], send: Callable[[list], list],
               to_result: Callable[[Any, Any], Result]) -> list[Result]:
        """Build models (a model that can't be built is that element's failed Result), send, pair up."""
        results: list[Result | None] = [None] * len(items)
        models, where = [], []
        for i, item in enumerate(items):
            try:
                models.append(build(item))
                where.append(i)
            except (m.ElementError, ValueError) as exc:
                results[i] = Result(key=item.key, ok=False, messages=[str(exc)])
        if models:
            elements = send(models)
            if len(elements) != len(models):
                raise MalformedResponse(f"Xero answered {len(elements)} results for {len(models)} {what}; "
                                        "nothing can be matched up.", "Check Xero before sending again.")
            for i, element in zip(where, elements):
                results[i] = to_result(items[i], element)
        return [r for r in results if r is not None]

    @_shape_guard("send contacts")
    def upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        self._check_batch(contacts, idempotency_key)
        # PUT only creates; POST creates or updates: use it when the batch holds an update.
        method = "update_or_create_contacts" if any(c.remote_id for c in contacts) else "create_contacts"

        def send(models: list) -> list:
            resp = self._call("send contacts", method, Contacts(contacts=models), summarize_errors=False,
                              idempotency_key=idempotency_key)
            return resp.contacts or []
        return self._batch("contacts", contacts, m.contact_model, send,
                           lambda c, el: m.element_result(c.key, el, "contact_id"))

    @_shape_guard("send items")
    def upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        self._check_batch(items, idempotency_key)
        method = "update_or_create_items" if any(i.remote_id for i in items) else "create_items"

        def send(models: list) -> list:
            resp = self._call("send items", method, Items(items=models), summarize_errors=False,
                              idempotency_key=idempotency_key)
            return resp.items or []
        return self._batch("items", items, m.item_model, send,
                           lambda i, el: m.element_result(i.key, el, "item_id", "code"))

    @_shape_guard("send documents")
    def create_documents(self, documents: list[DocumentIn], idempotency_key: str) -> list[Result]:
        self._check_batch(documents, idempotency_key)
        invoices = [d for d in documents if not m.is_credit(d.kind)]
        credits = [d for d in documents if m.is_credit(d.kind)]
        mixed = bool(invoices and credits)
        by_key: dict[int, Result] = {}
        for group, credit in ((invoices, False), (credits, True)):
            if not group:
                continue
            # A mixed batch is two requests; one key on two different bodies would be refused.
            key = f"{idempotency_key}-{'cn' if credit else 'inv'}" if mixed and idempotency_key else idempotency_key
            for doc, result in zip(group, self._send_documents(group, credit, key)):
                by_key[id(doc)] = result
        return [by_key[id(d)] for d in documents]

    def _send_documents(self, docs: list[DocumentIn], credit: bool, key: str) -> list[Result]:
        unitdp4 = any(m.needs_unitdp4(d.lines) for d in docs)
        extra = {"unitdp": 4} if unitdp4 else {}

        def send(models: list) -> list:
            if credit:
                resp = self._call("send credit notes", "create_credit_notes", CreditNotes(credit_notes=models),
                                  summarize_errors=False, idempotency_key=key, **extra)
                return resp.credit_notes or []
            resp = self._call("send invoices", "create_invoices", Invoices(invoices=models),
                              summarize_errors=False, idempotency_key=key, **extra)
            return resp.invoices or []

        id_attr, number_attr = ("credit_note_id", "credit_note_number") if credit else ("invoice_id", "invoice_number")
        return self._batch("documents", docs, lambda d: m.document_model(d, unitdp4), send,
                           lambda d, el: m.element_result(d.key, el, id_attr, number_attr, with_total=True))

    @_shape_guard("send payments")
    def create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        self._check_batch(payments, idempotency_key)

        def send(models: list) -> list:
            resp = self._call("send payments", "create_payments", Payments(payments=models),
                              summarize_errors=False, idempotency_key=idempotency_key)
            return resp.payments or []
        return self._batch("payments", payments, m.payment_model, send,
                           lambda p, el: m.element_result(p.key, el, "payment_id"))

    # --- look-ups ----------------------------------------------------------------------------------

    @_shape_guard("look up a document")
    def find_document(self, kind: DocKind, number: str, contact_remote_id: str = "") -> RemoteDocument | None:
        if not number:
            return None
        if m.is_credit(kind):
            where = f'{m.where_equals("CreditNoteNumber", number)} AND Type=="{m.CREDIT_TYPES[kind]}"'
            rows = self._call("look up a credit note", "get_credit_notes", where=where).credit_notes or []
            docs = [m.remote_credit_note(r) for r in rows if r.credit_note_number == number]
        else:
            rows = self._call("look up an invoice", "get_invoices", invoice_numbers=[number],
                              where=f'Type=="{m.INVOICE_TYPES[kind]}"').invoices or []
            docs = [m.remote_invoice(r) for r in rows if r.invoice_number == number and r.type == m.INVOICE_TYPES[kind]]
        if contact_remote_id:   # another supplier's bill of the same number is not ours
            docs = [d for d in docs if d.contact_remote_id in ("", contact_remote_id)]
        # A voided or deleted copy is history; a live one is the match.
        live = [d for d in docs if d.status not in ("VOIDED", "DELETED")]
        return (live or docs or [None])[0]

    @_shape_guard("look up a contact")
    def find_contact(self, name: str, supplier: bool | None = None) -> str | None:   # one list in Xero
        rows = self._call("look up a contact", "get_contacts", where=m.where_equals("Name", name)).contacts or []
        for c in rows:
            if (c.name or "").casefold() == name.casefold() and c.contact_status != "ARCHIVED":
                return str(c.contact_id)
        return None

    @_shape_guard("look up an item")
    def find_item(self, code: str) -> str | None:
        rows = self._call("look up an item", "get_items", where=m.where_equals("Code", code)).items or []
        for i in rows:
            if (i.code or "") == code:
                return str(i.item_id)
        return None

    def list_payments(self, since: datetime | None) -> Iterator[PaymentPage]:
        """Receipts and supplier payments (GET /Payments), then overpayments (GET /Overpayments).

        A customer paying more than an invoice is, in Xero, a RECEIVE-OVERPAYMENT bank transaction that
        creates an Overpayment, later allocated to invoices: it never shows in GET /Payments. The two
        lists are not in one time order; the import moves its watermark only after a complete run.
        """
        kwargs: dict[str, Any] = {"order": "UpdatedDateUTC ASC"}
        if since is not None:
            if since.tzinfo is None:
                raise UsageError("list_payments needs a timezone-aware UTC datetime")
            kwargs["if_modified_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        for fetch, last_list in ((self._payment_page, False), (self._overpayment_page, True)):
            for out, has_more in self._pages(fetch, kwargs):
                yield PaymentPage(payments=out, has_more=has_more or not last_list)

    def _pages(self, fetch: Callable[[int, dict], tuple[list, int, Any]], kwargs: dict[str, Any]
               ) -> Iterator[tuple[list, bool]]:
        """Page 1, 2, ... of one list. Stops on the response's ``pagination.pageCount`` (so no trailing
        empty request), or on a short page when a response carries no pagination."""
        page = 1
        while True:
            out, rows, pagination = fetch(page, kwargs)
            count = getattr(pagination, "page_count", None)
            has_more = page < count if isinstance(count, int) else rows >= PAGE_SIZE
            yield out, has_more
            if not has_more:
                return
            page += 1

    @_shape_guard("read payments")
    def _payment_page(self, page: int, kwargs: dict[str, Any]) -> tuple[list, int, Any]:
        resp = self._call("read payments", "get_payments", page=page, **kwargs)
        rows = resp.payments or []
        out = []
        for p in rows:
            kind = m.payment_kind(p)
            if kind is not None:
                out.append(m.remote_payment(p, kind))
        return out, len(rows), resp.pagination

    @_shape_guard("read overpayments")
    def _overpayment_page(self, page: int, kwargs: dict[str, Any]) -> tuple[list, int, Any]:
        resp = self._call("read overpayments", "get_overpayments", page=page, **kwargs)
        rows = [o for o in resp.overpayments or [] if m.overpayment_kind(o) is not None]
        banks = self._overpayment_banks([str(o.overpayment_id) for o in rows])
        out = [m.remote_overpayment(o, m.overpayment_kind(o), banks.get(str(o.overpayment_id))) for o in rows]
        return out, len(resp.overpayments or []), resp.pagination

    def _overpayment_banks(self, overpayment_ids: list[str]) -> dict[str, Any]:
        """The bank account each overpayment's money went through. Xero's Overpayment has no bank
        account: it is on the RECEIVE-/SPEND-OVERPAYMENT bank transaction that created it, which
        names the overpayment in its ``OverpaymentID``. That transaction never changes after, so
        what was read once is kept for the life of this connection."""
        wanted = [i for i in dict.fromkeys(overpayment_ids) if i and i not in self._bank_of_overpayment]
        for n in range(0, len(wanted), OVERPAYMENT_LOOKUP):
            chunk = wanted[n:n + OVERPAYMENT_LOOKUP]
            where = " OR ".join(f'OverpaymentID==Guid("{m.guid(i)}")' for i in chunk)
            rows = self._call("find the bank account of overpayments", "get_bank_transactions",
                              where=where).bank_transactions or []
            for tx in rows:
                if tx.overpayment_id and tx.bank_account is not None:
                    self._bank_of_overpayment[str(tx.overpayment_id)] = tx.bank_account
        return {i: self._bank_of_overpayment.get(i) for i in overpayment_ids}

    def document_url(self, kind: DocKind, remote_id: str) -> str:
        web = self.endpoints.web_url.rstrip("/")
        ledger = "AccountsReceivable" if kind in (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT) else "AccountsPayable"
        if m.is_credit(kind):
            return f"{web}/{ledger}/ViewCreditNote.aspx?creditNoteID={remote_id}"
        return f"{web}/{ledger}/View.aspx?InvoiceID={remote_id}"
