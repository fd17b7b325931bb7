"""Keyring storage, refresh ahead of expiry, rotation, redaction (no network: a scripted refresh)."""

from __future__ import annotations

import json
import logging
import threading
import time

import keyring
import pytest
from keyring.backends import fail

from kcc_desktop.connectors.base import ConnectionRequired
from kcc_desktop.connectors.settings import (
    XERO_GRANULAR_SCOPES,
    ConnectionSettings,
    InsecureEndpoint,
    MemorySettingsStore,
    endpoints_for,
    load_connection,
    require_secure,
    save_connection,
)
from kcc_desktop.connectors.tokens import (
    SERVICE,
    KeyringUnavailable,
    RedactingFilter,
    TokenManager,
    TokenSet,
    TokenStore,
    redact,
)


def token(access="access-AAAA-1111", refresh="refresh-RRRR-1111", expires_at=None):
    return TokenSet(access_token=access, refresh_token=refresh,
                    expires_at=time.time() + 1800 if expires_at is None else expires_at,
                    scope=["openid", "accounting.transactions"])


def test_tokens_live_in_the_keyring_under_provider_and_tenant(_temporary_keyring):
    store = TokenStore()
    store.save("xero", "tenant-1", token())
    raw = keyring.get_password(SERVICE, "xero:tenant-1")
    assert json.loads(raw)["refresh_token"] == "refresh-RRRR-1111"
    loaded = store.load("xero", "tenant-1")
    assert loaded.access_token == "access-AAAA-1111" and loaded.scope == ["openid", "accounting.transactions"]
    assert store.load("xero", "tenant-2") is None
    store.delete("xero", "tenant-1")
    store.delete("xero", "tenant-1")   # twice is fine
    assert store.load("xero", "tenant-1") is None


def test_client_secret_is_kept_in_the_keyring():
    store = TokenStore()
    store.set_client_secret("quickbooks", "client-abc", "s3cret-value-xyz")
    assert store.client_secret("quickbooks", "client-abc") == "s3cret-value-xyz"
    assert "s3cret-value-xyz" not in redact("secret is s3cret-value-xyz")


def test_no_usable_keyring_is_a_clear_error_never_plaintext():
    keyring.set_keyring(fail.Keyring())
    store = TokenStore()
    with pytest.raises(KeyringUnavailable) as err:
        store.save("xero", "t", token())
    text = str(err.value)
    assert "keyring" in text.lower() and "GNOME Keyring" in text and "PYTHON_KEYRING_BACKEND" in text
    with pytest.raises(KeyringUnavailable):
        store.check_available()


def test_sdk_token_dict_has_only_allowed_keys_and_scope_as_list():
    d = token().sdk_dict()
    assert set(d) <= {"access_token", "scope", "expires_in", "token_type", "expires_at", "refresh_token", "id_token"}
    assert isinstance(d["scope"], list)


class ScriptedRefresh:
    """Plays a token endpoint: each refresh rotates both tokens; records what it was given."""

    def __init__(self, store: TokenStore | None = None) -> None:
        self.seen: list[str] = []
        self.store = store
        self.saved_before_use: list[bool] = []
        self.n = 0

    def __call__(self, refresh_token: str) -> dict:
        self.seen.append(refresh_token)
        self.n += 1
        return {"access_token": f"access-new-{self.n:04d}", "refresh_token": f"refresh-new-{self.n:04d}",
                "expires_in": 1800, "scope": "openid accounting.transactions", "token_type": "Bearer"}


def test_refresh_ahead_of_expiry_saves_the_rotated_token_first():
    store = TokenStore()
    store.save("xero", "t", token(expires_at=time.time() + 60))    # inside the 2-minute margin
    refresh = ScriptedRefresh()
    mgr = TokenManager(store, "xero", "t", refresh)
    assert mgr.access_token() == "access-new-0001"
    assert refresh.seen == ["refresh-RRRR-1111"]
    assert store.load("xero", "t").refresh_token == "refresh-new-0001"   # saved
    assert mgr.access_token() == "access-new-0001"                       # no second refresh
    assert mgr.refresh_count == 1


def test_a_token_not_near_expiry_is_not_refreshed():
    store = TokenStore()
    store.save("xero", "t", token(expires_at=time.time() + 600))
    refresh = ScriptedRefresh()
    assert TokenManager(store, "xero", "t", refresh).access_token() == "access-AAAA-1111"
    assert refresh.seen == []


def test_one_refresh_at_a_time_across_threads():
    store = TokenStore()
    store.save("xero", "t", token(expires_at=time.time() - 1))
    refresh = ScriptedRefresh()
    mgr = TokenManager(store, "xero", "t", refresh)
    got = []
    start = threading.Barrier(8)          # all eight ask at the same moment

    def ask():
        start.wait(10)
        got.append(mgr.access_token())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refresh.seen == ["refresh-RRRR-1111"]
    assert set(got) == {"access-new-0001"}


def test_force_refresh_after_401_reuses_another_threads_result():
    store = TokenStore()
    store.save("xero", "t", token())
    refresh = ScriptedRefresh()
    mgr = TokenManager(store, "xero", "t", refresh)
    stale = mgr.access_token()
    mgr.force_refresh(stale)
    mgr.force_refresh(stale)      # a second caller with the same stale token: no second refresh
    assert refresh.n == 1


def test_no_saved_sign_in_is_connection_required():
    mgr = TokenManager(TokenStore(), "xero", "nobody", ScriptedRefresh())
    with pytest.raises(ConnectionRequired) as err:
        mgr.access_token()
    assert "Valid Connection Required" in str(err.value) and "reconnect" in str(err.value).lower()


def test_token_values_never_appear_in_repr_or_redacted_logs(caplog):
    t = token(access="access-secret-zz99", refresh="refresh-secret-zz99")
    assert "secret-zz99" not in repr(t) and "secret-zz99" not in str(t)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s and Bearer %s", (t.to_json(), "abcdefghijk"),
                               None)
    RedactingFilter().filter(record)
    assert "secret-zz99" not in record.getMessage()
    assert "abcdefghijk" not in record.getMessage()


def test_settings_round_trip_and_endpoint_rules(monkeypatch):
    store = MemorySettingsStore()
    assert load_connection(store) is None
    s = ConnectionSettings(provider="xero", tenant_id="t-1", organisation_name="Demo Ltd",
                           scopes=["openid", "accounting.invoices", "offline_access"])
    save_connection(store, s)
    back = load_connection(store)
    assert back.tenant_id == "t-1" and back.scopes == ["openid", "accounting.invoices", "offline_access"]
    assert ConnectionSettings(provider="xero").scopes == XERO_GRANULAR_SCOPES
    assert endpoints_for("xero").token_url == "https://identity.xero.com/connect/token"
    monkeypatch.setenv("KCC_XERO_URL", "http://127.0.0.1:9999")
    assert endpoints_for("xero").api_url.startswith("http://127.0.0.1:9999")
    for ok in ("http://localhost:1/x", "http://[::1]:2/", "http://127.5.6.7/", "https://example.com/"):
        require_secure(ok)
    for bad in ("http://example.com/", "http://10.0.0.1/", "ftp://127.0.0.1/"):
        with pytest.raises(InsecureEndpoint):
            require_secure(bad)
    monkeypatch.setenv("KCC_XERO_URL", "http://192.168.1.5:8000")
    with pytest.raises(InsecureEndpoint):
        endpoints_for("xero")


def test_two_managers_on_one_organisation_share_the_refresh():
    store = TokenStore()
    store.save("xero", "shared", token(expires_at=time.time() - 1))
    refresh = ScriptedRefresh()
    a = TokenManager(store, "xero", "shared", refresh)
    b = TokenManager(store, "xero", "shared", refresh)
    got = []
    start = threading.Barrier(6)

    def ask(m):
        start.wait(10)
        got.append(m.access_token())

    threads = [threading.Thread(target=ask, args=(m,)) for m in (a, b) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refresh.seen == ["refresh-RRRR-1111"]        # the rotated token was picked up, not re-spent
    assert set(got) == {"access-new-0001"}


def test_a_revoked_refresh_token_is_forgotten():
    store = TokenStore()
    store.save("xero", "gone", token(expires_at=time.time() - 1))

    def refused(_):
        raise ConnectionRequired("Valid Connection Required: revoked.")

    with pytest.raises(ConnectionRequired):
        TokenManager(store, "xero", "gone", refused).access_token()
    assert store.load("xero", "gone") is None


def test_an_oversized_token_keeps_the_refresh_token_and_refreshes_on_next_use():
    store = TokenStore(max_entry_chars=1200)      # Windows Credential Manager's size
    big = TokenSet(access_token="a" * 1500, refresh_token="refresh-small-0001", expires_at=time.time() + 1800,
                   id_token="i" * 900)
    store.save("xero", "big", big)
    assert len(keyring.get_password(SERVICE, "xero:big")) <= 1200     # fits Windows Credential Manager
    loaded = store.load("xero", "big")
    assert loaded.refresh_token == "refresh-small-0001" and loaded.access_token == ""
    refresh = ScriptedRefresh()
    assert TokenManager(store, "xero", "big", refresh).access_token() == "access-new-0001"
    assert refresh.seen == ["refresh-small-0001"]


def test_install_log_redaction_scrubs_handlers_output():
    import io

    from kcc_desktop.connectors.tokens import install_log_redaction, register_secret

    stream = io.StringIO()
    logger = logging.getLogger("kcc-test-redaction")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_redaction(logger)
        register_secret("tok-abcdef-123456")
        logger.warning("refreshed: %s", {"refresh_token": "tok-abcdef-123456"})
        logger.warning("header Authorization: Bearer eyJhbGciOi.payload.sig")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "tok-abcdef-123456" not in out and "eyJhbGciOi" not in out
    assert out.count("[redacted]") == 2
