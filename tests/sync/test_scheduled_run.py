"""The scheduled run end to end against the Xero sandbox: it exports what is pending and brings payments
back, and when the sign-in has expired, the package is down or the daily limit is reached, it leaves
everything pending and records why, for the window to say the next time it opens. The last test runs the
very command line the systemd unit holds, in its own process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from kcc_desktop.connectors.settings import load_connection
from kcc_desktop.connectors.tokens import TokenStore, bind
from kcc_desktop.ledger import service as ledger
from kcc_desktop.models import Document, RemoteLink
from kcc_desktop.schedule import Interval, SyncLock, last_run, make_job, mark_seen, unseen_failure
from kcc_desktop.schedule.run import scheduled_run
from kcc_desktop.schedule.systemd import parse_unit, render_service, split
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.export import ExportService
from tests.helpers.ledger import build_ledger

ROOT = Path(__file__).resolve().parents[2]


def pending(store) -> int:
    return len(ExportService(store).pending_ids())


def remote_id(store, number: str) -> str:
    with store.session() as s:
        doc = s.scalar(select(Document).where(Document.number == number))
        return s.scalar(select(RemoteLink.remote_id).where(RemoteLink.object_type == doc.kind,
                                                          RemoteLink.object_id == doc.id))


def test_a_scheduled_run_exports_everything_pending_then_brings_payments_back(xero_exporting, xero_sync_sandbox,
                                                                              xero_bookkeeper):
    store, _package = xero_exporting
    build_ledger(store, invoices=3)
    waiting = pending(store)

    first = scheduled_run(store, every="30m")

    assert first.ok and (first.exported, first.export_failed, first.pending) == (waiting, 0, 0)
    assert xero_sync_sandbox.count("PUT", "/Invoices") > 0
    with store.session() as s:
        si = s.scalar(select(Document).where(Document.number == "SI-0001"))
        gross, si_id = si.gross_total, si.id
    xero_bookkeeper.pay(remote_id(store, "SI-0001"), gross, date(2026, 2, 1), "BACS 1")

    second = scheduled_run(store, every="30m")

    assert second.ok and (second.exported, second.fetched, second.created) == (0, 1, 1)
    with store.session() as s:
        assert ledger.outstanding(s, si_id) == 0
    assert second.summary == "Exported 0, 0 still pending; fetched 1 payment; created and allocated 1 payment."
    assert last_run(store) == second and second.every == "30m"
    assert second.started_at.tzinfo is not None and second.finished_at >= second.started_at
    assert unseen_failure(store) is None


def test_an_expired_sign_in_leaves_everything_pending_and_is_shown_once(xero_exporting, xero_sync_sandbox):
    store, _package = xero_exporting
    build_ledger(store, invoices=2)
    waiting = pending(store)
    xero_sync_sandbox.control("revoke")
    xero_sync_sandbox.control("expire-tokens")

    record = scheduled_run(store)

    assert not record.ok and "Valid Connection Required" in record.summary
    assert record.pending == pending(store) == waiting and record.exported == 0
    assert xero_sync_sandbox.count("PUT", "/Invoices") == 0
    assert unseen_failure(store) == record == last_run(store)
    mark_seen(store, record)
    assert unseen_failure(store) is None                 # the window said so once
    again = scheduled_run(store)
    assert unseen_failure(store) == again                # a new failure is news again


def test_a_package_that_is_down_leaves_everything_pending(xero_exporting, xero_sync_sandbox, monkeypatch):
    store, _package = xero_exporting
    build_ledger(store, invoices=2)
    waiting = pending(store)
    with socket.socket() as probe:                       # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("KCC_XERO_URL", f"http://127.0.0.1:{closed}")
    # The sign-in was made there (a sign-in is never sent to another address), and that package is down.
    settings = load_connection(DbSettingsStore(store))
    tokens = TokenStore().load("xero", settings.tenant_id)
    TokenStore().save("xero", settings.tenant_id, bind(tokens, settings.endpoints().audience, settings.tenant_id))

    record = scheduled_run(store, export=True, import_=True)

    assert not record.ok and record.exported == 0 and record.pending == pending(store) == waiting
    assert any(p.startswith("Upload Data stopped: The connection to Xero failed") and
               p.endswith("What was not sent is still pending.") for p in record.problems)
    assert record.fetched == 0 and len(record.problems) == 1     # no second message for the same outage


def test_the_daily_limit_stops_the_run_and_says_when_it_resumes(xero_exporting, xero_sync_sandbox):
    store, _package = xero_exporting
    build_ledger(store, invoices=2)
    waiting = pending(store)
    xero_sync_sandbox.control("limits", {"day": 1})
    try:
        record = scheduled_run(store, export=True, import_=False)
    finally:
        xero_sync_sandbox.control("limits", {"day": 5000})          # Xero's own, which the module's other tests expect

    # What went before the limit stays exported; the rest waits for the next run.
    assert not record.ok and 0 < record.pending == pending(store) == waiting - record.exported
    assert "Xero's daily limit is reached; uploads resume at" in record.summary
    assert last_run(store) == record


def test_an_unexpected_error_is_recorded_too(store):
    from kcc_desktop.sync.options import OptionsService

    OptionsService(store).update(enabled=True)

    def broken():
        raise RuntimeError("disk on fire")

    record = scheduled_run(store, package=broken)
    assert not record.ok and "The run stopped on an unexpected error: disk on fire" in record.summary
    assert last_run(store) == record


def test_the_unit_files_command_runs_the_sync_in_its_own_process(xero_exporting, xero_sync_sandbox, company_db,
                                                                 tmp_path, monkeypatch, _temporary_keyring):
    store, _package = xero_exporting
    build_ledger(store, invoices=2)
    waiting = pending(store)
    # The job's own process reads the tokens from a keyring file (the tests' keyring, copied where it looks).
    xdg = tmp_path / "xdg"
    (xdg / "python_keyring").mkdir(parents=True)
    shutil.copy(_temporary_keyring.file_path, xdg / "python_keyring" / "keyring_pass.cfg")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("KCC_LOG_DIR", str(tmp_path / "job logs"))
    job = make_job(company_db, Interval.parse("30m"), export=True, import_=True,
                   program=[sys.executable, "-m", "kcc_desktop"])
    unit = parse_unit(render_service(job))["Service"]
    argv = split(unit["ExecStart"])
    env = dict(word.split("=", 1) for word in split(unit["Environment"]))
    assert env["KCC_XERO_URL"] == xero_sync_sandbox.root      # the sandbox travels with the job, as a folder would
    run_env = dict(os.environ, XDG_DATA_HOME=str(xdg), PYTHONPATH=str(ROOT), **env)

    done = subprocess.run(argv, env=run_env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    record = last_run(store)
    assert record is not None and record.ok and record.exported == waiting and record.every == "30m"
    assert done.stdout.strip() == record.summary
    log = (tmp_path / "job logs" / "kcc-desktop.log").read_text(encoding="utf-8")
    assert f"scheduled run finished: {record.summary}" in log

    with SyncLock(store, "Upload Data in the window"):
        busy = subprocess.run(argv, env=run_env, capture_output=True, text=True, timeout=300)
    assert busy.returncode == int(unit["SuccessExitStatus"]) == 3          # systemd counts it as skipped
    assert "Another sync is running on this company file: Upload Data in the window" in busy.stderr
    assert last_run(store) == record
