"""``XeroPackage``: the ``AccountingPackage`` for Xero, through the official xero-python SDK.

What a request carries and how answers pair up with what was sent: batches of at most 50, always with
``summarizeErrors=false`` (else valid elements are created silently alongside a 400) and the caller's
``Idempotency-Key``; look-ups by number, name and code; payments (and overpayments) read back page by
page. Every SDK call goes through ``XeroClient.call`` (``http.py``: transport, retry policy, failures
in our terms); sign-in specifics are in ``auth.py``; SDK models are built and read in ``mapping.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from xero_python.accounting.models import Contacts, CreditNotes, Invoices, Items, Payments

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
    RemoteContact,
    RemoteDocument,
    RemotePayment,
    RemoteTaxRate,
    Result,
    ValidationFailed,
    find_stamp,
)
from ..pacing import Pacer, pacer_for
from ..settings import ConnectionSettings, Endpoints
from ..tokens import TokenManager
from ..transport import RETRY_POLICY, RetryPolicy, Transport
from . import mapping as m
from . import organisation as xo
from .auth import Tenant, list_connections, make_api_client
from .http import UsageError, XeroClient, shape_guard

PAGE_SIZE = 100          # GET /Payments pages hold 100
OVERPAYMENT_LOOKUP = 25  # overpayment ids per GET /BankTransactions where-clause (keeps the URL short)
LIST_PAGE = 1000         # contacts a page when listing them all (pageSize: at most 1000)
MATCH_CHUNK = 10         # contacts or items per look-up for existing records (keeps the URL short)
IDS_CHUNK = 100          # invoice ids per GET /Invoices?IDs= (reconciliation: one request per 100 documents)
NUMBERS_CHUNK = 50       # invoice numbers per GET /Invoices?InvoiceNumbers= (numbers are longer than ids)
WHERE_CHUNK = 25         # credit notes per where-clause of ids or numbers (GET /CreditNotes has no IDs filter)


class _ContactIndex:
    """The organisation's contacts by account number and by name (both ignoring case and spaces around),
    so matching many of ours against many of theirs is one look-up each."""

    def __init__(self, rows: Iterable[RemoteContact]) -> None:
        self.by_number: dict[str, RemoteContact] = {}
        self.by_name: dict[str, list[RemoteContact]] = {}
        for r in rows:
            if r.account_number.strip():
                self.by_number.setdefault(r.account_number.strip().casefold(), r)
            self.by_name.setdefault(r.name.strip().casefold(), []).append(r)

    def best(self, wanted: ContactIn) -> RemoteContact | None:
        """By account number first; then by exact name, an active contact before an archived one."""
        number = wanted.account_number.strip().casefold()
        if number and number in self.by_number:
            return self.by_number[number]
        named = sorted(self.by_name.get(wanted.name.strip().casefold(), ()),
                       key=lambda r: (not r.active, not r.merged_to))   # merged: followed
        return named[0] if named else None


class _Keyed(Protocol):
    key: str


E = TypeVar("E", bound=_Keyed)
PageFetch = Callable[[int, dict[str, Any]], tuple[list[RemotePayment], int, Any]]


class XeroPackage(AccountingPackage):
    provider = "xero"
    batch_size = 50
    contacts_shared = True

    def __init__(self, settings: ConnectionSettings, tokens: TokenManager, *, endpoints: Endpoints | None = None,
                 pacer: Pacer | None = None, timeout: float = 60.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy = RETRY_POLICY, time_scale: float = 1.0) -> None:
        if not settings.tenant_id:
            raise ConnectionRequired("Valid Connection Required: no Xero organisation has been chosen.")
        self.settings = settings
        self.tenant_id = settings.tenant_id
        self.tokens = tokens
        self.endpoints = (endpoints or settings.endpoints()).check()
        self.pacer = pacer or pacer_for("xero", self.tenant_id, time_scale)
        self.timeout = (connect_timeout, timeout)
        api_client = make_api_client(settings.client_id, self.endpoints.token_url, tokens)
        self.client = XeroClient(api_client, self.endpoints.api_url, self.tenant_id, tokens, self.pacer,
                                 self.timeout, retry)
        self.api = self.client.api
        self._org: Organisation | None = None
        self._bank_of_credit: dict[str, Any] = {}
        self._raw: dict[str, list[Any]] = {}   # the chart and tax rates as last read, for the settings

    @property
    def request_count(self) -> int:
        """Requests put on the wire (every send counts): the exporter reports a run's figure from it."""
        return self.client.transport.request_count

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.client.call(what, method, *args, **kwargs)

    # --- reference data ----------------------------------------------------------------------------

    def _organisation_model(self) -> Any:
        orgs = self._call("read the organisation", self.api.get_organisations).organisations or []
        if not orgs:
            raise MalformedResponse("Xero returned no organisation for this connection.")
        o = orgs[0]
        self._org = Organisation(id=str(o.organisation_id or self.tenant_id), name=str(o.name or ""),
                                 base_currency=m.enum_value(o.base_currency, "GBP"))
        return o

    @shape_guard("read the organisation")
    def organisation(self) -> Organisation:
        if self._org is None:
            self._organisation_model()
        assert self._org is not None
        return self._org

    @shape_guard("read the organisation's settings")
    def organisation_settings(self) -> OrganisationSettings:
        """Lock dates, currencies, plan limits, tax rates on accounts, archived contacts and the sign-in's
        scopes (see organisation.py). The chart and tax rates read by Get Nominal & Tax Accounts just
        before are not read again."""
        org = self._organisation_model()
        currencies = self._call("read the currencies", self.api.get_currencies).currencies or []
        # Read just before by Get Nominal & Tax Accounts: used once, so a later check reads them afresh.
        accounts = self._raw.pop("accounts", None) or self._call("read the chart of accounts",
                                                                  self.api.get_accounts).accounts
        rates = self._raw.pop("tax_rates", None) or self._call("read the tax rates", self.api.get_tax_rates).tax_rates
        archived = list(self._pages_of("read archived contacts", self.api.get_contacts, "contacts",
                                       where='ContactStatus=="ARCHIVED"', include_archived=True))
        approved: dict[str, int] = {}
        if xo.plan_caps(m.enum_value(getattr(org, "_class", None))):
            approved = xo.count_approved(self._pages_of(
                "count approved invoices", self.api.get_invoices, "invoices", statuses=list(xo.APPROVED_STATUSES),
                where='Type=="ACCREC" OR Type=="ACCPAY"', summary_only=True))
        return xo.settings_from(org, currencies, accounts or [], rates or [], archived, approved,
                                self.tokens.tokens().scope, self.settings.scopes)

    def _pages_of(self, what: str, method: Callable[..., Any], key: str, **kwargs: Any) -> Iterator[Any]:
        """Every row of a paged list (paging also makes Xero include details such as MergedToContactID)."""
        page = 1
        while True:
            resp = self._call(what, method, page=page, **kwargs)
            rows = getattr(resp, key, None) or []
            yield from rows
            count = getattr(getattr(resp, "pagination", None), "page_count", None)
            if (page >= count) if isinstance(count, int) else len(rows) < PAGE_SIZE:
                return
            page += 1

    @shape_guard("read the chart of accounts")
    def fetch_accounts(self) -> list[RemoteAccount]:
        rows = self._raw["accounts"] = self._call("read the chart of accounts", self.api.get_accounts).accounts or []
        return [m.remote_account(a) for a in rows]

    @shape_guard("read the tax rates")
    def fetch_tax_rates(self) -> list[RemoteTaxRate]:
        rows = self._raw["tax_rates"] = self._call("read the tax rates", self.api.get_tax_rates).tax_rates or []
        return [m.remote_tax_rate(t) for t in rows]

    @shape_guard("read the bank accounts")
    def fetch_bank_accounts(self) -> list[RemoteBankAccount]:
        rows = self._call("read the bank accounts", self.api.get_accounts, where='Type=="BANK"').accounts or []
        return [m.remote_bank_account(a) for a in rows if m.enum_value(a.type) == "BANK"]

    def list_tenants(self) -> list[Tenant]:
        if not self.endpoints.connections_url:
            return []
        return list_connections(self.endpoints.connections_url, self.tokens.access_token(), self.timeout[1])

    # --- batches -----------------------------------------------------------------------------------

    def _check_batch(self, items: Sequence[Any], idempotency_key: str) -> None:
        if len(items) > self.batch_size:
            raise UsageError(f"At most {self.batch_size} elements go in one Xero request; got {len(items)}.")
        if idempotency_key and len(idempotency_key) > 128:
            raise UsageError("Xero idempotency keys are at most 128 characters.")

    def _batch(self, what: str, items: Sequence[E], build: Callable[[E], Any], send: Callable[[list[Any]], list[Any]],
               to_result: Callable[[E, Any], Result]) -> list[Result]:
        """Build models (a model that can't be built is that element's failed Result), send, pair up."""
        results: list[Result | None] = [None] * len(items)
        models: list[Any] = []
        where: list[int] = []
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
            for i, element in zip(where, elements, strict=True):
                results[i] = to_result(items[i], element)
        return [r for r in results if r is not None]

    @shape_guard("send contacts")
    def upsert_contacts(self, contacts: list[ContactIn], idempotency_key: str) -> list[Result]:
        self._check_batch(contacts, idempotency_key)
        # PUT only creates; POST creates or updates: use it when the batch holds an update.
        method = self.api.update_or_create_contacts if any(c.remote_id for c in contacts) else self.api.create_contacts

        def send(models: list[Any]) -> list[Any]:
            resp = self._call("send contacts", method, Contacts(contacts=models), summarize_errors=False,
                              idempotency_key=idempotency_key)
            return resp.contacts or []
        return self._batch("contacts", contacts, m.contact_model, send,
                           lambda c, el: m.element_result(c.key, el, "contact_id"))

    @shape_guard("send items")
    def upsert_items(self, items: list[ItemIn], idempotency_key: str) -> list[Result]:
        self._check_batch(items, idempotency_key)
        method = self.api.update_or_create_items if any(i.remote_id for i in items) else self.api.create_items

        def send(models: list[Any]) -> list[Any]:
            resp = self._call("send items", method, Items(items=models), summarize_errors=False,
                              idempotency_key=idempotency_key)
            return resp.items or []
        return self._batch("items", items, m.item_model, send,
                           lambda i, el: m.element_result(i.key, el, "item_id", "code"))

    @shape_guard("send documents")
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
            for doc, result in zip(group, self._send_documents(group, credit, key), strict=True):
                by_key[id(doc)] = result
        return [by_key[id(d)] for d in documents]

    def _send_documents(self, docs: list[DocumentIn], credit: bool, key: str) -> list[Result]:
        unitdp4 = any(m.document_needs_unitdp4(d) for d in docs)
        extra = {"unitdp": 4} if unitdp4 else {}

        def send(models: list[Any]) -> list[Any]:
            if credit:
                resp = self._call("send credit notes", self.api.create_credit_notes, CreditNotes(credit_notes=models),
                                  summarize_errors=False, idempotency_key=key, **extra)
                return resp.credit_notes or []
            resp = self._call("send invoices", self.api.create_invoices, Invoices(invoices=models),
                              summarize_errors=False, idempotency_key=key, **extra)
            return resp.invoices or []

        id_attr, number_attr = ("credit_note_id", "credit_note_number") if credit else ("invoice_id", "invoice_number")
        return self._batch("documents", docs, lambda d: m.document_model(d, unitdp4), send,
                           lambda d, el: m.element_result(d.key, el, id_attr, number_attr, with_total=True))

    @shape_guard("send payments")
    def create_payments(self, payments: list[PaymentIn], idempotency_key: str) -> list[Result]:
        self._check_batch(payments, idempotency_key)

        def send(models: list[Any]) -> list[Any]:
            resp = self._call("send payments", self.api.create_payments, Payments(payments=models),
                              summarize_errors=False, idempotency_key=idempotency_key)
            return resp.payments or []
        return self._batch("payments", payments, m.payment_model, send,
                           lambda p, el: m.element_result(p.key, el, "payment_id"))

    # --- look-ups ----------------------------------------------------------------------------------

    # Look-ups tell "not there" from "could not tell": only a clean answer (the list present, and whatever it
    # holds matching what was asked) may say "not there"; anything else raises, and the caller keeps the item
    # pending rather than create it again.

    @shape_guard("look up a document")
    def find_document(self, kind: DocKind, number: str, contact_remote_id: str = "") -> RemoteDocument | None:
        if not number:
            return None
        if m.is_credit(kind):
            where = f'{m.where_equals("CreditNoteNumber", number)} AND Type=="{m.CREDIT_TYPES[kind]}"'
            rows = _listed(self._call("look up a credit note", self.api.get_credit_notes, where=where).credit_notes,
                           "credit notes")
            docs = [m.remote_credit_note(r) for r in rows if r.credit_note_number == number]
        else:
            rows = _listed(self._call("look up an invoice", self.api.get_invoices, invoice_numbers=[number],
                                      where=f'Type=="{m.INVOICE_TYPES[kind]}"').invoices, "invoices")
            docs = [m.remote_invoice(r) for r in rows if r.invoice_number == number and r.type == m.INVOICE_TYPES[kind]]
        if rows and not docs:
            raise _unclear("documents")
        if contact_remote_id:   # another supplier's bill of the same number is not ours
            docs = [d for d in docs if d.contact_remote_id in ("", contact_remote_id)]
        # A voided or deleted copy is history; a live one is the match.
        live = [d for d in docs if d.status not in ("VOIDED", "DELETED")]
        return (live or docs)[0] if docs else None

    @shape_guard("look up a contact")
    def find_contact(self, name: str, supplier: bool | None = None) -> str | None:   # one list in Xero
        rows = _listed(self._call("look up a contact", self.api.get_contacts,
                                  where=m.where_equals("Name", name)).contacts, "contacts")
        same = [c for c in rows if (c.name or "").casefold() == name.casefold()]
        if rows and not same:
            raise _unclear("contacts")
        for c in same:
            if c.contact_status != "ARCHIVED":
                return str(c.contact_id)
        return None

    @shape_guard("look up an item")
    def find_item(self, code: str) -> str | None:
        rows = _listed(self._call("look up an item", self.api.get_items, where=m.where_equals("Code", code)).items,
                       "items")
        for i in rows:
            if (i.code or "") == code:
                return str(i.item_id)
        if rows:
            raise _unclear("items")
        return None

    @shape_guard("look up a payment")
    def find_payment(self, stamp: str, payment: PaymentIn) -> str | None:
        """By KCC's stamp in the Reference (see ``base.make_stamp``)."""
        rows = _listed(self._call("look up a payment", self.api.get_payments,
                                  where=f'Reference.Contains("{stamp}")').payments, "payments")
        ours = [p for p in rows if find_stamp(p.reference) == stamp]
        if rows and not ours:
            raise _unclear("payments")
        live = [p for p in ours if str(p.status or "").upper() != "DELETED"]
        return str(live[0].payment_id) if live else None

    def transports(self) -> list[Transport[Any]]:
        return [self.client.transport]

    # --- reconciliation ------------------------------------------------------------------------------

    @shape_guard("read documents back")
    def fetch_documents(self, wanted: Sequence[tuple[DocKind, str]], date_from: date | None = None,
                        date_to: date | None = None) -> dict[str, RemoteDocument]:
        """Invoices and bills by id, 100 a request (``GET /Invoices?IDs=``, spec: "Filter by a comma-separated
        list of InvoicesIDs"); credit notes, which have no IDs filter, page by page over the range's dates
        (``where=Date>=DateTime(...)``, 100 a page), then by id in where-clauses for any dated elsewhere now.
        Deleted and voided documents come back with their status; one Xero no longer shows is absent."""
        out: dict[str, RemoteDocument] = {}
        invoices = list(dict.fromkeys(m.guid(rid) for kind, rid in wanted if rid and not m.is_credit(kind)))
        credits = list(dict.fromkeys(m.guid(rid) for kind, rid in wanted if rid and m.is_credit(kind)))
        for n in range(0, len(invoices), IDS_CHUNK):
            rows = _listed(self._call("read invoices back", self.api.get_invoices, i_ds=invoices[n:n + IDS_CHUNK]
                                      ).invoices, "invoices")
            out.update((str(r.invoice_id), m.remote_invoice(r)) for r in rows)
        if credits and date_from is not None and date_to is not None:
            where = (f"Date>=DateTime({date_from.year},{date_from.month:02d},{date_from.day:02d}) AND "
                     f"Date<=DateTime({date_to.year},{date_to.month:02d},{date_to.day:02d})")
            wanted_credits = set(credits)
            for r in self._pages_of("read credit notes back", self.api.get_credit_notes, "credit_notes", where=where,
                                    page_size=PAGE_SIZE):
                if str(r.credit_note_id) in wanted_credits:
                    out[str(r.credit_note_id)] = m.remote_credit_note(r)
        rest = [c for c in credits if c not in out]
        for n in range(0, len(rest), WHERE_CHUNK):
            where = " OR ".join(f'CreditNoteID==Guid("{c}")' for c in rest[n:n + WHERE_CHUNK])
            rows = _listed(self._call("read credit notes back", self.api.get_credit_notes, where=where).credit_notes,
                           "credit notes")
            out.update((str(r.credit_note_id), m.remote_credit_note(r)) for r in rows)
        return out

    @shape_guard("look documents up")
    def find_documents(self, wanted: Sequence[tuple[DocKind, str]]) -> dict[tuple[DocKind, str], list[RemoteDocument]]:
        """By number: invoices 50 numbers a request (``InvoiceNumbers``), credit notes 25 a where-clause."""
        out: dict[tuple[DocKind, str], list[RemoteDocument]] = {(k, n): [] for k, n in wanted if n}
        invoices = sorted({n for k, n in wanted if n and not m.is_credit(k)})
        credits = sorted({n for k, n in wanted if n and m.is_credit(k)})
        found: list[RemoteDocument] = []
        for n in range(0, len(invoices), NUMBERS_CHUNK):
            rows = _listed(self._call("look invoices up", self.api.get_invoices,
                                      invoice_numbers=invoices[n:n + NUMBERS_CHUNK]).invoices, "invoices")
            found += [m.remote_invoice(r) for r in rows]
        for n in range(0, len(credits), WHERE_CHUNK):
            where = " OR ".join(m.where_equals("CreditNoteNumber", c) for c in credits[n:n + WHERE_CHUNK])
            rows = _listed(self._call("look credit notes up", self.api.get_credit_notes, where=where).credit_notes,
                           "credit notes")
            found += [m.remote_credit_note(r) for r in rows]
        for doc in found:
            key = (doc.kind, doc.number)
            if key in out:
                out[key].append(doc)
        return out

    @shape_guard("read payments back")
    def fetch_payments(self, remote_ids: Sequence[str], stamp_prefix: str) -> dict[str, RemotePayment]:
        """KCC's own payments by the stamp in their Reference (``where=Reference.Contains(...)``, 100 a page);
        any wanted id not among them, by id in where-clauses (GET /Payments has no IDs filter)."""
        out: dict[str, RemotePayment] = {}
        if stamp_prefix:
            for p in self._pages_of("read payments back", self.api.get_payments, "payments",
                                    where=f'Reference.Contains("{stamp_prefix}")'):
                kind = m.payment_kind(p) or "receipt"
                out[str(p.payment_id)] = m.remote_payment(p, kind)
        rest = [m.guid(i) for i in dict.fromkeys(remote_ids) if i and i not in out]
        for n in range(0, len(rest), WHERE_CHUNK):
            where = " OR ".join(f'PaymentID==Guid("{i}")' for i in rest[n:n + WHERE_CHUNK])
            rows = _listed(self._call("read payments back", self.api.get_payments, where=where).payments, "payments")
            out.update((str(p.payment_id), m.remote_payment(p, m.payment_kind(p) or "receipt")) for p in rows)
        return out

    @shape_guard("send a changed document")
    def update_document(self, remote_id: str, document: DocumentIn, idempotency_key: str) -> Result:
        """``POST /Invoices/{id}`` (or CreditNotes): Xero edits a draft, submitted or unpaid authorised
        document in place; a paid, part-paid, voided or locked one is refused with Xero's own words."""
        self._check_batch([document], idempotency_key)
        credit = m.is_credit(document.kind)
        unitdp4 = m.document_needs_unitdp4(document)
        extra = {"unitdp": 4} if unitdp4 else {}
        try:
            model = m.document_model(document, unitdp4)
        except (m.ElementError, ValueError) as exc:
            return Result(key=document.key, ok=False, messages=[str(exc)])
        try:
            if credit:
                model.credit_note_id = m.guid(remote_id)
                resp = self._call("send a changed credit note", self.api.update_credit_note, m.guid(remote_id),
                                  CreditNotes(credit_notes=[model]), idempotency_key=idempotency_key, **extra)
                rows, id_attr, number_attr = resp.credit_notes or [], "credit_note_id", "credit_note_number"
            else:
                model.invoice_id = m.guid(remote_id)
                resp = self._call("send a changed invoice", self.api.update_invoice, m.guid(remote_id),
                                  Invoices(invoices=[model]), idempotency_key=idempotency_key, **extra)
                rows, id_attr, number_attr = resp.invoices or [], "invoice_id", "invoice_number"
        except ValidationFailed as exc:   # one document: Xero's 400 is this element's refusal
            return Result(key=document.key, ok=False, messages=list(exc.messages))
        if len(rows) != 1:
            raise MalformedResponse("Xero answered the change without the document.",
                                    "Check Xero before sending again.")
        return m.element_result(document.key, rows[0], id_attr, number_attr, with_total=True)

    @shape_guard("look up existing contacts")
    def match_contacts(self, contacts: list[ContactIn]) -> dict[str, RemoteContact]:
        """The organisation's own contacts for ours: by AccountNumber (unique in Xero), then by exact name
        (ignoring case, as Xero's name uniqueness does), an active one before an archived one. Archived ones
        are included; a merged one is followed to the contact it was merged into. Paged, so Xero includes
        MergedToContactID (spec, Contact).

        A few are looked up MATCH_CHUNK at a time; for many, listing every contact (LIST_PAGE a request)
        is cheaper when the organisation has fewer contacts than that would take look-ups: the first
        page's pagination says which, so a first upload of thousands costs a handful of requests."""
        index = self._every_contact(-(-len(contacts) // MATCH_CHUNK)) if len(contacts) > MATCH_CHUNK else None
        if index is not None:
            return {c.key: self._follow_merge(found) for c in contacts if (found := index.best(c)) is not None}
        out: dict[str, RemoteContact] = {}
        for n in range(0, len(contacts), MATCH_CHUNK):
            chunk = contacts[n:n + MATCH_CHUNK]
            clauses = [m.where_equals("AccountNumber", c.account_number) for c in chunk if c.account_number]
            clauses += [m.where_equals("Name", c.name) for c in chunk]
            found_in = _ContactIndex(xo.remote_contact(r) for r in self._pages_of(
                "look up existing contacts", self.api.get_contacts, "contacts", where=" OR ".join(clauses),
                include_archived=True))
            for c in chunk:
                found = found_in.best(c)
                if found is not None:
                    out[c.key] = self._follow_merge(found)
        return out

    def _every_contact(self, lookups: int) -> _ContactIndex | None:
        """Every contact, archived ones included, if listing them takes no more requests than ``lookups``;
        else None (one request spent finding out)."""
        first = self._call("list contacts", self.api.get_contacts, page=1, page_size=LIST_PAGE, include_archived=True)
        rows = list(first.contacts or [])
        pages = getattr(getattr(first, "pagination", None), "page_count", None)
        if not isinstance(pages, int) or pages > lookups:
            return None
        for page in range(2, pages + 1):
            rows += self._call("list contacts", self.api.get_contacts, page=page, page_size=LIST_PAGE,
                               include_archived=True).contacts or []
        return _ContactIndex(xo.remote_contact(r) for r in rows)

    def _follow_merge(self, contact: RemoteContact) -> RemoteContact:
        seen = {contact.remote_id}
        while contact.merged_to and contact.merged_to not in seen:
            seen.add(contact.merged_to)
            rows = self._call("follow a merged contact", self.api.get_contact, m.guid(contact.merged_to)).contacts
            if not rows:
                break
            contact = xo.remote_contact(rows[0])
        return contact

    @shape_guard("look up existing items")
    def match_items(self, items: list[ItemIn]) -> dict[str, str]:
        """The organisation's own items with our codes (item codes are unique in Xero, ignoring case): a
        few looked up by code, else every item in one request (GET /Items is not paged)."""
        where = " OR ".join(m.where_equals("Code", i.code) for i in items) if len(items) <= MATCH_CHUNK else None
        rows = self._call("look up existing items", self.api.get_items,
                          **({"where": where} if where else {})).items or []
        by_code = {str(r.code or "").casefold(): str(r.item_id) for r in rows}
        return {i.key: by_code[i.code.casefold()] for i in items if i.code.casefold() in by_code}

    def list_payments(self, since: datetime | None) -> Iterator[PaymentPage]:
        """Receipts and supplier payments (GET /Payments), then overpayments (GET /Overpayments), then
        prepayments (GET /Prepayments).

        A customer paying more than an invoice is, in Xero, a RECEIVE-OVERPAYMENT bank transaction that
        creates an Overpayment, later allocated to invoices; money received before the invoice is a
        RECEIVE-PREPAYMENT that creates a Prepayment: neither ever shows in GET /Payments. The lists are
        not in one time order; the import moves its watermark only after a complete run.
        """
        kwargs: dict[str, Any] = {"order": "UpdatedDateUTC ASC"}
        if since is not None:
            if since.tzinfo is None:
                raise UsageError("list_payments needs a timezone-aware UTC datetime")
            kwargs["if_modified_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        lists: tuple[tuple[PageFetch, bool], ...] = ((self._payment_page, False), (self._overpayment_page, False),
                                                     (self._prepayment_page, True))
        for fetch, last_list in lists:
            for out, has_more in self._pages(fetch, kwargs):
                yield PaymentPage(payments=out, has_more=has_more or not last_list)

    def _pages(self, fetch: PageFetch, kwargs: dict[str, Any]) -> Iterator[tuple[list[RemotePayment], bool]]:
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

    @shape_guard("read payments")
    def _payment_page(self, page: int, kwargs: dict[str, Any]) -> tuple[list[RemotePayment], int, Any]:
        resp = self._call("read payments", self.api.get_payments, page=page, **kwargs)
        rows = resp.payments or []
        kinds = [(p, m.payment_kind(p)) for p in rows]
        return [m.remote_payment(p, kind) for p, kind in kinds if kind is not None], len(rows), resp.pagination

    @shape_guard("read overpayments")
    def _overpayment_page(self, page: int, kwargs: dict[str, Any]) -> tuple[list[RemotePayment], int, Any]:
        resp = self._call("read overpayments", self.api.get_overpayments, page=page, **kwargs)
        rows = [(o, kind) for o in resp.overpayments or [] if (kind := m.overpayment_kind(o)) is not None]
        banks = self._credit_banks("OverpaymentID", [str(o.overpayment_id) for o, _ in rows])
        out = [m.remote_overpayment(o, kind, banks.get(str(o.overpayment_id))) for o, kind in rows]
        return out, len(resp.overpayments or []), resp.pagination

    @shape_guard("read prepayments")
    def _prepayment_page(self, page: int, kwargs: dict[str, Any]) -> tuple[list[RemotePayment], int, Any]:
        resp = self._call("read prepayments", self.api.get_prepayments, page=page, **kwargs)
        rows = [(p, kind) for p in resp.prepayments or [] if (kind := m.prepayment_kind(p)) is not None]
        banks = self._credit_banks("PrepaymentID", [str(p.prepayment_id) for p, _ in rows])
        out = [m.remote_prepayment(p, kind, banks.get(str(p.prepayment_id))) for p, kind in rows]
        return out, len(resp.prepayments or []), resp.pagination

    def _credit_banks(self, id_field: str, credit_ids: list[str]) -> dict[str, Any]:
        """The bank account each overpayment's or prepayment's money went through. Neither has a bank
        account: it is on the RECEIVE-/SPEND-OVERPAYMENT (-PREPAYMENT) bank transaction that created it,
        which names it in its ``OverpaymentID`` (``PrepaymentID``). That transaction never changes after,
        so what was read once is kept for the life of this connection."""
        wanted = [i for i in dict.fromkeys(credit_ids) if i and i not in self._bank_of_credit]
        attr = "overpayment_id" if id_field == "OverpaymentID" else "prepayment_id"
        for n in range(0, len(wanted), OVERPAYMENT_LOOKUP):
            chunk = wanted[n:n + OVERPAYMENT_LOOKUP]
            where = " OR ".join(f'{id_field}==Guid("{m.guid(i)}")' for i in chunk)
            rows = self._call("find the bank account of overpayments and prepayments", self.api.get_bank_transactions,
                              where=where).bank_transactions or []
            for tx in rows:
                if getattr(tx, attr, None) and tx.bank_account is not None:
                    self._bank_of_credit[str(getattr(tx, attr))] = tx.bank_account
        return {i: self._bank_of_credit.get(i) for i in credit_ids}

    def document_url(self, kind: DocKind, remote_id: str) -> str:
        web = self.endpoints.web_url.rstrip("/")
        ledger = "AccountsReceivable" if kind in (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT) else "AccountsPayable"
        if m.is_credit(kind):
            return f"{web}/{ledger}/ViewCreditNote.aspx?creditNoteID={remote_id}"
        return f"{web}/{ledger}/View.aspx?InvoiceID={remote_id}"


def _listed(rows: Any, what: str) -> list[Any]:
    """A look-up's list; Xero always sends it (empty when nothing matches), so its absence means the answer
    was not what Xero sends, and "not there" cannot be told from it."""
    if rows is None:
        raise _unclear(what)
    return list(rows)


def _unclear(what: str) -> MalformedResponse:
    return MalformedResponse(f"Could not look up {what}: Xero's answer could not be read, so KCC cannot tell "
                             "whether it is there.", "Nothing is sent again until a clean answer says it is not.")
