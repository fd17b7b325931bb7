"""Reconciliation against both sandboxes over HTTP: a clean export agrees to the penny; each difference
(deleted, voided, edited in the package; edited in the ledger; a row marked by hand with no match) is
reported with its status and advice, in paged requests (at most ceil(n / 100) + 5)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.connectors.base import DocKind
from kcc_desktop.sync.reconcile.actions import ReconcileActions
from kcc_desktop.sync.reconcile.engine import Reconciler, request_bound
from kcc_desktop.sync.reconcile.report import Action, Status
from tests.helpers.reconcile import export_ledger

PROVIDERS = ["xero", "quickbooks"]


@pytest.fixture(params=PROVIDERS)
def exported(request):
    return export_ledger(request, request.param)


def test_a_clean_export_reconciles_with_no_variance(exported):
    report = Reconciler(exported.store, exported.package).run()
    assert report.documents > 0
    assert [(r.number, r.status, r.advice) for r in report.differences] == []
    assert report.rows and all(r.variance == 0 for r in report.rows)
    assert report.requests <= request_bound(report.documents)
    assert report.balances and all(b.difference == 0 for b in report.balances)
    assert report.to_json()["differences"] == [] and report.to_json()["matched"] == report.documents



def rows_by_number(report):
    """Document rows by number (a prepayment allocation's row carries its invoice's number)."""
    return {r.number: r for r in report.rows if r.item_type != "prepayment_allocation"}


@pytest.mark.parametrize("status", ["DELETED", "VOIDED"])
def test_a_document_deleted_or_voided_in_the_package_is_reported_with_resend_or_handled(exported, status):
    exported.add_invoice("SI-GONE", draft=status == "DELETED")
    exported.set_status("SI-GONE", status)
    report = Reconciler(exported.store, exported.package).run()
    [diff] = report.differences
    wanted = Status.DELETED if status == "DELETED" else Status.VOIDED
    assert (diff.number, diff.status) == ("SI-GONE", wanted)
    assert "Re-send" in diff.advice and "handled" in diff.advice
    assert report.to_json()["differences"] == [{
        "type": "sales_invoice", "number": "SI-GONE", "ledger_total": f"{diff.ledger_total:.2f}",
        "package_total": None if status == "DELETED" and exported.provider == "quickbooks" else
        f"{diff.package_total:.2f}", "status": wanted.value, "advice": diff.advice}]
    assert report.requests <= request_bound(report.documents)


def test_a_document_edited_in_the_package_is_reported(exported):
    exported.edit_amount("SI-0003", Decimal("25.00"))
    report = Reconciler(exported.store, exported.package).run()
    [diff] = report.differences
    assert (diff.number, diff.status) == ("SI-0003", Status.EDITED_IN_PACKAGE)
    assert diff.package_total != diff.ledger_total and diff.variance == diff.package_total - diff.ledger_total
    assert "after KCC sent it" in diff.advice and diff.changes


def test_a_hand_marked_row_with_no_match_is_missing_and_one_with_a_match_agrees(exported):
    from kcc_desktop.ledger import service
    from kcc_desktop.models import Company, ExportItem, StockItem
    from kcc_desktop.sync.export import ExportService

    with exported.store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
        service.create_document(s, "sales_invoice", acme, "SI-HAND", date(2026, 1, 9),
                                [service.LineInput(Decimal(1), Decimal("10.00"), stock_item_id=w100.id)])
    svc = ExportService(exported.store)
    with exported.store.session() as s:
        hand = s.scalar(select(ExportItem.id).where(ExportItem.reference == "SI-HAND"))
    svc.mark_exported([hand], "typed into the package by hand", user="alice")
    report = Reconciler(exported.store, exported.package).run()
    [diff] = report.differences
    assert (diff.number, diff.status, diff.package_total) == ("SI-HAND", Status.MISSING, None)
    assert "alice" in diff.advice and "typed into the package by hand" in diff.advice
    assert report.requests <= request_bound(report.documents)
    # A row marked by hand whose document the package does hold (entered there by hand): found by number.
    from kcc_desktop.models import RemoteLink

    with exported.store.transaction() as s:
        [row] = s.scalars(select(ExportItem).where(ExportItem.reference == "SI-0002",
                                                   ExportItem.item_type == "sales_invoice")).all()
        row.marked_manually, row.remote_id, row.marked_by, row.mark_reason = True, "", "bob", "keyed in"
        s.execute(RemoteLink.__table__.delete().where(RemoteLink.object_id == row.object_id,
                                                      RemoteLink.object_type == "sales_invoice"))
    again = Reconciler(exported.store, exported.package).run()
    found = rows_by_number(again)["SI-0002"]
    assert not found.problem and found.package_total == found.ledger_total
    assert "bob" in found.advice and "holds a matching" in found.advice


def test_a_ledger_edit_after_export_is_listed_and_sending_the_change_clears_it(exported):
    from kcc_desktop.ledger import service
    from kcc_desktop.models import Document

    with exported.store.transaction() as s:
        doc = s.scalar(select(Document).where(Document.number == "SI-0003"))
        lines = [service.LineInput(line.quantity + 1, line.unit_price, stock_item_id=line.stock_item_id,
                                   description=line.description, discount_rate=line.discount_rate,
                                   tax_code_id=line.tax_code_id, nominal_id=line.nominal_id) for line in doc.lines]
        service.amend_document(s, doc, lines=lines, when=doc.date + timedelta(days=1))
    report = Reconciler(exported.store, exported.package).run()
    [diff] = report.differences
    assert (diff.number, diff.status) == ("SI-0003", Status.CHANGED_SINCE_EXPORT)
    assert any(c.startswith("amount ") for c in diff.changes) and any(c.startswith("date ") for c in diff.changes)
    assert "send the change" in diff.advice and Action.SEND_CHANGE in diff.actions
    actions = ReconcileActions(exported.store, exported.provider)
    outcome = actions.send_change(diff.item_id, exported.package)
    assert outcome.ok, outcome.message
    again = Reconciler(exported.store, exported.package).run()
    assert again.differences == [], [(r.number, r.status, r.advice) for r in again.differences]
    assert rows_by_number(again)["SI-0003"].package_total == rows_by_number(again)["SI-0003"].ledger_total


def test_accepting_or_handling_needs_a_reason_and_is_audited(exported):
    from kcc_desktop.models import AuditEntry
    from kcc_desktop.sync.reconcile.actions import ReasonRequired

    exported.set_status("SI-0001", "VOIDED")
    exported.edit_amount("SI-0003", Decimal("25.00"))
    report = Reconciler(exported.store, exported.package).run()
    voided, edited = (rows_by_number(report)[n] for n in ("SI-0001", "SI-0003"))
    actions = ReconcileActions(exported.store, exported.provider)
    with pytest.raises(ReasonRequired):
        actions.mark_handled(voided.item_id, voided.status.value, "  ")
    actions.mark_handled(voided.item_id, voided.status.value, "voided on purpose: order cancelled")
    with pytest.raises(ReasonRequired):
        actions.accept(edited.item_id, "", edited.package_total)
    actions.accept(edited.item_id, "customer agreed a discount in Xero", edited.package_total)
    after = Reconciler(exported.store, exported.package).run()
    assert after.differences == []
    assert rows_by_number(after)["SI-0001"].status == Status.HANDLED
    assert rows_by_number(after)["SI-0003"].status == Status.ACCEPTED
    with exported.store.session() as s:
        trail = [(e.what, e.reason, e.user) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [t[1] for t in trail[-2:]] == ["voided on purpose: order cancelled", "customer agreed a discount in Xero"]
    assert len(trail[-2:]) == 2 and all(t[2] for t in trail[-2:])


def test_resend_puts_a_deleted_document_back_and_upload_creates_it(exported):
    from kcc_desktop.sync.export import ExportService

    exported.add_invoice("SI-GONE", draft=True)
    exported.set_status("SI-GONE", "DELETED")
    [diff] = Reconciler(exported.store, exported.package).run().differences
    ReconcileActions(exported.store, exported.provider).resend(diff.item_id, "deleted in error")
    queued = Reconciler(exported.store, exported.package).run()
    assert queued.differences == [] and rows_by_number(queued)["SI-GONE"].status == Status.HANDLED
    svc = ExportService(exported.store)
    assert svc.upload(svc.pending_ids(), exported.package).exported == 1
    after = Reconciler(exported.store, exported.package).run()
    assert after.differences == [] and rows_by_number(after)["SI-GONE"].status == Status.MATCHED


def api_requests(sandbox) -> int:
    return sum(n for key, n in sandbox.stats()["by_endpoint"].items() if "/_sandbox" not in key)


def test_hundreds_of_documents_take_paged_requests_within_the_bound(exported):
    from kcc_desktop.ledger import service
    from kcc_desktop.models import Company, StockItem
    from kcc_desktop.sync.export import ExportService

    with exported.store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
        for k in range(230):
            service.create_document(s, "sales_invoice", acme, f"SI-M{k:03d}", date(2026, 1, 1) + timedelta(days=k % 28),
                                    [service.LineInput(Decimal(k % 7 + 1), Decimal("3.33"), stock_item_id=w100.id)])
    svc = ExportService(exported.store)
    assert svc.upload(svc.pending_ids(), exported.package).failed == 0
    # Cancel after the first read: what was read is reported, nothing unread is called deleted.
    cancel, seen = threading.Event(), []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total))
        if done:
            cancel.set()

    stopped = Reconciler(exported.store, exported.package).run(date(2026, 1, 1), date(2026, 1, 31),
                                                               progress=progress, cancel=cancel)
    assert stopped.cancelled and stopped.requests == 1 and stopped.differences == []
    assert 0 < stopped.documents <= 100 < seen[0][1]
    before = api_requests(exported.sandbox)
    report = Reconciler(exported.store, exported.package).run(date(2026, 1, 1), date(2026, 1, 31))
    made = api_requests(exported.sandbox) - before
    assert report.documents >= 235 and report.differences == []
    assert made == report.requests <= request_bound(report.documents), (made, report.requests)
    assert report.to_json()["requests"] == made


def test_a_ledger_edit_to_a_paid_document_is_credited_and_reissued(exported):
    from kcc_desktop.ledger import service
    from kcc_desktop.models import Document

    exported.pay_in_full("SI-0001")
    with exported.store.transaction() as s:
        doc = s.scalar(select(Document).where(Document.number == "SI-0001"))
        service.amend_document(s, doc, lines=[service.LineInput(Decimal(2), Decimal("40.00"),
                                                                tax_code_id=doc.lines[0].tax_code_id,
                                                                nominal_id=doc.lines[0].nominal_id,
                                                                description="Fitting")])
    report = Reconciler(exported.store, exported.package).run()
    diff = rows_by_number(report)["SI-0001"]
    assert diff.status == Status.CHANGED_SINCE_EXPORT and "paid" in diff.advice
    assert diff.actions == (Action.CREDIT_REISSUE, Action.ACCEPT)
    old_remote = diff.remote_id
    outcome = ReconcileActions(exported.store, exported.provider).credit_and_reissue(diff.item_id, exported.package)
    assert outcome.ok, outcome.message
    assert "SI-0001-CR1" in outcome.message and "SI-0001-R1" in outcome.message
    again = Reconciler(exported.store, exported.package).run()
    row = rows_by_number(again)["SI-0001"]
    assert row.remote_id != old_remote and row.package_total == row.ledger_total == Decimal("96.00")
    assert again.differences == [], [(r.number, r.status, r.advice) for r in again.differences]
    found = exported.package.find_documents([(DocKind.SALES_CREDIT, "SI-0001-CR1")])
    [credit] = found[(DocKind.SALES_CREDIT, "SI-0001-CR1")]
    assert credit.total == diff.package_total


def test_a_payment_kcc_sent_and_then_deleted_in_the_package_is_reported(exported):
    payment_id = exported.prepay()
    clean = Reconciler(exported.store, exported.package).run()
    [paid] = [r for r in clean.rows if r.item_type == "prepayment_allocation"]
    assert (paid.status, paid.ledger_total, paid.package_total) == (Status.MATCHED, Decimal("20.00"),
                                                                    Decimal("20.00"))
    assert clean.differences == [] and clean.requests <= request_bound(clean.documents)
    exported.delete_payment(payment_id)
    report = Reconciler(exported.store, exported.package).run()
    kinds = {(r.item_type, r.number, r.status) for r in report.differences}
    assert ("prepayment_allocation", paid.number, Status.DELETED) in kinds
    # ...and the invoice it paid is owed more in the package than in the ledger.
    assert ("sales_invoice", paid.number, Status.OUTSTANDING_DIFFERS) in kinds
    row = next(r for r in report.differences if r.item_type == "prepayment_allocation")
    assert "deleted" in row.advice and Action.RESEND in row.actions
    ReconcileActions(exported.store, exported.provider).mark_handled(row.item_id, row.status.value,
                                                                     "refunded instead")
    after = Reconciler(exported.store, exported.package).run()
    assert {(r.item_type, r.status) for r in after.differences} == {("sales_invoice", Status.OUTSTANDING_DIFFERS)}


def test_a_foreign_currency_document_that_differs_only_by_exchange_is_labelled_not_an_error(request):
    from kcc_desktop.ledger import service
    from kcc_desktop.models import Company, NominalCode, TaxCode
    from kcc_desktop.sync.export import ExportService
    from kcc_desktop.sync.options import OptionsService

    exported = export_ledger(request, "xero")
    exported.sandbox.organisation(Currencies=["EUR"])
    OptionsService(exported.store).update(multicurrency=True)
    with exported.store.transaction() as s:
        euro = Company(code="EURO", name="Euro Buyer SARL", kind="customer", currency="EUR")
        s.add(euro)
        s.flush()
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
        service.create_document(s, "sales_invoice", euro, "SI-EUR-1", date(2026, 1, 21),
                                [service.LineInput(Decimal(1), Decimal("100"), description="Widgets",
                                                   tax_code_id=t1, nominal_id=sales)], currency="EUR")
    svc = ExportService(exported.store)
    assert svc.upload(svc.pending_ids(), exported.package).failed == 0
    report = Reconciler(exported.store, exported.package).run()
    row = rows_by_number(report)["SI-EUR-1"]
    assert (row.status, row.problem, row.package_total) == (Status.EXCHANGE_DIFFERENCE, False, Decimal("120.00"))
    assert row.package_base_total != row.ledger_total and "Only exchange" in row.advice
    assert report.differences == [] and report.to_json()["differences"] == []
