"""What the connectors log about the sign-in: connect, renewal and reconnect-needed at INFO, with ids and
counts, and never a token (the log is read raw here: no redaction filter is installed)."""

from __future__ import annotations

import logging
import re

import pytest

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import ConnectionRequired
from kcc_desktop.connectors.settings import QUICKBOOKS, XERO, MemorySettingsStore
from kcc_desktop.connectors.tokens import TokenSet, TokenStore
from tests.helpers.connect import Browser
from tests.helpers.qbo_connector import CLIENT_ID

URL = re.compile(r"(https?://\S+)")


def secrets_of(*token_sets: TokenSet | None) -> list[str]:
    return [s for t in token_sets if t is not None for s in (t.access_token, t.refresh_token, t.id_token) if s]


def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)                          # every library, at the app's log level
    caplog.set_level(logging.DEBUG, logger="kcc_desktop")   # and everything of ours


def test_a_xero_connect_and_renewal_are_logged_without_a_token(sandbox, settings_store, token_store,
                                                                connect_runner, caplog):
    capture(caplog)
    run = connect_runner(settings_store, token_store, choose_tenant=lambda tenants: tenants[0]["tenant_id"])
    assert run.error is None
    tenant = run.result.tenant_id
    first = token_store.load(XERO, tenant)
    package = connect_mod.open_package(settings_store, token_store)
    sandbox.control("expire-tokens")

    package.fetch_tax_rates()                               # 401, renewed, sent again

    renewed = token_store.load(XERO, tenant)
    assert renewed is not None and first is not None and renewed.refresh_token != first.refresh_token
    text = caplog.text
    assert f"Connected to Xero organisation {tenant} (1 offered by the sign-in)." in text
    assert "Xero refused the sign-in (HTTP 401); renewing it" in text
    assert f"Renewed the Xero sign-in for {tenant} (renewal 1 of this session;" in text
    assert caplog.records and all(record.levelno == logging.INFO for record in caplog.records
               if record.name.startswith("kcc_desktop") and ("Connected" in record.message
                                                              or "Renewed" in record.message))
    leaked = [s for s in secrets_of(first, renewed) if s in text]
    assert leaked == [] and "Bearer" not in text


def test_a_quickbooks_connect_renewal_and_revocation_are_logged_without_a_token(qbo_sandbox, monkeypatch, caplog):
    monkeypatch.setenv("KCC_QBO_URL", qbo_sandbox.root)
    monkeypatch.setenv("KCC_QBO_CLIENT_ID", CLIENT_ID)
    store, tokens = MemorySettingsStore(), TokenStore()
    capture(caplog)

    settings = connect_mod.connect(QUICKBOOKS, store, tokens, open_browser=False, timeout=10, print_fn=Browser())
    realm = settings.realm_id
    first = tokens.load(QUICKBOOKS, realm)
    package = connect_mod.open_package(store, tokens)
    qbo_sandbox.control("expire-tokens")
    package.find_item("Services")                           # 401, renewed, sent again
    renewed = tokens.load(QUICKBOOKS, realm)
    qbo_sandbox.control("revoke")
    qbo_sandbox.control("expire-tokens")
    with pytest.raises(ConnectionRequired):
        package.find_item("Services")                       # 401, renewal refused: reconnect

    text = caplog.text
    assert f"Connected to QuickBooks company {realm}." in text
    assert f"Renewed the QuickBooks sign-in for {realm} (renewal 1 of this session;" in text
    assert f"refused to renew the sign-in for {realm}: it is forgotten, a reconnect is needed." in text
    leaked = [s for s in secrets_of(first, renewed) if s in text]
    assert leaked == [] and "Bearer" not in text
