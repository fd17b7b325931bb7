"""The ledger tests' ``digests`` (a digest of every table, to prove two files hold the same books, or that
a refused import changed nothing) and ``ledger``, the small company the CSV import tests import into."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kcc_desktop.ledger import service as L
from tests.helpers.ledger import add_company, add_item, codes, table_digests


@pytest.fixture
def digests():
    return table_digests


@pytest.fixture
def ledger(store):
    with store.transaction() as s:
        n, t = codes(s)
        cust = add_company(s, "ACME01", "Acme Trading Ltd")
        add_company(s, "PAPER01", "Northern Paper Mills Ltd", kind="supplier")
        add_item(s, "PAP001", "24.99", "18.40")
        add_item(s, "TEA001", "26.50", "17.60", tax="T0")
        L.create_document(s, "sales_invoice", cust, "INV-EXIST", date(2026, 1, 5),
                          [L.LineInput(D(1), D(10), description="Old", nominal_id=n["4000"].id,
                                       tax_code_id=t["T1"].id)])
    return store
