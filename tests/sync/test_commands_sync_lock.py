"""The export and import commands take the company file's sync lock, as the window and scheduled runs do:
beside the window's Upload Data they send nothing, fetch nothing, say who holds the file and exit 3
(README "Command line")."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from kcc_desktop.cli import main
from kcc_desktop.models import ImportedPayment
from kcc_desktop.schedule import SyncLock
from kcc_desktop.sync.export import ExportService
from tests.helpers.books import export_books
from tests.helpers.ledger import build_ledger


def test_the_export_command_beside_the_windows_upload_sends_nothing(xero_exporting, xero_sync_sandbox, company_db,
                                                                   capsys):
    store, _package = xero_exporting
    build_ledger(store, invoices=1)
    pending = ExportService(store).pending_ids()
    before = xero_sync_sandbox.stats()["requests"]

    with SyncLock(store, "Upload Data in the window"):
        code = main(["--db", company_db, "export", "--json"])

    err = capsys.readouterr().err
    assert code == 3
    assert "Another sync is running on this company file: Upload Data in the window, started at" in err
    assert "Nothing was done" in err
    assert ExportService(store).pending_ids() == pending and len(pending) == 8
    assert xero_sync_sandbox.requests_to("POST", "/Invoices") + xero_sync_sandbox.requests_to("PUT", "/Invoices") == 0
    assert xero_sync_sandbox.stats()["requests"] - before <= 2   # at most the sign-in check, never an upload
    assert main(["--db", company_db, "export", "--json"]) == 0     # once the window is done
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["exported"] == 8


def test_the_import_command_beside_the_windows_create_and_allocate_does_nothing(xero_exporting, xero_bookkeeper,
                                                                               company_db, capsys):
    store, package = xero_exporting
    b = export_books(store, package, "xero")
    xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], date(2026, 2, 1))

    with SyncLock(store, "Create & Allocate Payments in the window"):
        code = main(["--db", company_db, "import", "--json"])

    assert code == 3
    assert "Create & Allocate Payments in the window" in capsys.readouterr().err
    with store.session() as s:
        assert s.scalar(select(func.count(ImportedPayment.id))) == 0
    assert b.payments() == 0
    assert main(["--db", company_db, "import", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"fetched": 1, "created": 1, "skipped": 0, "failed": 0}
