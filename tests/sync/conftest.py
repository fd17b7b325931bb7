"""Sync tests (mapping and export): a Xero sandbox per module, a company file connected to it through
the real OAuth flow, a bookkeeper working in the sandbox through the SDK, and small ledgers.

Fixtures: ``xero_sync_sandbox`` (the module's ``xero_sync_server`` reset for the test: its URLs as a
dict, plus control helpers), ``xero_connected_store`` (the ``store`` signed in to it), ``xero_bookkeeper``
(XeroBookkeeper), ``xero_exporting`` ((store, package) with accounts fetched and the default mapping applied).
"""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.ledger import service
from kcc_desktop.models import Company, NominalCode, StockItem, TaxCode
from kcc_desktop.sandbox.testing import SandboxHandle
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.queue import install_queue_listeners

URL_IN_TEXT = re.compile(r"(https?://\S+)")


class Sandbox(SandboxHandle):
    """The Xero sandbox with the sync tests' shorthands."""

    def count(self, method: str, path: str) -> int:
        return self.requests_to(method, path)

    def api(self, path: str, tenant: str, token: str) -> dict:
        resp = requests.get(f"{self.root}/api.xro/2.0/{path}", timeout=10,
                            headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant,
                                     "Accept": "application/json"})
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="module")
def xero_sync_server():
    from kcc_desktop.sandbox.runner import start_sandbox

    sb = Sandbox(start_sandbox(provider="xero", port=0))
    yield sb
    sb.server.stop()


@pytest.fixture
def xero_sync_sandbox(xero_sync_server, monkeypatch):
    xero_sync_server.reset()
    monkeypatch.setenv("KCC_XERO_URL", xero_sync_server.root)
    reset_pacers()
    yield xero_sync_server
    reset_pacers()


def connect_store(store) -> None:
    """Sign in to the sandbox as a user would (the test plays the browser), saving to the company file."""
    printed: list[str] = []
    seen = threading.Event()
    errors: list[BaseException] = []

    def print_fn(text: str) -> None:
        printed.append(text)
        if URL_IN_TEXT.search(text):
            seen.set()

    def target() -> None:
        try:
            connect_mod.connect("xero", DbSettingsStore(store), TokenStore(), open_browser=False, timeout=10,
                                print_fn=print_fn, choose_tenant=lambda t: t[0]["tenant_id"])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert seen.wait(10), "connect printed no address"
    url = next(m.group(1) for line in printed for m in [URL_IN_TEXT.search(line)] if m)
    first = requests.get(url, allow_redirects=False, timeout=10)
    requests.get(first.headers["Location"], timeout=10)
    thread.join(20)
    if errors:
        raise errors[0]


def open_package(store):
    return connect_mod.open_package(DbSettingsStore(store), TokenStore(), timeout=5, connect_timeout=2)


@pytest.fixture
def xero_connected_store(store, xero_sync_sandbox):
    """The company file, signed in to the sandbox through the app's own connect flow."""
    connect_store(store)
    return store


@pytest.fixture
def xero_bookkeeper(xero_sync_sandbox):
    """Someone working in the package: records payments etc. through xero-python over HTTP."""
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

    return XeroBookkeeper(xero_sdk_client(dict(xero_sync_sandbox), xero_login(dict(xero_sync_sandbox))))


@pytest.fixture
def xero_exporting(xero_connected_store):
    """(store, package): connected, accounts fetched, default mapping applied, integration on."""
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService

    store = xero_connected_store
    install_queue_listeners()
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    return store, package


def build_ledger(store, *, invoices: int = 3, lines_per_invoice: int = 2) -> dict:
    """Two customers, a supplier, two stock items; invoices with awkward pennies, a credit note, a bill."""
    with store.transaction() as s:
        n = {x.code: x for x in s.scalars(select(NominalCode))}
        t = {x.code: x for x in s.scalars(select(TaxCode))}
        acme = Company(code="ACME", name="Acme Tools Ltd", kind="customer", email="accounts@acme.example")
        bloggs = Company(code="BLOGGS", name="Bloggs Hardware", kind="customer", is_account=False)
        supp = Company(code="SUPP", name="Widget Supplies plc", kind="supplier")
        s.add_all([acme, bloggs, supp])
        s.flush()
        items = []
        for code, price, tax in (("W-100", "19.99", "T1"), ("CHILD-1", "3.333", "T5")):
            item = StockItem(code=code, description=f"Widget {code}", price=Decimal(price), cost=Decimal("2.50"),
                             sales_nominal_id=n["4000"].id, purchase_nominal_id=n["5000"].id,
                             stock_nominal_id=n["1001"].id, cost_of_sale_nominal_id=n["5100"].id,
                             tax_code_id=t[tax].id)
            s.add(item)
            items.append(item)
        s.flush()
        L = service.LineInput
        docs = {}
        for k in range(invoices):
            lines = [L(quantity=Decimal(3 + j), unit_price=items[j % 2].price, stock_item_id=items[j % 2].id,
                       discount_rate=Decimal("2.5") if j else Decimal(0)) for j in range(lines_per_invoice)]
            d = service.create_document(s, "sales_invoice", acme if k % 2 == 0 else bloggs, f"SI-{k + 1:04d}",
                                        date(2026, 1, 10 + k), lines)
            docs[d.number] = d.id
        cn = service.create_document(s, "sales_credit", acme, "SC-0001", date(2026, 1, 20),
                                     [L(quantity=Decimal(1), unit_price=Decimal("19.99"), stock_item_id=items[0].id)])
        bill = service.create_document(s, "purchase_invoice", supp, "PI-0001", date(2026, 1, 5),
                                       [L(quantity=Decimal(10), unit_price=Decimal("2.50"), stock_item_id=items[0].id)])
        docs[cn.number] = cn.id
        docs[bill.number] = bill.id
        return {"docs": docs, "items": [i.id for i in items], "companies": [acme.id, bloggs.id, supp.id]}
