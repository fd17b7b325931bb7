"""The ``where`` / ``order`` / paging reader on its own (pure functions, no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kcc_desktop.sandbox.xero.query import WhereError, compile_where, order_by, paginate

ROWS = [
    {"InvoiceNumber": "INV-1", "Type": "ACCREC", "Status": "PAID", "AmountDue": Decimal("0"),
     "Date": date(2026, 1, 5), "Contact": {"Name": "Acme Ltd"}},
    {"InvoiceNumber": "INV-2", "Type": "ACCREC", "Status": "AUTHORISED", "AmountDue": Decimal("12.50"),
     "Date": date(2026, 2, 1), "Contact": {"Name": "Beta plc"}},
    {"InvoiceNumber": "B-1", "Type": "ACCPAY", "Status": "AUTHORISED", "AmountDue": Decimal("3"),
     "Date": date(2026, 3, 1), "Contact": {"Name": "acme ltd"}},
]


def numbers(expr):
    test = compile_where(expr)
    return [r["InvoiceNumber"] for r in ROWS if test(r)]


@pytest.mark.parametrize("expr, expected", [
    ('Type=="ACCREC"', ["INV-1", "INV-2"]),
    ('Type=="ACCREC" AND Status=="AUTHORISED"', ["INV-2"]),
    ('Status=="PAID" OR Type=="ACCPAY"', ["INV-1", "B-1"]),
    ('Contact.Name=="ACME LTD"', ["INV-1", "B-1"]),  # case-insensitive, dotted paths
    ("AmountDue>0", ["INV-2", "B-1"]),
    ("AmountDue>=12.5", ["INV-2"]),
    ("Date>=DateTime(2026,02,01)", ["INV-2", "B-1"]),
    ("Date<DateTime(2026, 2, 1)", ["INV-1"]),
    ('InvoiceNumber.StartsWith("INV")', ["INV-1", "INV-2"]),
    ('Contact.Name.Contains("plc")', ["INV-2"]),
    ('Type!="ACCREC"', ["B-1"]),
    ('Reference=="a AND b"', []),  # AND inside quotes is not a joiner
    ("", ["INV-1", "INV-2", "B-1"]),
])
def test_where_forms(expr, expected):
    assert numbers(expr) == expected


def test_unreadable_where_is_an_error():
    with pytest.raises(WhereError):
        compile_where("Type ACCREC")


def test_order_and_paginate():
    assert [r["InvoiceNumber"] for r in order_by(ROWS, "Date DESC")] == ["B-1", "INV-2", "INV-1"]
    assert [r["InvoiceNumber"] for r in order_by(ROWS, "Type, InvoiceNumber DESC")] == ["B-1", "INV-2", "INV-1"]
    page, info = paginate(ROWS, "2", "2")
    assert [r["InvoiceNumber"] for r in page] == ["B-1"]
    assert info == {"page": 2, "pageSize": 2, "pageCount": 2, "itemCount": 3}
    assert paginate(ROWS, None, None) == (ROWS, None)


def test_datetime_where_on_timestamps():
    rows = [{"UpdatedDateUTC": datetime(2026, 1, 1, 12, tzinfo=UTC)}]
    assert compile_where("UpdatedDateUTC>=DateTime(2026,01,01,11,59,59)")(rows[0])
    assert not compile_where("UpdatedDateUTC>DateTime(2026,01,01,12,00,00)")(rows[0])
