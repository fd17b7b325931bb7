"""Token refresh, rotation and revocation against the Xero sandbox; secrets never leak into logs."""

from __future__ import annotations

import json
import logging
import time

import keyring
import pytest

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import ConnectionRequired, ContactIn
from kcc_desktop.connectors.tokens import SERVICE


def saved(tenant: str) -> dict:
    return json.loads(keyring.get_password(SERVICE, f"xero:{tenant}"))


def test_refresh_ahead_of_expiry_rotates_and_saves_the_new_refresh_token(connected, sandbox):
    store, tokens, settings = connected
    before = saved(settings.tenant_id)
    # Make the saved token due within the 2-minute margin: the next call must refresh first.
    keyring.set_password(SERVICE, f"xero:{settings.tenant_id}", json.dumps(dict(before, expires_at=time.time() + 60)))
    pkg = connect_mod.open_package(store, tokens, timeout=5)
    assert pkg.organisation().name == "Demo Company (UK)"
    after = saved(settings.tenant_id)
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"] > time.time() + 600
    assert "401" not in sandbox.stats()["by_status"]      # refreshed ahead, never bounced
    assert pkg.tokens.refresh_count == 1


def test_server_side_expiry_gets_one_refresh_then_the_call_succeeds(package, connected, sandbox):
    _, _, settings = connected
    first = saved(settings.tenant_id)["refresh_token"]
    package.organisation()
    sandbox.control("expire-tokens")
    assert package.fetch_tax_rates()                      # 401 -> refresh -> retry
    assert sandbox.stats()["by_status"].get("401") == 1
    assert saved(settings.tenant_id)["refresh_token"] != first
    # The old refresh token is spent; the rotated one keeps working after a restart.
    sandbox.control("expire-tokens")
    reopened = connect_mod.open_package(*connected[:2], timeout=5)
    assert reopened.fetch_accounts()


def test_revoked_connection_is_connection_required_and_status_says_reconnect(package, connected, sandbox):
    store, tokens, _ = connected
    package.organisation()
    sandbox.control("revoke")
    with pytest.raises(ConnectionRequired) as err:
        package.upsert_contacts([ContactIn(key="c1", name="After Revoke Ltd")], "k-revoked")
    text = str(err.value)
    assert "Valid Connection Required" in text and "reconnect" in text.lower()
    st = connect_mod.status(store, tokens)
    assert st["connected"] is False and st["reconnect_needed"] is True
    # And a new package on the same settings says the same, without touching the network.
    with pytest.raises(ConnectionRequired):
        connect_mod.open_package(store, tokens).organisation()


def test_token_values_never_reach_logs_or_error_text(sandbox, settings_store, token_store, connect_runner, caplog):
    caplog.set_level(logging.DEBUG)
    run = connect_runner(settings_store, token_store)
    assert run.error is None
    tenant = run.result.tenant_id
    secrets_seen = {saved(tenant)["access_token"], saved(tenant)["refresh_token"]}
    pkg = connect_mod.open_package(settings_store, token_store, timeout=5)
    pkg.organisation()
    sandbox.control("expire-tokens")
    pkg.fetch_accounts()                                   # a refresh happens under DEBUG logging
    secrets_seen |= {saved(tenant)["access_token"], saved(tenant)["refresh_token"]}
    sandbox.control("revoke")
    with pytest.raises(ConnectionRequired) as err:
        pkg.fetch_accounts()
    texts = [caplog.text, str(err.value), repr(err.value), "".join(run.printed)]
    for secret in secrets_seen:
        assert len(secret) > 20
        for text in texts:
            assert secret not in text
