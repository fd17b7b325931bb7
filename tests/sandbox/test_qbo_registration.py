"""A QuickBooks sandbox holding an Intuit app registration refuses sign-ins as Intuit does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kcc_desktop.sandbox.qbo_testing import auth_client
from kcc_desktop.sandbox.registration import AppRegistration
from kcc_desktop.sandbox.runner import start_sandbox

CLIENT, SECRET = "ABqbo-registered-client", "registered-secret"
HOSTED = "https://kcc.example.com/qbo/callback.html"
LOCAL = "http://localhost:53682/callback"


def registered(environment: str, *uris: str):
    return start_sandbox("quickbooks", registration=AppRegistration(
        CLIENT, uris, client_secret=SECRET, environment=environment))


@pytest.fixture
def production():
    server = registered("production", HOSTED)
    yield server.urls()
    server.stop()


def authorize(urls, client_id=CLIENT, redirect=HOSTED):
    return requests.get(urls["authorize_url"], allow_redirects=False, timeout=10, params={
        "client_id": client_id, "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": redirect, "state": "st"})


def test_a_production_app_signs_in_through_its_https_redirect(production):
    resp = authorize(production)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(HOSTED + "?")
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    client = auth_client(production, CLIENT, SECRET, HOSTED)
    client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    assert client.access_token and client.refresh_token


@pytest.mark.parametrize("uri, words", [
    ("http://localhost:53682/callback", "must begin with https"),
    ("https://localhost:53682/callback", "may not point at localhost"),
    ("https://127.0.0.1:8443/callback", "may not be IP addresses"),
    ("https://kcc.example.com/qbo/other.html", "Redirect URIs section"),
])
def test_production_keys_refuse_other_redirects_on_intuits_page(production, uri, words):
    resp = authorize(production, redirect=uri)
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "invalid_redirect_uri" in resp.text and words in resp.text


def test_an_unknown_client_is_refused_on_intuits_page(production):
    resp = authorize(production, client_id="not-this-app")
    assert resp.status_code == 400 and "Location" not in resp.headers and "invalid_client" in resp.text


def test_the_token_endpoint_wants_the_registered_secret(production):
    code = parse_qs(urlsplit(authorize(production).headers["Location"]).query)["code"][0]
    wrong = requests.post(production["token_url"], auth=(CLIENT, "guessed"), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": HOSTED})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_development_keys_may_use_localhost():
    server = registered("development", LOCAL)
    try:
        resp = authorize(server.urls(), redirect=LOCAL)
        assert resp.status_code == 302 and resp.headers["Location"].startswith(LOCAL + "?")
    finally:
        server.stop()


def test_intuit_would_not_register_a_plain_http_redirect_for_production():
    with pytest.raises(ValueError, match="must begin with https"):
        registered("production", LOCAL)
    with pytest.raises(ValueError, match="client secret"):
        start_sandbox("quickbooks", registration=AppRegistration(CLIENT, (HOSTED,)))
