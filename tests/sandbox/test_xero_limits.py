"""Rate limits, idempotency keys and injected faults, seen through xero-python and raw HTTP."""

from __future__ import annotations

import threading

import pytest
import requests
from xero_python.accounting import Contact, Contacts
from xero_python.exceptions import HTTPStatusException, RateLimitException

from kcc_desktop.sandbox.testing import sandbox_call
from tests.helpers.xero_builders import contact, invoice, line


def _headers(xero, **extra):
    return {"Authorization": f"Bearer {xero.token['access_token']}", "xero-tenant-id": xero.tenant_id, **extra}


def test_limit_headers_on_every_api_response(xero, xero_urls):
    r1 = requests.get(xero_urls["api_url"] + "/Organisation", headers=_headers(xero))
    r2 = requests.get(xero_urls["api_url"] + "/Organisation", headers=_headers(xero))
    assert int(r1.headers["X-MinLimit-Remaining"]) - 1 == int(r2.headers["X-MinLimit-Remaining"])
    assert int(r2.headers["X-DayLimit-Remaining"]) < 5000 and int(r2.headers["X-AppMinLimit-Remaining"]) < 10000


def test_minute_limit_gives_429_with_retry_after(xero, xero_urls):
    sandbox_call(xero_urls, "limits", {"minute": 3})
    for _ in range(3):
        xero.accounting.get_organisations(xero.tenant_id)
    with pytest.raises(RateLimitException) as exc:
        xero.accounting.get_organisations(xero.tenant_id)
    assert exc.value.rate_limit == "minute"
    assert 1 <= int(exc.value.headers["Retry-After"]) <= 60
    assert exc.value.headers["X-MinLimit-Remaining"] == "0"
    stats = sandbox_call(xero_urls, "stats", method="GET")
    assert stats["rate_limited"] == 1 and stats["by_status"]["429"] == 1


def test_day_limit_reported_as_day(xero, xero_urls):
    sandbox_call(xero_urls, "limits", {"day": 2, "minute": 60})
    xero.accounting.get_organisations(xero.tenant_id)
    xero.accounting.get_organisations(xero.tenant_id)
    resp = requests.get(xero_urls["api_url"] + "/Organisation", headers=_headers(xero))
    assert resp.status_code == 429 and resp.headers["X-Rate-Limit-Problem"] == "day"
    assert resp.headers["X-DayLimit-Remaining"] == "0"


def test_concurrent_limit(xero, xero_urls):
    sandbox_call(xero_urls, "limits", {"concurrent": 1})
    sandbox_call(xero_urls, "faults", {"latency": 0.3})
    results = []
    start = threading.Barrier(3)        # the three requests leave together; each is held 0.3 s inside

    def call():
        start.wait(10)
        results.append(requests.get(xero_urls["api_url"] + "/Organisation", headers=_headers(xero)))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 429, 429]
    assert {r.headers.get("X-Rate-Limit-Problem") for r in results if r.status_code == 429} == {"concurrent"}


def test_forced_429_then_normal(xero, xero_urls):
    sandbox_call(xero_urls, "faults", {"forced_429": 1})
    with pytest.raises(RateLimitException) as exc:
        xero.accounting.get_organisations(xero.tenant_id)
    assert exc.value.headers["Retry-After"] == "60" and "X-DayLimit-Remaining" in exc.value.headers
    assert xero.accounting.get_organisations(xero.tenant_id).organisations


def test_error_rate_gives_500_or_503_and_changes_nothing(xero, xero_urls):
    sandbox_call(xero_urls, "faults", {"error_rate": 1.0, "seed": 7})
    with pytest.raises(HTTPStatusException) as exc:
        xero.accounting.create_contacts(xero.tenant_id, Contacts(contacts=[Contact(name="Never")]))
    assert exc.value.status in (500, 503)
    sandbox_call(xero_urls, "faults", {"replace": True})
    assert xero.accounting.get_contacts(xero.tenant_id).contacts == []


def test_timeout_fault_outlasts_client_timeout(xero, xero_urls):
    sandbox_call(xero_urls, "faults", {"timeout_rate": 1.0, "timeout_seconds": 0.5})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(xero_urls["api_url"] + "/Organisation", headers=_headers(xero), timeout=0.1)


def test_idempotent_replay_and_conflict(xero, xero_urls):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    from xero_python.accounting import Invoices

    first = api.create_invoices(tid, Invoices(invoices=[invoice(cid, reference="A")]), idempotency_key="key-1")
    again = api.create_invoices(tid, Invoices(invoices=[invoice(cid, reference="A")]), idempotency_key="key-1")
    assert first.invoices[0].invoice_id == again.invoices[0].invoice_id
    assert len(api.get_invoices(tid).invoices) == 1
    resp = requests.put(xero_urls["api_url"] + "/Invoices", headers=_headers(xero, **{"Idempotency-Key": "key-1"}),
                        json={"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": cid}, "Reference": "B"}]})
    assert resp.status_code == 400 and "Idempotency" in resp.text
    long_key = requests.put(xero_urls["api_url"] + "/Contacts", json={"Name": "X"},
                            headers=_headers(xero, **{"Idempotency-Key": "k" * 129}))
    assert long_key.status_code == 400


def test_dropped_after_commit_then_idempotent_retry(xero, xero_urls):
    sandbox_call(xero_urls, "faults", {"drop_after_commit_count": 1})
    body = {"Contacts": [{"Name": "Dropped Ltd"}]}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(xero_urls["api_url"] + "/Contacts", json=body, headers=_headers(xero, **{"Idempotency-Key": "d1"}))
    names = [c.name for c in xero.accounting.get_contacts(xero.tenant_id).contacts]
    assert names == ["Dropped Ltd"]  # committed although the client never heard back
    retry = requests.put(xero_urls["api_url"] + "/Contacts", json=body,
                         headers=_headers(xero, **{"Idempotency-Key": "d1"}))
    assert retry.status_code == 200 and retry.json()["Contacts"][0]["Name"] == "Dropped Ltd"
    assert len(xero.accounting.get_contacts(xero.tenant_id).contacts) == 1
    assert sandbox_call(xero_urls, "stats", method="GET")["faults"]["dropped"] == 1


def test_sdk_default_retries_turn_a_dropped_put_into_a_duplicate_unless_keyed(xero_urls):
    """xero-python's urllib3 pool silently retries a PUT whose connection dropped: without an
    Idempotency-Key the sandbox, like Xero, then holds two bills; with one, the retry is a replay."""
    from xero_python.accounting import Invoices

    from kcc_desktop.sandbox.testing import XeroClient, xero_login

    sdk = XeroClient(xero_urls, xero_login(xero_urls), retries=None)  # the SDK's own default behaviour
    cid = contact(sdk)

    def bill():
        return Invoices(invoices=[invoice(cid, type_="ACCPAY", lines=[line(account="300", tax="INPUT2")])])

    sandbox_call(xero_urls, "faults", {"drop_after_commit_count": 1})
    sdk.accounting.create_invoices(sdk.tenant_id, bill())  # no error reaches the caller
    assert len(sdk.accounting.get_invoices(sdk.tenant_id).invoices) == 2
    sandbox_call(xero_urls, "faults", {"drop_after_commit_count": 1})
    keyed = sdk.accounting.create_invoices(sdk.tenant_id, bill(), idempotency_key="bill-3")
    stored = sdk.accounting.get_invoices(sdk.tenant_id).invoices
    assert len(stored) == 3 and keyed.invoices[0].invoice_id in {i.invoice_id for i in stored}
