"""QuickBooks Online through python-quickbooks (API) and intuit-oauth (sign-in).

- One ``QuickBooks`` client per package, ``api_url_v3`` pointed at the configured base, minorversion 75,
  ``use_decimal=True`` (amounts read back as Decimal; sent as exact strings by the SDK's encoder).
  Its session is ours (``http.QboSession``): tokens, pacing, timeouts and 429s live below the SDK.
- Batches go to ``/batch`` (at most 30 operations) carrying ``requestid`` = the caller's idempotency
  key, so a retry after a lost answer replays instead of creating twice; BatchManager cannot send a
  requestid, so the request is built here and sent through the SDK's ``make_request``.
- Contacts become Customers (or Vendors for suppliers only); items are NonInventory/Service, never
  Inventory: stock stays in KCC.

Neighbours: ``mapping`` (plain values <-> SDK objects), ``http`` (session, failures, requestid),
``auth`` (intuit-oauth). ``connect.py`` reaches this module through ``complete_connect`` and
``QuickBooksPackage`` / ``open_package``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from intuitlib.client import AuthClient
from quickbooks import exceptions as qbx
from quickbooks.client import QuickBooks
from quickbooks.mixins import DecimalEncoder

from .. import oauth
from ..base import (
    AccountingPackage,
    ConnectionRequired,
    ContactIn,
    DocKind,
    DocumentIn,
    ItemIn,
    MalformedResponse,
    Organisation,
    PaymentIn,
    PaymentPage,
    RateLimited,
    Rejected,
    RemoteAccount,
    RemoteBankAccount,
    RemoteDocument,
    RemotePayment,
    RemoteTaxRate,
    Result,
    TransientError,
)
from ..pacing import Pacer, pacer_for
from ..settings import QUICKBOOKS, ConnectionSettings, SettingsStore, require_secure, save_connection
from ..tokens import TokenManager, TokenSet, TokenStore, redact
from . import mapping as m
from .auth import auth_failure, client_id_for, client_secret_for, make_auth_client, token_json
from .http import (
    BATCH_REQUEST_ID_MAX,
    DEFAULT_TIMEOUT,
    REQUEST_ID_MAX,
    THROTTLE_CODE,
    QboSession,
    fault_code,
    fault_text,
    guarded,
    request_id,
    translate,
)

log = logging.getLogger(__name__)

MINOR_VERSION = 75
MAX_BATCH = 30
MAX_RESULTS = 1000
IN_LIST_CHARS = 12_000   # keeps one look-up's query text reasonable (~1,000 short QBO ids)
CDC_DAYS = 30
INTUIT_SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com/v3"
INTUIT_SANDBOX_WEB = "https://app.sandbox.qbo.intuit.com/app"


@dataclass
class _Op:
    """One element of a write: where its Result goes, and what to send."""

    index: int
    entity: str
    operation: str          # "create" | "update"
    obj: Any                # a python-quickbooks object
    name: str = ""          # DisplayName / Name, for duplicate-name linking


@dataclass
class _Answer:
    ok: bool
    data: dict = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)


class QuickBooksPackage(AccountingPackage):
    provider = QUICKBOOKS
    batch_size = MAX_BATCH

    def __init__(self, settings: ConnectionSettings, token_store: TokenStore | None = None, *,
                 tokens: TokenManager | None = None, pacer: Pacer | None = None, client_secret: str | None = None,
                 time_scale: float = 1.0, timeout: float = DEFAULT_TIMEOUT, item_type: str = "NonInventory",
                 page_size: int = MAX_RESULTS, transient_retries: int = 1, connect_timeout: float = 10.0,
                 clock: Callable[[], datetime] | None = None) -> None:
        if item_type not in ("NonInventory", "Service"):
            raise ValueError("QuickBooks items are NonInventory or Service: stock stays in KCC Desktop.")
        if not settings.realm_id:
            raise ConnectionRequired("Valid Connection Required: no QuickBooks company is connected.")
        self.settings = settings
        self.endpoints = settings.endpoints()
        self.realm_id = settings.realm_id
        self.store = token_store or TokenStore()
        self.timeout = timeout
        self.item_type = item_type
        self.page_size = max(1, min(page_size, MAX_RESULTS))
        self.clock = clock or (lambda: datetime.now(UTC))
        self._client_secret = client_secret
        self._auth: AuthClient | None = None
        self.tokens = tokens or TokenManager(self.store, QUICKBOOKS, self.realm_id, refresh=self._refresh)
        self.pacer = pacer or pacer_for(QUICKBOOKS, self.realm_id, time_scale)
        self.session = QboSession(self.tokens, self.pacer, timeout, transient_retries, min(connect_timeout, timeout))
        self.qb = QuickBooks(company_id=self.realm_id, minorversion=MINOR_VERSION, use_decimal=True)
        self.qb.sandbox = False  # api_url then returns api_url_v3, which we set per instance
        self.qb.api_url_v3 = self._api_url()
        self.qb.session = self.session
        self._org: Organisation | None = None
        self._accounts: list[RemoteAccount] | None = None
        self._income_items: dict[str, str] | None = None

    @property
    def request_count(self) -> int:
        """API requests this package sent (the exporter reports a run's figure from it)."""
        return self.session.request_count

    # --- plumbing ---------------------------------------------------------------------------------

    def _api_url(self) -> str:
        if not self.endpoints.is_sandbox and self.settings.environment == "sandbox":
            return INTUIT_SANDBOX_API
        return require_secure(self.endpoints.api_url.rstrip("/"))

    def _secret(self) -> str:
        return self._client_secret or client_secret_for(self.settings, self.store)

    def auth_client(self) -> AuthClient:
        """Created on first use: its constructor reads Intuit's discovery document over the network."""
        if self._auth is None:
            settings = replace(self.settings, client_id=client_id_for(self.settings))
            self._auth = make_auth_client(settings, self._secret(), timeout=self.timeout)
        return self._auth

    def _refresh(self, refresh_token: str) -> dict:
        client = self.auth_client()
        try:
            client.refresh(refresh_token=refresh_token)
        except Exception as exc:
            failure = auth_failure(exc, "renew the sign-in")
            if failure is exc:
                raise
            raise failure from None
        return token_json(client)

    def disconnect(self) -> None:
        """Revoke the refresh token at Intuit and forget it here (the keyring entry goes too)."""
        tokens = self.store.load(QUICKBOOKS, self.realm_id)
        try:
            if tokens and tokens.refresh_token:
                self.auth_client().revoke(token=tokens.refresh_token)
        except Exception as exc:
            log.warning("Revoking the QuickBooks sign-in failed: %s", redact(auth_failure(exc, "revoke")))
        finally:
            self.store.delete(QUICKBOOKS, self.realm_id)
            self.tokens.forget()

    def _sdk(self, fn: Callable[[], Any], what: str) -> Any:
        return guarded(fn, self.session, what)

    def _query(self, select: str, what: str) -> list[dict]:
        """One query page: the rows of the entity named in ``select``."""
        data = self._sdk(lambda: self.qb.query(select), what)
        if not isinstance(data, dict) or not isinstance(data.get("QueryResponse"), dict):
            raise MalformedResponse(f"QuickBooks answered {what} in a shape KCC Desktop does not understand.")
        response = data["QueryResponse"]
        rows = next((v for k, v in response.items() if isinstance(v, list)), [])
        if not all(isinstance(r, dict) for r in rows):
            raise MalformedResponse(f"QuickBooks answered {what} in a shape KCC Desktop does not understand.")
        return rows

    def _query_pages(self, entity: str, where: str = "", order: str = "", what: str = "") -> Iterator[list[dict]]:
        """Every matching row, page by page (STARTPOSITION counts from 1; at most 1,000 a page)."""
        start = 1
        while True:
            select = f"SELECT * FROM {entity}"
            if where:
                select += f" WHERE {where}"
            if order:
                select += f" ORDERBY {order}"
            select += f" STARTPOSITION {start} MAXRESULTS {self.page_size}"
            rows = self._query(select, what or f"a {entity} query")
            yield rows
            if len(rows) < self.page_size:
                return
            start += len(rows)

    def _query_all(self, entity: str, where: str = "", order: str = "Id", what: str = "") -> list[dict]:
        return [row for page in self._query_pages(entity, where, order, what) for row in page]

    def _by_ids(self, entity: str, ids: Iterable[str], what: str) -> dict[str, dict]:
        """Rows by Id (inactive names included): one query per IN-list of up to a page of ids.

        An ``Id IN (...)`` query returns at most one row per id, so a list no longer than the page size
        is always answered in one page: no second request to find out there is no more.
        """
        wanted = sorted({str(i) for i in ids if i})
        out: dict[str, dict] = {}
        for chunk in _in_lists(wanted, self.page_size, IN_LIST_CHARS):
            where = f"Id IN ({chunk})"
            if entity in ("Customer", "Vendor", "Item", "Account"):
                where += " AND Active IN (true, false)"
            select = f"SELECT * FROM {entity} WHERE {where} STARTPOSITION 1 MAXRESULTS {self.page_size}"
            for row in self._query(select, what):
                out[str(row.get("Id"))] = row
        return out

    def _by_names(self, entity: str, field_name: str, names: Iterable[str], what: str) -> dict[str, dict]:
        """Active rows whose ``field_name`` is one of ``names``, keyed by the name as QBO spells it (casefolded)."""
        wanted = sorted({n for n in names if n})
        out: dict[str, dict] = {}
        for n in range(0, len(wanted), 100):
            chunk = ", ".join(m.quote(x) for x in wanted[n:n + 100])
            for row in self._query_all(entity, f"{field_name} IN ({chunk})", what=what):
                out[str(row.get(field_name, "")).casefold()] = row
        return out

    # --- reading the organisation ------------------------------------------------------------------

    def organisation(self) -> Organisation:
        if self._org is None:
            # A query rather than GET /companyinfo/{realm}: works whatever Id the company record has.
            rows = self._query("SELECT * FROM CompanyInfo", "the company details request")
            try:
                info = rows[0]
                prefs = self._query("SELECT * FROM Preferences", "the preferences request")
                currency = ((prefs[0].get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value") \
                    if prefs else None
                self._org = Organisation(id=str(info.get("Id") or self.realm_id),
                                         name=str(info.get("CompanyName") or ""),
                                         base_currency=str(currency or "GBP"))
            except (KeyError, TypeError, AttributeError, IndexError):
                raise MalformedResponse("QuickBooks sent company details KCC Desktop does not understand.") from None
        return self._org

    def fetch_accounts(self) -> list[RemoteAccount]:
        rows = self._query_all("Account", "Active IN (true, false)", what="the chart of accounts request")
        try:
            accounts = [RemoteAccount(id=str(r["Id"]), code=str(r.get("AcctNum") or ""), name=str(r.get("Name") or ""),
                                      type=str(r.get("AccountType") or ""),
                                      status="ACTIVE" if r.get("Active", True) else "ARCHIVED",
                                      tax_type=m.ref_value(r.get("TaxCodeRef")))
                        for r in rows]
        except KeyError:
            raise MalformedResponse("QuickBooks sent an account without an Id.") from None
        self._accounts = accounts
        return accounts

    def _account_ids(self, codes: Iterable[str] = ()) -> dict[str, str]:
        """Active account ids by code; the chart is re-read once if a wanted code is missing.

        A code is the AcctNum, or the Id for an account without one (many QBO companies use no account
        numbers; the mapping then keeps the Id as the code). An AcctNum wins over an equal Id.
        """
        if self._accounts is None:
            self.fetch_accounts()
        table = _account_table(self._accounts or [])
        if any(c and c.strip() not in table for c in codes):
            self.fetch_accounts()
            table = _account_table(self._accounts or [])
        return table

    def _bank_ids(self, codes: list[str]) -> dict[str, str]:
        """For QBO the ledger's bank "code" is normally the account id; an account number (AcctNum) is
        accepted too, and turned into the id QBO references accounts by."""
        codes = [c for c in codes if c]
        if not codes:
            return {}
        if self._accounts is None or any(c not in {a.id for a in self._accounts} for c in codes):
            by_number = self._account_ids(codes)
        else:
            by_number = {}
        ids = {a.id for a in self._accounts or []}
        return {c: c if c in ids else by_number[c] for c in codes if c in ids or c in by_number}

    def fetch_tax_rates(self) -> list[RemoteTaxRate]:
        codes = self._query_all("TaxCode", what="the tax codes request")
        rates = {str(r.get("Id")): m.to_decimal(r.get("RateValue"))
                 for r in self._query_all("TaxRate", what="the tax rates request")}
        out = []
        for c in codes:
            rate_list = (c.get("SalesTaxRateList") or {}).get("TaxRateDetail") \
                or (c.get("PurchaseTaxRateList") or {}).get("TaxRateDetail") or []
            rate = sum((rates.get(m.ref_value(d.get("TaxRateRef")), Decimal("0")) for d in rate_list), Decimal("0"))
            out.append(RemoteTaxRate(code=str(c.get("Id")), name=str(c.get("Name") or ""), rate=rate,
                                     status="ACTIVE" if c.get("Active", True) else "ARCHIVED"))
        return out

    def fetch_bank_accounts(self) -> list[RemoteBankAccount]:
        base = self.organisation().base_currency
        rows = self._query_all("Account", "AccountType = 'Bank' AND Active IN (true, false)",
                               what="the bank accounts request")
        return [RemoteBankAccount(id=str(r.get("Id")), code=str(r.get("AcctNum") or ""), name=str(r.get("Name") or ""),
                                  currency=m.ref_value(r.get("CurrencyRef")) or base,
                                  status="ACTIVE" if r.get("Active", True) else "ARCHIVED")
                for r in rows]

    # --- writing ------------------------------------------------------------------------------------

    def _send(self, ops: list[_Op], key: str, what: str) -> dict[int, _Answer]:
        """Send ``ops`` in one request: a single ``save`` for one element, else one ``/batch``."""
        if not ops:
            return {}
        if len(ops) > MAX_BATCH:
            raise ValueError(f"QuickBooks takes at most {MAX_BATCH} operations a batch; got {len(ops)}.")
        if len(ops) == 1:
            return {ops[0].index: self._save_one(ops[0], key, what)}
        return self._batch(ops, key, what)

    def _save_one(self, op: _Op, key: str, what: str) -> _Answer:
        rid = request_id(key, REQUEST_ID_MAX)
        try:
            saved = op.obj.save(qb=self.qb, request_id=rid)
        except qbx.QuickbooksException as exc:
            code = fault_code(exc)
            if isinstance(exc, qbx.AuthorizationException) or code <= 0 or code >= 10000 or code == THROTTLE_CODE:
                raise _translate(exc, self.session, what) from None
            text = fault_text(str(exc.message or "").strip(), str(exc.detail or "").strip())
            return _Answer(False, messages=[text], codes=[code])
        except Exception as exc:
            raise _translate(exc, self.session, what) from None
        return _Answer(True, data=saved.to_dict() if hasattr(saved, "to_dict") else dict(saved))

    def _batch(self, ops: list[_Op], key: str, what: str) -> dict[int, _Answer]:
        items = [{"bId": str(i), "operation": op.operation, op.entity: json.loads(op.obj.to_json())}
                 for i, op in enumerate(ops)]
        # Sorted keys and positional bIds: a retry sends the very same body under the same requestid.
        body = json.dumps({"BatchItemRequest": items}, cls=DecimalEncoder, sort_keys=True)
        url = f"{self.qb.api_url}/company/{self.realm_id}/batch"
        rid = request_id(key, BATCH_REQUEST_ID_MAX)
        data = self._sdk(lambda: self.qb.make_request("POST", url, body, request_id=rid), what)
        answers = data.get("BatchItemResponse") if isinstance(data, dict) else None
        if not isinstance(answers, list):
            raise MalformedResponse(f"QuickBooks answered {what} without a result for each element.")
        out: dict[int, _Answer] = {}
        for answer in answers:
            if not isinstance(answer, dict) or not str(answer.get("bId", "")).isdigit():
                raise MalformedResponse(f"QuickBooks answered {what} with an element KCC Desktop cannot place.")
            pos = int(answer["bId"])
            if pos >= len(ops):
                continue
            op = ops[pos]
            if "Fault" in answer:
                # A Fault inside an HTTP 200 is a failure of that element, never a success.
                out[op.index] = _Answer(False, messages=m.fault_messages(answer["Fault"]),
                                        codes=m.fault_codes(answer["Fault"]))
            elif isinstance(answer.get(op.entity), dict) and answer[op.entity].get("Id"):
                out[op.index] = _Answer(True, data=answer[op.entity])
            else:
                out[op.index] = _Answer(False, messages=["QuickBooks answered without the saved record; "
                                                         "check QuickBooks before sending it again."])
        for op in ops:
            out.setdefault(op.index, _Answer(False, messages=["QuickBooks did not answer for this element; "
                                                              "send it again (nothing is created twice)."]))
        return out

    def _in_chunks(self, elements: list, key: str, send: Callable[[list, str], list[Result]]) -> list[Result]:
        """One request per ``MAX_BATCH`` elements; a longer list is split, each part under its own
        key derived from the caller's (so a retry of the whole list replays part by part)."""
        if len(elements) <= MAX_BATCH:
            return send(elements, key)
        results: list[Result] = []
        for n in range(0, len(elements), MAX_BATCH):
            results += send(elements[n:n + MAX_BATCH], f"{key}#{n // MAX_BATCH}")
        return results

    def _sync_tokens(self, entity: str, ids: list[str], what: str) -> dict[str, dict]:
        return self._by_ids(entity, ids, what) if ids else {}

    def upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(contacts, idempotency_key, self._upsert_contacts)

    def _upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(contacts)
        current: dict[str, dict[str, dict]] = {}
        for entity in ("Customer", "Vendor"):
            ids = [c.remote_id for c in contacts if c.remote_id and m.contact_entity(c) == entity]
            current[entity] = self._sync_tokens(entity, ids, "the contact lookup")
        base = self.organisation().base_currency
        ops: list[_Op] = []
        for i, c in enumerate(contacts):
            entity = m.contact_entity(c)
            try:
                if c.remote_id and c.remote_id not in current[entity]:
                    raise m.MappingError(f"The {entity.lower()} with id {c.remote_id} is no longer in QuickBooks.")
                token = current[entity].get(c.remote_id or "", {}).get("SyncToken")
                # Home currency goes unsaid: a company without multicurrency refuses any CurrencyRef.
                sendable = replace(c, currency="" if c.currency in ("", base) else c.currency)
                obj = m.build_contact(sendable, sync_token=token)
            except m.MappingError as exc:
                results[i] = Result(c.key, False, messages=[str(exc)])
                continue
            if c.remote_id:   # keep a name QBO gave it to tell it from a namesake of the other kind
                shown = str(current[entity].get(c.remote_id, {}).get("DisplayName") or "")
                if shown.casefold() == m.kind_name(c.name, entity).casefold():
                    obj.DisplayName = shown
            ops.append(_Op(i, entity, "update" if c.remote_id else "create", obj, str(obj.DisplayName)))
        answers = self._send(ops, _keyed(idempotency_key, ops), "the contact upload")
        clashes = self._fill(results, contacts, ops, answers, name_field="DisplayName")
        if clashes:
            # The name is held by a record of the other kind: a customer who also supplies us. QBO names
            # are unique across customers and vendors, so this one goes in as "Name (Supplier)".
            renamed = []
            for op in clashes:
                op.obj.DisplayName = m.kind_name(op.name, op.entity)
                renamed.append(_Op(op.index, op.entity, "create", op.obj, op.obj.DisplayName))
            answers = self._send(renamed, f"{idempotency_key}~named", "the contact upload")
            for op in self._fill(results, contacts, renamed, answers, name_field="DisplayName"):
                results[op.index] = Result(contacts[op.index].key, False, messages=answers[op.index].messages + [
                    f"Rename it in KCC Desktop or in QuickBooks so the {op.entity.lower()} name is unique."])
        return [r for r in results if r is not None]

    def upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(items, idempotency_key, self._upsert_items)

    def _upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(items)
        accounts = self._account_ids([c for i in items for c in (i.sales_account, i.purchase_account)])
        current = self._sync_tokens("Item", [i.remote_id for i in items if i.remote_id], "the item lookup")
        ops: list[_Op] = []
        for n, item in enumerate(items):
            try:
                if item.remote_id and item.remote_id not in current:
                    raise m.MappingError(f"The item with id {item.remote_id} is no longer in QuickBooks.")
                token = current.get(item.remote_id or "", {}).get("SyncToken")
                obj = m.build_item(item, accounts, self.item_type, sync_token=token)
            except m.MappingError as exc:
                results[n] = Result(item.key, False, messages=[str(exc)])
                continue
            ops.append(_Op(n, "Item", "update" if item.remote_id else "create", obj, item.code.strip()))
        answers = self._send(ops, _keyed(idempotency_key, ops), "the item upload")
        for op in self._fill(results, items, ops, answers, name_field="Name"):
            results[op.index] = Result(items[op.index].key, False, messages=answers[op.index].messages + [
                "Rename it in KCC Desktop or in QuickBooks so the item name is unique."])
        return [r for r in results if r is not None]

    def _fill(self, results: list, elements: list, ops: list[_Op], answers: dict[int, _Answer],
              name_field: str) -> list[_Op]:
        """Results for names (contacts, items); a 6240 duplicate on create links to the existing record of
        the same entity. Returns the creates whose name belongs to a record of another kind (no result yet)."""
        clashes: list[_Op] = []
        duplicates: dict[str, list[_Op]] = {}
        for op in ops:
            answer = answers[op.index]
            key = elements[op.index].key
            if answer.ok:
                results[op.index] = Result(key, True, remote_id=str(answer.data.get("Id")))
            elif op.operation == "create" and 6240 in answer.codes:
                duplicates.setdefault(op.entity, []).append(op)
            else:
                results[op.index] = Result(key, False, messages=answer.messages)
        for entity, dups in duplicates.items():
            found = self._by_names(entity, name_field, [op.name for op in dups], "the duplicate-name lookup")
            for op in dups:
                row = found.get(op.name.casefold())
                key = elements[op.index].key
                if row is not None:
                    results[op.index] = Result(key, True, remote_id=str(row.get("Id")), messages=[
                        f"{op.name} was already in QuickBooks; linked to the existing {entity.lower()}."])
                else:   # the name belongs to another kind of record (a vendor, an employee...)
                    clashes.append(op)
        return clashes

    def create_documents(self, documents: list[DocumentIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(documents, idempotency_key, self._create_documents)

    def _create_documents(self, documents: list[DocumentIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(documents)
        base = self.organisation().base_currency
        codes = [line.account_code for d in documents if d.kind not in m.SALES_KINDS for line in d.lines]
        accounts = self._account_ids(codes) if codes else {}
        item_codes = {line.item_code for d in documents for line in d.lines if line.item_code}
        items = {k: str(v.get("Id")) for k, v in
                 self._by_names("Item", "Name", item_codes, "the item lookup").items()} if item_codes else {}
        item_ids = {code: items.get(code.casefold(), "") for code in item_codes}
        wanted = {line.account_code for d in documents if d.kind in m.SALES_KINDS for line in d.lines
                  if not line.item_code}
        if wanted:
            item_ids.update(self._items_by_income_account(wanted))
        ops: list[_Op] = []
        for n, doc in enumerate(documents):
            try:
                sendable = replace(doc, currency="" if doc.currency in ("", base) else doc.currency)
                obj = m.build_document(sendable, accounts, item_ids)
            except m.MappingError as exc:
                results[n] = Result(doc.key, False, messages=[str(exc)])
                continue
            ops.append(_Op(n, m.ENTITY[doc.kind].qbo_object_name, "create", obj))
        answers = self._send(ops, idempotency_key, "the document upload")
        for op in ops:
            answer, doc = answers[op.index], documents[op.index]
            if answer.ok:
                results[op.index] = Result(doc.key, True, remote_id=str(answer.data.get("Id")),
                                           remote_number=str(answer.data.get("DocNumber") or doc.number),
                                           total=m.to_decimal(answer.data.get("TotalAmt")))
            else:
                results[op.index] = Result(doc.key, False, messages=answer.messages)
        return [r for r in results if r is not None]

    def _items_by_income_account(self, wanted: set[str]) -> dict[str, str]:
        """``ACCOUNT_ITEM + account code`` -> id of the first active item whose income account it is.

        Kept between calls (one item-list read, not one per batch); read again when a code is missing.
        """
        if self._income_items is None or any(m.ACCOUNT_ITEM + c not in self._income_items for c in wanted):
            codes = {a.id: a.code or a.id for a in (self._accounts or self.fetch_accounts())}
            out: dict[str, str] = {}
            for row in self._query_all("Item", what="the item list request"):
                code = codes.get(m.ref_value(row.get("IncomeAccountRef")))
                if code and row.get("Type") != "Inventory":
                    out.setdefault(m.ACCOUNT_ITEM + code, str(row.get("Id")))
            self._income_items = out
        return self._income_items

    def create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(payments, idempotency_key, self._create_payments)

    def _create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(payments)
        # A payment needs the paid document's customer/vendor; read it when the ledger has none.
        missing = {"Invoice": [], "Bill": []}
        for p in payments:
            if not p.contact_remote_id and p.document_kind == DocKind.SALES_INVOICE:
                missing["Invoice"].append(p.document_remote_id)
            elif not p.contact_remote_id and p.document_kind == DocKind.PURCHASE_INVOICE:
                missing["Bill"].append(p.document_remote_id)
        docs = {e: self._by_ids(e, ids, "the paid documents lookup") if ids else {} for e, ids in missing.items()}
        banks = self._bank_ids([p.bank_account_code for p in payments if not p.bank_account_id])
        ops: list[_Op] = []
        for n, p in enumerate(payments):
            try:
                if not p.bank_account_id and p.bank_account_code in banks:
                    p = replace(p, bank_account_id=banks[p.bank_account_code])
                contact = p.contact_remote_id
                if not contact and p.document_kind == DocKind.SALES_INVOICE:
                    contact = m.ref_value(docs["Invoice"].get(p.document_remote_id, {}).get("CustomerRef"))
                elif not contact and p.document_kind == DocKind.PURCHASE_INVOICE:
                    contact = m.ref_value(docs["Bill"].get(p.document_remote_id, {}).get("VendorRef"))
                obj = m.build_payment(p, contact)
            except m.MappingError as exc:
                results[n] = Result(p.key, False, messages=[str(exc)])
                continue
            ops.append(_Op(n, obj.qbo_object_name, "create", obj))
        answers = self._send(ops, idempotency_key, "the payment upload")
        for op in ops:
            answer, p = answers[op.index], payments[op.index]
            results[op.index] = Result(p.key, True, remote_id=str(answer.data.get("Id")),
                                       total=m.to_decimal(answer.data.get("TotalAmt"))) if answer.ok \
                else Result(p.key, False, messages=answer.messages)
        return [r for r in results if r is not None]

    # --- finding --------------------------------------------------------------------------------------

    def find_document(self, kind: DocKind, number: str, contact_remote_id: str = "") -> RemoteDocument | None:
        entity = m.ENTITY[kind].qbo_object_name
        rows = self._query(f"SELECT * FROM {entity} WHERE DocNumber = {m.quote(number)}",
                           "the document lookup")
        try:
            docs = [m.remote_document(kind, r) for r in rows]
        except KeyError:
            raise MalformedResponse("QuickBooks sent a document without an Id.") from None
        if contact_remote_id:   # bill numbers are per supplier: another supplier's bill is not ours
            docs = [d for d in docs if d.contact_remote_id in ("", contact_remote_id)]
        live = [d for d in docs if d.status != "VOIDED"]
        return (live or docs or [None])[0]

    def find_contact(self, name: str, supplier: bool | None = None) -> str | None:
        """By display name; ``supplier`` says which kind (a customer and a supplier may share a ledger name,
        the second one then being "Name (Supplier)" or "Name (Customer)" in QuickBooks)."""
        entities = ("Customer", "Vendor") if supplier is None else ("Vendor",) if supplier else ("Customer",)
        for entity in entities:
            names = ", ".join(m.quote(n) for n in (name.strip(), m.kind_name(name, entity)))
            rows = self._query(f"SELECT * FROM {entity} WHERE DisplayName IN ({names})", "the contact lookup")
            rows.sort(key=lambda r: str(r.get("DisplayName", "")).casefold() != name.strip().casefold())
            if rows:
                return str(rows[0].get("Id"))
        return None

    def find_item(self, code: str) -> str | None:
        rows = self._query(f"SELECT * FROM Item WHERE Name = {m.quote(code.strip())}", "the item lookup")
        return str(rows[0].get("Id")) if rows else None

    # --- payments back from QuickBooks ----------------------------------------------------------------

    def list_payments(self, since: datetime | None) -> Iterator[PaymentPage]:
        """Receipts, then supplier payments, then deletions (cdc), each page as QBO serves it."""
        pages = self._payment_pages(since)
        previous: list[RemotePayment] | None = None
        for page in pages:
            if previous is not None:
                yield PaymentPage(previous, has_more=True)
            previous = page
        yield PaymentPage(previous or [], has_more=False)

    def _payment_pages(self, since: datetime | None) -> Iterator[list[RemotePayment]]:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)   # the interface says UTC; be lenient
        ctx = m.PaymentContext(base_currency=self.organisation().base_currency)
        where = f"MetaData.LastUpdatedTime >= {m.quote(m.query_timestamp(since))}" if since else ""
        for entity, doc_entity in (("Payment", "Invoice"), ("BillPayment", "Bill")):
            for rows in self._query_pages(entity, where, "MetaData.LastUpdatedTime, Id",
                                          f"the {entity} list request"):
                if not rows:
                    continue
                self._page_context(ctx, entity, doc_entity, rows)
                try:
                    page = [p for p in (m.remote_payment(entity, r, ctx) for r in rows) if p is not None]
                except (KeyError, TypeError, AttributeError):
                    raise MalformedResponse(f"QuickBooks sent a {entity} KCC Desktop does not understand.") from None
                if page:
                    yield page
        if since is not None:
            deleted = self._deleted_payments(since, ctx.base_currency)
            if deleted:
                yield deleted

    def _page_context(self, ctx: m.PaymentContext, entity: str, doc_entity: str, rows: list[dict]) -> None:
        if not ctx.account_codes:
            ctx.account_codes = {a.id: a.code for a in (self._accounts or self.fetch_accounts())}
        ids = {i for r in rows for i in m.linked_ids(entity, r)} - {k[1] for k in ctx.doc_numbers if k[0] == doc_entity}
        if ids:
            for doc_id, row in self._by_ids(doc_entity, ids, "the paid documents lookup").items():
                ctx.doc_numbers[(doc_entity, doc_id)] = str(row.get("DocNumber") or "")

    def _deleted_payments(self, since: datetime, base_currency: str) -> list[RemotePayment]:
        # cdc looks back at most 30 days; older deletions are beyond what QuickBooks can report.
        floor = self.clock() - timedelta(days=CDC_DAYS) + timedelta(minutes=5)
        changed_since = m.query_timestamp(max(since, floor))
        data = self._sdk(lambda: self.qb.change_data_capture("Payment,BillPayment", changed_since),
                         "the deleted payments request")
        try:
            responses = data["CDCResponse"][0]["QueryResponse"]
            out = []
            for block in responses:
                for entity in ("Payment", "BillPayment"):
                    for row in block.get(entity) or []:
                        if str(row.get("status", "")).lower() == "deleted":
                            out.append(m.deleted_payment(entity, row, base_currency))
            return out
        except (KeyError, IndexError, TypeError, AttributeError):
            raise MalformedResponse("QuickBooks sent a change list KCC Desktop does not understand.") from None

    def document_url(self, kind: DocKind, remote_id: str) -> str:
        web = self.endpoints.web_url.rstrip("/")
        if not self.endpoints.is_sandbox and self.settings.environment == "sandbox":
            web = INTUIT_SANDBOX_WEB
        return f"{web}/{m.WEB_PAGE[kind]}?txnId={remote_id}"


# --- helpers ---------------------------------------------------------------------------------------------

def _keyed(key: str, ops: list[_Op]) -> str:
    """Updates carry SyncTokens, so their body changes once applied: a retry then needs a fresh
    requestid (an update is safe to repeat; a reused requestid with another body is refused)."""
    tokens = [str(op.obj.SyncToken) for op in ops if op.operation == "update"]
    return f"{key}|{','.join(tokens)}" if tokens else key


def _translate(exc: BaseException, session: QboSession, what: str):
    return translate(exc, session.last_status, what)


# --- connecting ------------------------------------------------------------------------------------------

def complete_connect(settings: ConnectionSettings, *args: Any, **kwargs: Any):
    """``connect.py``'s QuickBooks hook. Two shapes are accepted, because the shared flow may run the
    browser part itself or hand all of it over:

    - ``(settings, code, realm_id, redirect_uri, token_store=...)`` -> TokenSet: ``finish_connect``;
    - ``(settings, store, token_store, *, open_browser, timeout, print_fn, choose_tenant)``
      -> ConnectionSettings: ``connect_flow``.
    """
    if args and isinstance(args[0], str):
        return finish_connect(settings, *args, **kwargs)
    return connect_flow(settings, *args, **kwargs)


def finish_connect(settings: ConnectionSettings, code: str, realm_id: str, redirect_uri: str, *,
                   token_store: TokenStore | None = None, client_secret: str | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> TokenSet:
    """Trade the code for tokens (intuit-oauth) and save them to the keyring.

    The caller saves the settings afterwards (tokens first: settings never name a company without a
    saved sign-in).
    """
    store = token_store or TokenStore()
    if not realm_id:
        raise Rejected("QuickBooks did not say which company was chosen (no realmId came back).",
                       "Start Connect again.")
    settings.client_id = client_id_for(settings)
    secret = client_secret or client_secret_for(settings, store)
    client = make_auth_client(settings, secret, redirect_uri, timeout=timeout)
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except Exception as exc:
        failure = auth_failure(exc, "finish connecting")
        if failure is exc:
            raise
        raise failure from None
    tokens = TokenSet.from_response(token_json(client))
    tokens.extra["realm_id"] = realm_id
    store.save(QUICKBOOKS, realm_id, tokens)
    settings.realm_id = realm_id
    return tokens


def connect_flow(settings: ConnectionSettings, store: SettingsStore, token_store: TokenStore, *,
                 open_browser: bool = True, timeout: float = 300, print_fn: Callable[[str], None] = print,
                 choose_tenant: Callable | None = None, listener: oauth.LoopbackListener | None = None,
                 **options: Any) -> ConnectionSettings:
    """The whole sign-in: browser, loopback redirect (code + realmId), code exchange, keyring, settings.

    QuickBooks' consent page picks the company, so ``choose_tenant`` is not needed.
    """
    settings.endpoints().check()
    settings.client_id = client_id_for(settings)
    own = listener is None
    listener = listener or oauth.LoopbackListener()
    if own:
        listener.start()
    try:
        result = oauth.authorize(settings.endpoints().authorize_url, settings.client_id, settings.scopes,
                                 use_pkce=False, open_browser=open_browser, timeout=timeout, print_fn=print_fn,
                                 listener=listener)
    finally:
        if own:
            listener.stop()
    secret = client_secret_for(settings, token_store)
    finish_connect(settings, result.code, result.realm_id, result.redirect_uri, token_store=token_store,
                   client_secret=secret, timeout=min(timeout, DEFAULT_TIMEOUT))
    try:
        package = QuickBooksPackage(settings, token_store, client_secret=secret, **options)
        settings.organisation_name = package.organisation().name
    except (TransientError, RateLimited) as exc:
        print_fn(f"Connected, but the company name could not be read yet ({exc.message}).")
    save_connection(store, settings)
    return settings


def open_package(settings: ConnectionSettings, token_store: TokenStore, **options: Any) -> QuickBooksPackage:
    """The connector for a saved QuickBooks connection (``connect.open_package`` calls this)."""
    return QuickBooksPackage(settings, token_store, **options)


def _account_table(accounts: list[RemoteAccount]) -> dict[str, str]:
    active = [a for a in accounts if a.status == "ACTIVE"]
    table = {a.id: a.id for a in active if not a.code}
    table.update({a.code: a.id for a in active if a.code})
    return table


def _in_lists(values: list[str], most: int, chars: int) -> Iterator[str]:
    """``'a', 'b', ...`` IN-list bodies of at most ``most`` values and about ``chars`` characters."""
    chunk: list[str] = []
    size = 0
    for v in values:
        quoted = m.quote(v)
        if chunk and (len(chunk) >= most or size + len(quoted) + 2 > chars):
            yield ", ".join(chunk)
            chunk, size = [], 0
        chunk.append(quoted)
        size += len(quoted) + 2
    if chunk:
        yield ", ".join(chunk)
