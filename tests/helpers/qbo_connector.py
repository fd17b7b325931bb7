"""Shared pieces for the QuickBooks connector tests: a sandbox handle with a clock the tests move, a
package connected to it, a bookkeeper's own SDK client (to do what a person would do in QBO), a virtual
clock for pacing, and ledger-side values to send. The fixtures built on them are in
``qbo_connector_fixtures``.

Everything talks real HTTP to the sandbox; nothing of the SDK or the connector is replaced.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, ItemIn, LineIn, PaymentIn
from kcc_desktop.connectors.pacing import QBO_POLICY, Pacer
from kcc_desktop.connectors.quickbooks import QuickBooksPackage
from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
from kcc_desktop.connectors.tokens import TokenSet, TokenStore, bind
from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
from kcc_desktop.sandbox.testing import SandboxHandle

CLIENT_ID = "test"
CLIENT_SECRET = "test"
BANK_ID = "8"            # seed: Business Bank Account, AcctNum 1200
SALES_CODE = "4000"
SERVICES_CODE = "4010"   # seed item "Services" posts here: account-only sales lines go through it
PURCHASES_CODE = "5010"
VAT20 = "1"              # seed TaxCode "20.0% S"


class VirtualTime:
    """A monotonic clock whose sleeps only move it forward: pacing waits cost no real time."""

    def __init__(self) -> None:
        self.t = 10_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class SandboxClock:
    """The sandbox's idea of now, moved by tests (token expiry, watermarks) without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class QboClockedSandbox(SandboxHandle):
    def __init__(self, server, clock: SandboxClock) -> None:
        super().__init__(server)
        self.clock = clock

    def count(self, fragment: str, method: str = "POST") -> int:
        """Requests whose endpoint pattern ends with ``fragment`` (e.g. "/batch", "/invoice")."""
        return sum(n for k, n in self.stats()["by_endpoint"].items()
                   if k.startswith(method + " ") and k.endswith(fragment))   # case-sensitive: QBO paths

    def api_requests(self) -> int:
        """Calls to the accounting API only (sign-ins and discovery left out)."""
        return sum(n for k, n in self.stats()["by_endpoint"].items() if k.split(" ", 1)[1].startswith("/v3/"))

    def bookkeeper(self):
        """A python-quickbooks client of a person working in the company (their own sign-in)."""
        return qbo_sdk_client(self.urls, qbo_login(self.urls))


def settings_for(sandbox: QboClockedSandbox) -> ConnectionSettings:
    return ConnectionSettings(provider=QUICKBOOKS, api_root=sandbox.root, client_id=CLIENT_ID,
                              tenant_id=sandbox.urls["realm_id"])


def sign_in(sandbox: QboClockedSandbox, store: TokenStore | None = None) -> TokenSet:
    """Log in as the user would and keep the tokens in the (test) keyring."""
    data = qbo_login(sandbox.urls, CLIENT_ID, CLIENT_SECRET)
    # Bound to the sandbox and company, as Connect saves them: a package elsewhere may not use them.
    tokens = bind(TokenSet.from_response(data), settings_for(sandbox).endpoints().audience, data["realm_id"])
    (store or TokenStore()).save(QUICKBOOKS, data["realm_id"], tokens)
    return tokens


def make_package(sandbox: QboClockedSandbox, vtime: VirtualTime, **options) -> QuickBooksPackage:
    """A package on the sandbox whose pacer waits in virtual time (backoff and 429 waits cost nothing)."""
    pacer = options.pop("pacer", None) or Pacer(QBO_POLICY, clock=vtime, sleep=vtime.sleep)
    return QuickBooksPackage(settings_for(sandbox), TokenStore(), client_secret=CLIENT_SECRET, pacer=pacer,
                             **options)


# --- ledger-side values -----------------------------------------------------------------------------------

_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


def customer(package: QuickBooksPackage, name: str = "Acme Garden Supplies") -> str:
    [result] = package.upsert_contacts([ContactIn(key("c"), name)], key())
    assert result.ok, result.messages
    return result.remote_id


def vendor(package: QuickBooksPackage, name: str = "Timber Direct") -> str:
    [result] = package.upsert_contacts([ContactIn(key("v"), name, is_customer=False, is_supplier=True)], key())
    assert result.ok, result.messages
    return result.remote_id


def invoice(number: str, contact_id: str, net: str = "100.00", kind: DocKind = DocKind.SALES_INVOICE,
            tax_code: str = VAT20, day: date = date(2026, 1, 5)) -> DocumentIn:
    amount = Decimal(net)
    account = SERVICES_CODE if kind in (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT) else PURCHASES_CODE
    return DocumentIn(key("d"), kind, number, contact_id, "", day, day + timedelta(days=30), "GBP",
                      [LineIn("Garden bench", Decimal("1"), amount, account, tax_code, line_amount=amount,
                              tax_amount=(amount * Decimal("0.2")).quantize(Decimal("0.01")))])


def item_in(code: str = "BENCH-01") -> ItemIn:
    return ItemIn(key("i"), code, "Garden bench", Decimal("120.00"), Decimal("55.50"), SALES_CODE, PURCHASES_CODE)


def receipt(doc_id: str, amount: str, contact_id: str = "", kind: DocKind = DocKind.SALES_INVOICE) -> PaymentIn:
    return PaymentIn(key("p"), kind, doc_id, Decimal(amount), date(2026, 1, 20), "", bank_account_id=BANK_ID,
                     contact_remote_id=contact_id, reference="BACS")
