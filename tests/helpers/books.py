"""Helpers for the payments-import tests: a ledger exported to the sandbox, and what the ledger now says."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from kcc_desktop.ledger import service
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.models import BankAccount, Company, Document, ImportedPayment, Payment, RemoteLink
from kcc_desktop.sync.export import ExportService
from tests.helpers.ledger import build_ledger


@dataclass
class Books:
    """The small ledger of ``build_ledger``, exported: local ids, the package's ids, gross totals."""

    store: object
    provider: str
    docs: dict[str, int]        # number -> Document.id
    remote: dict[str, str]      # number -> the package's id
    gross: dict[str, Decimal]
    companies: dict[str, int]   # code -> Company.id
    bank_id: int                # the ledger's current account (mapped by Apply Default Setup)

    def outstanding(self, number: str) -> Decimal:
        with self.store.session() as s:
            return service.outstanding(s, self.docs[number])

    def company_balance(self, code: str) -> Decimal:
        with self.store.session() as s:
            return service.company_balance(s, self.companies[code])

    def bank_balance(self) -> Decimal:
        with self.store.session() as s:
            return service.bank_balance(s, self.bank_id)

    def trial_balance_balances(self) -> bool:
        with self.store.session() as s:
            tb = trial_balance(s)
            return tb.total_debit == tb.total_credit and tb.total_debit > 0

    def payments(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count(Payment.id)))

    def rows(self) -> list[ImportedPayment]:
        with self.store.session() as s:
            return list(s.scalars(select(ImportedPayment).order_by(ImportedPayment.id)))

    def row(self, remote_id: str) -> ImportedPayment:
        [row] = [r for r in self.rows() if r.remote_id == remote_id]
        return row

    def status(self, remote_id: str) -> str:
        return self.row(remote_id).status

    def contact(self, code: str) -> str:
        """The package's id of the company ``code`` (its contact or customer there)."""
        with self.store.session() as s:
            return s.scalar(select(RemoteLink.remote_id).where(RemoteLink.object_type == "company",
                                                               RemoteLink.object_id == self.companies[code]))

    def invoice_raised_in_package(self, package, on) -> str:
        """XERO-ONLY-1, an invoice to Acme raised in the package itself (never exported from this ledger): a
        payment of it cannot be allocated here. Returns its id in the package."""
        from kcc_desktop.connectors.base import DocKind, DocumentIn, LineIn

        with self.store.session() as s:
            acme = s.scalar(select(RemoteLink.remote_id).where(RemoteLink.object_type == "company",
                                                               RemoteLink.object_id == self.companies["ACME"]))
        [made] = package.create_documents([DocumentIn(
            "outside-1", DocKind.SALES_INVOICE, "XERO-ONLY-1", acme, "Acme Tools Ltd", on, None, "GBP",
            [LineIn("Raised in Xero", Decimal("1"), Decimal("50.00"), "200", "OUTPUT2",
                    line_amount=Decimal("50.00"), tax_amount=Decimal("10.00"))])], "outside-key-1")
        assert made.ok, made.messages
        return made.remote_id


def export_books(store, package, provider: str, invoices: int = 4) -> Books:
    """Builds the small ledger and uploads all of it through the exporter, as a user's Upload Data would."""
    info = build_ledger(store, invoices=invoices, lines_per_invoice=2)
    svc = ExportService(store)
    summary = svc.upload(svc.pending_ids(), package)
    assert summary.failed == 0, summary.text
    with store.session() as s:
        docs = {d.number: d.id for d in s.scalars(select(Document))}
        gross = {d.number: d.gross_total for d in s.scalars(select(Document))}
        links = {(link.object_type, link.object_id): link.remote_id for link in s.scalars(select(RemoteLink))}
        kinds = {d.id: d.kind for d in s.scalars(select(Document))}
        remote = {n: links[(kinds[i], i)] for n, i in docs.items()}
        companies = {c.code: c.id for c in s.scalars(select(Company))}
        bank_id = s.scalar(select(BankAccount.id).where(BankAccount.code == "CUR"))
    assert set(info["docs"]) <= set(docs)
    return Books(store, provider, docs, remote, gross, companies, bank_id)


def connected_bulk_books(store, invoices: int) -> None:
    """The company file signed in to the Xero sandbox, integration on, accounts mapped by Apply Default
    Setup, and ``invoices`` one-line sales invoices BULK-0000... to ACME (for uploads long enough to cancel)."""
    from datetime import date

    from kcc_desktop.models import NominalCode, TaxCode
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService
    from kcc_desktop.sync.queue import install_queue_listeners
    from tests.helpers.connect import connect_store, open_package

    install_queue_listeners()
    connect_store(store)
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=0)
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        for k in range(invoices):
            service.create_document(s, "sales_invoice", acme, f"BULK-{k:04d}", date(2026, 2, 1),
                                    [service.LineInput(Decimal(1), Decimal("10"), description="x",
                                                       nominal_id=sales, tax_code_id=t1)])
