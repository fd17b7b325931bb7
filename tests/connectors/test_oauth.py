"""The connect flow over real HTTP: the test plays the browser against the Xero sandbox."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import keyring
import pytest
import requests
from keyring.backends import fail

from kcc_desktop.commands.connect import connect_command, status_command
from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.base import ConnectionRequired
from kcc_desktop.connectors.loopback import AuthorizationTimeout, StateMismatch
from kcc_desktop.connectors.oauth import SignInRefused, make_pkce
from kcc_desktop.connectors.settings import load_connection
from kcc_desktop.connectors.tokens import SERVICE, KeyringUnavailable


def test_connect_flow_saves_tokens_in_keyring_and_settings_in_store(sandbox, settings_store, token_store,
                                                                    connect_runner):
    run = connect_runner(settings_store, token_store)
    assert run.error is None, run.error
    settings = run.result
    # The address printed is the sandbox's authorize page, with PKCE S256 and a loopback redirect.
    url = next(line for line in run.printed if "http" in line).split()[-1]
    q = parse_qs(urlsplit(url).query)
    assert url.startswith(sandbox.urls["authorize_url"])
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["redirect_uri"][0].startswith("http://127.0.0.1:") and q["redirect_uri"][0].endswith("/callback")
    assert "offline_access" in q["scope"][0].split() and "accounting.transactions" not in q["scope"][0].split()
    assert "Signed in" in run.browser_page
    # Settings name the organisation; tokens are in the keyring only.
    saved = load_connection(settings_store)
    assert saved.tenant_id == settings.tenant_id and saved.organisation_name == "Demo Company (UK)"
    assert not any("token" in k for k in settings_store.values)
    raw = json.loads(keyring.get_password(SERVICE, f"xero:{settings.tenant_id}"))
    assert raw["access_token"] and raw["refresh_token"]
    assert not any(raw["access_token"] in v or raw["refresh_token"] in v for v in settings_store.values.values())
    st = connect_mod.status(settings_store, token_store)
    assert st["connected"] is True and st["organisation"] == "Demo Company (UK)" and st["provider"] == "xero"
    assert st["reconnect_needed"] is False


def test_wrong_state_is_refused_and_nothing_is_saved(sandbox, settings_store, token_store, connect_runner):
    def forge(location: str) -> str:
        parts = urlsplit(location)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        q["state"] = "forged-" + q["state"]
        return parts._replace(query="&".join(f"{k}={v}" for k, v in q.items())).geturl()

    run = connect_runner(settings_store, token_store, tamper=forge)
    assert isinstance(run.error, StateMismatch)
    assert "Sign-in failed" in run.browser_page and "did not match this connection attempt" in run.browser_page
    assert "state" in str(run.error) and "Start Connect again" in str(run.error)
    assert load_connection(settings_store) is None
    assert connect_mod.status(settings_store, token_store)["connected"] is False


def test_waiting_for_the_browser_times_out_with_a_clear_message(sandbox, settings_store, token_store,
                                                                connect_runner):
    run = connect_runner(settings_store, token_store, browse=False, timeout=0.3)
    assert isinstance(run.error, AuthorizationTimeout)
    assert "0.3 seconds" in str(run.error) and "Nothing was saved" in str(run.error)
    assert load_connection(settings_store) is None


def test_denied_consent_is_reported_in_the_browser_and_by_connect(sandbox, settings_store, token_store,
                                                                  connect_runner):
    def deny(location: str) -> str:
        parts = urlsplit(location)
        state = parse_qs(parts.query)["state"][0]
        return parts._replace(query=f"error=access_denied&state={state}").geturl()

    run = connect_runner(settings_store, token_store, tamper=deny)
    assert isinstance(run.error, SignInRefused) and "access_denied" in str(run.error)
    assert "Sign-in failed" in run.browser_page and "cancelled" in run.browser_page
    assert load_connection(settings_store) is None


def test_pkce_verifier_and_challenge_follow_rfc7636():
    p = make_pkce()
    assert 43 <= len(p.verifier) <= 128 and p.method == "S256"
    assert "=" not in p.challenge and len(p.challenge) == 43


def test_several_organisations_let_the_caller_choose(sandbox_factory, monkeypatch, settings_store, token_store,
                                                     connect_runner):
    sb = sandbox_factory(tenants=2)
    monkeypatch.setenv("KCC_XERO_URL", sb.root)
    offered = []

    def choose(tenants):
        offered.extend(tenants)
        return tenants[1]["tenant_id"]

    run = connect_runner(settings_store, token_store, choose_tenant=choose)
    assert run.error is None, run.error
    assert len(offered) == 2
    assert run.result.tenant_id == offered[1]["tenant_id"]
    pkg = connect_mod.open_package(settings_store, token_store, timeout=5)
    assert {t["tenant_id"] for t in pkg.list_tenants()} == {t["tenant_id"] for t in offered}
    assert pkg.organisation().name == offered[1]["name"]
    # Reconnecting to the other organisation leaves no orphaned sign-in in the keyring.
    again = connect_runner(settings_store, token_store, choose_tenant=lambda t: offered[0]["tenant_id"])
    assert again.error is None and again.result.tenant_id == offered[0]["tenant_id"]
    assert token_store.load("xero", offered[1]["tenant_id"]) is None
    assert token_store.load("xero", offered[0]["tenant_id"]) is not None


def test_no_keyring_fails_before_the_browser_opens(sandbox, settings_store, token_store, connect_runner):
    keyring.set_keyring(fail.Keyring())
    run = connect_runner(settings_store, token_store, browse=False, timeout=2)
    assert isinstance(run.error, KeyringUnavailable)
    assert run.printed == []          # no address was ever shown
    assert "PYTHON_KEYRING_BACKEND" in str(run.error)


def test_cli_commands(sandbox, settings_store, token_store, capsys):
    assert status_command(settings_store, token_store, as_json=True) == 2     # no valid sign-in
    out = json.loads(capsys.readouterr().out)
    assert out["connected"] is False and out["provider"] is None
    # No browser answers: the command reports the timeout and exits non-zero.
    assert connect_command(settings_store, token_store, "xero", no_browser=True, timeout=0.2) == 1
    captured = capsys.readouterr()
    assert sandbox.urls["authorize_url"] in captured.out
    assert "No answer came back" in captured.err


def test_open_package_without_a_connection_says_reconnect(settings_store, token_store):
    with pytest.raises(ConnectionRequired, match="Valid Connection Required"):
        connect_mod.open_package(settings_store, token_store)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _with_query(url: str, query: dict[str, str]) -> str:
    return urlsplit(url)._replace(query=urlencode(query)).geturl()


def test_a_code_already_used_makes_the_page_say_the_sign_in_failed(sandbox, settings_store, token_store,
                                                                   connect_runner):
    def someone_redeems_it_first(location: str) -> str:
        q = _query(location)
        taken = requests.post(sandbox.urls["token_url"], timeout=10, data={
            "grant_type": "authorization_code", "code": q["code"], "client_id": "kcc-desktop-sandbox",
            "redirect_uri": location.split("?")[0], "code_verifier": "x" * 50})
        assert taken.status_code == 400        # a wrong verifier, but the code is spent all the same
        return location

    run = connect_runner(settings_store, token_store, tamper=someone_redeems_it_first)
    assert isinstance(run.error, SignInRefused) and "invalid_grant" in str(run.error)
    assert "Sign-in failed" in run.browser_page and "already used" in run.browser_page
    assert "Signed in" not in run.browser_page
    assert load_connection(settings_store) is None


@pytest.mark.parametrize("change", ["another challenge", "PKCE stripped"])
def test_a_challenge_changed_on_the_way_makes_the_page_say_the_sign_in_failed(sandbox, settings_store, token_store,
                                                                              connect_runner, change):
    def tamper_url(url: str) -> str:
        q = _query(url)
        if change == "PKCE stripped":
            del q["code_challenge"], q["code_challenge_method"]
        else:
            q["code_challenge"] = make_pkce().challenge    # the app's verifier no longer matches
        return _with_query(url, q)

    run = connect_runner(settings_store, token_store, tamper_url=tamper_url)
    assert isinstance(run.error, SignInRefused) and "PKCE verifier" in str(run.error)
    assert "Sign-in failed" in run.browser_page and "Signed in" not in run.browser_page
    assert load_connection(settings_store) is None
    assert connect_mod.status(settings_store, token_store)["connected"] is False



def test_a_redirect_uri_that_cannot_be_used_says_why(sandbox, settings_store, token_store, monkeypatch, capsys):
    with socket.socket() as busy:                     # another program holds the registered port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", f"http://127.0.0.1:{port}/callback")
        assert connect_command(settings_store, token_store, "xero", no_browser=True, timeout=5) == 1
    err = capsys.readouterr().err
    assert f"could not listen on 127.0.0.1 port {port}" in err and "KCC_OAUTH_REDIRECT_URI" in err
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", "ftp://example.com/callback")
    assert connect_command(settings_store, token_store, "xero", no_browser=True, timeout=5) == 2   # a wrong setting
    assert "neither an http address on this computer nor an https page" in capsys.readouterr().err
    assert load_connection(settings_store) is None


def test_the_older_port_setting_still_names_the_redirect(monkeypatch):
    from kcc_desktop.connectors.settings import ConnectionSettings

    monkeypatch.delenv("KCC_OAUTH_REDIRECT_URI")
    assert ConnectionSettings(provider="xero").redirect_uri_for_sign_in() == "http://localhost:53682/callback"
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_PORT", "8111")
    assert ConnectionSettings(provider="xero").redirect_uri_for_sign_in() == "http://localhost:8111/callback"
