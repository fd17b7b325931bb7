"""Reconciliation tests' shared setup: a ledger exported to either sandbox, and a bookkeeper changing the
package's copy through its own API (xero-python; python-quickbooks), as someone working in it would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from kcc_desktop.models import Document, ExportItem
from kcc_desktop.sync.export import ExportService
from tests.helpers.ledger import build_ledger, build_qbo_ledger


@dataclass
class Exported:
    """A ledger exported to one sandbox: ``package`` the app's connector, ``books`` the bookkeeper's hands."""

    provider: str
    store: Any
    package: Any
    sandbox: Any
    books: Any

    def remote_id(self, number: str) -> str:
        with self.store.session() as s:
            doc = s.scalar(select(Document).where(Document.number == number))
            item = s.scalar(select(ExportItem).where(ExportItem.object_id == doc.id,
                                                     ExportItem.item_type == doc.kind))
            return item.remote_id

    def add_invoice(self, number: str, unit: str = "10.00", *, draft: bool = False) -> None:
        """One more sales invoice in the ledger, uploaded (as a draft where the package has drafts: Xero deletes
        only drafts and submitted invoices; an approved one can only be voided)."""
        from kcc_desktop.ledger import service
        from kcc_desktop.models import Company, StockItem
        from kcc_desktop.sync.options import OptionsService

        with self.store.transaction() as s:
            acme = s.scalar(select(Company).where(Company.code == "ACME"))
            w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
            service.create_document(s, "sales_invoice", acme, number, date(2026, 1, 12),
                                    [service.LineInput(Decimal(1), Decimal(unit), stock_item_id=w100.id)])
        options = OptionsService(self.store)
        options.update(create_authorised=not draft)
        svc = ExportService(self.store)
        assert svc.upload(svc.pending_ids(), self.package).exported == 1
        options.update(create_authorised=True)

    def prepay(self, number: str = "SI-0002", amount: str = "20.00") -> str:
        """Bloggs (a non-account customer) prepays and the prepayment is allocated to ``number``, uploaded;
        returns the payment's id in the package. (The QuickBooks ledger has one already: SI-0002, 20.00.)"""
        from kcc_desktop.ledger import service
        from kcc_desktop.models import Allocation, BankAccount, Company, ExportItem
        from kcc_desktop.sync.export import ExportService

        if self.provider == "xero":
            with self.store.transaction() as s:
                bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
                invoice = s.scalar(select(Document).where(Document.number == number))
                bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
                pre = service.record_payment(s, "prepayment", bloggs, bank, Decimal("50.00"), date(2026, 1, 14),
                                             reference="PRE-1")
                service.allocate_prepayment(s, pre, invoice, Decimal(amount), date(2026, 1, 15))
            svc = ExportService(self.store)
            assert svc.upload(svc.pending_ids(), self.package).exported == 1
        with self.store.session() as s:
            return s.scalar(select(ExportItem.remote_id).join(Allocation, Allocation.id == ExportItem.object_id)
                            .where(ExportItem.item_type == "prepayment_allocation"))

    def delete_payment(self, remote_id: str) -> None:
        if self.provider == "xero":
            self.books.delete_payment(remote_id)
            return
        from quickbooks.objects.payment import Payment

        Payment.get(remote_id, qb=self.books).delete(qb=self.books)

    # --- what a bookkeeper does in the package ------------------------------------------------------

    def set_status(self, number: str, status: str) -> None:
        """Xero: DELETED / VOIDED through POST /Invoices/{id}; QuickBooks: delete or void the invoice."""
        rid = self.remote_id(number)
        if self.provider == "xero":
            from xero_python.accounting import Invoice, Invoices

            api = self.books.client.accounting
            api.update_invoice(self.books.client.tenant_id, rid, Invoices(invoices=[Invoice(status=status)]))
            return
        from quickbooks.objects.invoice import Invoice as QboInvoice

        inv = QboInvoice.get(rid, qb=self.books)
        if status == "DELETED":
            inv.delete(qb=self.books)
        else:
            inv.void(qb=self.books)

    def pay_in_full(self, number: str) -> None:
        """The customer pays the invoice, recorded in the package."""
        rid = self.remote_id(number)
        if self.provider == "xero":
            api = self.books.client.accounting
            inv = api.get_invoice(self.books.client.tenant_id, rid).invoices[0]
            self.books.pay(rid, inv.amount_due)
            return
        from quickbooks.objects.base import LinkedTxn
        from quickbooks.objects.invoice import Invoice as QboInvoice
        from quickbooks.objects.payment import Payment, PaymentLine

        inv = QboInvoice.get(rid, qb=self.books)
        line = PaymentLine()
        line.Amount = inv.Balance
        txn = LinkedTxn()
        txn.TxnId, txn.TxnType = rid, "Invoice"
        line.LinkedTxn = [txn]
        payment = Payment()
        payment.CustomerRef, payment.TotalAmt, payment.Line = inv.CustomerRef, inv.Balance, [line]
        payment.save(qb=self.books)

    def edit_amount(self, number: str, unit: Decimal) -> None:
        """Change the first line's unit price in the package."""
        rid = self.remote_id(number)
        if self.provider == "xero":
            from xero_python.accounting import Invoices

            api = self.books.client.accounting
            inv = api.get_invoice(self.books.client.tenant_id, rid).invoices[0]
            inv.line_items[0].unit_amount = unit
            inv.line_items[0].line_amount = None
            inv.line_items[0].tax_amount = None
            for line in inv.line_items:
                line.line_item_id = line.line_item_id
            api.update_invoice(self.books.client.tenant_id, rid, Invoices(invoices=[inv]))
            return
        from quickbooks.objects.invoice import Invoice as QboInvoice

        inv = QboInvoice.get(rid, qb=self.books)
        line = inv.Line[0]
        line.SalesItemLineDetail.UnitPrice = unit
        line.Amount = (Decimal(str(line.SalesItemLineDetail.Qty)) * unit).quantize(Decimal("0.01"))
        inv.save(qb=self.books)


def export_ledger(request: pytest.FixtureRequest, provider: str) -> Exported:
    if provider == "xero":
        store, package = request.getfixturevalue("xero_exporting")
        sandbox, books = request.getfixturevalue("xero_sync_sandbox"), request.getfixturevalue("xero_bookkeeper")
        build_ledger(store, invoices=3)
    else:
        store, package = request.getfixturevalue("qbo_exporting")
        sandbox, books = request.getfixturevalue("qbo_sync_sandbox"), request.getfixturevalue("qbo_bookkeeper")
        build_qbo_ledger(store, invoices=3)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0 and summary.held == 0
    return Exported(provider, store, package, sandbox, books)
