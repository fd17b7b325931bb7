"""One provider's world for the chaos suite: its sandbox, the corrupting proxy in front of it, a company
signed in through the proxy, a bookkeeper recording receipts, and the audit of the package.

The bookkeeper and the audit use the official SDKs straight against the sandbox (xero-python, or
python-quickbooks with intuit-oauth), as a person's own tools would; the desks go through the proxy.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from .proxy import CorruptingProxy

DOC_ENTITIES = {"sales_invoice": "Invoice", "purchase_invoice": "Bill", "sales_credit": "CreditMemo",
                "purchase_credit": "VendorCredit"}
ENV_ROOT = {"xero": "KCC_XERO_URL", "quickbooks": "KCC_QBO_URL"}


@dataclass
class Audit:
    duplicates: int = 0        # documents, contacts, items or KCC payments twice in the package
    lost: int = 0              # in the ledger but not in the package, still pending, or a receipt not imported
    double_receipts: int = 0   # receipts in the ledger beyond those the bookkeeper recorded
    crashes: int = 0           # a traceback or "database is locked" from any desk

    def __add__(self, other: Audit) -> Audit:
        return Audit(self.duplicates + other.duplicates, self.lost + other.lost,
                     self.double_receipts + other.double_receipts, self.crashes + other.crashes)

    @property
    def clean(self) -> bool:
        return (self.duplicates, self.lost, self.double_receipts, self.crashes) == (0, 0, 0, 0)

    def text(self) -> str:
        return (f"duplicates {self.duplicates} / lost {self.lost} / double receipts {self.double_receipts}"
                f" / crashes {self.crashes}")


@dataclass
class Package:
    """What the audit reads from the package."""

    documents: list[str]       # "kind number"
    contacts: list[str]
    items: list[str]
    stamps: list[str]          # KCC's stamp of every live payment that has one


def twice(values: list[str]) -> int:
    return sum(n - 1 for n in Counter(values).values() if n > 1)


class World:
    """A sandbox, its proxy, and one company at a time (``new_company``)."""

    provider = ""

    def __init__(self, seed: int, invoices: int = 8) -> None:
        from kcc_desktop.sandbox.runner import start_sandbox
        from kcc_desktop.sandbox.testing import SandboxHandle

        self.sandbox = SandboxHandle(start_sandbox(provider=self.provider, port=0))
        self.invoices = invoices   # sales invoices in each new company (half of them get an allocation)
        self.proxy = CorruptingProxy(self.sandbox.root, seed=seed)
        self.store: Any = None
        self.package: Any = None
        self.paid = 0
        self.receipts_before = 0

    def close(self) -> None:
        """Lets go of the company (before its database is dropped)."""
        if self.store is not None:
            self.store.close()
            self.store = self.package = None

    def stop(self) -> None:
        self.close()
        self.proxy.stop()
        self.sandbox.server.stop()

    # --- a company ---------------------------------------------------------------------------------

    def new_company(self, db: str) -> None:
        from kcc_desktop.connectors.pacing import reset_pacers
        from kcc_desktop.ledger.chart import seed_standard_chart
        from kcc_desktop.store import open_store
        from kcc_desktop.sync.mapping import MappingService
        from kcc_desktop.sync.options import OptionsService
        from kcc_desktop.sync.queue import install_queue_listeners
        from tests.helpers.connect import open_package
        from tests.helpers.ledger import build_ledger

        self.close()
        self.sandbox.reset()
        self.proxy.corrupt_rate, self.proxy.corrupted, self.proxy.answers = 0.0, 0, 0
        reset_pacers()
        os.environ[ENV_ROOT[self.provider]] = self.proxy.root   # the desks, and this sign-in, go through the proxy
        install_queue_listeners()
        self.store = open_store(db, create=True)
        with self.store.transaction() as s:
            seed_standard_chart(s)
        self.connect()
        self.package = open_package(self.store)
        OptionsService(self.store).update(enabled=True)
        mapping = MappingService(self.store, self.provider)
        mapping.fetch(self.package)
        mapping.apply_default_setup()
        build_ledger(self.store, invoices=self.invoices, lines_per_invoice=2)
        self._prepayments()
        self.paid = 0
        self.receipts_before = self.receipts()

    def connect(self) -> None:
        raise NotImplementedError

    def _prepayments(self) -> None:
        """A prepayment of the non-account customer, allocated to each of her invoices: every allocation is
        a payment KCC creates in the package (the step issue 15 killed)."""
        from kcc_desktop.ledger import service
        from kcc_desktop.models import BankAccount, Company, Document

        with self.store.transaction() as s:
            bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
            bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
            pre = service.record_payment(s, "prepayment", bloggs, bank, Decimal("100.00"), date(2026, 2, 1),
                                         reference="Deposit")
            for invoice in s.scalars(select(Document).where(Document.company_id == bloggs.id,
                                                            Document.kind == "sales_invoice")
                                     .order_by(Document.id).limit(8)):   # 10.00 each of the 100.00
                service.allocate_prepayment(s, pre, invoice, Decimal("10.00"), date(2026, 2, 1))

    def receipts(self) -> int:
        from kcc_desktop.models import Payment

        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(Payment)) or 0

    # --- the bookkeeper and the audit (official SDKs, straight to the sandbox) -----------------------

    def pay_some(self, n: int) -> None:
        """The bookkeeper records a 1.00 receipt against each of ``n`` exported sales invoices."""
        raise NotImplementedError

    def package_contents(self) -> Package:
        raise NotImplementedError

    def audit(self) -> Audit:
        from kcc_desktop.models import Document, ExportItem, ItemType

        pkg = self.package_contents()
        with self.store.session() as s:
            ledger_docs = {f"{d.kind} {d.number}" for d in s.scalars(select(Document))}
            pending = s.scalar(select(func.count()).select_from(ExportItem)
                               .where(ExportItem.status == "pending")) or 0
            allocations = s.scalar(select(func.count()).select_from(ExportItem)
                                   .where(ExportItem.item_type == ItemType.PREPAYMENT_ALLOCATION)) or 0
        receipts = self.receipts() - self.receipts_before
        lost = len(ledger_docs - set(pkg.documents)) + pending + max(0, allocations - len(set(pkg.stamps)))
        lost += max(0, self.paid - receipts)
        return Audit(duplicates=twice(pkg.documents) + twice(pkg.contacts) + twice(pkg.items) + twice(pkg.stamps),
                     lost=lost, double_receipts=max(0, receipts - self.paid))


class XeroWorld(World):
    provider = "xero"

    def connect(self) -> None:
        from tests.helpers.connect import connect_store

        connect_store(self.store)

    def _sdk(self) -> Any:
        from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

        urls = self.sandbox.urls
        return XeroBookkeeper(xero_sdk_client(urls, xero_login(urls), retries=None))

    def pay_some(self, n: int) -> None:
        keeper = self._sdk()
        api, tenant = keeper.client.accounting, keeper.client.tenant_id
        invoices = [i for i in api.get_invoices(tenant, page=1).invoices
                    if _enum(i.type) == "ACCREC" and _enum(i.status) == "AUTHORISED"]
        for invoice in invoices[:n]:
            keeper.pay(str(invoice.invoice_id), Decimal("1.00"), on=date(2026, 3, 1), reference="Bank transfer")
            self.paid += 1

    def package_contents(self) -> Package:
        from kcc_desktop.connectors.base import find_stamp

        client = self._sdk().client
        api, tenant = client.accounting, client.tenant_id
        kinds = {"ACCREC": "sales_invoice", "ACCPAY": "purchase_invoice", "ACCRECCREDIT": "sales_credit",
                 "ACCPAYCREDIT": "purchase_credit"}
        live = [i for i in _pages(lambda n: api.get_invoices(tenant, page=n).invoices)
                if _enum(i.status) not in ("DELETED", "VOIDED")]
        credits = [c for c in _pages(lambda n: api.get_credit_notes(tenant, page=n).credit_notes)
                   if _enum(c.status) not in ("DELETED", "VOIDED")]
        payments = [p for p in _pages(lambda n: api.get_payments(tenant, page=n).payments)
                    if _enum(p.status) != "DELETED"]
        return Package(
            documents=[f"{kinds[_enum(i.type)]} {i.invoice_number}" for i in live]
            + [f"{kinds[_enum(c.type)]} {c.credit_note_number}" for c in credits],
            contacts=[c.name for c in _pages(lambda n: api.get_contacts(tenant, page=n).contacts)],
            items=[i.code for i in api.get_items(tenant).items],
            stamps=[find_stamp(p.reference) for p in payments if find_stamp(p.reference)])


def _pages(page: Callable[[int], list[Any] | None]) -> list[Any]:
    """Every row of a paged Xero list (100 a page; a short or empty page is the last)."""
    rows: list[Any] = []
    n = 1
    while True:
        got = page(n) or []
        rows += got
        if len(got) < 100:
            return rows
        n += 1


def _enum(value: object) -> str:
    """xero-python gives some fields as enums (``InvoiceType.ACCREC``), others as strings."""
    return str(getattr(value, "value", value))


class QuickBooksWorld(World):
    provider = "quickbooks"

    def __init__(self, seed: int, invoices: int = 8) -> None:
        os.environ.setdefault("KCC_QBO_CLIENT_ID", "test")
        super().__init__(seed, invoices)

    def connect(self) -> None:
        from tests.helpers.connect import connect_quickbooks

        connect_quickbooks(self.store)

    def _sdk(self) -> Any:
        from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client

        urls = self.sandbox.urls
        return qbo_sdk_client(urls, qbo_login(urls))

    @staticmethod
    def _rows(qb: Any, entity: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:   # 1,000 a page at most (QuickBooks' cap); a short page is the last
            got = qb.query(f"SELECT * FROM {entity} STARTPOSITION {len(rows) + 1} MAXRESULTS 1000")[
                "QueryResponse"].get(entity, [])
            rows += got
            if len(got) < 1000:
                return rows

    def pay_some(self, n: int) -> None:
        import json

        qb = self._sdk()
        bank = next(a["Id"] for a in self._rows(qb, "Account") if a.get("AccountType") == "Bank")
        for invoice in [i for i in self._rows(qb, "Invoice") if Decimal(str(i["Balance"])) > 1][:n]:
            body = {"CustomerRef": invoice["CustomerRef"], "TotalAmt": "1.00", "TxnDate": "2026-03-01",
                    "DepositToAccountRef": {"value": bank}, "PaymentRefNum": "BACS",
                    "Line": [{"Amount": "1.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}
            qb.create_object("Payment", json.dumps(body))
            self.paid += 1

    def package_contents(self) -> Package:
        from kcc_desktop.connectors.base import find_stamp

        qb = self._sdk()
        kinds = {v: k for k, v in DOC_ENTITIES.items()}
        return Package(
            documents=[f"{kinds[e]} {r['DocNumber']}" for e in DOC_ENTITIES.values() for r in self._rows(qb, e)],
            contacts=[r["DisplayName"] for e in ("Customer", "Vendor") for r in self._rows(qb, e)],
            items=[r["Name"] for r in self._rows(qb, "Item") if r.get("Type") == "Inventory"
                   or r.get("Sku")],
            stamps=[find_stamp(p.get("PrivateNote")) for p in self._rows(qb, "Payment")
                    if find_stamp(p.get("PrivateNote"))])


WORLDS: dict[str, type[World]] = {"xero": XeroWorld, "quickbooks": QuickBooksWorld}
