"""Connecting to a Xero sandbox that holds an app registration (as strict as Xero): the default settings
sign in and every feature works; each refusal ends Connect at once, in words that name the fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from kcc_desktop.connectors.base import ConnectionRequired
from kcc_desktop.connectors.connect import ConnectOptions
from kcc_desktop.connectors.oauth import SignInRefused
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.settings import XERO_GRANULAR_SCOPES, MemorySettingsStore, load_connection
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.models import RemoteLink
from kcc_desktop.sandbox.registration import AppRegistration
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client
from kcc_desktop.store import open_store
from kcc_desktop.sync.mapping import MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.payments_import import PaymentsImport
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.books import export_books
from tests.helpers.connect import connect_store, open_package

CLIENT = "9F3C1B7E2D8A4C6B-kcc-registered"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def company_file(tmp_path) -> str:
    """A new, empty company file (only the demo and File → New create one; ``connect`` needs it to exist)."""
    path = tmp_path / "c.sqlite"
    open_store(str(path), create=True).close()
    return str(path)


@pytest.fixture
def registered(monkeypatch):
    """A granular Xero app registered with one redirect URI; the app's environment set as its README says."""
    redirect = f"http://localhost:{free_port()}/callback"
    server = start_sandbox("xero", registration=AppRegistration(CLIENT, (redirect,), scopes="granular"))
    monkeypatch.setenv("KCC_XERO_URL", server.root)
    monkeypatch.setenv("KCC_XERO_CLIENT_ID", CLIENT)
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", redirect)
    reset_pacers()
    yield server, redirect
    reset_pacers()
    server.stop()


def test_default_settings_sign_in_and_every_feature_works(registered, store):
    server, redirect = registered
    connect_store(store)                                  # default settings: nothing chosen but the app

    from kcc_desktop.settings_db import DbSettingsStore
    saved = load_connection(DbSettingsStore(store))
    assert saved.scopes == XERO_GRANULAR_SCOPES and saved.client_id == CLIENT
    install_queue_listeners()
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    books = export_books(store, package, "xero")          # contacts, items, invoices, credit notes, bills

    # A bookkeeper of the same app records a payment and an overpayment; both come back through the Import.
    scopes = [*XERO_GRANULAR_SCOPES, "accounting.banktransactions"]
    bookkeeper = XeroBookkeeper(xero_sdk_client(server.urls(), xero_login(server.urls(), CLIENT, redirect, scopes),
                                                client_id=CLIENT))
    with store.session() as s:
        acme = s.scalar(select(RemoteLink.remote_id).where(RemoteLink.object_type == "company",
                                                           RemoteLink.object_id == books.companies["ACME"]))
    on = date(2026, 2, 1)
    bookkeeper.pay(books.remote["SI-0002"], books.gross["SI-0002"], on, "BACS")
    overpayment = bookkeeper.receive_overpayment(acme, books.gross["SI-0001"] + Decimal("5.00"), on, "Over")
    bookkeeper.allocate_overpayment(overpayment, books.remote["SI-0001"], books.gross["SI-0001"], on)

    svc = PaymentsImport(store, "xero")
    fetched = svc.fetch(package)
    made = svc.create_and_allocate(svc.ready_ids())
    assert (fetched.fetched, made.created, made.failed) == (2, 2, 0)
    assert "401" not in server.provider.stats()["by_status"]


def test_a_redirect_uri_the_app_did_not_register_is_refused_at_once(registered, monkeypatch):
    unknown = f"http://localhost:{free_port()}/callback"
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", unknown)
    store = MemorySettingsStore()
    with pytest.raises(SignInRefused) as refused:        # no browser ever answers: found ahead of it
        from kcc_desktop.connectors.connect import connect
        connect("xero", store, TokenStore(), open_browser=False, timeout=300, print_fn=lambda _t: None)
    text = str(refused.value)
    assert f"the redirect URI {unknown} is not registered for this app" in text
    assert "Redirect URIs at developer.xero.com" in text and "KCC_OAUTH_REDIRECT_URI" in text
    assert load_connection(store) is None


def test_an_unknown_client_id_is_named(registered):
    from kcc_desktop.connectors.connect import connect
    store = MemorySettingsStore()
    with pytest.raises(SignInRefused, match="it does not know the client id not-my-app"):
        connect("xero", store, TokenStore(), options=ConnectOptions(client_id="not-my-app"), open_browser=False,
                timeout=300, print_fn=lambda _t: None)
    assert load_connection(store) is None


def test_broad_scopes_on_a_new_app_say_to_use_the_granular_ones(registered, settings_store, token_store,
                                                                connect_runner):
    from kcc_desktop.connectors.settings import XERO_BROAD_SCOPES

    run = connect_runner(settings_store, token_store, browse=False, timeout=300,
                         options=ConnectOptions(scopes=XERO_BROAD_SCOPES))
    assert isinstance(run.error, SignInRefused)
    assert "may not ask for accounting.transactions" in str(run.error) and "--scopes granular" in str(run.error)
    assert load_connection(settings_store) is None


def test_a_sign_in_without_a_scope_a_feature_needs_names_it(registered, settings_store, token_store,
                                                            connect_runner):
    narrow = ["openid", "offline_access", "accounting.settings", "accounting.contacts", "accounting.invoices"]
    run = connect_runner(settings_store, token_store, options=ConnectOptions(scopes=narrow))
    assert run.error is None, run.error
    from kcc_desktop.connectors.connect import open_package as open_pkg
    package = open_pkg(settings_store, token_store, timeout=5)
    assert package.fetch_accounts()                       # what the scopes allow still works
    with pytest.raises(ConnectionRequired) as caught:
        next(iter(package.list_payments(None)))
    text = str(caught.value)
    assert "does not have the scope accounting.payments.read" in text and "Valid Connection Required" not in text
    assert "Connect again" in text and "--scopes granular" in text
    stats = registered[0].provider.stats()
    assert stats["by_status"]["401"] == 1                 # no refresh: a new token would have the same scopes


def test_the_command_line_exits_non_zero_and_prints_the_unregistered_uri(registered, tmp_path):
    unknown = f"http://localhost:{free_port()}/callback"
    env = {**os.environ, "KCC_OAUTH_REDIRECT_URI": unknown, "XDG_DATA_HOME": str(tmp_path / "xdg"),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    done = subprocess.run([sys.executable, "-m", "kcc_desktop", "--db", company_file(tmp_path), "connect",
                           "xero", "--no-browser"], capture_output=True, text=True, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert unknown in done.stderr and "is not registered for this app" in done.stderr
    url = next(line for line in done.stdout.splitlines() if line.startswith("http"))
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [unknown]


def test_the_command_line_signs_in_with_the_default_settings(registered, tmp_path):
    # As issue 12 checks it: KCC_XERO_CLIENT_ID and KCC_OAUTH_REDIRECT_URI set (the fixture), then
    # `connect xero --no-browser`; the person opens the printed address and the browser comes back.
    import requests

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    db = company_file(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", db, "connect", "xero", "--no-browser"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        url = ""
        while not url:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            url = line.strip() if line.startswith("http") else ""
        page = requests.get(url, timeout=60)             # Xero (the sandbox) -> KCC Desktop on localhost
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in" in page.text and "Connected to Demo Company (UK) (xero)." in out
    assert set(parse_qs(urlsplit(url).query)["scope"][0].split()) == set(XERO_GRANULAR_SCOPES)
    status = subprocess.run([sys.executable, "-m", "kcc_desktop", "--db", db, "status", "--json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == 0 and '"connected": true' in status.stdout
