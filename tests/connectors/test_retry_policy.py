"""The one retry policy (connectors/transport.py), counted by the sandbox, for Xero and QuickBooks alike.

Each test injects a fault over real HTTP (POST /_sandbox/faults) and reads GET /_sandbox/stats for the
requests the package saw. The pacers wait in virtual time, so backoff and Retry-After cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import AccountingPackage, ContactIn, RateLimited, TransientError
from kcc_desktop.connectors.pacing import XERO_POLICY, Pacer
from tests.helpers.qbo_connector import customer, invoice, key, make_package, sign_in

SENDS = 3                       # the numbers transport.py's docstring promises
BACKOFF = [0.5, 1.0]


@dataclass
class Setup:
    package: AccountingPackage
    sandbox: Any
    slept: list[float]

    def requests(self) -> int:
        return int(self.sandbox.stats()["requests"])

    def write(self, name: str, idempotency_key: str) -> bool:
        """One single-element write (a contact) under ``idempotency_key``; True when it was created."""
        [result] = self.package.upsert_contacts([ContactIn(key=name, name=name)], idempotency_key)
        return result.ok

    def read(self) -> None:
        """One look-up: one GET (Xero) or one query (QuickBooks)."""
        self.package.find_item("NO-SUCH-ITEM")


@pytest.fixture(params=["xero", "quickbooks"])
def setup(request, vtime) -> Setup:
    if request.param == "xero":
        store, tokens, _ = request.getfixturevalue("connected")
        package = connect_mod.open_package(store, tokens, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
        return Setup(package, request.getfixturevalue("sandbox"), vtime.slept)
    sandbox = request.getfixturevalue("qbo_sandbox")
    sign_in(sandbox)
    package = make_package(sandbox, vtime)
    package.organisation()          # read once, so a write below is the only request it makes
    return Setup(package, sandbox, vtime.slept)


# --- transient failures --------------------------------------------------------------------------------

def test_one_transient_failure_costs_one_more_send_under_the_same_key(setup):
    setup.sandbox.faults(drop_after_commit_count=1)   # saved, then the answer is lost
    before = setup.requests()

    assert setup.write("Dropped Once Ltd", "drop-once")

    assert setup.requests() - before == 2
    assert setup.slept == BACKOFF[:1]
    assert setup.package.find_contact("Dropped Once Ltd")   # and it exists once: the key replayed it
    assert setup.sandbox.stats()["faults"]["dropped"] == 1


def test_a_transient_failure_that_persists_is_sent_three_times_then_raised(setup):
    setup.sandbox.faults(error_rate=1.0)
    before = setup.requests()

    with pytest.raises(TransientError):
        setup.read()

    assert setup.requests() - before == SENDS
    assert setup.slept == BACKOFF


def test_a_write_without_an_idempotency_key_is_sent_once(connected, sandbox, vtime):
    # (QuickBooks writes always carry a requestid: this can only happen with Xero.)
    store, tokens, _ = connected
    package = connect_mod.open_package(store, tokens, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.faults(error_rate=1.0)
    before = sandbox.stats()["requests"]

    with pytest.raises(TransientError):
        package.upsert_contacts([ContactIn("k", "Unkeyed Ltd")], "")

    assert sandbox.stats()["requests"] - before == 1
    assert vtime.slept == []


# --- 429 -----------------------------------------------------------------------------------------------

def test_one_429_is_waited_out_then_sent_again(setup):
    setup.sandbox.faults(forced_429=1)
    before = setup.requests()

    setup.read()

    assert setup.requests() - before == 2
    assert setup.slept == [60]                 # Xero's Retry-After; QuickBooks gives none: a window
    assert setup.sandbox.stats()["by_status"]["429"] == 1


def test_a_429_that_persists_is_sent_three_times_then_rate_limited(setup):
    setup.sandbox.faults(forced_429=10)
    before = setup.requests()

    with pytest.raises(RateLimited) as caught:
        setup.read()

    assert setup.requests() - before == SENDS
    assert caught.value.limit == "minute" and "Wait, then try again" in str(caught.value)
    assert setup.slept == [60, 60]


def test_the_daily_limit_is_one_send_and_no_more_until_it_resets(connected, sandbox, vtime):
    store, tokens, _ = connected
    package = connect_mod.open_package(store, tokens, pacer=Pacer(XERO_POLICY, clock=vtime, sleep=vtime.sleep))
    sandbox.control("limits", {"day": 1})
    package.fetch_tax_rates()                  # the day's one call
    before = sandbox.stats()["requests"]

    with pytest.raises(RateLimited) as caught:
        package.fetch_accounts()
    with pytest.raises(RateLimited):
        package.upsert_contacts([ContactIn("k", "Tomorrow Ltd")], key())

    assert sandbox.stats()["requests"] - before == 1
    assert caught.value.limit == "day" and "uploads resume at" in str(caught.value)
    assert vtime.slept == []


def test_a_qbo_batch_under_a_persisting_failure_is_three_requests(qbo_sandbox, vtime):
    sign_in(qbo_sandbox)
    package = make_package(qbo_sandbox, vtime)
    cust = customer(package)
    assert package.create_documents([invoice("INV-P0", cust)], key())[0].ok   # look-ups now cached
    qbo_sandbox.faults(error_rate=1.0)
    before = qbo_sandbox.count("/batch")

    with pytest.raises(TransientError):
        package.create_documents([invoice("INV-P1", cust), invoice("INV-P2", cust)], key())

    assert qbo_sandbox.count("/batch") - before == SENDS
