"""``QuickBooksPackage``: the ``AccountingPackage`` for QuickBooks Online, through python-quickbooks.

What each interface method asks of QuickBooks and how answers pair up with what was sent:
- contacts become Customers (or Vendors for suppliers only); items are NonInventory/Service, never
  Inventory: stock stays in KCC;
- writes go in chunks of at most 30 elements, each chunk one request under a key derived from the
  caller's idempotency key; a duplicate name on create links to the existing record;
- payments come back page by page (receipts, supplier payments, then deletions from cdc).

Neighbours: ``api`` (the SDK calls: queries, saves, batches), ``http`` (the session below the SDK:
transport, retry policy, failures in our terms), ``auth`` (intuit-oauth), ``mapping`` / ``remote``
(plain values <-> SDK objects and JSON).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from intuitlib.client import AuthClient

from ..base import (
    AccountingPackage,
    ConnectionRequired,
    ContactIn,
    DocKind,
    DocumentIn,
    ItemIn,
    MalformedResponse,
    Organisation,
    OrganisationSettings,
    PaymentIn,
    PaymentPage,
    RemoteAccount,
    RemoteBankAccount,
    RemoteDocument,
    RemotePayment,
    RemoteTaxRate,
    Result,
    find_stamp,
)
from ..pacing import Pacer, pacer_for
from ..settings import QUICKBOOKS, ConnectionSettings, require_secure
from ..tokens import TokenManager, TokenResponse, TokenStore, binding_problem, redact
from ..transport import RETRY_POLICY, RetryPolicy, Transport
from . import mapping as m
from .api import MAX_BATCH, MAX_RESULTS, Answer, Op, QboApi, keyed
from .auth import auth_failure, client_id_for, client_secret_for, make_auth_client, token_json
from .http import DEFAULT_TIMEOUT, QboSession
from .lookups import CompanyLookups
from .mapping import Row
from .payments import PaymentsBack
from .remote import PaymentContext, remote_document, remote_payment
from .sides import OtherSide, other_entity, side_note

log = logging.getLogger(__name__)

INTUIT_SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com/v3"
INTUIT_SANDBOX_WEB = "https://app.sandbox.qbo.intuit.com/app"
UNDEPOSITED = "UndepositedFunds"   # the AccountSubType of QuickBooks' Undeposited Funds


class _Keyed(Protocol):
    key: str


E = TypeVar("E", bound=_Keyed)


class QuickBooksPackage(AccountingPackage):
    provider = QUICKBOOKS
    batch_size = MAX_BATCH

    def __init__(self, settings: ConnectionSettings, token_store: TokenStore | None = None, *,
                 tokens: TokenManager | None = None, pacer: Pacer | None = None, client_secret: str | None = None,
                 time_scale: float = 1.0, timeout: float = DEFAULT_TIMEOUT, item_type: str = "NonInventory",
                 page_size: int = MAX_RESULTS, retry: RetryPolicy = RETRY_POLICY, connect_timeout: float = 10.0,
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
        self.tokens = tokens or TokenManager(self.store, QUICKBOOKS, self.realm_id, refresh=self._refresh,
                                             audience=self.endpoints.audience,
                                             unbound_ok=not self.endpoints.is_sandbox)
        self.pacer = pacer or pacer_for(QUICKBOOKS, self.realm_id, time_scale)
        self.session = QboSession(self.tokens, self.pacer, timeout, retry, min(connect_timeout, timeout))
        self.api = QboApi(self.realm_id, self._api_url(), self.session, page_size)
        self.lookups = CompanyLookups(self.api, self.realm_id)
        self.sides = OtherSide(self.api)

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

    def _refresh(self, refresh_token: str) -> TokenResponse:
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
        """Revoke the refresh token at Intuit and forget it here (the keyring entry goes too). A sign-in made
        for another address is only forgotten: it is never sent anywhere else, not even to be revoked."""
        tokens = self.store.load(QUICKBOOKS, self.realm_id)
        try:
            if tokens and tokens.refresh_token and not binding_problem(
                    tokens, self.endpoints.audience, not self.endpoints.is_sandbox, self.realm_id):
                self.auth_client().revoke(token=tokens.refresh_token)
        except Exception as exc:
            log.warning("Revoking the QuickBooks sign-in failed: %s", redact(auth_failure(exc, "revoke")))
        finally:
            self.store.delete(QUICKBOOKS, self.realm_id)
            self.tokens.forget()

    # --- reading the organisation ------------------------------------------------------------------

    def organisation(self) -> Organisation:
        return self.lookups.organisation()

    def organisation_settings(self) -> OrganisationSettings:
        """The closing date, custom transaction numbers, currencies and DocNumber length (see ``lookups``)."""
        return self.lookups.settings()

    @property
    def multicurrency_enabled(self) -> bool:
        return self.lookups.multicurrency()

    def fetch_accounts(self) -> list[RemoteAccount]:
        return self.lookups.accounts(refresh=True)

    def _account_ids(self, codes: Iterable[str] = ()) -> dict[str, str]:
        """Active account ids by code; the chart is re-read once if a wanted code is missing.

        A code is the AcctNum, or the Id for an account without one (many QBO companies use no account
        numbers; the mapping then keeps the Id as the code). An AcctNum wins over an equal Id.
        """
        table = _account_table(self.lookups.accounts())
        if any(c and c.strip() not in table for c in codes):
            table = _account_table(self.lookups.accounts(refresh=True))
        return table

    def _bank_ids(self, codes: list[str]) -> dict[str, str]:
        """For QBO the ledger's bank "code" is normally the account id; an account number (AcctNum) is
        accepted too, and turned into the id QBO references accounts by."""
        codes = [c for c in codes if c]
        if not codes:
            return {}
        if any(c not in {a.id for a in self.lookups.accounts()} for c in codes):
            by_number = self._account_ids(codes)
        else:
            by_number = {}
        ids = {a.id for a in self.lookups.accounts()}
        return {c: c if c in ids else by_number[c] for c in codes if c in ids or c in by_number}

    def fetch_tax_rates(self) -> list[RemoteTaxRate]:
        codes, rates = self.lookups.tax_tables(refresh=True)
        out = []
        for c in codes:
            rate_list = (c.get("SalesTaxRateList") or {}).get("TaxRateDetail") \
                or (c.get("PurchaseTaxRateList") or {}).get("TaxRateDetail") or []
            rate = sum((rates.get(m.ref_value(d.get("TaxRateRef")), Decimal("0")) for d in rate_list), Decimal("0"))
            out.append(RemoteTaxRate(code=str(c.get("Id")), name=str(c.get("Name") or ""), rate=rate,
                                     status="ACTIVE" if c.get("Active", True) else "ARCHIVED"))
        return out

    def fetch_bank_accounts(self) -> list[RemoteBankAccount]:
        """Bank accounts, and Undeposited Funds: QuickBooks files a receipt there when no bank is chosen, so the
        import needs it mapped like a bank (AccountSubType UndepositedFunds; the filter is on AccountType,
        which a query may use, and the subtype is read from the rows)."""
        base = self.organisation().base_currency
        rows = self.api.query_all("Account", "AccountType IN ('Bank', 'Other Current Asset') "
                                  "AND Active IN (true, false)", what="the bank accounts request")
        return [RemoteBankAccount(id=str(r.get("Id")), code=str(r.get("AcctNum") or ""), name=str(r.get("Name") or ""),
                                  currency=m.ref_value(r.get("CurrencyRef")) or base,
                                  status="ACTIVE" if r.get("Active", True) else "ARCHIVED",
                                  kind="" if r.get("AccountType") == "Bank" else "clearing")
                for r in rows if r.get("AccountType") == "Bank" or r.get("AccountSubType") == UNDEPOSITED]

    # --- writing ------------------------------------------------------------------------------------

    def _in_chunks(self, elements: list[E], key: str, send: Callable[[list[E], str], list[Result]]) -> list[Result]:
        """One request per ``MAX_BATCH`` elements; a longer list is split, each part under its own
        key derived from the caller's (so a retry of the whole list replays part by part)."""
        if len(elements) <= MAX_BATCH:
            return send(elements, key)
        results: list[Result] = []
        for n in range(0, len(elements), MAX_BATCH):
            results += send(elements[n:n + MAX_BATCH], f"{key}#{n // MAX_BATCH}")
        return results

    def _sync_tokens(self, entity: str, ids: list[str], what: str) -> dict[str, Row]:
        return self.api.by_ids(entity, ids, what) if ids else {}

    def upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(contacts, idempotency_key, self._upsert_contacts)

    def _upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(contacts)
        current: dict[str, dict[str, Row]] = {}
        for entity in ("Customer", "Vendor"):
            ids = [c.remote_id for c in contacts if c.remote_id and m.contact_entity(c) == entity]
            current[entity] = self._sync_tokens(entity, ids, "the contact lookup")
        base = self.organisation().base_currency
        ops: list[Op] = []
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
            ops.append(Op(i, entity, "update" if c.remote_id else "create", obj, str(obj.DisplayName)))
        answers = self.api.send(ops, keyed(idempotency_key, ops), "the contact upload")
        clashes = self._fill(results, contacts, ops, answers, name_field="DisplayName")
        if clashes:
            # The name is held by a record of the other kind: a customer who also supplies us. QBO names
            # are unique across customers and vendors, so this one goes in as "Name (Supplier)".
            renamed = []
            for op in clashes:
                op.obj.DisplayName = m.kind_name(op.name, op.entity)
                renamed.append(Op(op.index, op.entity, "create", op.obj, op.obj.DisplayName))
            answers = self.api.send(renamed, f"{idempotency_key}~named", "the contact upload")
            for op in self._fill(results, contacts, renamed, answers, name_field="DisplayName"):
                results[op.index] = Result(contacts[op.index].key, False, messages=[
                    *answers[op.index].messages,
                    f"Rename it in KCC Desktop or in QuickBooks so the {op.entity.lower()} name is unique."])
        for i, c in enumerate(contacts):
            done = results[i]
            if c.other_side and done is not None and done.ok:   # both sides: the second record too
                entity = other_entity(m.contact_entity(c))
                _id, why = self.sides.record(entity, c.name, f"{idempotency_key}#{i}", c.email,
                                             "" if c.currency in ("", base) else c.currency, c.account_number)
                done.messages.append(why or side_note(c.name, entity))
        return [r for r in results if r is not None]

    def upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(items, idempotency_key, self._upsert_items)

    def _upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(items)
        accounts = self._account_ids([c for i in items for c in (i.sales_account, i.purchase_account)])
        current = self._sync_tokens("Item", [i.remote_id for i in items if i.remote_id], "the item lookup")
        ops: list[Op] = []
        for n, item in enumerate(items):
            try:
                if item.remote_id and item.remote_id not in current:
                    raise m.MappingError(f"The item with id {item.remote_id} is no longer in QuickBooks.")
                token = current.get(item.remote_id or "", {}).get("SyncToken")
                obj = m.build_item(item, accounts, self.item_type, sync_token=token)
            except m.MappingError as exc:
                results[n] = Result(item.key, False, messages=[str(exc)])
                continue
            ops.append(Op(n, "Item", "update" if item.remote_id else "create", obj, item.code.strip()))
        answers = self.api.send(ops, keyed(idempotency_key, ops), "the item upload")
        for op in self._fill(results, items, ops, answers, name_field="Name"):
            results[op.index] = Result(items[op.index].key, False, messages=[
                *answers[op.index].messages, "Rename it in KCC Desktop or in QuickBooks so the item name is unique."])
        return [r for r in results if r is not None]

    def _fill(self, results: list[Result | None], elements: Sequence[_Keyed], ops: list[Op], answers: dict[int, Answer],
              name_field: str) -> list[Op]:
        """Results for names (contacts, items); a 6240 duplicate on create links to the existing record of
        the same entity. Returns the creates whose name belongs to a record of another kind (no result yet)."""
        clashes: list[Op] = []
        duplicates: dict[str, list[Op]] = {}
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
            found = self.api.by_names(entity, name_field, [op.name for op in dups], "the duplicate-name lookup")
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
        results, ops = self._document_ops(documents, idempotency_key)
        answers = self.api.send(ops, idempotency_key, "the document upload")
        for op in ops:
            answer, doc = answers[op.index], documents[op.index]
            if answer.ok:
                number = str(answer.data.get("DocNumber") or doc.number)
                # Custom transaction numbers off: QuickBooks ignores DocNumber and numbers sales forms itself.
                notes = [] if number == doc.number else [
                    f"QuickBooks numbered it {number}, not {doc.number}: custom transaction numbers are off there "
                    "(Account and settings → Sales). Turn them on so it keeps the ledger's numbers."]
                results[op.index] = Result(doc.key, True, remote_id=str(answer.data.get("Id")), remote_number=number,
                                           messages=notes, total=m.to_decimal(answer.data.get("TotalAmt")))
            else:
                results[op.index] = Result(doc.key, False, messages=answer.messages)
        return [r for r in results if r is not None]

    def _document_ops(self, documents: list[DocumentIn], idempotency_key: str,
                      operation: str = "create") -> tuple[list[Result | None], list[Op]]:
        """The SDK objects for documents (the accounts, items and tax rates they name read first); one that
        cannot be built is its failed Result."""
        results: list[Result | None] = [None] * len(documents)
        base = self.organisation().base_currency
        codes = [line.account_code for d in documents if d.kind not in m.SALES_KINDS for line in d.lines]
        accounts = self._account_ids(codes) if codes else {}
        item_codes = {line.item_code for d in documents for line in d.lines if line.item_code}
        items = {k: str(v.get("Id")) for k, v in
                 self.api.by_names("Item", "Name", item_codes, "the item lookup").items()} if item_codes else {}
        item_ids = {code: items.get(code.casefold(), "") for code in item_codes}
        wanted = {line.account_code for d in documents if d.kind in m.SALES_KINDS for line in d.lines
                  if not line.item_code}
        if wanted:
            item_ids.update(self.lookups.income_items(wanted))
        rates = self.lookups.tax_rates()
        ops: list[Op] = []
        for n, doc in enumerate(documents):
            try:
                sendable = replace(doc, currency="" if doc.currency in ("", base) else doc.currency)
                if doc.contact_other_side:
                    sendable = self._other_side_contact(sendable, f"{idempotency_key}#{n}")
                obj = m.build_document(sendable, accounts, item_ids, rates)
            except m.MappingError as exc:
                results[n] = Result(doc.key, False, messages=[str(exc)])
                continue
            ops.append(Op(n, m.ENTITY[doc.kind].qbo_object_name, operation, obj))
        return results, ops

    def _other_side_contact(self, doc: DocumentIn, key: str) -> DocumentIn:
        """A purchase from a customer (or a sale to a supplier) goes to the company's other QuickBooks record."""
        entity = "Customer" if doc.kind in m.SALES_KINDS else "Vendor"
        rid, why = self.sides.record(entity, doc.contact_name, key, doc.contact_email, doc.currency,
                                     doc.contact_code)
        if not rid:
            raise m.MappingError(why)
        return replace(doc, contact_remote_id=rid, contact_name="")

    def create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        return self._in_chunks(payments, idempotency_key, self._create_payments)

    def _create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        results: list[Result | None] = [None] * len(payments)
        # The paid documents: their customer/vendor (when the ledger has none) and what is still open on them.
        # QuickBooks refuses a line above the open balance, so a line applies at most that; the rest of a
        # customer's payment stays on their account there, as its UnappliedAmt (Intuit, Payment). A bill
        # payment that would leave money unapplied is not sent: whether QuickBooks takes one without a line
        # for it is *unconfirmed*, and a supplier payment the bill cannot take needs a person anyway.
        wanted: dict[str, list[str]] = {"Invoice": [], "Bill": []}
        for p in payments:
            if p.document_kind in (DocKind.SALES_INVOICE, DocKind.PURCHASE_INVOICE):
                wanted["Invoice" if p.document_kind == DocKind.SALES_INVOICE else "Bill"].append(p.document_remote_id)
        docs = {e: self.api.by_ids(e, ids, "the paid documents lookup") if ids else {} for e, ids in wanted.items()}
        banks = self._bank_ids([p.bank_account_code for p in payments if not p.bank_account_id])
        ops: list[Op] = []
        notes: dict[int, list[str]] = {}
        left: dict[str, Decimal] = {}
        for n, p in enumerate(payments):
            try:
                if not p.bank_account_id and p.bank_account_code in banks:
                    p = replace(p, bank_account_id=banks[p.bank_account_code])
                entity = "Invoice" if p.document_kind == DocKind.SALES_INVOICE else "Bill"
                doc = docs.get(entity, {}).get(p.document_remote_id, {})
                contact = p.contact_remote_id or m.ref_value(doc.get("CustomerRef" if entity == "Invoice"
                                                                     else "VendorRef"))
                applied = None
                if "Balance" in doc:
                    open_now = left.setdefault(p.document_remote_id, m.to_decimal(doc.get("Balance")))
                    applied = max(Decimal("0"), min(p.amount, open_now))
                    left[p.document_remote_id] = open_now - applied
                    number = doc.get("DocNumber") or entity
                    if applied < p.amount and entity == "Bill":
                        raise m.MappingError(
                            f"QuickBooks has only {open_now} open on bill {number}, less than this payment's "
                            f"{p.amount}: it was paid there too. Record the payment in QuickBooks by hand and "
                            "Mark as Exported, or correct the ledger.")
                    if applied < p.amount:
                        notes[n] = [f"QuickBooks had only {open_now} open on {number}: "
                                    f"{p.amount - applied} of the payment stays on the account there."]
                obj = m.build_payment(p, contact, applied)
            except m.MappingError as exc:
                results[n] = Result(p.key, False, messages=[str(exc)])
                continue
            ops.append(Op(n, obj.qbo_object_name, "create", obj))
        answers = self.api.send(ops, idempotency_key, "the payment upload")
        for op in ops:
            answer, p = answers[op.index], payments[op.index]
            results[op.index] = Result(p.key, True, remote_id=str(answer.data.get("Id")),
                                       messages=notes.get(op.index, []),
                                       total=m.to_decimal(answer.data.get("TotalAmt"))) if answer.ok \
                else Result(p.key, False, messages=answer.messages)
        return [r for r in results if r is not None]

    # --- finding --------------------------------------------------------------------------------------

    def find_document(self, kind: DocKind, number: str, contact_remote_id: str = "") -> RemoteDocument | None:
        entity = m.ENTITY[kind].qbo_object_name
        rows = self.api.query(f"SELECT * FROM {entity} WHERE DocNumber = {m.quote(number)}",
                           "the document lookup")
        try:
            docs = [remote_document(kind, r) for r in rows]
        except KeyError:
            raise MalformedResponse("QuickBooks sent a document without an Id.") from None
        if contact_remote_id:   # bill numbers are per supplier: another supplier's bill is not ours
            docs = [d for d in docs if d.contact_remote_id in ("", contact_remote_id)]
        live = [d for d in docs if d.status != "VOIDED"]
        return (live or docs)[0] if docs else None

    def find_contact(self, name: str, supplier: bool | None = None) -> str | None:
        """By display name; ``supplier`` says which kind (a customer and a supplier may share a ledger name,
        the second one then being "Name (Supplier)" or "Name (Customer)" in QuickBooks)."""
        entities = ("Customer", "Vendor") if supplier is None else ("Vendor",) if supplier else ("Customer",)
        for entity in entities:
            names = ", ".join(m.quote(n) for n in (name.strip(), m.kind_name(name, entity)))
            rows = self.api.query(f"SELECT * FROM {entity} WHERE DisplayName IN ({names})", "the contact lookup")
            rows.sort(key=lambda r: str(r.get("DisplayName", "")).casefold() != name.strip().casefold())
            if rows:
                return str(rows[0].get("Id"))
        return None

    def find_item(self, code: str) -> str | None:
        rows = self.api.query(f"SELECT * FROM Item WHERE Name = {m.quote(code.strip())}", "the item lookup")
        return str(rows[0].get("Id")) if rows else None

    def find_payment(self, stamp: str, payment: PaymentIn) -> str | None:
        """By KCC's stamp in the private note, among that day's payments (the note cannot be queried)."""
        entity = "Payment" if payment.document_kind == DocKind.SALES_INVOICE else "BillPayment"
        day = payment.date.isoformat()
        for rows in self.api.query_pages(entity, f"TxnDate = '{day}'", "Id", "the payment lookup"):
            for row in rows:
                if find_stamp(str(row.get("PrivateNote") or "")) == stamp:
                    return str(row.get("Id"))
        return None

    def transports(self) -> list[Transport[Any]]:
        return [self.session.transport]

    # --- reconciliation -------------------------------------------------------------------------------

    def fetch_documents(self, wanted: Sequence[tuple[DocKind, str]], date_from: date | None = None,
                        date_to: date | None = None) -> dict[str, RemoteDocument]:
        """One ``Id IN (...)`` query per entity and 1,000 ids (``QboApi.by_ids``). QuickBooks removes a deleted
        transaction (it then answers no row for it); a voided one stays, at zero, with the note "Voided"."""
        out: dict[str, RemoteDocument] = {}
        by_kind: dict[DocKind, list[str]] = {}
        for kind, rid in wanted:
            if rid:
                by_kind.setdefault(kind, []).append(rid)
        for kind, ids in by_kind.items():
            rows = self.api.by_ids(m.ENTITY[kind].qbo_object_name, ids, "the reconciliation read")
            try:
                out.update((rid, remote_document(kind, row)) for rid, row in rows.items())
            except KeyError:
                raise MalformedResponse("QuickBooks sent a document without an Id.") from None
        return out

    def find_documents(self, wanted: Sequence[tuple[DocKind, str]]) -> dict[tuple[DocKind, str], list[RemoteDocument]]:
        """``DocNumber IN (...)`` per entity, 100 numbers a query."""
        out: dict[tuple[DocKind, str], list[RemoteDocument]] = {(k, n): [] for k, n in wanted if n}
        by_kind: dict[DocKind, list[str]] = {}
        for kind, number in out:
            by_kind.setdefault(kind, []).append(number)
        for kind, numbers in by_kind.items():
            entity = m.ENTITY[kind].qbo_object_name
            for n in range(0, len(numbers), 100):
                chunk = ", ".join(m.quote(x) for x in sorted(numbers)[n:n + 100])
                for row in self.api.query_all(entity, f"DocNumber IN ({chunk})", what="the reconciliation look-up"):
                    try:
                        doc = remote_document(kind, row)
                    except KeyError:
                        raise MalformedResponse("QuickBooks sent a document without an Id.") from None
                    if (kind, doc.number) in out:
                        out[(kind, doc.number)].append(doc)
        return out

    def fetch_payments(self, remote_ids: Sequence[str], stamp_prefix: str) -> dict[str, RemotePayment]:
        """KCC's payments by Id (the private note that carries the stamp cannot be queried): one ``Id IN``
        query per 1,000. A deleted payment is absent; a voided one comes back VOIDED at zero."""
        rows = self.api.by_ids("Payment", remote_ids, "the reconciliation read of payments")
        ctx = PaymentContext(base_currency=self.organisation().base_currency)
        out: dict[str, RemotePayment] = {}
        try:
            for rid, row in rows.items():
                found = remote_payment("Payment", row, ctx)
                if found is not None:
                    out[rid] = found
        except (KeyError, TypeError, AttributeError):
            raise MalformedResponse("QuickBooks sent a Payment KCC Desktop does not understand.") from None
        return out

    def update_document(self, remote_id: str, document: DocumentIn, idempotency_key: str) -> Result:
        """A full update carrying the SyncToken just read (QuickBooks refuses a stale one, code 5010)."""
        entity = m.ENTITY[document.kind].qbo_object_name
        current = self.api.by_ids(entity, [remote_id], "the document lookup").get(remote_id)
        if current is None:
            return Result(document.key, False, messages=[f"The {entity} with id {remote_id} is no longer in "
                                                         "QuickBooks."])
        results, ops = self._document_ops([document], idempotency_key, operation="update")
        if not ops:
            done = results[0]
            assert done is not None
            return done
        ops[0].obj.Id = remote_id
        ops[0].obj.SyncToken = str(current.get("SyncToken") or "0")
        answer = self.api.send(ops, keyed(idempotency_key, ops), "the document change")[0]
        if not answer.ok:
            return Result(document.key, False, messages=answer.messages)
        return Result(document.key, True, remote_id=remote_id,
                      remote_number=str(answer.data.get("DocNumber") or document.number),
                      total=m.to_decimal(answer.data.get("TotalAmt")))

    # --- payments back from QuickBooks ----------------------------------------------------------------

    def list_payments(self, since: datetime | None) -> Iterator[PaymentPage]:
        """Receipts, then supplier payments, then deletions (cdc), each page as QBO serves it."""
        reader = PaymentsBack(self.api, self._account_codes, self.clock)
        return reader.pages(since, lambda: self.organisation().base_currency)

    def _account_codes(self) -> dict[str, str]:
        return {a.id: a.code for a in self.lookups.accounts()}

    def document_url(self, kind: DocKind, remote_id: str) -> str:
        web = self.endpoints.web_url.rstrip("/")
        if not self.endpoints.is_sandbox and self.settings.environment == "sandbox":
            web = INTUIT_SANDBOX_WEB
        return f"{web}/{m.WEB_PAGE[kind]}?txnId={remote_id}"


def _account_table(accounts: list[RemoteAccount]) -> dict[str, str]:
    active = [a for a in accounts if a.status == "ACTIVE"]
    table = {a.id: a.id for a in active if not a.code}
    table.update({a.code: a.id for a in active if a.code})
    return table
