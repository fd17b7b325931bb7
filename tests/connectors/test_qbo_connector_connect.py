"""Connecting to QuickBooks, keeping the sign-in alive, and losing it: over real HTTP to the sandbox."""

from __future__ import annotations

import re
import socket

import pytest

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import ConnectionRequired, TransientError
from kcc_desktop.connectors.settings import (
    QUICKBOOKS,
    ConnectionSettings,
    MemorySettingsStore,
    load_connection,
    point_at,
)
from kcc_desktop.connectors.tokens import TokenStore, bind
from tests.helpers.connect import Browser
from tests.helpers.qbo_connector import (
    CLIENT_ID,
    make_package,
    settings_for,
    sign_in,
)

URL = re.compile(r"(https?://\S+)")


def test_connect_flow_saves_tokens_then_settings_and_names_the_company(qbo_sandbox, monkeypatch):
    monkeypatch.setenv("KCC_QBO_URL", qbo_sandbox.root)
    monkeypatch.setenv("KCC_QBO_CLIENT_ID", CLIENT_ID)
    store, tokens = MemorySettingsStore(), TokenStore()
    browser = Browser()     # the test plays the user's browser: open the printed address, follow it home

    settings = connect_mod.connect(QUICKBOOKS, store, tokens, open_browser=False, timeout=10, print_fn=browser)

    assert browser.opened[0].startswith(qbo_sandbox.urls["authorize_url"])
    assert "Signed in" in browser.page().text
    assert settings.realm_id == qbo_sandbox.urls["realm_id"]
    assert settings.organisation_name == "KCC Sandbox Trading Ltd"
    saved = tokens.load(QUICKBOOKS, settings.realm_id)
    assert saved is not None and saved.refresh_token and saved.access_token
    assert load_connection(store).tenant_id == settings.realm_id
    # The secret never reaches the settings store.
    assert not any(saved.refresh_token in v or saved.access_token in v for v in store.values.values())

    package = connect_mod.open_package(store, tokens)
    assert package.organisation().name == "KCC Sandbox Trading Ltd"


def test_expired_access_token_is_refreshed_once_and_the_rotated_refresh_token_saved(qbo_sandbox, vtime):
    first = sign_in(qbo_sandbox)
    package = make_package(qbo_sandbox, vtime)
    qbo_sandbox.control("expire-tokens")

    assert package.find_contact("Bridgewater Garden Centre") == "1"

    saved = TokenStore().load(QUICKBOOKS, qbo_sandbox.urls["realm_id"])
    assert package.tokens.refresh_count == 1
    assert saved.refresh_token != first.refresh_token          # rolled, and the newest kept
    assert saved.access_token != first.access_token
    assert qbo_sandbox.stats()["by_status"].get("401") == 1


def test_token_about_to_expire_is_refreshed_before_the_call(qbo_sandbox, vtime):
    first = sign_in(qbo_sandbox)
    first.expires_at = 1.0   # long past
    TokenStore().save(QUICKBOOKS, qbo_sandbox.urls["realm_id"], first)
    package = make_package(qbo_sandbox, vtime)

    package.fetch_bank_accounts()

    assert package.tokens.refresh_count == 1
    assert "401" not in qbo_sandbox.stats()["by_status"]


def test_revoked_sign_in_means_connection_required(qbo_package, qbo_sandbox):
    qbo_package.find_item("Services")
    qbo_sandbox.control("revoke")

    with pytest.raises(ConnectionRequired) as caught:
        qbo_package.find_item("Services")
    assert "Valid Connection Required" in str(caught.value)
    assert "Connect" in caught.value.hint


def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(qbo_package, qbo_sandbox):
    realm = qbo_sandbox.urls["realm_id"]
    qbo_package.disconnect()

    assert TokenStore().load(QUICKBOOKS, realm) is None
    assert qbo_sandbox.count("/oauth2/v1/tokens/revoke") == 1
    with pytest.raises(ConnectionRequired):
        qbo_package.find_item("Services")


def test_no_saved_sign_in_means_connection_required(qbo_sandbox, vtime):
    package = make_package(qbo_sandbox, vtime)
    with pytest.raises(ConnectionRequired):
        package.organisation()


def test_unreachable_sign_in_service_is_a_transient_error(qbo_sandbox, vtime):
    tokens = sign_in(qbo_sandbox)
    tokens.expires_at = 1.0
    TokenStore().save(QUICKBOOKS, qbo_sandbox.urls["realm_id"], tokens)
    # The same company, but the discovery document (and the API) are on a port nobody listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ConnectionSettings(provider=QUICKBOOKS, api_root=f"http://127.0.0.1:{port}", client_id=CLIENT_ID,
                                  tenant_id=qbo_sandbox.urls["realm_id"])
    # A sign-in made there (one made at the sandbox is never sent to another address).
    TokenStore().save(QUICKBOOKS, qbo_sandbox.urls["realm_id"],
                      bind(tokens, settings.endpoints().audience, qbo_sandbox.urls["realm_id"]))
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    package = QuickBooksPackage(settings, TokenStore(), client_secret="test")

    with pytest.raises(TransientError) as caught:
        package.organisation()
    assert "sign-in service" in caught.value.message
    assert tokens.refresh_token not in str(caught.value)


def test_production_settings_point_at_intuit(monkeypatch):
    monkeypatch.delenv("KCC_QBO_URL", raising=False)
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    package = QuickBooksPackage(ConnectionSettings(provider=QUICKBOOKS, client_id="x", tenant_id="123"),
                                TokenStore(), client_secret="s")
    assert package.api.qb.api_url == "https://quickbooks.api.intuit.com/v3"
    assert package.api.qb.minorversion == 75 and package.api.qb.use_decimal is True
    from kcc_desktop.connectors.base import DocKind
    assert package.document_url(DocKind.SALES_INVOICE, "42") == "https://app.qbo.intuit.com/app/invoice?txnId=42"
    assert package.document_url(DocKind.PURCHASE_INVOICE, "7") == "https://app.qbo.intuit.com/app/bill?txnId=7"


def test_sandbox_document_url_uses_its_web_root(qbo_package, qbo_sandbox):
    from kcc_desktop.connectors.base import DocKind
    url = qbo_package.document_url(DocKind.SALES_CREDIT, "9")
    assert url == qbo_sandbox.urls["web_url"] + "/creditmemo?txnId=9"


def test_settings_for_is_loopback_http_only():
    from kcc_desktop.connectors.settings import InsecureEndpoint
    with pytest.raises(InsecureEndpoint):
        ConnectionSettings(provider=QUICKBOOKS, api_root="http://example.com", tenant_id="1").endpoints()
    assert settings_for  # the fixtures' helper builds loopback settings only


def test_a_sign_in_for_another_company_means_connection_required(qbo_sandbox, vtime):
    tokens = sign_in(qbo_sandbox)
    TokenStore().save(QUICKBOOKS, "5550001", tokens)          # the same sign-in, filed under another company
    settings = ConnectionSettings(provider=QUICKBOOKS, api_root=qbo_sandbox.root, client_id=CLIENT_ID,
                                  tenant_id="5550001")
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    package = QuickBooksPackage(settings, TokenStore(), client_secret="test")
    with pytest.raises(ConnectionRequired) as caught:               # refused here: nothing is sent
        package.find_item("Services")
    assert f"made for organisation {qbo_sandbox.urls['realm_id']}" in caught.value.message
    assert qbo_sandbox.api_requests() == 0
    # Even filed as if made for that company, Intuit (the sandbox) refuses the token for it.
    TokenStore().save(QUICKBOOKS, "5550001", bind(tokens, settings.endpoints().audience, "5550001"))
    package = QuickBooksPackage(settings, TokenStore(), client_secret="test")
    with pytest.raises(ConnectionRequired) as caught:
        package.find_item("Services")
    assert "403" in caught.value.message


def test_connect_to_a_root_saved_in_the_settings(qbo_sandbox):
    # No environment variable: the sandbox address and client id come from the saved settings.
    store, tokens = MemorySettingsStore(), TokenStore()
    point_at(store, QUICKBOOKS, api_root=qbo_sandbox.root, client_id=CLIENT_ID)

    settings = connect_mod.connect(QUICKBOOKS, store, tokens, open_browser=False, timeout=10, print_fn=Browser())

    assert settings.organisation_name == "KCC Sandbox Trading Ltd"
    assert load_connection(store).tenant_id == qbo_sandbox.urls["realm_id"]
    assert tokens.load(QUICKBOOKS, settings.realm_id).refresh_token
