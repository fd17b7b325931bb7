"""Upload Data against the Xero sandbox over HTTP: exactly once, dependencies first, feedback in words."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import (
    Company,
    Document,
    ExportFeedback,
    ExportItem,
    NominalCode,
    RemoteLink,
    TaxCode,
    utcnow,
)
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.export import rules as export_rules
from kcc_desktop.sync.export.claims import LEASE
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from tests.helpers.ledger import add_cos_and_stock_documents, build_ledger
from tests.helpers.waiting import wait_until


def items(store, **where):
    with store.session() as s:
        q = select(ExportItem).order_by(ExportItem.id)
        for k, v in where.items():
            q = q.where(getattr(ExportItem, k) == v)
        return s.scalars(q).all()


def item_id(store, reference, item_type=None):
    return next(i.id for i in items(store)
                if i.reference == reference and (item_type is None or i.item_type == item_type))


def feedback(store):
    with store.session() as s:
        return s.scalars(select(ExportFeedback).order_by(ExportFeedback.id)).all()


def remote_docs(xero, package) -> list[dict]:
    token = package.tokens.access_token()
    out = xero.api("Invoices?page=1", package.tenant_id, token)["Invoices"]
    out += [dict(cn, InvoiceNumber=cn["CreditNoteNumber"]) for cn in
            xero.api("CreditNotes?page=1", package.tenant_id, token)["CreditNotes"]]
    return out


def ledger_totals(store) -> dict[str, Decimal]:
    with store.session() as s:
        return {d.number: d.gross_total for d in s.scalars(select(Document))}


def test_upload_sends_each_document_once_with_the_ledgers_totals(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=3, lines_per_invoice=3)
    svc = ExportService(store)
    seen = []
    summary = svc.upload(svc.pending_ids(), package, progress=lambda d, t, s: seen.append((d, t)))
    assert (summary.exported, summary.failed, summary.pending) == (10, 0, 0)
    assert seen[-1] == (10, 10)
    docs = remote_docs(xero_sync_sandbox, package)
    numbers = sorted(d["InvoiceNumber"] for d in docs)
    assert numbers == sorted(ledger_totals(store))                      # each document once
    assert {d["InvoiceNumber"]: Decimal(str(d["Total"])) for d in docs} == ledger_totals(store)  # to the penny
    mapped = MappingService(store, "xero")
    with store.session() as s:
        allowed = {mapped.resolve_nominal(s.scalar(select(NominalCode.id).where(NominalCode.code == c)))
                   for c in ("4000", "5000")}
    codes = {line["AccountCode"] for d in docs for line in d["LineItems"]}
    assert codes <= allowed and not codes & {"630", "1001", "5100"}   # never stock or cost of sale
    # one request per batch: contacts, items, invoices and bills together, credit notes
    assert (xero_sync_sandbox.count("PUT", "/Contacts"), xero_sync_sandbox.count("PUT", "/Items"),
            xero_sync_sandbox.count("PUT", "/Invoices"), xero_sync_sandbox.count("PUT", "/CreditNotes")) == (1, 1, 1, 1)
    # every row moved to Exported Successfully with the package's id and a tick, and is linked
    rows = items(store)
    assert rows and all(r.status == "exported" and r.confirmed and r.remote_id for r in rows)
    with store.session() as s:
        assert s.query(RemoteLink).count() == 10
    again = svc.upload(svc.pending_ids(), package)
    assert (again.exported, again.requests) == (0, 0)


def test_an_invoice_takes_its_company_and_stock_items_first(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    svc = ExportService(store)
    summary = svc.upload([item_id(store, "SI-0001")], package)
    exported = {(i.item_type, i.reference) for i in items(store, status="exported")}
    assert exported == {("company", "ACME"), ("stock_item", "W-100"), ("stock_item", "CHILD-1"),
                        ("sales_invoice", "SI-0001")}
    assert summary.exported == 4 and summary.pending == 5


def test_a_missing_mapping_gives_one_feedback_row_and_nothing_else_changes(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=0)
    svc = ExportService(store)
    svc.upload(svc.pending_ids(), package)
    mapping = MappingService(store, "xero")
    with store.transaction() as s:
        services = s.scalar(select(NominalCode).where(NominalCode.code == "4010"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        service.create_document(s, "sales_invoice", acme, "SI-SVC", date(2026, 3, 1),
                                [service.LineInput(Decimal(2), Decimal("45.00"), description="Fitting",
                                                   nominal_id=services.id, tax_code_id=t1)])
    mapping.set_mapping(NOMINAL, services.id, None)
    before = [(i.id, i.status, i.attempt_key) for i in items(store)]
    puts = xero_sync_sandbox.count("PUT", "/Invoices")
    summary = svc.upload([item_id(store, "SI-SVC")], package)
    assert (summary.exported, summary.failed) == (0, 1)
    [fb] = feedback(store)
    assert fb.nominal_code == "4010" and "Mapping tab" in fb.advice and "SI-SVC" in fb.item_label
    assert "4010" in fb.message
    assert [(i.id, i.status, i.attempt_key) for i in items(store)] == before   # still pending, nothing sent
    assert xero_sync_sandbox.count("PUT", "/Invoices") == puts


def test_a_failed_dependency_holds_back_what_needs_it(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "ACME")).email = "accounts at acme"
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    pending = {i.reference for i in items(store, status="pending")}
    assert pending == {"ACME", "SI-0001", "SC-0001"}          # ACME refused; its documents held back
    assert summary.failed == 1 and summary.held == 2
    by_label = {f.item_label: f for f in feedback(store)}
    assert "mail" in by_label["Company ACME"].message.lower()          # the package's own words
    assert "email address" in by_label["Company ACME"].advice
    held = by_label["Invoice SI-0001"]
    assert held.message.startswith("Not sent: Company ACME could not be uploaded")
    assert "SI-0001" not in {d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)}


def test_a_connection_dropped_after_commit_is_retried_without_a_duplicate(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=3)
    # The first batch is saved and its answer cut, twice: the third send (same key) is the last the
    # connector's retry policy allows.
    xero_sync_sandbox.faults(drop_after_commit_count=2)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.exported == 10 and summary.failed == 0
    numbers = [d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)]
    assert sorted(numbers) == sorted(set(numbers)) == sorted(ledger_totals(store))
    assert xero_sync_sandbox.stats()["faults"]["dropped"] == 2


class Killed(BaseException):
    """The process died between the package's answer and saving it."""


@pytest.mark.parametrize("restart", [False, True], ids=["same-process-replay", "after-restart-lookup"])
def test_killed_mid_upload_then_rerun_creates_nothing_twice_and_loses_nothing(xero_exporting, xero_sync_sandbox,
                                                                              restart):
    store, package = xero_exporting
    build_ledger(store, invoices=3)
    svc = ExportService(store)

    def die(ids):
        if any(i.item_type == "sales_invoice" for i in items(store) if i.id in ids):
            raise Killed()
    svc.after_send = die
    with pytest.raises(Killed):
        svc.upload(svc.pending_ids(), package)
    stuck = items(store, status="pending", item_type="sales_invoice")
    assert len(stuck) == 3 and all(i.attempt_key for i in stuck)       # the key was saved before sending
    if restart:
        export_rules.SENT_KEYS.clear()                                  # a new process remembers nothing
    rerun = ExportService(store)
    summary = rerun.upload(rerun.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0
    numbers = [d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)]
    assert sorted(numbers) == sorted(set(numbers)) == sorted(ledger_totals(store))
    everything = items(store)
    assert everything and all(i.status == "exported" and i.remote_id for i in everything)


def test_an_old_attempt_is_looked_up_before_creating_again(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    svc = ExportService(store)
    si1 = item_id(store, "SI-0001")

    def die(ids):
        if si1 in ids:
            raise Killed()
    svc.after_send = die
    with pytest.raises(Killed):
        svc.upload([si1], package)
    # Ten minutes later (past the package's memory of the key) the rerun must look it up.
    later = ExportService(store, clock=lambda: utcnow() + timedelta(minutes=10))
    before = xero_sync_sandbox.count("PUT", "/Invoices")
    later.upload(later.pending_ids(), package)
    assert xero_sync_sandbox.count("GET", "/Invoices") >= 1
    assert xero_sync_sandbox.count("PUT", "/Invoices") - before == 1       # the bill's batch only: SI-0001 was found
    numbers = [d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)]
    assert numbers.count("SI-0001") == 1


def test_a_package_that_cannot_say_keeps_the_items_pending_and_stops_the_run(xero_exporting, xero_sync_sandbox):
    """Unknown is not absent: look-ups that fail leave interrupted items pending under their keys, nothing is
    sent again, and three failures in a row stop the run in words. Once the package answers, each is found."""
    store, package = xero_exporting
    build_ledger(store, invoices=4)
    svc = ExportService(store)

    def die(ids):
        if any(i.item_type == "sales_invoice" for i in items(store) if i.id in ids):
            raise Killed()
    svc.after_send = die
    with pytest.raises(Killed):
        svc.upload(svc.pending_ids(), package)
    stuck = {i.id: i.attempt_key for i in items(store, status="pending", item_type="sales_invoice")}
    assert len(stuck) == 4 and all(stuck.values())
    later = ExportService(store, clock=lambda: utcnow() + timedelta(minutes=10))   # past the key's replay window
    xero_sync_sandbox.faults(error_rate=1.0)
    puts, gets = xero_sync_sandbox.count("PUT", "/Invoices"), xero_sync_sandbox.count("GET", "/Invoices")

    summary = later.upload(later.pending_ids(), package)

    assert "Xero is not answering; nothing was lost; try again later" in summary.stopped
    assert xero_sync_sandbox.count("PUT", "/Invoices") == puts                      # nothing sent again
    assert xero_sync_sandbox.count("GET", "/Invoices") - gets <= 3 * 3              # 3 look-ups, 3 sends each
    assert {i.id: i.attempt_key for i in items(store, status="pending", item_type="sales_invoice")} == stuck

    xero_sync_sandbox.faults(error_rate=0.0)
    again = ExportService(store, clock=lambda: utcnow() + timedelta(minutes=10))
    summary = again.upload(again.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0
    assert xero_sync_sandbox.count("PUT", "/Invoices") - puts <= 1                 # the bill's batch at most
    numbers = [d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)]
    assert sorted(numbers) == sorted(set(numbers)) == sorted(ledger_totals(store))


def test_mark_as_exported_and_not_exported(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    svc = ExportService(store)
    manual = item_id(store, "SI-0001")
    assert svc.mark_exported([manual], "entered in Xero by hand") == 1
    row = next(i for i in items(store) if i.id == manual)
    assert (row.status, row.marked_manually, row.confirmed) == ("exported", True, False)
    svc.upload(svc.pending_ids(), package)
    assert "SI-0001" not in {d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)}   # never sent
    sent = item_id(store, "SC-0001")
    assert svc.mark_not_exported([sent]) == 0                 # sent rows stay exported
    assert svc.mark_not_exported([manual]) == 1
    assert next(i for i in items(store) if i.id == manual).status == "pending"
    svc.upload([manual], package)
    assert "SI-0001" in {d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)}


def test_verify_ticks_rows_found_in_the_package_and_goto_gives_the_address(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    svc = ExportService(store)
    svc.mark_exported([item_id(store, "SI-0002")], "test: never sent")   # marked by hand, not in Xero
    svc.upload(svc.pending_ids(), package)
    si1 = item_id(store, "SI-0001")
    with store.transaction() as s:
        s.get(ExportItem, si1).confirmed = False
    found, missing = svc.verify([si1, item_id(store, "SI-0002"), item_id(store, "ACME")], package)
    assert (found, missing) == (2, 1)
    assert next(i for i in items(store) if i.id == si1).confirmed
    url = svc.goto_url(si1, package)
    assert url.startswith(xero_sync_sandbox.root) and next(i for i in items(store) if i.id == si1).remote_id in url


def test_cancel_stops_after_the_batch_in_flight(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=6)
    package.batch_size = 2
    cancel = threading.Event()
    svc = ExportService(store)

    def progress(done, total, text):
        if done >= 4:
            cancel.set()
    summary = svc.upload(svc.pending_ids(), package, progress=progress, cancel=cancel)
    assert summary.cancelled and summary.failed == 0
    assert 4 <= summary.exported < 13 and summary.pending == 13 - summary.exported
    assert not any(i.attempt_key for i in items(store, status="pending"))   # nothing left half-sent


def test_a_revoked_connection_stops_the_run_with_a_clear_message(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    xero_sync_sandbox.control("revoke")
    package.tokens.forget() if hasattr(package.tokens, "forget") else None
    xero_sync_sandbox.control("expire-tokens")
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert "Valid Connection Required" in summary.stopped and summary.exported == 0
    assert summary.pending == 8


def test_the_export_command_prints_counts_and_fails_when_anything_failed(xero_exporting, xero_sync_sandbox, company_db,
                                                                        capsys):
    from kcc_desktop.cli import main

    store, _package = xero_exporting
    build_ledger(store, invoices=1)
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "SUPP")).email = "bad@"
    code = main(["--db", company_db, "export", "--all", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {"exported": 6, "failed": 2, "pending": 2} and code == 1
    with store.transaction() as s:
        s.scalar(select(Company).where(Company.code == "SUPP")).email = "bad@supplies.example"
    code = main(["--db", company_db, "export", "--json"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"exported": 2, "failed": 0, "pending": 0}
    assert code == 0




@pytest.mark.posix_signals
def test_a_killed_export_process_loses_nothing_and_creates_nothing_twice(xero_exporting, xero_sync_sandbox, company_db,
                                                                        tmp_path, _temporary_keyring):
    """The real thing: `kcc-desktop export` in its own process, SIGKILLed while the invoices are in flight."""
    import os
    import shutil
    import signal
    import subprocess
    import sys

    store, package = xero_exporting
    build_ledger(store, invoices=3)
    xdg = tmp_path / "xdg"
    (xdg / "python_keyring").mkdir(parents=True)
    shutil.copy(_temporary_keyring.file_path, xdg / "python_keyring" / "keyring_pass.cfg")
    env = dict(os.environ, XDG_DATA_HOME=str(xdg), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               KCC_XERO_URL=xero_sync_sandbox.root)
    xero_sync_sandbox.faults(latency=1.0)
    proc = subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", company_db, "export", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: any(i.attempt_key for i in items(store, item_type="sales_invoice")))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    stuck = items(store, item_type="sales_invoice")
    assert stuck and all(i.status == "pending" and i.attempt_key for i in stuck)          # sent, outcome never saved
    # The package finishes the request the dead process left behind.
    wait_until(lambda: sum(xero_sync_sandbox.stats()["by_status"].values()) == xero_sync_sandbox.stats()["requests"])
    xero_sync_sandbox.faults(latency=0.0)
    export_rules.SENT_KEYS.clear()
    # At once, the dead process's claims still hold: nothing of its is touched, nothing is sent.
    puts = xero_sync_sandbox.count("PUT", "/Invoices")
    early = ExportService(store).upload(ExportService(store).pending_ids(), package)
    assert early.exported == 0 and early.failed == 0 and early.elsewhere >= 3
    assert xero_sync_sandbox.count("PUT", "/Invoices") == puts
    # Once its lease has run out (no heartbeat renews it), the next run takes over and recovers.
    rerun = ExportService(store, clock=lambda: utcnow() + LEASE + timedelta(seconds=1))
    summary = rerun.upload(rerun.pending_ids(), package)
    assert summary.failed == 0 and summary.pending == 0
    numbers = [d["InvoiceNumber"] for d in remote_docs(xero_sync_sandbox, package)]
    assert sorted(numbers) == sorted(set(numbers)) == sorted(ledger_totals(store))


def test_cost_of_sale_and_stock_never_reach_xero(xero_exporting, xero_sync_sandbox):
    """Issue 20: a full export of lines coded to cost of sale and to stock, and of stock items (whose cost
    of sale the ledger posts): nothing of either in Xero. Such lines go to the default sales or purchase
    account, the items are untracked, and Xero is sent nothing but contacts, items and documents."""
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    add_cos_and_stock_documents(store)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert (summary.failed, summary.held, summary.pending) == (0, 0, 0), [f.message for f in feedback(store)]
    docs = {d["InvoiceNumber"]: d for d in remote_docs(xero_sync_sandbox, package)}
    assert {k: Decimal(str(d["Total"])) for k, d in docs.items()} == ledger_totals(store)
    mapped = MappingService(store, "xero")
    with store.session() as s:
        sales, purchases = (mapped.resolve_nominal(s.scalar(select(NominalCode.id).where(NominalCode.code == c)))
                            for c in ("4000", "5000"))
    assert {line["AccountCode"] for line in docs["SI-COS"]["LineItems"]} == {sales}
    assert {line["AccountCode"] for line in docs["PI-COS"]["LineItems"]} == {purchases}
    used = {line["AccountCode"] for d in docs.values() for line in d["LineItems"]}
    assert used and not used & {"630", "310", "1001", "5100"}   # Xero's inventory and cost of goods sold
    token = package.tokens.access_token()
    xero_items = xero_sync_sandbox.api("Items", package.tenant_id, token)["Items"]
    assert sorted(i["Code"] for i in xero_items) == ["CHILD-1", "W-100"]
    for item in xero_items:
        assert item["IsTrackedAsInventory"] is False and not item.get("InventoryAssetAccountCode")
        assert not item.get("PurchaseDetails", {}).get("COGSAccountCode")
    writes = {k for k, n in xero_sync_sandbox.stats()["by_endpoint"].items()
              if n and k.split(" ", 1)[0] in ("PUT", "POST") and "/api.xro/" in k}
    assert writes and {k.rsplit("/", 1)[1] for k in writes} <= {"Contacts", "Items", "Invoices", "CreditNotes"}
