"""Connecting to QuickBooks with a production Intuit app: the browser goes to Intuit (a registered sandbox),
which redirects only to the https page the user hosts; the page hands the answer to the app on this
computer. Played in a real headless Chromium, and by pasting the address where the browser ended."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.oauth import SignInRefused
from kcc_desktop.connectors.settings import QUICKBOOKS, MemorySettingsStore, load_connection
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.sandbox.registration import AppRegistration
from kcc_desktop.sandbox.runner import start_sandbox
from tests.connectors.test_xero_registered_sign_in import company_file, free_port
from tests.helpers.https_page import headless_chromium, hosted_callback_page

CLIENT, SECRET = "ABkccProductionClient0001", "production-secret-0001"
URL = re.compile(r"(https?://\S+)")


@pytest.fixture
def page(tmp_path):
    with hosted_callback_page(tmp_path) as address:
        yield address


@pytest.fixture
def production(page, monkeypatch):
    """Intuit (a sandbox) with a production app whose one redirect URI is the hosted page; the app set up as
    the README says."""
    server = start_sandbox("quickbooks", registration=AppRegistration(
        CLIENT, (page,), client_secret=SECRET, environment="production"))
    monkeypatch.setenv("KCC_QBO_URL", server.root)
    monkeypatch.setenv("KCC_QBO_CLIENT_ID", CLIENT)
    monkeypatch.setenv("KCC_QBO_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", page)
    yield server
    server.stop()


def _connect_in_background(store, tokens):
    printed: queue.Queue[str] = queue.Queue()
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["settings"] = connect_mod.connect(QUICKBOOKS, store, tokens, open_browser=False, timeout=60,
                                                      print_fn=printed.put)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    url = ""
    while not url:
        found = URL.search(printed.get(timeout=30))
        url = found.group(1) if found else ""
    return url, thread, outcome


def test_a_production_app_hands_the_sign_in_back_through_the_hosted_page(production, page):
    store, tokens = MemorySettingsStore(), TokenStore()
    url, thread, outcome = _connect_in_background(store, tokens)
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [page]

    with headless_chromium(public_page=page) as browser:
        # The page counts as a public address: the browser would refuse it a request to 127.0.0.1 ...
        browser.get(page + "?state=none")
        before = production.provider.stats()["requests"]
        api = f"{production.root}/v3/company/{production.urls()['realm_id']}/companyinfo/1"
        tried = browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                             f"fetch('{api}').then(() => done('sent'), () => done('blocked'));")
        assert tried == "blocked"
        assert production.provider.stats()["requests"] == before      # it never left the browser
        # ... but its navigation there, which carries the answer, goes through.
        browser.get(url)                    # Intuit -> the https page -> KCC Desktop on 127.0.0.1
        WebDriverWait(browser, 30).until(lambda b: "Signed in" in b.find_element(By.ID, "outcome").text)
        assert browser.current_url.startswith("http://127.0.0.1:")
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    settings = outcome["settings"]
    assert settings.organisation_name == "KCC Sandbox Trading Ltd"
    assert load_connection(store).realm_id == production.urls()["realm_id"]
    assert TokenStore().client_secret(QUICKBOOKS, CLIENT) == SECRET        # the secret lives in the keyring
    assert not any(SECRET in v for v in store.values.values())


def test_the_hosted_page_says_what_to_paste_when_it_cannot_hand_over(page):
    with headless_chromium() as browser:
        browser.get(page + "?code=AB123&realmId=42&state=not-from-kcc")
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "paste").is_displayed())
        assert "Paste this address into KCC Desktop" in browser.find_element(By.ID, "outcome").text
        assert "code=AB123" in browser.find_element(By.ID, "address").get_attribute("value")


def test_the_command_line_takes_the_address_the_browser_ended_on(production, tmp_path):
    # The subprocess keeps its sign-in in a throwaway file keyring, never the developer's own.
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    proc = subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", company_file(tmp_path), "connect",
                             "quickbooks", "--no-browser"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = ""
        while not url:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            url = line.strip() if line.startswith("http") else ""
        # The person's browser reaches the page, which cannot hand over (say it is blocked): they copy its address.
        ended_on = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        assert ended_on.startswith(production.provider.registration.redirect_uris[0])
        out, err = proc.communicate(ended_on + "\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Connected to KCC Sandbox Trading Ltd (quickbooks)." in out


def test_a_plain_http_redirect_for_production_keys_is_refused_at_once(production, monkeypatch):
    loopback = f"http://localhost:{free_port()}/callback"
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", loopback)
    store = MemorySettingsStore()
    with pytest.raises(SignInRefused) as refused:
        connect_mod.connect(QUICKBOOKS, store, TokenStore(), open_browser=False, timeout=300,
                            print_fn=lambda _t: None)
    text = str(refused.value)
    assert f"the redirect URI {loopback} is not registered for this app's production keys" in text
    assert "Production keys take only https addresses" in text and "callback.html" in text
    assert load_connection(store) is None


def test_production_keys_without_a_redirect_uri_say_how_to_host_the_page(monkeypatch):
    monkeypatch.delenv("KCC_OAUTH_REDIRECT_URI")
    monkeypatch.delenv("KCC_QBO_URL", raising=False)
    from kcc_desktop.connectors.base import ConnectorError
    from kcc_desktop.connectors.settings import ConnectionSettings
    with pytest.raises(ConnectorError) as caught:
        ConnectionSettings(provider=QUICKBOOKS, client_id="x").redirect_uri_for_sign_in()
    assert "https redirect URI" in str(caught.value) and "KCC_OAUTH_REDIRECT_URI" in str(caught.value)
    sandbox_keys = ConnectionSettings(provider=QUICKBOOKS, client_id="x", environment="sandbox")
    assert sandbox_keys.redirect_uri_for_sign_in() == "http://localhost:53682/callback"
    assert sandbox_keys.endpoints().api_url == "https://sandbox-quickbooks.api.intuit.com/v3"


def test_without_chromium_the_browser_tests_skip_saying_why_but_fail_under_ci():
    from tests.helpers.https_page import chromium_or_skip

    def absent(_name: str) -> str | None:
        return None

    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        chromium_or_skip({}, absent)
    with pytest.raises(pytest.fail.Exception, match="chromium and chromedriver not found"):
        chromium_or_skip({"CI": "true"}, absent)
