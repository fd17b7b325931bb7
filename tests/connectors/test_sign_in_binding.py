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
