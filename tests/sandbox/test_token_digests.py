"""The sandboxes keep only digests of the tokens they issue: the --state file (in the user's data folder
in demo mode) never holds a usable token, yet a login still survives a restart."""

from __future__ import annotations

import json

import requests
from quickbooks.objects.company_info import CompanyInfo

from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_refresh, qbo_sdk_client
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.state import token_digest
from kcc_desktop.sandbox.testing import sdk_token, xero_login, xero_sdk_client

from .qbo_fixtures import start_qbo


def _xero_refresh(urls, refresh_token):
    return requests.post(urls["token_url"], data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                   "client_id": "kcc"}, timeout=10)


def _assert_no_values(saved: bytes, *tokens: dict) -> None:
    for tok in tokens:
        for name in ("access_token", "refresh_token"):
            assert tok[name].encode() not in saved, f"{name} on disk"


def test_xero_state_file_holds_digests_not_tokens(tmp_path):
    state = tmp_path / "xero.json"
    with start_sandbox("xero", state_file=state) as server:
        urls = server.urls()
        first = xero_login(urls)
        second = _xero_refresh(urls, first["refresh_token"]).json()
        assert _xero_refresh(urls, first["refresh_token"]).json()["access_token"] == second["access_token"]
    saved = state.read_bytes()
    _assert_no_values(saved, first, second)
    assert token_digest(second["refresh_token"]).encode() in saved

    with start_sandbox("xero", state_file=state) as server:
        urls = server.urls()
        xero = xero_sdk_client(urls, sdk_token(second))  # the refreshed login survived the restart
        assert xero.accounting.get_organisations(xero.tenant_id).organisations
        # The grace pair lived in memory only: a replay within the grace now gets a fresh, working pair.
        again = _xero_refresh(urls, first["refresh_token"])
        assert again.status_code == 200 and again.json()["refresh_token"] != second["refresh_token"]
        assert _xero_refresh(urls, first["refresh_token"]).json()["access_token"] == again.json()["access_token"]
        fresh = xero_sdk_client(urls, sdk_token(again.json()))
        assert fresh.accounting.get_organisations(fresh.tenant_id).organisations
    _assert_no_values(state.read_bytes(), again.json())


def test_qbo_state_file_holds_digests_not_tokens(tmp_path):
    state = tmp_path / "qbo.json"
    server = start_qbo(state_file=str(state))
    try:
        first = qbo_login(server.urls())
        second = qbo_refresh(server.urls(), first)
    finally:
        server.stop()
    saved = state.read_bytes()
    _assert_no_values(saved, first, second)
    assert token_digest(second["refresh_token"]).encode() in saved

    server = start_qbo(state_file=str(state))
    try:
        qb = qbo_sdk_client(server.urls(), second)  # the refreshed login survived the restart
        assert CompanyInfo.get(second["realm_id"], qb=qb).CompanyName
        assert qbo_refresh(server.urls(), second)["refresh_token"] != second["refresh_token"]
    finally:
        server.stop()


def test_qbo_state_file_from_before_digests_is_hashed_on_load(tmp_path):
    state = tmp_path / "qbo.json"
    server = start_qbo(state_file=str(state))
    try:
        tokens = qbo_login(server.urls())
    finally:
        server.stop()
    # Rewrite the file as older sandboxes wrote it: token values as keys and in the grant.
    data = json.loads(state.read_text())
    oauth = data["oauth"]
    (access,) = oauth["access"].values()
    oauth["access"] = {tokens["access_token"]: access}
    for grant in oauth["grants"].values():
        grant["refresh"] = [{"token": tokens["refresh_token"], "expires": r["expires"]} for r in grant["refresh"]]
    state.write_text(json.dumps(data))
    assert tokens["refresh_token"].encode() in state.read_bytes()

    server = start_qbo(state_file=str(state))
    try:
        qb = qbo_sdk_client(server.urls(), tokens)  # still signed in after the upgrade
        assert CompanyInfo.get(tokens["realm_id"], qb=qb).CompanyName
        newer = qbo_refresh(server.urls(), tokens)
    finally:
        server.stop()
    _assert_no_values(state.read_bytes(), tokens, newer)
