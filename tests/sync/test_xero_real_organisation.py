"""Issue 13's acceptance, through the commands a user runs: a Xero organisation with a lock date, a foreign
currency added (and one not), contacts and items named like the ledger's already there, and a Starter plan
nearly used up. ``kcc-desktop check --json`` names each problem; ``kcc-desktop export --all`` then sends
nothing Xero refuses, creates no second contact or item, and what it sends agrees with the ledger."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.cli import main
from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, LineIn
from kcc_desktop.models import ExportItem, ExportStatus
from kcc_desktop.sync.mapping import MappingService
from kcc_desktop.sync.options import OptionsService
from tests.helpers.ledger import build_qbo_ledger, foreign_invoice

_DOCS = ("sales_invoice", "sales_credit", "purchase_invoice", "purchase_credit")


def _entered_by_hand(package, n: int, on: date) -> None:
    """Invoices the bookkeeper approved in Xero this month, before KCC connected."""
    [c] = package.upsert_contacts([ContactIn(key="k", name="Counter Sales")], "counter")
    results = package.create_documents([DocumentIn(f"x{i}", DocKind.SALES_INVOICE, f"HAND-{i}", c.remote_id, "",
                                                   on, on, "GBP",
                                                   [LineIn("Counter sale", Decimal(1), Decimal(10), "200", "OUTPUT2")])
                                        for i in range(n)], "hand")
    assert results and all(r.ok for r in results)


def test_check_names_each_problem_and_export_sends_nothing_xero_refuses(
        xero_exporting, xero_bookkeeper, xero_sync_sandbox, tmp_db_path, capsys):
    store, package = xero_exporting
    build_qbo_ledger(store, invoices=4)   # SI-0001..4 dated 10-13 Jan, PI-0001 5 Jan, credit notes, a prepayment
    MappingService(store, "xero").set_nominal("7500", "429")
    OptionsService(store).update(multicurrency=True)
    foreign_invoice(store, "EURO1", "EUR", "SI-EUR-1", "7", "13.337", date(2026, 2, 3), discount="2.5")
    foreign_invoice(store, "USD1", "USD", "SI-USD-1", "7", "13.337", date(2026, 2, 3))
    acme = xero_bookkeeper.add_contact("Acme Tools Ltd")
    w100 = xero_bookkeeper.add_item("W-100", "Widget", "19.99")
    _entered_by_hand(package, 19, date(2026, 1, 20))   # a Starter plan approves 20 a month: one left
    xero_sync_sandbox.organisation(PeriodLockDate="2026-01-11", Currencies=["EUR"], Rates={"EUR": "1.1875"},
                                   Plan="STARTER")
    before = xero_sync_sandbox.stats()["by_status"].get("400", 0)

    assert main(["--db", store.label, "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)

    assert report["ok"] is False
    problems = {p["code"]: p for p in report["problems"]}
    assert {"lock_date", "currency_not_added", "plan_limit"} <= set(problems), report
    assert "SI-0001" in problems["lock_date"]["message"] and "PI-0001" in problems["lock_date"]["message"]
    assert "SI-USD-1" in problems["currency_not_added"]["message"]
    assert "SI-0004" in problems["plan_limit"]["message"]
    assert report["problems"] and all(p["advice"] for p in report["problems"])

    assert main(["--db", store.label, "export", "--all", "--json"]) == 1   # some held back, as checked
    capsys.readouterr()

    assert xero_sync_sandbox.stats()["by_status"].get("400", 0) == before   # nothing sent that Xero refused
    api, tid = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    contacts = [c.name for c in api.get_contacts(tid, include_archived=True).contacts]
    assert contacts.count("Acme Tools Ltd") == 1
    assert [i.item_id for i in api.get_items(tid).items if i.code == "W-100"] == [w100]
    with store.session() as s:
        items = {i.reference: i for i in s.scalars(select(ExportItem))}
    assert items["ACME"].remote_id == acme and items["ACME-S"].remote_id == acme
    held = {r for r, i in items.items() if i.status == ExportStatus.PENDING}
    assert {"SI-0001", "SI-0002", "PI-0001", "SI-0004", "SI-USD-1"} <= held
    sent = [i for i in items.values() if i.status == ExportStatus.EXPORTED and i.item_type in _DOCS]
    assert {"SI-0003", "SI-EUR-1", "SC-0001", "PI-0002", "PC-0001"} <= {i.reference for i in sent}
    totals = {str(i.invoice_id): i.total for i in api.get_invoices(tid, i_ds=[i.remote_id for i in sent
                                                                             if "credit" not in i.item_type]).invoices}
    totals.update({str(c.credit_note_id): c.total for c in api.get_credit_notes(tid).credit_notes})
    assert {i.reference: totals[i.remote_id] for i in sent} == {i.reference: i.amount for i in sent}
