"""Helpers to drive the sandboxes as the app and as a bookkeeper would: log in like a browser,
then use the official SDK against the sandbox URLs.

Used by the sandbox tests, the connector tests and the demo. Nothing here is imported by the app.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypeAlias, TypedDict
from urllib.parse import parse_qs, urlsplit

import requests

from .json_types import JSONObject, JSONValue

if TYPE_CHECKING:
    from .http import SandboxServer

DEFAULT_CLIENT_ID = "kcc-desktop-sandbox"
DEFAULT_REDIRECT = "http://127.0.0.1:53682/callback"
DEFAULT_SCOPES = ["openid", "profile", "email", "offline_access",
                  "accounting.transactions", "accounting.contacts", "accounting.settings"]

Urls: TypeAlias = Mapping[str, str]
"""A started sandbox's URLs by name (``server.urls()``): root, api_url, token_url..."""

Amount: TypeAlias = Decimal | str | int
"""Money as a bookkeeper types it: a Decimal, or its exact text ("120.50")."""


class XeroToken(TypedDict):
    """A token response as xero-python keeps it."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    token_type: str
    scope: list[str]
    expires_at: float
    id_token: NotRequired[str]


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def xero_authorize(urls: Urls, client_id: str = DEFAULT_CLIENT_ID, redirect_uri: str = DEFAULT_REDIRECT,
                   scopes: list[str] | None = None, state: str = "xyz",
                   challenge: str | None = None) -> requests.Response:
    """Play the browser on the authorize URL; returns the raw (redirect) response, not followed."""
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": " ".join(scopes or DEFAULT_SCOPES), "state": state}
    if challenge:
        params.update({"code_challenge": challenge, "code_challenge_method": "S256"})
    return requests.get(urls["authorize_url"], params=params, allow_redirects=False, timeout=10)


def redirect_params(resp: requests.Response) -> dict[str, str]:
    """The query parameters the authorize step redirected back with (code, state, or error)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


def xero_exchange(urls: Urls, code: str, verifier: str | None, client_id: str = DEFAULT_CLIENT_ID,
                  redirect_uri: str = DEFAULT_REDIRECT) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "client_id": client_id}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(urls["token_url"], data=data, timeout=10)


def sdk_token(body: JSONObject) -> XeroToken:
    """A token response as xero-python's token dict (only the keys it accepts; scope as a list)."""
    scope = body.get("scope", "")
    token: XeroToken = {"access_token": body["access_token"], "refresh_token": body.get("refresh_token"),
             "expires_in": body["expires_in"], "token_type": body.get("token_type", "Bearer"),
             "scope": scope.split() if isinstance(scope, str) else list(scope),
             "expires_at": time.time() + int(body["expires_in"])}
    if body.get("id_token"):
        token["id_token"] = body["id_token"]
    return token


def xero_login(urls: Urls, client_id: str = DEFAULT_CLIENT_ID, redirect_uri: str = DEFAULT_REDIRECT,
               scopes: list[str] | None = None) -> XeroToken:
    """Authorization Code + PKCE as a desktop app does it; returns an xero-python token dict."""
    verifier, challenge = pkce_pair()
    resp = xero_authorize(urls, client_id, redirect_uri, scopes, state=secrets.token_hex(8), challenge=challenge)
    resp.raise_for_status()
    params = redirect_params(resp)
    tok = xero_exchange(urls, params["code"], verifier, client_id, redirect_uri)
    tok.raise_for_status()
    return sdk_token(tok.json())


def xero_tenants(urls: Urls, token: Mapping[str, Any]) -> list[JSONObject]:
    """GET /connections: the organisations the token may reach (``tenantId``, ``tenantName``...)."""
    resp = requests.get(urls["connections_url"], headers={"Authorization": f"Bearer {token['access_token']}"},
                        timeout=10)
    resp.raise_for_status()
    tenants: list[JSONObject] = resp.json()
    return tenants


class XeroClient:
    """An xero-python client pointed at the sandbox: ``.accounting``, ``.identity``, ``.api_client``,
    ``.tenant_id`` (the first connection unless given) and ``.token`` (kept current on refresh)."""

    def __init__(self, urls: Urls, token: Mapping[str, Any], tenant_id: str | None = None,
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = "pkce-no-secret",
                 retries: object = False) -> None:
        from xero_python.accounting import AccountingApi
        from xero_python.api_client import ApiClient, Configuration
        from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
        from xero_python.identity import IdentityApi

        self.urls = urls
        self.token: dict[str, Any] = dict(token)
        # TokenApi.refresh_token_url is a class attribute: point it here (process-wide, like Configuration).
        TokenApi.refresh_token_url = urls["token_url"]
        TokenApi.revoke_token_url = urls.get("revocation_url", urls["root"] + "/connect/revocation")
        config = Configuration(oauth2_token=OAuth2Token(client_id=client_id, client_secret=client_secret))
        config.oauth2_token = OAuth2Token(client_id=client_id, client_secret=client_secret)
        self.api_client = ApiClient(config, pool_threads=1,
                                    oauth2_token_getter=lambda: self.token,
                                    oauth2_token_saver=self._save)
        self.api_client.set_oauth2_token(self.token)
        # xero-python's urllib3 pool retries 429/503 up to 3 times, sleeping Retry-After in between,
        # so a 429 would surface only after minutes. ``retries=False`` makes every answer visible at once;
        # pass ``retries=None`` to keep the SDK's default behaviour.
        if retries is not None:
            self.api_client.rest_client.pool_manager.connection_pool_kw["retries"] = retries
        self.accounting = AccountingApi(self.api_client, base_url=urls["api_url"])
        self.identity = IdentityApi(self.api_client, base_url=urls["root"])
        self.tenant_id: str = tenant_id or xero_tenants(urls, self.token)[0]["tenantId"]

    def _save(self, token: Mapping[str, Any]) -> None:
        self.token = dict(token)

    def refresh(self) -> dict[str, Any]:
        token: dict[str, Any] = self.api_client.refresh_oauth2_token()
        return token


def xero_sdk_client(urls: Urls, token: Mapping[str, Any], tenant_id: str | None = None,
                    **kwargs: Any) -> XeroClient:
    return XeroClient(urls, token, tenant_id, **kwargs)


def sandbox_call(urls: Urls, what: str, payload: JSONObject | None = None, method: str = "POST") -> JSONObject:
    """Drive a ``/_sandbox/<what>`` control endpoint (stats, reset, faults, limits, revoke, expire-tokens)."""
    url = urls["root"] + "/_sandbox/" + what
    resp = requests.request(method, url, json=payload if method != "GET" else None, timeout=10)
    resp.raise_for_status()
    answer: JSONObject = resp.json()
    return answer


# --- the bookkeeper's hands: what a person does in Xero, done through the real API ------------------

def _dec(value: Amount) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class XeroBookkeeper:
    """Records payments, credits and overpayments in the sandbox as a bookkeeper would in Xero.

    Every call goes through xero-python over HTTP, so the app later sees exactly what Xero would show.
    """

    def __init__(self, client: XeroClient, bank_code: str = "090") -> None:
        self.client, self.bank_code = client, bank_code

    @property
    def _api(self) -> Any:  # xero_python.accounting.AccountingApi (the SDK ships no types)
        return self.client.accounting

    def pay(self, invoice_id: str, amount: Amount, on: date | None = None, reference: str = "") -> str:
        """One payment against one invoice (or bill); returns the PaymentID."""
        return self.pay_many([(invoice_id, amount)], on, reference)[0]

    def pay_many(self, allocations: Sequence[tuple[str, Amount]], on: date | None = None,
                 reference: str = "") -> list[str]:
        """A "batch" receipt as Xero stores it: one Payment per invoice, sent in one PUT /Payments."""
        from xero_python.accounting import Account, Invoice, Payment, Payments

        payments = [Payment(invoice=Invoice(invoice_id=iid), account=Account(code=self.bank_code),
                            amount=_dec(amount), date=on or date.today(), reference=reference)
                    for iid, amount in allocations]
        result = self._api.create_payments(self.client.tenant_id, Payments(payments=payments), summarize_errors=False)
        errors = [p.validation_errors for p in result.payments if p.validation_errors]
        if errors:
            raise ValueError(f"payment refused: {errors}")
        return [str(p.payment_id) for p in result.payments]

    def delete_payment(self, payment_id: str) -> None:
        from xero_python.accounting import PaymentDelete

        self._api.delete_payment(self.client.tenant_id, payment_id, PaymentDelete(status="DELETED"))

    def allocate_credit_note(self, credit_note_id: str, invoice_id: str, amount: Amount,
                             on: date | None = None) -> None:
        from xero_python.accounting import Allocation, Allocations, Invoice

        alloc = Allocation(invoice=Invoice(invoice_id=invoice_id), amount=_dec(amount), date=on or date.today())
        self._api.create_credit_note_allocation(self.client.tenant_id, credit_note_id, Allocations(allocations=[alloc]))

    def _receive(self, kind: str, contact_id: str, on: date | None, reference: str, line: Any,
                 inclusive: bool = False, currency: str | None = None) -> Any:
        """A RECEIVE-<kind> bank transaction of one line; returns the created transaction."""
        from xero_python.accounting import (
            Account,
            BankTransaction,
            BankTransactions,
            Contact,
            CurrencyCode,
            LineAmountTypes,
        )

        tx = BankTransaction(type=f"RECEIVE-{kind}", contact=Contact(contact_id=contact_id),
                             bank_account=Account(code=self.bank_code), date=on or date.today(),
                             line_amount_types=LineAmountTypes.INCLUSIVE if inclusive else LineAmountTypes.NOTAX,
                             reference=reference, currency_code=CurrencyCode(currency) if currency else None,
                             line_items=[line])
        result = self._api.create_bank_transactions(self.client.tenant_id, BankTransactions(bank_transactions=[tx]))
        return result.bank_transactions[0]

    def _allocate(self, kind: str, source_id: str, invoice_id: str, amount: Amount, on: date | None) -> None:
        """Allocates an overpayment or prepayment (``kind``) to an invoice."""
        from xero_python.accounting import Allocation, Allocations, Invoice

        alloc = Allocation(invoice=Invoice(invoice_id=invoice_id), amount=_dec(amount), date=on or date.today())
        create = getattr(self._api, f"create_{kind}_allocations")
        create(self.client.tenant_id, source_id, Allocations(allocations=[alloc]))

    def receive_overpayment(self, contact_id: str, amount: Amount, on: date | None = None,
                            reference: str = "") -> str:
        """Money received with nothing to pay yet: a RECEIVE-OVERPAYMENT; returns the OverpaymentID."""
        from xero_python.accounting import LineItem

        tx = self._receive("OVERPAYMENT", contact_id, on, reference,
                           LineItem(description="Overpayment", line_amount=_dec(amount)))
        return str(tx.overpayment_id)

    def allocate_overpayment(self, overpayment_id: str, invoice_id: str, amount: Amount,
                             on: date | None = None) -> None:
        self._allocate("overpayment", overpayment_id, invoice_id, amount, on)

    def receive_prepayment(self, contact_id: str, amount: Amount, on: date | None = None, reference: str = "",
                           tax_type: str = "NONE", account_code: str = "200", currency: str | None = None) -> str:
        """Money received before the invoice exists: a RECEIVE-PREPAYMENT; returns the PrepaymentID.
        ``amount`` is the gross received (the line is tax inclusive)."""
        from xero_python.accounting import LineItem

        line = LineItem(description="Prepayment", line_amount=_dec(amount), tax_type=tax_type,
                        account_code=account_code)
        return str(self._receive("PREPAYMENT", contact_id, on, reference, line, inclusive=True,
                                 currency=currency).prepayment_id)

    def allocate_prepayment(self, prepayment_id: str, invoice_id: str, amount: Amount,
                            on: date | None = None) -> None:
        self._allocate("prepayment", prepayment_id, invoice_id, amount, on)

    def open_bank_account(self, code: str, name: str, number: str = "40112233445566") -> XeroBookkeeper:
        """A bank account opened in Xero (Accounting > Bank accounts); returns a bookkeeper paying into it."""
        from xero_python.accounting import Account, AccountType

        self._api.create_account(self.client.tenant_id, Account(code=code, name=name, type=AccountType.BANK,
                                                                bank_account_number=number))
        return XeroBookkeeper(self.client, bank_code=code)

    def add_contact(self, name: str, account_number: str = "", email: str = "") -> str:
        """A contact the organisation already had before KCC connected; returns the ContactID."""
        from xero_python.accounting import Contact, Contacts

        contact = Contact(name=name, account_number=account_number or None, email_address=email or None)
        result = self._api.create_contacts(self.client.tenant_id, Contacts(contacts=[contact]), summarize_errors=False)
        found = result.contacts[0]
        if found.validation_errors:
            raise ValueError(f"contact refused: {found.validation_errors}")
        return str(found.contact_id)

    def archive_contact(self, contact_id: str) -> None:
        from xero_python.accounting import Contact, Contacts

        self._api.update_contact(self.client.tenant_id, contact_id,
                                 Contacts(contacts=[Contact(contact_id=contact_id, contact_status="ARCHIVED")]))

    def add_item(self, code: str, name: str = "", price: Amount = "0", account_code: str = "200") -> str:
        from xero_python.accounting import Item, Items, Purchase

        item = Item(code=code, name=(name or code)[:50],
                    sales_details=Purchase(unit_price=_dec(price), account_code=account_code))
        result = self._api.create_items(self.client.tenant_id, Items(items=[item]))
        return str(result.items[0].item_id)


class SandboxHandle(dict[str, str]):
    """A started sandbox as tests drive it: its URLs (``handle["api_url"]``, or ``handle.urls``) plus the
    ``/_sandbox/*`` controls. Test folders subclass it for their own shorthands."""

    def __init__(self, server: SandboxServer) -> None:
        super().__init__(server.urls())
        self.server = server
        self.root = self["root"]

    @property
    def urls(self) -> dict[str, str]:
        return dict(self)

    def control(self, what: str, body: JSONObject | None = None, method: str = "POST") -> JSONValue:
        resp = requests.request(method, f"{self.root}/_sandbox/{what}",
                                json=(body or {}) if method == "POST" else None, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> JSONObject:
        stats: JSONObject = self.control("stats", method="GET")
        return stats

    def requests_to(self, method: str, path_end: str) -> int:
        """How many ``method`` requests went to an endpoint ending with ``path_end`` (case-insensitive)."""
        return sum(n for key, n in self.stats()["by_endpoint"].items()
                   if key.split(" ", 1)[0] == method and key.split(" ", 1)[1].lower().endswith(path_end.lower()))

    def faults(self, **values: JSONValue) -> JSONObject:
        config: JSONObject = self.control("faults", values)
        return config

    def reset(self, tokens: bool = True) -> None:
        """Empty books (and, with ``tokens``, no sign-ins) and no faults."""
        self.control("reset", {"tokens": tokens})
        self.control("faults", {"replace": True})

    def organisation(self, **settings: JSONValue) -> JSONObject:
        """Xero only: the organisation's settings screens (lock dates, currencies, plan), e.g.
        ``organisation(PeriodLockDate="2026-03-31", Currencies=["EUR"], Plan="STARTER")``."""
        answer: JSONObject = self.control("organisation", dict(settings))
        return answer

    def merge_contacts(self, contact_id: str, into: str) -> None:
        """Xero only: Merge, as in Xero's web app (the API cannot merge)."""
        self.control("merge-contacts", {"ContactID": contact_id, "MergedToContactID": into})
