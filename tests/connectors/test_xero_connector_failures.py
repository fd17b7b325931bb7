"""Every failure kind the Xero connector raises, provoked over real HTTP.

The sandbox plays validation, limits, revocation, 5xx, timeouts and dropped connections. Two answers
it has no switch for (a 400 listing several elements' errors, and a 200 of the wrong shape) come
from a tiny scripted HTTP server in this file: the SDK and connector still run unmodified.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import (
    ConnectionRequired,
    ContactIn,
    DocKind,
    MalformedResponse,
    RateLimited,
    Rejected,
    TransientError,
    ValidationFailed,
)
from kcc_desktop.connectors.pacing import XERO_POLICY, Pacer
from kcc_desktop.connectors.settings import load_connection, sandbox_endpoints
from kcc_desktop.connectors.transport import RetryPolicy
from kcc_desktop.connectors.xero import XeroPackage

SCALE = 1 / 60


def reopen(connected, **options):
    store, tokens, _ = connected
    return connect_mod.open_package(store, tokens, **options)


def contacts(prefix, n=3):
    return [ContactIn(key=f"{prefix}{i}", name=f"{prefix} Customer {i}") for i in range(n)]


# --- validation -----------------------------------------------------------------------------------------

def test_same_idempotency_key_on_another_request_is_a_validation_failure(package):
    made = package.upsert_contacts(contacts("A"), "key-1")
    assert made and all(r.ok for r in made)
    with pytest.raises(ValidationFailed) as err:
        package.upsert_contacts(contacts("B"), "key-1")
    assert "Idempotency-Key has already been used" in err.value.messages[0]
    assert "Correct the details" in str(err.value)


def test_a_bad_where_clause_is_refused_with_xeros_words(package):
    with pytest.raises(ValidationFailed) as err:
        package._call("search", package.api.get_contacts, where='Name=="unterminated')
    assert err.value.messages and "where" in err.value.messages[0].lower()


# --- limits ---------------------------------------------------------------------------------------------

def test_a_429_is_waited_out_and_retried(scaled):
    sb, store, tokens = scaled
    package = connect_mod.open_package(store, tokens, time_scale=SCALE)
    sb.faults(forced_429=1)                                  # Retry-After: 1 s on this time scale
    assert package.fetch_tax_rates()
    assert sb.stats()["by_status"]["429"] == 1
    assert package.pacer.throttled == 1 and 0.9 <= package.pacer.waited <= 3


def test_a_retry_after_beyond_the_cap_is_not_waited_out(connected, sandbox):
    pkg = reopen(connected)
    sandbox.control("limits", {"time_scale": 3})            # a "minute" of three: Retry-After 180 s
    sandbox.faults(forced_429=1)
    before = sandbox.stats()["requests"]
    with pytest.raises(RateLimited) as err:
        pkg.fetch_accounts()
    assert err.value.limit == "minute" and err.value.retry_after == 180
    assert "Wait, then try again" in str(err.value)
    assert sandbox.stats()["requests"] == before + 1       # one send, and no waiting
    assert pkg.pacer.waited == 0


def test_the_daily_limit_says_when_uploads_resume(connected, sandbox):
    pkg = reopen(connected)
    sandbox.control("limits", {"day": 2})
    pkg.fetch_accounts()
    pkg.fetch_tax_rates()
    with pytest.raises(RateLimited) as err:
        pkg.upsert_contacts(contacts("Day"), "day-1")
    e = err.value
    assert e.limit == "day" and e.resumes_at is not None and e.resumes_at.tzinfo is not None
    assert re.fullmatch(r"Xero's daily limit is reached; uploads resume at \d\d:\d\d\.", str(e))
    before = sandbox.stats()["requests"]
    with pytest.raises(RateLimited):            # no more calls go out until then
        pkg.fetch_accounts()
    assert sandbox.stats()["requests"] == before


# --- connection -----------------------------------------------------------------------------------------

def test_an_organisation_no_longer_connected_is_connection_required(connected, sandbox):
    _store, tokens, settings = connected
    other = replace(settings, tenant_id="00000000-0000-0000-0000-000000000000")
    from kcc_desktop.connectors import oauth
    from kcc_desktop.connectors.tokens import TokenManager, bind
    ep = other.endpoints()
    # Filed as if made for that organisation (a sign-in bound to another is refused before it is sent), so
    # the call goes out and Xero answers that the organisation is not connected.
    tokens.save("xero", other.tenant_id, bind(tokens.load("xero", settings.tenant_id), ep.audience, other.tenant_id))
    manager = TokenManager(tokens, "xero", other.tenant_id, oauth.refresher(ep.token_url, other.client_id))
    pkg = XeroPackage(other, manager)
    with pytest.raises(ConnectionRequired, match="HTTP 403"):
        pkg.fetch_accounts()


# --- transient ------------------------------------------------------------------------------------------

def test_server_errors_that_persist_are_transient(connected, sandbox, vtime):
    pkg = reopen(connected, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.faults(error_rate=1.0)
    with pytest.raises(TransientError) as err:
        pkg.fetch_accounts()
    assert re.search(r"HTTP 50[03]", str(err.value)) and "Try again" in str(err.value)


def test_a_timeout_is_transient(connected, sandbox, vtime, late_answers):
    pkg = reopen(connected, timeout=0.3, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.faults(timeout_rate=1.0, timeout_seconds=1.0)
    answered = late_answers(sandbox, 504, 3)
    with pytest.raises(TransientError, match="timed out"):
        pkg.fetch_accounts()
    assert answered.wait(10)          # each of the three sends timed out at the sandbox too


def test_a_slow_drip_answer_is_abandoned_at_the_deadline(connected, sandbox, vtime):
    """Every send has an overall deadline: an answer that drips a byte at a time never trips the socket's read
    timeout, yet each send is given up after ``deadline`` and the request fails as transient (issue 15)."""
    pkg = reopen(connected, timeout=0.5, retry=RetryPolicy(deadline=1.0),
                 pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.faults(drip_rate=1.0, drip_seconds=0.05)
    with pytest.raises(TransientError, match=r"timed out \(DeadlineExceeded\)"):
        pkg.find_item("NO-SUCH-ITEM")
    assert sandbox.stats()["faults"]["dripped"] == 3      # three sends, each abandoned at its deadline


def test_a_dropped_connection_after_commit_is_retried_under_the_same_key(package, sandbox):
    sandbox.faults(drop_after_commit_count=1)
    results = package.upsert_contacts(contacts("Drop", 5), "drop-1")
    assert len(results) == 5 and all(r.ok for r in results)
    assert sandbox.stats()["faults"]["dropped"] == 1
    assert sandbox.count("PUT /Contacts") == 2                  # sent twice ...
    for r in results:                                           # ... created once
        assert package.find_contact(f"Drop Customer {r.key[-1]}") == r.remote_id


def test_a_drop_on_every_send_is_transient_and_the_next_run_creates_nothing_twice(connected, sandbox, vtime):
    pkg = reopen(connected, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.faults(drop_after_commit_count=3)                     # the first send and both resends
    with pytest.raises(TransientError, match="connection to Xero failed"):
        pkg.upsert_contacts(contacts("Lost", 2), "lost-1")
    again = pkg.upsert_contacts(contacts("Lost", 2), "lost-1")     # the next Upload Data: same key
    assert len(again) == 2 and all(r.ok for r in again)
    rows = pkg._call("list", pkg.api.get_contacts, where='Name.StartsWith("Lost")').contacts
    assert sorted(c.name for c in rows) == ["Lost Customer 0", "Lost Customer 1"]


# --- rejected and malformed -----------------------------------------------------------------------------

def test_other_4xx_is_rejected(connected, sandbox):
    _store, tokens, settings = connected
    ep = replace(sandbox_endpoints("xero", sandbox.root), api_url=sandbox.root + "/api.xro/9.9")
    from kcc_desktop.connectors import oauth
    from kcc_desktop.connectors.tokens import TokenManager
    pkg = XeroPackage(settings, TokenManager(tokens, "xero", settings.tenant_id,
                                             oauth.refresher(ep.token_url, settings.client_id)), endpoints=ep)
    with pytest.raises(Rejected, match="HTTP 404") as err:
        pkg.fetch_accounts()
    assert not isinstance(err.value, (MalformedResponse, TransientError))


class Scripted:
    """A loopback server answering every API call with one canned (status, body)."""

    def __init__(self, status: int, body: str) -> None:
        outer = self
        self.status, self.body = status, body

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                data = outer.body.encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def package(self, connected) -> XeroPackage:
        _store, tokens, settings = connected
        ep = replace(sandbox_endpoints("xero", self.root), token_url=settings.endpoints().token_url)
        from kcc_desktop.connectors import oauth
        from kcc_desktop.connectors.tokens import TokenManager
        return XeroPackage(settings, TokenManager(tokens, "xero", settings.tenant_id,
                                                  oauth.refresher(ep.token_url, settings.client_id)), endpoints=ep)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(status, body):
        s = Scripted(status, body if isinstance(body, str) else json.dumps(body))
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.stop()


def test_a_400_lists_every_elements_messages(connected, scripted):
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
            "Elements": [{"Name": "A", "ValidationErrors": [{"Message": "Email address must be valid."}]},
                         {"Name": "B", "ValidationErrors": [{"Message": "The contact name must be specified."},
                                                            {"Message": "Account number is too long."}]}]}
    pkg = scripted(400, body).package(connected)
    with pytest.raises(ValidationFailed) as err:
        pkg.upsert_contacts(contacts("V", 2), "v-1")
    assert err.value.messages == ["Email address must be valid.", "The contact name must be specified.",
                                  "Account number is too long."]


@pytest.mark.parametrize("body", [
    "<html>Service moved</html>",                      # not JSON at all
    {"Organisations": "not a list"},                   # wrong type inside
    {"Organisations": []},                             # nothing where one is documented
])
def test_wrong_shaped_answers_are_malformed_never_a_crash(connected, scripted, body):
    pkg = scripted(200, body).package(connected)
    with pytest.raises(MalformedResponse, match=r"unexpected shape|no organisation"):
        pkg.organisation()


def test_a_batch_answer_with_the_wrong_count_is_malformed(connected, scripted):
    pkg = scripted(200, {"Contacts": [{"ContactID": "x", "Name": "only one"}]}).package(connected)
    with pytest.raises(MalformedResponse, match="1 results for 3"):
        pkg.upsert_contacts(contacts("M"), "m-1")
    pkg = scripted(200, {"Invoices": [{"InvoiceID": "x", "Type": "NOT-A-TYPE", "Total": 1}]}).package(connected)
    with pytest.raises(MalformedResponse):
        pkg.find_document(DocKind.SALES_INVOICE, "INV-1")


def test_production_document_links_use_go_xero(connected, monkeypatch):
    store, _tokens, _ = connected
    monkeypatch.delenv("KCC_XERO_URL")
    settings = load_connection(store)
    pkg = XeroPackage(settings, None)   # no call is made: only the address is built
    assert pkg.document_url(DocKind.SALES_INVOICE, "abc") == "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=abc"
    assert pkg.document_url(DocKind.PURCHASE_INVOICE, "abc") == "https://go.xero.com/AccountsPayable/View.aspx?InvoiceID=abc"
