"""Multi-currency both ways, and Xero prepayments, through Upload Data and the Import against the sandbox.

Documents in a currency the organisation has added go in it (Xero keeps the currency and its day rate);
one in a currency it has not added is held back before sending. A bookkeeper's payment in that currency
comes back and allocates. A customer's prepayment allocated to an invoice in Xero comes back once, as the
payment and its allocation; KCC's own uploaded prepayment allocations never come back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import (
    Company,
    Document,
    ExportFeedback,
    ExportItem,
    ExportStatus,
    ImportedPayment,
    Payment,
    RemoteLink,
)
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.mapping import MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.payments_import import CREATED, PaymentsImport
from kcc_desktop.sync.precheck import run_precheck
from tests.helpers.ledger import build_qbo_ledger, foreign_invoice

ON = date(2026, 2, 3)


def _item(store, reference: str) -> ExportItem:
    with store.session() as s:
        return s.scalar(select(ExportItem).where(ExportItem.reference == reference).order_by(ExportItem.id.desc()))


def test_documents_go_in_added_currencies_and_their_payments_come_back(
        xero_exporting, xero_sync_sandbox, xero_bookkeeper):
    store, package = xero_exporting
    OptionsService(store).update(multicurrency=True)
    xero_sync_sandbox.organisation(Currencies=["EUR"], Rates={"EUR": "1.2500"})
    MappingService(store, "xero").fetch(package)    # Get Nominal & Tax Accounts keeps the settings read
    foreign_invoice(store, "EURO1", "EUR", "SI-EUR-1", "3", "33.33", ON)
    foreign_invoice(store, "USD1", "USD", "SI-USD-1", "3", "10.00", ON)
    service_ = ExportService(store)

    assert "USD, which Xero does not have" in run_precheck(store, [_item(store, "SI-USD-1").id])[
        _item(store, "SI-USD-1").id]
    summary = service_.upload(service_.pending_ids(), package)

    euro = _item(store, "SI-EUR-1")
    assert euro.status == ExportStatus.EXPORTED and summary.failed == 1
    api, tid = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    sent = api.get_invoice(tid, euro.remote_id).invoices[0]
    assert (sent.currency_code.value, sent.currency_rate, sent.total) == ("EUR", Decimal("1.25"), euro.amount)
    with store.session() as s:   # the pre-check's finding, then Upload Data's: the same words, so one row seen twice
        found = list(s.scalars(select(ExportFeedback)))
        assert {f.item_label for f in found} == {"Invoice SI-USD-1"} and len(found) == 1 and found[0].count == 2
        assert {f.message for f in found} == {"The currency 'USD' has not been added to this organisation."}
        assert found and all("Add USD to the organisation's currencies" in f.advice for f in found)
    assert xero_sync_sandbox.stats()["by_status"].get("400", 0) == 0

    # The customer pays in euros; the bank account (in pounds) receives 100.00 / 1.25.
    xero_bookkeeper.pay(euro.remote_id, Decimal("100.00"), ON, "EUR part payment")
    imp = PaymentsImport(store, "xero")
    imp.fetch(package)
    made = imp.create_and_allocate(imp.ready_ids())
    assert (made.created, made.failed) == (1, 0)
    with store.session() as s:
        payment = s.scalar(select(Payment))
        doc = s.scalar(select(Document).where(Document.number == "SI-EUR-1"))
        assert (payment.currency, payment.amount) == ("EUR", Decimal("100.00"))
        assert service.outstanding(s, doc.id) == euro.amount - Decimal("100.00")


def test_a_prepayment_allocated_in_xero_comes_back_once_and_keeps_our_own_allocations_out(
        xero_exporting, xero_bookkeeper):
    store, package = xero_exporting
    info = build_qbo_ledger(store, invoices=3)      # includes KCC's own prepayment, allocated to one invoice
    MappingService(store, "xero").set_nominal("7500", "429")
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    with store.session() as s:
        assert summary.failed == 0, [(f.item_label, f.message) for f in s.scalars(select(ExportFeedback))]
    with store.session() as s:
        links = {(r.object_type, r.object_id): r.remote_id for r in s.scalars(select(RemoteLink))}
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        invoice = s.scalar(select(Document).where(Document.number == "SI-0003"))
        gross = invoice.gross_total
    contact, remote_invoice = links[("company", acme.id)], links[("sales_invoice", invoice.id)]
    prepayment = xero_bookkeeper.receive_prepayment(contact, "30.00", ON, reference="Deposit", tax_type="OUTPUT2")
    xero_bookkeeper.allocate_prepayment(prepayment, remote_invoice, "30.00", ON)
    imp = PaymentsImport(store, "xero")

    fetched = imp.fetch(package)
    made = imp.create_and_allocate(imp.ready_ids())
    again = imp.fetch(package)

    assert (fetched.fetched, made.created, again.fetched) == (1, 1, 0)
    [row] = _imported(store)
    assert (row.remote_id, row.invoices, row.amount, row.status) == (f"prepayment:{prepayment}", "SI-0003",
                                                                      Decimal("30.00"), CREATED + "; "
                                                                      f"{gross - 30:,.2f} GBP still outstanding on "
                                                                      "SI-0003")
    with store.session() as s:
        assert service.outstanding(s, invoice.id) == gross - Decimal("30.00")
    assert info["prepaid_invoice"] != "SI-0003"     # KCC's own allocation went as a Payment and stayed out


def _imported(store) -> list[ImportedPayment]:
    with store.session() as s:
        return list(s.scalars(select(ImportedPayment)))
