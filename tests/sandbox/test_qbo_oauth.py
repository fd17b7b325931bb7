"""OAuth 2.0 against the QuickBooks sandbox through intuit-oauth and python-quickbooks, over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.company_info import CompanyInfo

from kcc_desktop.sandbox.qbo_testing import REDIRECT_URI, auth_client, qbo_login, qbo_refresh, qbo_sdk_client


def test_discovery_document_has_what_intuitlib_reads(qbo_urls):
    client = AuthClient("id", "secret", REDIRECT_URI, qbo_urls["discovery_url"])
    assert client.token_endpoint == qbo_urls["token_url"]
    assert client.auth_endpoint == qbo_urls["authorize_url"]
    assert client.revoke_endpoint == qbo_urls["revoke_url"]
    assert client.user_info_url and client.jwks_uri and client.issuer_uri


def test_authorize_redirects_with_code_state_and_realm(qbo_urls):
    client = auth_client(qbo_urls)
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="xyz-123")
    resp = requests.get(url, allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    loc = urlsplit(resp.headers["Location"])
    q = parse_qs(loc.query)
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT_URI
    assert q["state"] == ["xyz-123"] and q["realmId"] == [qbo_urls["realm_id"]] and q["code"][0]


def test_authorize_refuses_a_non_loopback_redirect_and_missing_scope(qbo_urls):
    bad = requests.get(qbo_urls["authorize_url"], params={"client_id": "x", "response_type": "code",
                       "scope": Scopes.ACCOUNTING.value, "redirect_uri": "https://evil.example/cb"},
                       allow_redirects=False, timeout=5)
    assert bad.status_code == 400
    no_scope = requests.get(qbo_urls["authorize_url"], params={"client_id": "x", "response_type": "code",
                            "scope": "openid", "redirect_uri": REDIRECT_URI, "state": "s"},
                            allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(no_scope.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_code_grant_gives_hour_long_tokens_and_the_api_answers(qbo_urls, qbo_tokens):
    assert qbo_tokens["expires_in"] == 3600
    assert qbo_tokens["access_token"] and qbo_tokens["refresh_token"]
    qb = qbo_sdk_client(qbo_urls, qbo_tokens)
    info = CompanyInfo.get(qb.company_id, qb=qb)
    assert info.Country == "GB" and info.CompanyName and info.Id == "1"


def test_code_is_single_use_and_basic_auth_is_required(qbo_urls):
    client = auth_client(qbo_urls)
    loc = requests.get(client.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False,
                       timeout=5).headers["Location"]
    code = parse_qs(urlsplit(loc).query)["code"][0]
    no_basic = requests.post(qbo_urls["token_url"], data={"grant_type": "authorization_code", "code": code,
                                                          "redirect_uri": REDIRECT_URI}, timeout=5)
    assert no_basic.status_code == 401 and no_basic.json()["error"] == "invalid_client"
    client.get_bearer_token(code)
    with pytest.raises(AuthClientError) as err:
        client.get_bearer_token(code)
    assert err.value.status_code == 400 and b"invalid_grant" in err.value.content


def test_refresh_rolls_the_refresh_token(qbo_urls, qbo_tokens):
    client = auth_client(qbo_urls)
    first = qbo_tokens["refresh_token"]
    client.refresh(refresh_token=first)
    second = client.refresh_token
    assert second != first and client.access_token != qbo_tokens["access_token"]
    # The token just used stays valid until the new one is used (a lost answer can be retried)...
    client.refresh(refresh_token=first)
    third = client.refresh_token
    client.refresh(refresh_token=third)
    # ...and once the newer one has been used, the older ones are dead.
    with pytest.raises(AuthClientError) as err:
        client.refresh(refresh_token=first)
    assert b"invalid_grant" in err.value.content


def test_expired_access_token_is_401_until_refreshed(qbo_server, qbo_urls, qbo_tokens):
    qb = qbo_sdk_client(qbo_urls, qbo_tokens)
    requests.post(qbo_urls["root"] + "/_sandbox/expire-tokens", timeout=5).raise_for_status()
    with pytest.raises(AuthorizationException) as err:
        CompanyInfo.get("1", qb=qb)
    assert "Token expired" in err.value.detail and '"3200"' in err.value.detail
    fresh = qbo_refresh(qbo_urls, qbo_tokens)
    assert fresh["refresh_token"] != qbo_tokens["refresh_token"]
    assert CompanyInfo.get("1", qb=qbo_sdk_client(qbo_urls, fresh)).Country == "GB"


def test_access_token_expires_after_an_hour_of_sandbox_time(qbo_urls, qbo_tokens):
    qb = qbo_sdk_client(qbo_urls, qbo_tokens)
    advance = qbo_urls["root"] + "/_sandbox/advance-clock"
    requests.post(advance, json={"seconds": 3590}, timeout=5).raise_for_status()
    assert CompanyInfo.get("1", qb=qb).Id == "1"
    requests.post(advance, json={"seconds": 11}, timeout=5).raise_for_status()
    with pytest.raises(AuthorizationException):
        CompanyInfo.get("1", qb=qb)
    # The refresh token (100 days) still works.
    client = auth_client(qbo_urls)
    client.refresh(refresh_token=qbo_tokens["refresh_token"])
    assert client.expires_in == 3600


def test_revoke_ends_the_connection(qbo_urls, qbo_tokens):
    client = auth_client(qbo_urls, refresh_token=qbo_tokens["refresh_token"])
    assert client.revoke() is True
    with pytest.raises(AuthClientError) as err:
        client.refresh(refresh_token=qbo_tokens["refresh_token"])
    assert b"invalid_grant" in err.value.content
    with pytest.raises(AuthorizationException):
        CompanyInfo.get("1", qb=qbo_sdk_client(qbo_urls, qbo_tokens))


def test_sandbox_revoke_control_endpoint(qbo_urls, qbo_tokens):
    r = requests.post(qbo_urls["root"] + "/_sandbox/revoke", timeout=5)
    assert r.json()["revoked"] == 1
    with pytest.raises(AuthClientError):
        auth_client(qbo_urls).refresh(refresh_token=qbo_tokens["refresh_token"])


def test_token_for_another_realm_is_refused(qbo_urls, qbo_tokens):
    r = requests.get(f"{qbo_urls['api_url']}/company/123/companyinfo/1",
                     headers={"Authorization": "Bearer " + qbo_tokens["access_token"], "Accept": "application/json"},
                     timeout=5)
    assert r.status_code == 403 and r.json()["fault"]["error"][0]["code"] == "3100"


def test_login_helper_twice_gives_two_independent_connections(qbo_urls):
    a, b = qbo_login(qbo_urls), qbo_login(qbo_urls)
    assert a["refresh_token"] != b["refresh_token"]
    auth_client(qbo_urls, refresh_token=a["refresh_token"]).revoke()
    assert CompanyInfo.get("1", qb=qbo_sdk_client(qbo_urls, b)).Country == "GB"
