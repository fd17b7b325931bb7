"""Every command's exit code matches README "Command line": 0 it worked; 1 something failed (the output says what);
2 the company file could not be opened, the arguments are wrong, or there is no valid sign-in (export, import,
mapping fetch, status); 3 scheduled-run found another sync holding the company file. Each command is run as the
command line runs it (``cli.main``, or its own process where it serves until stopped) for success, failure and
wrong arguments."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kcc_desktop.cli import build_parser, main
from kcc_desktop.sync.options import OptionsService
from tests.helpers.ledger import build_ledger
from tests.helpers.orders_csv import HEADER, write

ROOT = Path(__file__).resolve().parents[1]
COVERED = {"demo", "import-documents", "trial-balance", "mapping", "export", "import", "schedule", "scheduled-run",
           "sandbox", "check", "migrate-store", "reconcile", "mark-exported", "connect", "status"}


def code(*argv: str) -> int:
    """``kcc-desktop ARGV``'s exit code (argparse's own refusals exit through SystemExit)."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def test_every_command_is_covered_here():
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    assert set(sub.choices) == COVERED
    assert code("--version") == 0
    assert code("--no-such-flag") == 2
    assert code("no-such-command") == 2


def test_demo(tmp_path, capsys):
    db = str(tmp_path / "demo.sqlite")
    assert code("--db", db, "demo", "--documents", "5") == 0
    assert code("--db", db, "demo", "--documents", "5") == 1                  # already has books
    assert "already has books" in capsys.readouterr().err
    assert code("--db", str(tmp_path / "other.sqlite"), "demo", "--documents", "-1") == 2


def test_import_documents(store, tmp_db_path, tmp_path, capsys):
    build_ledger(store)
    good = write(tmp_path, HEADER + "\nsales_invoice,SI-9001,2026-03-02,,ACME,,,,W-100,,1,19.99,,,\n", "good.csv")
    bad = write(tmp_path, HEADER + "\nsales_invoice,SI-9002,2026-03-02,,ACME,,,,W-100,,1,=1+1,,,\n", "bad.csv")
    db = str(tmp_db_path)
    assert code("--db", db, "import-documents", good) == 0
    assert code("--db", db, "import-documents", bad) == 1
    assert code("--db", db, "import-documents", str(tmp_path / "missing.csv")) == 2   # no such file
    assert "there is no file" in capsys.readouterr().err
    assert code("--db", db, "import-documents") == 2                                 # no file named
    assert code("--db", str(tmp_path / "missing.sqlite"), "import-documents", good) == 2


def test_trial_balance(store, tmp_db_path, tmp_path):
    db = str(tmp_db_path)
    assert code("--db", db, "trial-balance", "--json") == 0
    assert code("--db", db, "trial-balance", "--from", "31/31/2026") == 2
    assert code("--db", db, "trial-balance", "--from", "2026-03-02", "--to", "2026-03-01") == 2
    assert code("--db", str(tmp_path / "missing.sqlite"), "trial-balance") == 2
    # Nothing else can fail: it only reads the journal.


def test_mapping(store, tmp_db_path, capsys):
    db = str(tmp_db_path)
    assert code("--db", db, "mapping", "list", "--json") == 0
    assert code("--db", db, "mapping", "fetch") == 2                           # no sign-in: Connect first
    assert "Valid Connection Required" in capsys.readouterr().err
    assert code("--db", db, "mapping", "set", "9999", "200") == 1              # no such nominal
    assert code("--db", db, "mapping") == 2
    assert code("--db", db, "mapping", "list", "--category", "sales") == 2


def test_export_and_import_not_connected(store, tmp_db_path, capsys):
    build_ledger(store)
    db = str(tmp_db_path)
    assert code("--db", db, "export") == 2                                     # no sign-in: Connect first
    assert "Valid Connection Required" in capsys.readouterr().err
    assert code("--db", db, "import") == 2
    assert "Valid Connection Required" in capsys.readouterr().err
    assert code("--db", db, "status") == 2                                     # not connected
    assert code("--db", db, "export", "--ids", "999999") == 2                  # not a pending row
    assert "not pending export" in capsys.readouterr().err
    assert code("--db", db, "export", "--ids", "one") == 2
    assert code("--db", db, "import", "--everything") == 2
    assert code("--db", db, "check") == 2                                      # no sign-in to check with
    assert "Connect" in capsys.readouterr().err
    assert code("--db", db, "check", "--yaml") == 2


def test_export_import_and_scheduled_run_connected(xero_exporting, tmp_db_path, capsys):
    store, _package = xero_exporting
    build_ledger(store)
    db = str(tmp_db_path)
    assert code("--db", db, "export", "--json") == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 0
    assert code("--db", db, "import", "--json") == 0
    assert code("--db", db, "scheduled-run") == 0
    assert code("--db", db, "scheduled-run", "--every", "1s") == 2
    OptionsService(store).update(enabled=False)
    assert code("--db", db, "scheduled-run") == 1                              # the integration is off
    assert "integration is off" in capsys.readouterr().out


def test_check_connect_and_status_connected(xero_exporting, tmp_db_path):
    """The sign-in's own cases (a revoked token, another address) are tested with it, in tests/connectors."""
    store, _package = xero_exporting
    build_ledger(store, invoices=1)
    db = str(tmp_db_path)
    assert code("--db", db, "check") == 0                                      # nothing would stop an upload
    assert code("--db", db, "status", "--json") == 0
    assert code("--db", db, "status", "--yaml") == 2
    assert code("--db", db, "connect", "sage") == 2
    assert code("--db", db, "connect", "xero", "--timeout", "soon") == 2
    # A sign-in that never comes back (nobody opens the address) fails: its own process, no console to read.
    failed = subprocess.run([sys.executable, "-m", "kcc_desktop", "--db", db, "connect", "xero", "--no-browser",
                             "--timeout", "0.5"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert failed.returncode == 1, failed.stderr
    assert code("--db", db, "status") == 0                                     # the failed sign-in changed nothing


def test_scheduled_run_finds_the_company_file_busy(store, tmp_db_path, tmp_path):
    hold = ("import sys; from kcc_desktop.schedule import SyncLock; lock = SyncLock(sys.argv[1], 'Upload Data'); "
            "lock.acquire(); print('held', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", hold, f"sqlite:///{tmp_db_path}"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert code("--db", str(tmp_db_path), "scheduled-run") == 3
    finally:
        proc.communicate("", timeout=10)
    assert code("--db", str(tmp_path / "missing.sqlite"), "scheduled-run") == 2


def test_schedule(store, tmp_db_path, capsys):
    db = str(tmp_db_path)
    assert code("--db", db, "schedule", "install", "--every", "30m", "--dry-run", "--name", "kcc-test-codes") == 0
    assert code("--db", db, "schedule", "install", "--every", "1s", "--dry-run") == 2
    assert code("--db", "postgresql://kcc:secret@db.example/books", "schedule", "install", "--every", "30m",
                "--dry-run") == 2                                              # a password in the URL
    assert code("schedule") == 2
    assert code("--db", db, "schedule", "status", "--json", "--name", "kcc-test-codes") == 0


def test_sandbox(tmp_path, capsys):
    assert code("sandbox", "--provider", "sage") == 2
    assert code("sandbox", "--provider", "quickbooks", "--tenants", "2") == 2
    assert "--tenants applies to --provider xero only" in capsys.readouterr().err
    with socket.socket() as taken:                                             # the port is someone else's
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert code("sandbox", "--port", str(taken.getsockname()[1])) == 1
    assert "cannot serve on 127.0.0.1" in capsys.readouterr().err
    broken = tmp_path / "state.json"
    broken.write_text("{not json", encoding="utf-8")
    assert code("sandbox", "--state", str(broken)) == 1
    assert "state file" in capsys.readouterr().err


@pytest.mark.posix_signals
def test_sandbox_serves_until_sigterm_then_exits_0():
    proc = subprocess.Popen([sys.executable, "-m", "kcc_desktop", "sandbox", "--provider", "quickbooks"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout is not None and json.loads(proc.stdout.readline())["provider"] == "quickbooks"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0                                      # served until stopped
    finally:
        if proc.poll() is None:
            proc.kill()


def test_migrate_store(store, tmp_db_path, tmp_path, capsys):
    build_ledger(store)
    copy = tmp_path / "copy.sqlite"
    assert code("migrate-store", str(tmp_path / "missing.sqlite"), str(copy)) == 2   # no such company file
    assert not copy.exists()
    assert code("migrate-store", str(tmp_db_path), str(copy)) == 0
    assert code("migrate-store", str(tmp_db_path), str(copy)) == 1                   # TO is not empty any more
    assert "empty" in capsys.readouterr().err
    assert code("migrate-store", str(tmp_db_path)) == 2                              # TO missing


def test_reconcile_and_mark_exported(xero_exporting, tmp_db_path, capsys):
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import select

    from kcc_desktop.ledger import service
    from kcc_desktop.models import Company, ExportItem

    store, _package = xero_exporting
    build_ledger(store)
    db = str(tmp_db_path)
    assert code("--db", db, "export") == 0
    capsys.readouterr()
    assert code("--db", db, "reconcile", "--json") == 0                        # nothing differs
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"documents", "matched", "requests", "differences"} and out["differences"] == []
    assert code("--db", db, "reconcile", "--from", "2026-13-01") == 2
    assert code("--db", db, "reconcile", "--from", "2026-02-01", "--to", "2026-01-01") == 2
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        service.create_document(s, "sales_invoice", acme, "SI-HAND", date(2026, 1, 9),
                                [service.LineInput(Decimal(1), Decimal("10.00"), nominal_id=acme_nominal(s),
                                                   tax_code_id=t1(s))])
    with store.session() as s:
        pending = s.scalar(select(ExportItem.id).where(ExportItem.status == "pending"))
    assert code("--db", db, "mark-exported", "--ids", str(pending)) == 2       # the reason is required
    assert code("--db", db, "mark-exported", "--ids", str(pending), "--reason", " ") == 2
    assert code("--db", db, "mark-exported", "--ids", "999999", "--reason", "typed in") == 2
    assert code("--db", db, "mark-exported", "--ids", str(pending), "--reason", "typed in") == 0
    capsys.readouterr()
    assert code("--db", db, "reconcile", "--json") == 1                        # marked by hand, not in Xero
    [missing] = json.loads(capsys.readouterr().out)["differences"]
    assert (missing["number"], missing["status"], missing["package_total"]) == ("SI-HAND", "missing", None)
    assert "typed in" in missing["advice"]
    assert code("--db", db, "reconcile", "--to", "2026-01-08") == 0            # outside the range


def acme_nominal(s) -> int:
    from sqlalchemy import select

    from kcc_desktop.models import NominalCode

    return s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))


def t1(s) -> int:
    from sqlalchemy import select

    from kcc_desktop.models import TaxCode

    return s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
