"""Each failure kind, as QuickBooks (the sandbox) produces it, becomes the failure the app acts on."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from quickbooks import exceptions as qbx

from kcc_desktop.connectors.base import (
    ConnectionRequired,
    DocKind,
    MalformedResponse,
    RateLimited,
    Rejected,
    TransientError,
    ValidationFailed,
)
from kcc_desktop.connectors.quickbooks import QuickBooksPackage
from kcc_desktop.connectors.quickbooks.http import translate
from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
from kcc_desktop.connectors.tokens import TokenSet, TokenStore, bind
from tests.helpers.qbo_connector import (
    customer,
    invoice,
    item_in,
    key,
    make_package,
    sign_in,
)


def invoices_in_books(package: QuickBooksPackage) -> int:
    return len(package.api.query_all("Invoice", what="test"))


# --- rate limits ---------------------------------------------------------------------------------------

def test_a_429_is_waited_out_for_a_scaled_minute_and_retried(qbo_package, qbo_sandbox, vtime):
    qbo_sandbox.faults(forced_429=1)

    assert qbo_package.find_item("Services") == "1"

    assert qbo_package.pacer.throttled == 1
    assert sum(vtime.slept) >= 60          # no Retry-After from Intuit: a minute (virtual time here)
    assert qbo_sandbox.stats()["by_status"]["429"] == 1


def test_throttling_that_does_not_clear_is_rate_limited(qbo_package, qbo_sandbox):
    qbo_sandbox.faults(forced_429=10)

    with pytest.raises(RateLimited) as caught:
        qbo_package.find_item("Services")
    assert caught.value.limit == "minute"
    assert caught.value.retry_after >= 60


# --- transport ---------------------------------------------------------------------------------------

def test_server_errors_that_persist_are_transient(qbo_package, qbo_sandbox):
    qbo_sandbox.faults(error_rate=1.0)
    with pytest.raises(TransientError) as caught:
        qbo_package.find_contact("Anyone")
    assert "may or may not" in caught.value.message


def test_a_timeout_is_transient(qbo_sandbox, vtime, late_answers):
    sign_in(qbo_sandbox)
    package = make_package(qbo_sandbox, vtime, timeout=0.2)
    qbo_sandbox.faults(timeout_rate=1.0, timeout_seconds=0.5)
    answered = late_answers(qbo_sandbox, 504, 3)
    with pytest.raises(TransientError) as caught:
        package.find_item("Services")
    assert "did not answer within" in caught.value.message
    assert answered.wait(10)          # each of the three sends timed out at the sandbox too


def test_dropped_connection_then_replay_creates_nothing_twice(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    docs = [invoice("INV-D1", cust), invoice("INV-D2", cust), invoice("INV-D3", cust)]
    batch_key = key("drop")
    assert qbo_package.create_documents([invoice("INV-D0", cust)], key())[0].ok  # lookups now cached
    qbo_sandbox.faults(drop_after_commit_count=3)        # the first send and both resends

    with pytest.raises(TransientError):
        qbo_package.create_documents(docs, batch_key)
    assert invoices_in_books(qbo_package) == 4           # committed, answer lost

    results = qbo_package.create_documents(docs, batch_key)   # the next Upload Data: the same key

    assert [r.ok for r in results] == [True, True, True]
    assert [r.remote_number for r in results] == ["INV-D1", "INV-D2", "INV-D3"]
    assert invoices_in_books(qbo_package) == 4           # replayed, not re-created
    assert qbo_sandbox.stats()["faults"]["dropped"] == 3


def test_dropped_single_create_is_replayed_by_the_connector_itself(qbo_sandbox, vtime):
    sign_in(qbo_sandbox)
    package = make_package(qbo_sandbox, vtime)
    cust = customer(package)
    assert package.create_documents([invoice("INV-S0", cust)], key())[0].ok   # lookups now cached
    qbo_sandbox.faults(drop_after_commit_count=1)

    [result] = package.create_documents([invoice("INV-S1", cust)], key("single"))

    assert result.ok and result.remote_number == "INV-S1"
    assert invoices_in_books(package) == 2
    assert qbo_sandbox.count("/invoice") == 3             # INV-S0, the lost answer, then its replay


# --- refusals ----------------------------------------------------------------------------------------

def test_a_fault_inside_a_200_batch_is_that_element_failing(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    docs = [invoice("INV-F1", cust), invoice("INV-F2", "999"), invoice("INV-F3", cust)]

    results = qbo_package.create_documents(docs, key())

    assert [r.ok for r in results] == [True, False, True]
    assert any("Invalid Reference Id" in m for m in results[1].messages)
    assert results[1].remote_id == ""
    statuses = qbo_sandbox.stats()["by_status"]
    assert set(statuses) <= {"200", "302"}              # no HTTP error: the fault sat inside a 200


def test_duplicate_document_number_is_a_per_element_failure_with_qbo_words(qbo_package):
    cust = customer(qbo_package)
    assert qbo_package.create_documents([invoice("INV-DUP", cust)], key())[0].ok

    [again] = qbo_package.create_documents([invoice("INV-DUP", cust)], key())

    assert not again.ok
    assert again.messages[0].startswith("Duplicate Document Number Error")
    assert "DocNumber=INV-DUP" in again.messages[0]


def test_business_validation_error_comes_back_in_qbos_words(qbo_package):
    cust = customer(qbo_package)
    [result] = qbo_package.create_documents([invoice("INV-NOVAT", cust, tax_code="")], key())
    assert not result.ok
    assert "VAT rate" in result.messages[0]


def test_unknown_account_code_fails_the_element_before_sending(qbo_package, qbo_sandbox):
    bad = item_in("NOACC")
    bad.sales_account = "9999"
    before = qbo_sandbox.stats()["requests"]
    results = qbo_package.upsert_items([bad, item_in("GOODACC")], key())
    assert [r.ok for r in results] == [False, True]
    assert "9999" in results[0].messages[0] and "chart of accounts" in results[0].messages[0]
    assert qbo_sandbox.count("/item") == 1               # only the good one went, as a single create
    assert qbo_sandbox.stats()["requests"] > before


def test_payment_against_a_missing_invoice_is_refused_per_element(qbo_package):
    cust = customer(qbo_package)
    from tests.helpers.qbo_connector import receipt
    [result] = qbo_package.create_payments([receipt("4242", "10.00", contact_id=cust)], key())
    assert not result.ok
    assert "Invalid Reference Id" in result.messages[0]


# --- answers that make no sense ---------------------------------------------------------------------------

class _Broken(BaseHTTPRequestHandler):
    body = b"<html>Service Unavailable</html>"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST


@pytest.fixture
def broken_server():
    servers = []

    def start(body: bytes):
        handler = type("H", (_Broken,), {"body": body})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _package_on(root: str, vtime) -> QuickBooksPackage:
    settings = ConnectionSettings(provider=QUICKBOOKS, api_root=root, client_id="c", tenant_id="123")
    TokenStore().save(QUICKBOOKS, "123", bind(TokenSet("access-token-abc", "refresh-token-xyz", expires_at=4e9),
                                              settings.endpoints().audience, "123"))
    from kcc_desktop.connectors.pacing import QBO_POLICY, Pacer
    return QuickBooksPackage(settings, TokenStore(), client_secret="s",
                             pacer=Pacer(QBO_POLICY, clock=vtime, sleep=vtime.sleep))


@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b'{"QueryResponse": "nope"}',
                                  b'{"QueryResponse": {"Item": [1, 2]}}', b'{"BatchItemResponse": 7}'])
def test_malformed_answers_raise_malformed_response(broken_server, vtime, body):
    package = _package_on(broken_server(body), vtime)
    with pytest.raises(MalformedResponse):
        package.find_item("Services")
    with pytest.raises(MalformedResponse):
        package.create_documents([invoice("X1", "1"), invoice("X2", "1")], key())


# --- how SDK exceptions are read ---------------------------------------------------------------------------

@pytest.mark.parametrize("exc, status, kind", [
    (qbx.AuthorizationException("Authorization Failure", 120, "denied"), 403, ConnectionRequired),
    (qbx.QuickbooksException("A business validation error has occurred", 6000, "Business Validation Error: x"),
     400, ValidationFailed),
    (qbx.QuickbooksException("Stale Object Error", 5010, "Stale"), 400, ValidationFailed),
    (qbx.ObjectNotFoundException("Object Not Found", 610, "gone"), 400, ValidationFailed),
    (qbx.ValidationException("Invalid Reference Id", 2500, "x"), 400, ValidationFailed),
    (qbx.ValidationException("ThrottleExceeded", 3001, "x"), 200, RateLimited),
    (qbx.QuickbooksException("Error reading json response: <html>", 10000), 200, MalformedResponse),
    (qbx.QuickbooksException("Error reading json response: <html>", 10000), 404, Rejected),
    (KeyError("QueryResponse"), 200, MalformedResponse),
])
def test_sdk_failures_translate_to_connector_failures(exc, status, kind):
    failure = translate(exc, status, "the test request")
    assert type(failure) is kind
    assert "QB Exception" not in str(failure)            # plain words, not the SDK's repr


def test_validation_failure_keeps_qbos_message_and_detail():
    exc = qbx.QuickbooksException("Duplicate Name Exists Error", 6240, "The name supplied already exists.")
    failure = translate(exc, 400, "the contact upload")
    assert failure.messages == ["Duplicate Name Exists Error: The name supplied already exists."]


def test_amounts_read_back_as_decimal(qbo_package):
    cust = customer(qbo_package)
    [result] = qbo_package.create_documents([invoice("INV-DEC", cust, net="10.05")], key())
    assert result.total == Decimal("12.06") and isinstance(result.total, Decimal)
    found = qbo_package.find_document(DocKind.SALES_INVOICE, "INV-DEC")
    assert found.total == Decimal("12.06") and found.amount_due == Decimal("12.06")
    assert found.remote_id == result.remote_id and found.contact_remote_id == cust
    assert qbo_package.find_document(DocKind.SALES_INVOICE, "NOPE") is None
    assert date.today()  # (dates come back as date objects: see the payments tests)
