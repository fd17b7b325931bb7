"""A Xero sandbox holding an app registration refuses sign-ins and calls as Xero does."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import yaml

from kcc_desktop.sandbox.registration import AppRegistration
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import pkce_pair, redirect_params, xero_authorize, xero_exchange, xero_login
from kcc_desktop.sandbox.xero import scopes
from tests.helpers.xero_contract import SPEC_PATH, require_spec

CLIENT = "A1B2C3D4E5F6-registered"
REDIRECT = "http://localhost:53682/callback"
GRANULAR = ["openid", "profile", "email", "offline_access", "accounting.settings", "accounting.contacts",
            "accounting.invoices", "accounting.payments", "accounting.banktransactions.read"]
BROAD = ["openid", "profile", "email", "offline_access", "accounting.transactions", "accounting.contacts",
         "accounting.settings"]


@pytest.fixture(params=["granular"])
def registered(request):
    server = start_sandbox("xero", registration=AppRegistration(CLIENT, (REDIRECT,), scopes=request.param))
    yield server.urls()
    server.stop()


def test_the_registered_app_signs_in_with_granular_scopes(registered):
    token = xero_login(registered, CLIENT, REDIRECT, GRANULAR)
    assert set(token["scope"]) == set(GRANULAR)


def test_unknown_client_gets_xeros_error_page_and_no_redirect(registered):
    resp = xero_authorize(registered, "someone-else", REDIRECT, GRANULAR, challenge=pkce_pair()[1])
    assert resp.status_code == 500 and "Location" not in resp.headers
    assert "unauthorized_client" in resp.text and "Unknown client or client not enabled" in resp.text


@pytest.mark.parametrize("uri", ["http://localhost:53683/callback", "http://127.0.0.1:53682/callback",
                                 "http://localhost:53682/callback/", "https://localhost:53682/callback"])
def test_a_redirect_uri_must_match_exactly(registered, uri):
    resp = xero_authorize(registered, CLIENT, uri, GRANULAR, challenge=pkce_pair()[1])
    assert resp.status_code == 500 and "Location" not in resp.headers
    assert "Invalid redirect_uri" in resp.text


def test_a_new_app_may_not_ask_for_the_broad_scopes(registered):
    resp = xero_authorize(registered, CLIENT, REDIRECT, BROAD, state="s1", challenge=pkce_pair()[1])
    assert resp.status_code == 302
    params = redirect_params(resp)
    assert params == {"error": "unauthorized_client", "error_description": "Invalid scope for client", "state": "s1"}


def test_a_scope_xero_does_not_know_is_invalid_scope(registered):
    resp = xero_authorize(registered, CLIENT, REDIRECT, ["openid", "accounting.everything"],
                          challenge=pkce_pair()[1])
    assert redirect_params(resp)["error"] == "invalid_scope"


def test_an_older_app_keeps_the_broad_scopes():
    server = start_sandbox("xero", registration=AppRegistration(CLIENT, (REDIRECT,), scopes="broad"))
    try:
        token = xero_login(server.urls(), CLIENT, REDIRECT, BROAD)
        resp = requests.get(server.urls()["api_url"] + "/Invoices", timeout=10,
                            headers={"Authorization": f"Bearer {token['access_token']}",
                                     "xero-tenant-id": _tenant(server.urls(), token)})
        assert resp.status_code == 200
    finally:
        server.stop()


def test_a_public_client_must_use_pkce(registered):
    resp = xero_authorize(registered, CLIENT, REDIRECT, GRANULAR, state="s2")
    params = redirect_params(resp)
    assert params["error"] == "invalid_request" and params["error_description"] == "code challenge required"


def test_token_endpoint_refuses_an_unknown_client_and_a_stripped_verifier(registered):
    verifier, challenge = pkce_pair()
    code = redirect_params(xero_authorize(registered, CLIENT, REDIRECT, GRANULAR, challenge=challenge))["code"]
    other = xero_exchange(registered, code, verifier, "someone-else", REDIRECT)
    assert other.status_code == 400 and other.json() == {"error": "invalid_client"}
    stripped = xero_exchange(registered, code, None, CLIENT, REDIRECT)       # PKCE removed on the way
    assert stripped.status_code == 400 and stripped.json() == {"error": "invalid_grant"}
    again = xero_exchange(registered, code, verifier, CLIENT, REDIRECT)      # and the code is spent
    assert again.json() == {"error": "invalid_grant"}


def test_the_token_request_needs_the_authorisations_redirect_uri(registered):
    verifier, challenge = pkce_pair()
    code = redirect_params(xero_authorize(registered, CLIENT, REDIRECT, GRANULAR, challenge=challenge))["code"]
    resp = requests.post(registered["token_url"], timeout=10, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": CLIENT})
    assert resp.status_code == 400 and resp.json() == {"error": "invalid_grant"}


def _tenant(urls, token) -> str:
    return requests.get(urls["connections_url"], headers={"Authorization": f"Bearer {token['access_token']}"},
                        timeout=10).json()[0]["tenantId"]


def test_a_call_outside_the_tokens_scopes_is_refused(registered):
    token = xero_login(registered, CLIENT, REDIRECT, ["offline_access", "accounting.settings.read",
                                                      "accounting.contacts.read"])
    headers = {"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": _tenant(registered, token),
               "Accept": "application/json"}
    assert requests.get(registered["api_url"] + "/Accounts", headers=headers, timeout=10).status_code == 200
    assert requests.get(registered["api_url"] + "/Contacts", headers=headers, timeout=10).status_code == 200
    refused = requests.get(registered["api_url"] + "/Invoices", headers=headers, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    body = refused.json()
    assert (body["Title"], body["Status"], body["Detail"]) == ("Unauthorized", 401, "AuthorizationUnsuccessful")
    write = requests.put(registered["api_url"] + "/Contacts", headers=headers, timeout=10,
                         json={"Contacts": [{"Name": "Read Only Ltd"}]})
    assert write.status_code == 401                                    # .read does not allow writing


def test_without_a_registration_the_sandbox_stays_permissive():
    server = start_sandbox("xero")
    try:
        token = xero_login(server.urls(), "any-client", "http://127.0.0.1:9/callback", BROAD)
        assert token["access_token"]
    finally:
        server.stop()


def test_the_command_line_takes_a_registration():
    cmd = [sys.executable, "-m", "kcc_desktop", "sandbox", "--provider", "xero", "--client-id", CLIENT,
           "--redirect-uri", "http://example.com/cb"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "plain http redirect URIs only for localhost" in done.stderr


def test_the_scope_table_agrees_with_the_specs_security_sections():
    require_spec((SPEC_PATH,))
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    served = {"Accounts", "TaxRates", "Contacts", "Items", "Invoices", "CreditNotes", "Payments",
              "BankTransactions", "Overpayments", "Prepayments", "Organisation"}
    checked = 0
    for path, ops in spec["paths"].items():
        parts = path.strip("/").split("/")
        if parts[0] not in served or len(parts) > 3 or (len(parts) == 3 and parts[2] != "Allocations"):
            continue
        if len(parts) >= 2 and not parts[1].startswith("{"):
            continue
        for method, op in ops.items():
            if method not in ("get", "put", "post", "delete"):
                continue
            spec_scopes = {s for entry in op.get("security", []) for s in entry.get("OAuth2", [])}
            ours = scopes.required(method, path) or frozenset()
            # The spec (16.1.0) predates the granular scopes: ours are its scopes plus their granular forms.
            assert spec_scopes <= ours, (method, path, spec_scopes, ours)
            assert {s for s in ours if s.split(".read")[0] not in scopes.GRANULAR} == spec_scopes, (method, path)
            checked += 1
    assert checked > 30
