"""requestid replay, rate limits (429 + fault 3001), injected faults and a restart with a state file."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from quickbooks.exceptions import QuickbooksException, SevereException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from kcc_desktop.sandbox.qbo_testing import auth_client, qbo_login, qbo_sdk_client
from tests.helpers.qbo_builders import ZERO_RATED, make_customer, make_invoice, sales_line, start_qbo


def _customer(name: str) -> Customer:
    c = Customer()
    c.DisplayName = name
    return c


def test_requestid_replays_the_first_answer_whatever_the_body(qb):
    first = _customer("Replay Ltd").save(qb=qb, request_id="req-0001")
    again = _customer("Replay Ltd").save(qb=qb, request_id="req-0001")
    other_body = _customer("Something Else").save(qb=qb, request_id="req-0001")
    assert first.Id == again.Id == other_body.Id and other_body.DisplayName == "Replay Ltd"
    assert Customer.count("DisplayName IN ('Replay Ltd', 'Something Else')", qb=qb) == 1
    # A fault is an answer too: replayed, not re-run.
    with pytest.raises(QuickbooksException) as err:
        _customer("Replay Ltd").save(qb=qb, request_id="req-0002")
    assert err.value.error_code == 6240
    with pytest.raises(QuickbooksException):
        _customer("Now Unique").save(qb=qb, request_id="req-0002")


def test_requestid_longer_than_50_is_refused(qb):
    with pytest.raises(ValidationException):
        _customer("Long Id Ltd").save(qb=qb, request_id="x" * 51)


def test_requestid_on_a_batch(qb, qbo_urls, qbo_tokens):
    url = f"{qb.api_url}/company/{qb.company_id}/batch"
    body = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Replay"}}]}
    a = qb.make_request("POST", url, json.dumps(body), request_id="batch-1")
    b = qb.make_request("POST", url, json.dumps(body), request_id="batch-1")
    assert a["BatchItemResponse"] == b["BatchItemResponse"]
    assert Customer.count("DisplayName = 'Batch Replay'", qb=qb) == 1


def test_dropped_answer_after_commit_then_retry_with_same_requestid(qbo_server, qb, qbo_urls):
    c = make_customer(qb, "Dropped Ltd")
    requests.post(qbo_urls["root"] + "/_sandbox/faults", json={"drop_after_commit_count": 1}, timeout=5)
    inv = Invoice()
    inv.CustomerRef = c.to_ref()
    inv.Line = [sales_line(1, "42.00", ZERO_RATED)]
    with pytest.raises(requests.ConnectionError):
        inv.save(qb=qb, request_id="inv-retry-1")
    saved = inv.save(qb=qb, request_id="inv-retry-1")  # the retry gets the committed invoice back
    assert Invoice.count(qb=qb) == 1 and saved.Id == Invoice.all(qb=qb)[0].Id
    assert requests.get(qbo_urls["root"] + "/_sandbox/stats", timeout=5).json()["faults"]["dropped"] == 1


def test_minute_limit_gives_429_and_3001():
    server = start_qbo(limits={"minute": 3})
    try:
        urls = server.urls()
        qb = qbo_sdk_client(urls, qbo_login(urls))  # OAuth calls are not API calls: not counted
        for _ in range(3):
            Customer.get("1", qb=qb)
        with pytest.raises(ValidationException) as err:
            Customer.get("1", qb=qb)
        assert err.value.error_code == 3001 and "ThrottleExceeded" in err.value.message
        # The window is per realm and slides: move the limiter's clock a (scaled) minute on.
        t = server.provider.limiter.clock()
        server.provider.limiter.clock = lambda: t + 60.01
        assert Customer.get("1", qb=qb).Id == "1"
    finally:
        server.stop()


def test_time_scale_shrinks_the_window():
    server = start_qbo(limits={"minute": 1}, time_scale=0.01)
    try:
        urls = server.urls()
        tokens = qbo_login(urls)
        headers = {"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"}
        url = f"{urls['api_url']}/company/{tokens['realm_id']}/companyinfo/1"
        assert requests.get(url, headers=headers, timeout=5).status_code == 200
        r = requests.get(url, headers=headers, timeout=5)
        assert r.status_code == 429 and r.json()["Fault"]["Error"][0]["code"] == "3001"
        t = server.provider.limiter.clock()
        server.provider.limiter.clock = lambda: t + 0.61  # 60 s x 0.01
        assert requests.get(url, headers=headers, timeout=5).status_code == 200
    finally:
        server.stop()


def test_batch_requests_have_their_own_minute_limit():
    server = start_qbo(batch_per_minute=2)
    try:
        urls = server.urls()
        qb = qbo_sdk_client(urls, qbo_login(urls))
        body = json.dumps({"BatchItemRequest": [{"bId": "q", "Query": "select * from TaxCode"}]})
        qb.batch_operation(body)
        qb.batch_operation(body)
        with pytest.raises(ValidationException) as err:
            qb.batch_operation(body)
        assert err.value.error_code == 3001
        assert Customer.get("1", qb=qb).Id == "1"  # plain calls still pass
    finally:
        server.stop()


def test_a_time_scale_set_later_shortens_the_batch_window_too():
    # Benchmarks scale a running sandbox (POST /_sandbox/limits {"time_scale": ...}) and pace on that clock:
    # the batch window must follow, or a client keeping to the scaled 40 a "minute" is refused for a minute.
    server = start_qbo(batch_per_minute=1)
    try:
        urls = server.urls()
        assert requests.post(urls["root"] + "/_sandbox/limits", json={"time_scale": 0.01}, timeout=5).ok
        qb = qbo_sdk_client(urls, qbo_login(urls))
        body = json.dumps({"BatchItemRequest": [{"bId": "q", "Query": "select * from TaxCode"}]})
        qb.batch_operation(body)
        with pytest.raises(ValidationException) as err:
            qb.batch_operation(body)
        assert err.value.error_code == 3001
        limiter = server.provider.batch_limiter
        t = limiter.clock()
        limiter.clock = lambda: t + 0.61  # 60 s x 0.01
        qb.batch_operation(body)
    finally:
        server.stop()


def test_too_many_in_flight_is_429():
    server = start_qbo(limits={"concurrent": 2}, faults={"latency": 0.3})
    try:
        urls = server.urls()
        tokens = qbo_login(urls)
        headers = {"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"}
        url = f"{urls['api_url']}/company/{tokens['realm_id']}/companyinfo/1"
        barrier, codes = threading.Barrier(4), []

        def call():
            barrier.wait()
            codes.append(requests.get(url, headers=headers, timeout=5).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(codes) == [200, 200, 429, 429]
    finally:
        server.stop()


def test_forced_429_and_server_errors(qbo_server, qb, qbo_urls):
    requests.post(qbo_urls["root"] + "/_sandbox/faults", json={"forced_429": 1}, timeout=5)
    with pytest.raises(ValidationException) as err:
        Customer.get("1", qb=qb)
    assert err.value.error_code == 3001
    assert Customer.get("1", qb=qb).Id == "1"
    requests.post(qbo_urls["root"] + "/_sandbox/faults", json={"error_rate": 1.0}, timeout=5)
    with pytest.raises(SevereException):
        make_customer(qb, "Never Saved")
    requests.post(qbo_urls["root"] + "/_sandbox/faults", json={"replace": True}, timeout=5)
    assert Customer.count("DisplayName = 'Never Saved'", qb=qb) == 0


def test_books_and_tokens_survive_a_restart(tmp_path):
    state = tmp_path / "qbo.json"
    server = start_qbo(state_file=str(state))
    urls = server.urls()
    tokens = qbo_login(urls)
    qb = qbo_sdk_client(urls, tokens)
    c = make_customer(qb, "Persistent Ltd")
    inv = make_invoice(qb, c, [sales_line(2, "9.99", ZERO_RATED)])
    server.stop()

    server = start_qbo(state_file=str(state))
    try:
        urls = server.urls()
        qb = qbo_sdk_client(urls, tokens)
        got = Invoice.get(inv.Id, qb=qb)
        assert str(got.TotalAmt) == "19.98" and got.CustomerRef.value == c.Id
        again = make_customer(qb, "After Restart Ltd")
        assert int(again.Id) > int(c.Id)  # Id sequences continue
        auth_client(urls).refresh(refresh_token=tokens["refresh_token"])  # the connection survived too
        requests.post(urls["root"] + "/_sandbox/reset", json={}, timeout=5)
        assert Customer.count(qb=qb) == 1  # back to the seed company; still signed in
    finally:
        server.stop()
