"""Secrets live only in the OS keyring: after a whole demo round trip (connect, refresh, upload, import)
with DEBUG logging to the log file, no token value is in the company file or the log folder."""

from __future__ import annotations

import logging
from pathlib import Path

import requests

from kcc_desktop.connectors.connect import load_connection
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.logging_setup import setup_logging
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.payments_import import PaymentsImport
from kcc_desktop.sync.queue import install_queue_listeners


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_no_token_value_in_the_company_file_or_the_logs(tmp_path, monkeypatch):
    from kcc_desktop.demo.mode import open_demo

    data, logs = tmp_path / "data", tmp_path / "logs"
    monkeypatch.setenv("KCC_DATA_DIR", str(data))
    monkeypatch.setenv("KCC_LOG_DIR", str(logs))
    log_path = setup_logging(logging.DEBUG)
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.DEBUG)   # everything, including the HTTP libraries' own debug lines
    install_queue_listeners()
    reset_pacers()
    session = open_demo(documents=20)
    try:
        store = session.ctx.store
        seen: set[str] = set()

        def remember() -> None:
            settings = load_connection(session.ctx.settings)
            tokens = TokenStore().load(settings.provider, settings.tenant_id)
            seen.update(t for t in (tokens.access_token, tokens.refresh_token, tokens.id_token) if t)

        remember()
        # Force a refresh so a rotated pair passes through the app as well.
        requests.post(session.server.root + "/_sandbox/expire-tokens", timeout=10).raise_for_status()
        package = session.ctx.package()
        ExportService(store).upload(ExportService(store).pending_ids()[:40], package)
        PaymentsImport(store, session.provider).fetch(package)
        remember()
        assert len(seen) >= 4, "the test must have seen the first and the rotated tokens"
    finally:
        session.stop()
        session.ctx.store.close()
        root.setLevel(previous_level)
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", "").startswith(str(logs)):
                handler.close()
                root.removeHandler(handler)
        reset_pacers()

    assert log_path.exists() and log_path.stat().st_size > 0
    company_files = [p for p in _files_under(data) if "demo.sqlite" in p.name]
    assert company_files
    for path in company_files + _files_under(logs):
        content = path.read_bytes()
        for token in seen:
            assert token.encode() not in content, f"a token value was found in {path.name}"
