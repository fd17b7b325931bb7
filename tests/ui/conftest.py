"""UI test fixtures: private QSettings per test, a small demo company built with the ledger service, and
no background job outliving its test. (The Xero sandbox fixtures are in tests/helpers.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After the test body, before its fixtures close the company file: every job it left running is
    cancelled and its thread waited for (a thread still running when the process ends aborts it)."""
    yield
    from kcc_desktop.ui.lazy_model import release_loads
    from kcc_desktop.ui.worker import wait_for_all

    release_loads()   # loads held for a window that never painted start now, on this test's company file
    assert wait_for_all(30_000), "a background job did not stop within 30 s of its test"


def idle_after(qtbot, tab) -> None:
    """Teardown: a tab's job still running is cancelled, and the test waits until it has stopped."""
    if tab.busy:
        tab.cancel_action.trigger()
        qtbot.waitUntil(lambda: not tab.busy, timeout=30_000)


@pytest.fixture(autouse=True)
def _ui_settings_dir(tmp_path, monkeypatch):
    """Each test starts with no remembered layout (QSettings INI in its own folder)."""
    monkeypatch.setenv("KCC_SETTINGS_DIR", str(tmp_path / "ui-settings"))
    yield tmp_path / "ui-settings"


def build_small_company(store) -> dict:
    """Two customers, a supplier, a stock item and five documents, posted through the ledger service."""
    from sqlalchemy import select

    from kcc_desktop.ledger import service
    from kcc_desktop.models import Company, NominalCode, StockItem, TaxCode

    with store.transaction() as s:
        def code(c):
            return s.scalar(select(NominalCode).where(NominalCode.code == c))

        t1 = s.scalar(select(TaxCode).where(TaxCode.code == "T1"))
        acme = Company(code="ACME", name="Acme Tools Ltd", kind="customer", is_account=True,
                       email="accounts@acme.example")
        bloggs = Company(code="BLOGGS", name="Bloggs Hardware", kind="customer", is_account=False)
        supplier = Company(code="SUPP", name="Widget Supplies plc", kind="supplier")
        s.add_all([acme, bloggs, supplier])
        s.flush()
        item = StockItem(code="W-100", description="Widget, steel", price=Decimal("25.00"),
                         cost=Decimal("10.00"), sales_nominal_id=code("4000").id,
                         purchase_nominal_id=code("5000").id, stock_nominal_id=code("1001").id,
                         cost_of_sale_nominal_id=code("5100").id, tax_code_id=t1.id)
        s.add(item)
        s.flush()
        line = service.LineInput
        docs = [
            service.create_document(s, "sales_invoice", acme, "SI-0001", date(2025, 1, 10),
                                    [line(quantity=Decimal(4), unit_price=Decimal("25.00"), stock_item_id=item.id)]),
            service.create_document(s, "sales_invoice", bloggs, "SI-0002", date(2025, 2, 3),
                                    [line(quantity=Decimal(1), unit_price=Decimal("9.99"), stock_item_id=item.id,
                                          description="Single widget")]),
            service.create_document(s, "sales_invoice", acme, "SI-0003", date(2025, 3, 15),
                                    [line(quantity=Decimal(40), unit_price=Decimal("25.00"), stock_item_id=item.id)]),
            service.create_document(s, "sales_credit", acme, "SC-0001", date(2025, 3, 20),
                                    [line(quantity=Decimal(1), unit_price=Decimal("25.00"), stock_item_id=item.id)]),
            service.create_document(s, "purchase_invoice", supplier, "PI-0001", date(2025, 1, 5),
                                    [line(quantity=Decimal(100), unit_price=Decimal("10.00"), stock_item_id=item.id)]),
        ]
        return {"ids": {d.number: d.id for d in docs}, "item_id": item.id}


@pytest.fixture
def company(store):
    """The ``store`` fixture (standard chart) plus the small company above."""
    info = build_small_company(store)
    return store, info
