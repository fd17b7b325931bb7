"""Xero identity: authorize + PKCE, refresh rotation and grace, revoke, connections and tenant checks."""

from __future__ import annotations

import pytest
import requests
from xero_python.exceptions import HTTPStatusException

from kcc_desktop.sandbox.testing import (
    pkce_pair,
    redirect_params,
    sandbox_call,
    xero_authorize,
    xero_exchange,
    xero_login,
    xero_sdk_client,
    xero_tenants,
)

INVALID_GRANT = '{"error":"invalid_grant"}'  # xero-python matches this exact text


def test_authorize_redirects_to_loopback_with_code_and_state(xero_urls):
    resp = xero_authorize(xero_urls, state="s-123", challenge=pkce_pair()[1])
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("http://127.0.0.1:53682/callback?")
    params = redirect_params(resp)
    assert params["state"] == "s-123" and params["code"]


def test_authorize_refuses_plain_http_to_another_host(xero_urls):
    resp = xero_authorize(xero_urls, redirect_uri="http://evil.example.com/cb", challenge=pkce_pair()[1])
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_pkce_right_verifier_gets_xero_shaped_tokens(xero_urls):
    verifier, challenge = pkce_pair()
    code = redirect_params(xero_authorize(xero_urls, challenge=challenge))["code"]
    body = xero_exchange(xero_urls, code, verifier).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert isinstance(body["scope"], str) and "offline_access" in body["scope"].split()
    assert body["access_token"] and body["refresh_token"] and body["id_token"].count(".") == 2


def test_pkce_wrong_verifier_is_invalid_grant_and_burns_the_code(xero_urls):
    verifier, challenge = pkce_pair()
    code = redirect_params(xero_authorize(xero_urls, challenge=challenge))["code"]
    bad = xero_exchange(xero_urls, code, "not-the-verifier-" + "x" * 40)
    assert bad.status_code == 400 and bad.text == INVALID_GRANT
    again = xero_exchange(xero_urls, code, verifier)  # codes are single use, even after a failure
    assert again.status_code == 400 and again.text == INVALID_GRANT


@pytest.mark.parametrize("tampered", ["verifier left out", "challenge stripped"])
def test_pkce_used_on_one_side_only_is_invalid_grant(xero_urls, tampered):
    # RFC 7636 section 4.6: a code issued with a challenge needs its verifier; a verifier for a code issued
    # without one means PKCE was stripped on the way (RFC 9700 section 4.8.2). Neither gets a token.
    verifier, challenge = pkce_pair()
    with_challenge = tampered == "verifier left out"
    code = redirect_params(xero_authorize(xero_urls, challenge=challenge if with_challenge else None))["code"]
    refused = xero_exchange(xero_urls, code, None if with_challenge else verifier)
    assert refused.status_code == 400 and refused.text == INVALID_GRANT


def test_connections_list_the_tenant(xero_urls):
    token = xero_login(xero_urls)
    (conn,) = xero_tenants(xero_urls, token)
    assert conn["tenantType"] == "ORGANISATION" and conn["tenantName"] == "Demo Company (UK)"
    assert {"id", "tenantId", "createdDateUtc", "updatedDateUtc"} <= set(conn)


@pytest.mark.parametrize("xero_server", [{"tenants": 2}], indirect=True)
def test_two_tenants_keep_separate_books(xero_urls):
    from xero_python.accounting import Contact, Contacts

    token = xero_login(xero_urls)
    first, second = xero_tenants(xero_urls, token)
    assert first["tenantName"] != second["tenantName"]
    a = xero_sdk_client(xero_urls, token, first["tenantId"])
    b = xero_sdk_client(xero_urls, token, second["tenantId"])
    a.accounting.create_contacts(a.tenant_id, Contacts(contacts=[Contact(name="Only In A")]))
    assert [c.name for c in a.accounting.get_contacts(a.tenant_id).contacts] == ["Only In A"]
    assert b.accounting.get_contacts(b.tenant_id).contacts == []
    assert b.accounting.get_organisations(b.tenant_id).organisations[0].name == second["tenantName"]


def test_wrong_or_missing_tenant_is_403(xero, xero_urls):
    with pytest.raises(HTTPStatusException) as exc:
        xero.accounting.get_contacts("00000000-0000-0000-0000-000000000000")
    assert exc.value.status == 403
    resp = requests.get(xero_urls["api_url"] + "/Contacts",
                        headers={"Authorization": f"Bearer {xero.token['access_token']}"})
    assert resp.status_code == 403 and resp.json()["Title"] == "Forbidden"


def test_unknown_token_is_401_with_xero_body(xero_urls, xero):
    resp = requests.get(xero_urls["api_url"] + "/Contacts",
                        headers={"Authorization": "Bearer nope", "xero-tenant-id": xero.tenant_id})
    assert resp.status_code == 401
    assert resp.json()["Title"] == "Unauthorized" and resp.json()["Detail"] == "AuthenticationUnsuccessful"


def test_expired_token_401_then_refresh_rotates(xero, xero_urls):
    api, tid = xero.accounting, xero.tenant_id
    old = dict(xero.token)
    sandbox_call(xero_urls, "expire-tokens")
    with pytest.raises(HTTPStatusException) as exc:
        api.get_organisations(tid)
    assert exc.value.status == 401 and "TokenExpired" in exc.value.body.decode()
    new = xero.refresh()
    assert new["access_token"] != old["access_token"] and new["refresh_token"] != old["refresh_token"]
    assert api.get_organisations(tid).organisations[0].name == "Demo Company (UK)"


def _refresh(urls, refresh_token):
    return requests.post(urls["token_url"], data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                   "client_id": "kcc"})


def test_refresh_grace_returns_same_pair_then_expires(xero_urls):
    token = xero_login(xero_urls)
    first = _refresh(xero_urls, token["refresh_token"]).json()
    replay = _refresh(xero_urls, token["refresh_token"]).json()  # the app lost the first answer
    assert (replay["access_token"], replay["refresh_token"]) == (first["access_token"], first["refresh_token"])
    sandbox_call(xero_urls, "advance-clock", {"seconds": 31 * 60})
    late = _refresh(xero_urls, token["refresh_token"])
    assert late.status_code == 400 and late.text == INVALID_GRANT
    assert _refresh(xero_urls, first["refresh_token"]).status_code == 200  # the newest one still works


def test_revoke_forces_reconnect(xero, xero_urls):
    sandbox_call(xero_urls, "revoke")
    with pytest.raises(HTTPStatusException) as exc:
        xero.accounting.get_organisations(xero.tenant_id)
    assert exc.value.status == 401
    resp = _refresh(xero_urls, xero.token["refresh_token"])
    assert resp.status_code == 400 and resp.text == INVALID_GRANT
    again = xero_sdk_client(xero_urls, xero_login(xero_urls))  # reconnecting works
    assert again.accounting.get_organisations(again.tenant_id).organisations


def test_sdk_revocation_endpoint(xero, xero_urls):
    xero.api_client.revoke_oauth2_token()
    resp = _refresh(xero_urls, "whatever")
    assert resp.text == INVALID_GRANT
    assert requests.get(xero_urls["connections_url"],
                        headers={"Authorization": "Bearer " + str(xero.token.get("access_token"))}).status_code == 401


def test_access_token_lives_thirty_minutes(xero, xero_urls):
    sandbox_call(xero_urls, "advance-clock", {"seconds": 29 * 60})
    assert xero.accounting.get_organisations(xero.tenant_id).organisations
    sandbox_call(xero_urls, "advance-clock", {"seconds": 2 * 60})
    with pytest.raises(HTTPStatusException) as exc:
        xero.accounting.get_organisations(xero.tenant_id)
    assert exc.value.status == 401


def test_web_url_opens_a_document_page(xero, xero_urls):
    from tests.helpers.xero_builders import contact, create_invoice

    inv = create_invoice(xero, contact(xero))
    page = requests.get(f"{xero_urls['web_url']}/AccountsReceivable/View.aspx", params={"InvoiceID": inv.invoice_id})
    assert page.status_code == 200 and inv.invoice_number in page.text
