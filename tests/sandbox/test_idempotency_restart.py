"""Idempotency keys survive a sandbox restart from its state file, as they survive a real service's own
restarts: a replay after the restart returns the first answer and creates nothing; past the replay window
(6 minutes here, see sandbox/idempotency.py) the key is forgotten, and the same request is new again."""

from __future__ import annotations

import json

import requests
from quickbooks.objects.customer import Customer
from xero_python.accounting import Contact, Contacts

from kcc_desktop.sandbox.http import Response
from kcc_desktop.sandbox.idempotency import NEW, REPLAY, IdempotencyStore
from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import sandbox_call, xero_login, xero_sdk_client
from tests.helpers.qbo_builders import start_qbo


def _contacts(name: str) -> Contacts:
    return Contacts(contacts=[Contact(name=name)])


def test_xero_replay_after_a_restart_returns_the_first_answer_and_creates_nothing(tmp_path):
    state = tmp_path / "xero.json"
    with start_sandbox("xero", state_file=state) as server:
        token = xero_login(server.urls())
        xero = xero_sdk_client(server.urls(), token)
        first = xero.accounting.create_contacts(xero.tenant_id, _contacts("Kept Key Ltd"), idempotency_key="k-1")
    saved = json.loads(state.read_text())["idempotency"]
    assert [e["key"] for e in saved] == [f"{xero.tenant_id}:k-1"]
    with start_sandbox("xero", state_file=state) as server:   # a new process would read the same file
        xero = xero_sdk_client(server.urls(), token)
        again = xero.accounting.create_contacts(xero.tenant_id, _contacts("Kept Key Ltd"), idempotency_key="k-1")
        assert again.contacts[0].contact_id == first.contacts[0].contact_id
        assert [c.name for c in xero.accounting.get_contacts(xero.tenant_id).contacts] == ["Kept Key Ltd"]
        # The same key on another request is still a conflict after the restart.
        other = requests.put(server.urls()["api_url"] + "/Contacts", json={"Name": "Someone Else"}, timeout=10,
                             headers={"Authorization": f"Bearer {token['access_token']}",
                                      "xero-tenant-id": xero.tenant_id, "Idempotency-Key": "k-1"})
        assert other.status_code == 400 and "Idempotency" in other.text
        # Past the window the key is forgotten (and dropped from the file): the request is new again.
        sandbox_call(server.urls(), "advance-clock", {"seconds": 361})
        later = xero.accounting.create_contacts(xero.tenant_id, _contacts("Kept Key Two Ltd"), idempotency_key="k-1")
        assert later.contacts[0].contact_id != first.contacts[0].contact_id
        assert len(xero.accounting.get_contacts(xero.tenant_id).contacts) == 2


def test_quickbooks_requestid_replay_after_a_restart_returns_the_first_answer(tmp_path):
    state = tmp_path / "qbo.json"
    server = start_qbo(state_file=str(state))
    tokens = qbo_login(server.urls())
    customer = Customer()
    customer.DisplayName = "Kept Request Ltd"
    first = customer.save(qb=qbo_sdk_client(server.urls(), tokens), request_id="req-kept-1")
    server.stop()
    server = start_qbo(state_file=str(state))
    try:
        qb = qbo_sdk_client(server.urls(), tokens)
        retry = Customer()
        retry.DisplayName = "Kept Request Ltd"
        again = retry.save(qb=qb, request_id="req-kept-1")
        assert again.Id == first.Id and again.SyncToken == first.SyncToken
        assert Customer.count("DisplayName = 'Kept Request Ltd'", qb=qb) == 1
    finally:
        server.stop()


def test_the_store_saves_only_keys_inside_the_window_and_loads_them_back():
    now = [1_000_000.0]
    store = IdempotencyStore(window_seconds=360, clock=lambda: now[0])
    store.store("old", "fp-old", Response(200, {"X": "1"}, b"old answer"))
    now[0] += 300
    store.store("new", "fp-new", Response(201, {"Content-Type": "application/json"}, b'{"Id": "7"}'))
    now[0] += 100   # "old" is 400 s old: past the window; "new" is 100 s old
    saved = json.loads(json.dumps(store.to_state()))   # as it goes through the state file
    assert [e["key"] for e in saved] == ["new"]
    after_restart = IdempotencyStore(window_seconds=360, clock=lambda: now[0])
    after_restart.load_state(saved)
    outcome, answer = after_restart.lookup("new", "fp-new")
    assert outcome == REPLAY and answer is not None
    assert (answer.status, answer.headers, answer.body) == (201, {"Content-Type": "application/json"}, b'{"Id": "7"}')
    now[0] += 261   # 361 s after it was first answered
    assert after_restart.lookup("new", "fp-new") == (NEW, None)
