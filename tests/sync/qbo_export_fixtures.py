"""Fixtures for Upload Data against the QuickBooks Online sandbox over HTTP.

``qbo_sync_sandbox`` is the module's ``qbo_sync_server`` reset for the test (control helpers for
/_sandbox/*), ``qbo_exporting`` the company file signed in through the app's own connect flow (the test
plays the browser), with the chart fetched and the default mapping applied, and ``qbo_bookkeeper`` a
python-quickbooks client of a person working in QuickBooks (what the tests read the sandbox back with).
Nothing of the SDK or connector is replaced.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.ledger import service
from kcc_desktop.models import BankAccount, Company, Document, NominalCode, StockItem, TaxCode
from kcc_desktop.sandbox.testing import SandboxHandle
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.queue import install_queue_listeners

from .conftest import build_ledger

URL_IN_TEXT = re.compile(r"(https?://\S+)")
DOC_ENTITIES = {"sales_invoice": "Invoice", "purchase_invoice": "Bill", "sales_credit": "CreditMemo",
                "purchase_credit": "VendorCredit"}


class QboSandbox(SandboxHandle):
    """The QuickBooks sandbox, counting writes by endpoint."""

    def writes(self) -> dict[str, int]:
        """POSTs to the data API other than queries, by endpoint (batch, invoice, payment...)."""
        out: dict[str, int] = {}
        for k, n in self.stats()["by_endpoint"].items():
            method, path = k.split(" ", 1)
            if method == "POST" and path.startswith("/v3/") and not path.endswith("/query"):
                out[path.rsplit("/", 1)[1]] = out.get(path.rsplit("/", 1)[1], 0) + n
        return out


@pytest.fixture(scope="module")
def qbo_sync_server():
    from kcc_desktop.sandbox.runner import start_sandbox

    sb = QboSandbox(start_sandbox(provider="quickbooks", port=0))
    yield sb
    sb.server.stop()


@pytest.fixture
def qbo_sync_sandbox(qbo_sync_server, monkeypatch):
    qbo_sync_server.reset()
    monkeypatch.setenv("KCC_QBO_URL", qbo_sync_server.root)
    monkeypatch.setenv("KCC_QBO_CLIENT_ID", "test")
    reset_pacers()
    yield qbo_sync_server
    reset_pacers()


def connect_quickbooks(store) -> None:
    """Connect to QuickBooks as a user would: the test plays the browser on the printed address."""
    def browser(text: str) -> None:
        found = URL_IN_TEXT.search(text)
        if found:   # open the consent page; the sandbox redirects straight back to the app's listener
            requests.get(found.group(1), timeout=10).raise_for_status()

    connect_mod.connect("quickbooks", DbSettingsStore(store), TokenStore(), open_browser=False, timeout=10,
                        print_fn=browser)


def open_package(store):
    return connect_mod.open_package(DbSettingsStore(store), TokenStore(), timeout=5, connect_timeout=2)


@pytest.fixture
def qbo_exporting(store, qbo_sync_sandbox):
    """(store, package): connected to QuickBooks, chart fetched, default mapping applied, integration on."""
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService

    connect_quickbooks(store)
    install_queue_listeners()
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "quickbooks")
    mapping.fetch(package)
    mapping.apply_default_setup()
    return store, package


@pytest.fixture
def qbo_bookkeeper(qbo_sync_sandbox):
    from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client

    return qbo_sdk_client(dict(qbo_sync_sandbox), qbo_login(dict(qbo_sync_sandbox)))


def build_qbo_ledger(store, invoices: int = 3) -> dict:
    """``build_ledger`` (awkward pennies, line discounts, a credit note, a bill) plus what QuickBooks makes
    hard: a supplier credit note, a supplier with the same name as a customer (QBO names are unique across
    customers and vendors) and a non-account customer's prepayment allocated to her invoice."""
    info = build_ledger(store, invoices=invoices, lines_per_invoice=3)
    with store.transaction() as s:
        supp = s.scalar(select(Company).where(Company.code == "SUPP"))
        bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
        w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
        office = s.scalar(select(NominalCode).where(NominalCode.code == "7500"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        both = Company(code="ACME-S", name="Acme Tools Ltd", kind="supplier")
        s.add(both)
        s.flush()
        L = service.LineInput
        pc = service.create_document(s, "purchase_credit", supp, "PC-0001", date(2026, 1, 25),
                                     [L(quantity=Decimal(2), unit_price=Decimal("2.50"), stock_item_id=w100.id)])
        stock = s.scalar(select(NominalCode).where(NominalCode.code == "1001"))
        lines = [L(quantity=Decimal(3), unit_price=Decimal("1.333"), description="Paper", nominal_id=office.id,
                   tax_code_id=t1),
                 # a slip: coded straight to the stock nominal (the payload falls back to the default purchases)
                 L(quantity=Decimal(7), unit_price=Decimal("0.99"), description="Boxes", nominal_id=stock.id,
                   tax_code_id=t1, discount_rate=Decimal("10"))]
        bill = service.create_document(s, "purchase_invoice", both, "PI-0002", date(2026, 1, 26), lines)
        info["docs"].update({pc.number: pc.id, bill.number: bill.id})
        invoice = s.scalar(select(Document).where(Document.company_id == bloggs.id,
                                                  Document.kind == "sales_invoice").order_by(Document.id))
        bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
        pre = service.record_payment(s, "prepayment", bloggs, bank, Decimal("50.00"), date(2026, 2, 1),
                                     reference="PRE-1")
        service.allocate_prepayment(s, pre, invoice, Decimal("20.00"), date(2026, 2, 2))
        info["prepaid_invoice"] = invoice.number
    return info
