"""A sign-in is bound to the address and organisation it was made for: a failed Connect to a new root saves
nothing, and whatever points the connection elsewhere (a typo in --root, KCC_XERO_URL) never gets the token:
the commands say to connect again and exit 2, as the README's table says."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import keyring
import pytest

from kcc_desktop.cli import main
from kcc_desktop.connectors.base import ConnectionRequired
from kcc_desktop.connectors.connect import ConnectOptions, open_package
from kcc_desktop.connectors.settings import load_connection
from kcc_desktop.connectors.tokens import SERVICE, TokenStore
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.mapping import MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.ledger import build_ledger


class Recorder:
    """Someone else's server: records every request it gets, whole."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                seen.append(f"{self.command} {self.path}\n{self.headers}\n{body}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere():
    recorder = Recorder()
    yield recorder
    recorder.stop()


def test_a_token_is_never_sent_to_any_other_host(sandbox, store, tmp_db_path, monkeypatch, connect_runner,
                                                 elsewhere, capsys):
    monkeypatch.delenv("KCC_XERO_URL")                 # the connection's own root, saved with its sign-in
    settings = DbSettingsStore(store)
    run = connect_runner(settings, TokenStore(), options=ConnectOptions(api_root=sandbox.root))
    assert run.error is None, run.error
    tenant = run.result.tenant_id
    saved = json.loads(keyring.get_password(SERVICE, f"xero:{tenant}"))
    secrets_ = [saved["access_token"], saved["refresh_token"]]
    install_queue_listeners()
    package = open_package(settings, TokenStore(), timeout=5)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=1)
    db = str(tmp_db_path)

    # A typo in --root: the sign-in there fails, and nothing is saved, not even the new root.
    assert main(["--db", db, "connect", "xero", "--root", elsewhere.root, "--no-browser", "--timeout", "0.5"]) == 1
    assert "Nothing was saved" in capsys.readouterr().err
    assert load_connection(settings).api_root == sandbox.root
    assert main(["--db", db, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["connected"] is True

    # The environment points the package elsewhere: every command refuses before sending anything.
    monkeypatch.setenv("KCC_XERO_URL", elsewhere.root)
    assert main(["--db", db, "status"]) == 2
    assert "the saved sign-in was made for " + sandbox.root in capsys.readouterr().out
    assert main(["--db", db, "export", "--json"]) == 2
    err = capsys.readouterr().err
    assert "A sign-in is never sent to another address" in err and "Connect" in err
    assert main(["--db", db, "import", "--fetch"]) == 2
    assert "never sent to another address" in capsys.readouterr().err
    with pytest.raises(ConnectionRequired, match="never sent to another address"):
        open_package(settings, TokenStore(), timeout=5).fetch_accounts()

    assert secrets_ and elsewhere.seen and all(secret not in request for secret in secrets_
                                               for request in elsewhere.seen)
    assert not any("authorization:" in request.lower() for request in elsewhere.seen)
    assert not any("/api.xro/" in request or "/connect/token" in request for request in elsewhere.seen)
    # The sign-in itself is kept for its own address: pointing back there works at once.
    monkeypatch.setenv("KCC_XERO_URL", sandbox.root)
    assert main(["--db", db, "status"]) == 0


def test_a_revoked_sign_in_stops_export_and_import_with_exit_2(sandbox, store, tmp_db_path, connect_runner,
                                                               capsys):
    settings = DbSettingsStore(store)
    assert connect_runner(settings, TokenStore()).error is None
    install_queue_listeners()
    package = open_package(settings, TokenStore(), timeout=5)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=1)
    sandbox.control("revoke")
    db = str(tmp_db_path)

    assert main(["--db", db, "export"]) == 2
    assert "Valid Connection Required" in capsys.readouterr().err
    assert main(["--db", db, "import", "--fetch"]) == 2
    assert main(["--db", db, "status"]) == 2        # the refused renewal forgot the sign-in


def _nothing_secret_reached(recorder: Recorder, secrets_: list[str]) -> None:
    assert secrets_
    assert [request for request in recorder.seen if any(secret in request for secret in secrets_)] == []
    assert not any("authorization:" in request.lower() for request in recorder.seen)


def test_a_quickbooks_sign_in_is_never_sent_to_another_host_not_even_to_revoke_it(qbo_sandbox, vtime, elsewhere):
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
    from tests.helpers.qbo_connector import CLIENT_ID, CLIENT_SECRET, sign_in

    tokens = sign_in(qbo_sandbox)
    realm = qbo_sandbox.urls["realm_id"]
    moved = ConnectionSettings(provider=QUICKBOOKS, api_root=elsewhere.root, client_id=CLIENT_ID, tenant_id=realm)
    package = QuickBooksPackage(moved, TokenStore(), client_secret=CLIENT_SECRET)
    with pytest.raises(ConnectionRequired, match="never sent to another address"):
        package.organisation()
    package.disconnect()                           # forgotten here; never handed to the other host to revoke
    assert TokenStore().load(QUICKBOOKS, realm) is None
    _nothing_secret_reached(elsewhere, [tokens.access_token, tokens.refresh_token])
    assert qbo_sandbox.count("/oauth2/v1/tokens/revoke") == 0


def test_a_sign_in_for_one_organisation_is_not_used_for_another(sandbox, store, connect_runner):
    settings = DbSettingsStore(store)
    run = connect_runner(settings, TokenStore())
    assert run.error is None, run.error
    tenant = run.result.tenant_id
    # Another organisation's entry holding this sign-in (copied, or left by an older version): refused by name.
    TokenStore().save("xero", "another-organisation", TokenStore().load("xero", tenant))
    settings.set("connection.tenant_id", "another-organisation")
    from kcc_desktop.connectors.connect import status
    assert f"made for organisation {tenant}" in status(settings, TokenStore())["message"]
    with pytest.raises(ConnectionRequired, match=f"made for organisation {tenant}"):
        open_package(settings, TokenStore(), timeout=5).fetch_accounts()
    assert not any("Accounts" in endpoint for endpoint in sandbox.stats()["by_endpoint"])


def test_another_intuit_environment_is_another_address():
    from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
    from kcc_desktop.connectors.tokens import TokenSet, bind, binding_problem

    production = ConnectionSettings(provider=QUICKBOOKS, client_id="c", tenant_id="1").endpoints()
    companies = ConnectionSettings(provider=QUICKBOOKS, client_id="c", tenant_id="1", environment="sandbox").endpoints()
    tokens = bind(TokenSet("a", "r"), production.audience, "1")
    assert binding_problem(tokens, production.audience, tenant="1") == ""
    assert "now points at https://sandbox-quickbooks.api.intuit.com" in binding_problem(tokens, companies.audience,
                                                                                          tenant="1")
