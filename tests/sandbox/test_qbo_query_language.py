"""The query parser and evaluator on plain rows (no sockets), including a paging property."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcc_desktop.sandbox.quickbooks import query
from kcc_desktop.sandbox.quickbooks.errors import QboFault

ROWS = [{"Id": str(i), "DocNumber": f"D{i:03d}", "TotalAmt": Decimal(i) / 4, "CustomerRef": {"value": str(i % 3)},
         "MetaData": {"LastUpdatedTime": datetime(2026, 1, 1, 0, 0, i, tzinfo=UTC)}}
        for i in range(1, 41)]


def ids(text: str) -> list[str]:
    page, _ = query.run(query.parse(text), ROWS)
    return [r["Id"] for r in page]


def test_parse_full_statement():
    q = query.parse("select count(*) from invoice where TotalAmt >= '2.5' and CustomerRef in ('1', '2') "
                    "orderby DocNumber desc startposition 3 maxresults 7;")
    assert (q.entity, q.count, q.start, q.max_results) == ("Invoice", True, 3, 7)
    assert [(c.field, c.op) for c in q.where] == [("TotalAmt", ">="), ("CustomerRef", "in")]
    assert q.order == [("DocNumber", True)]


def test_numeric_ids_compare_as_numbers_and_refs_by_value():
    assert ids("SELECT * FROM Invoice WHERE Id > '38'") == ["39", "40"]
    assert ids("SELECT * FROM Invoice WHERE CustomerRef = '0' AND TotalAmt < '2'") == ["3", "6"]


def test_datetime_comparison_honours_offsets():
    # 2025-12-31T23:00:39-01:00 is 2026-01-01T00:00:39Z: row 39's time.
    assert ids("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-12-31T23:00:39-01:00'") == ["39", "40"]


def test_quotes_escape_and_like():
    q = query.parse("SELECT * FROM Customer WHERE DisplayName = 'O''Brien\\'s'")
    assert q.where[0].values == ["O'Brien's"]
    assert ids("SELECT * FROM Invoice WHERE DocNumber LIKE 'D01%'") == [str(i) for i in range(10, 20)]


@pytest.mark.parametrize("bad", ["", "SELECT FROM Invoice", "SELECT * FROM Invoice ORDERBY",
                                 "SELECT * FROM Invoice MAXRESULTS x", "SELECT * FROM Invoice WHERE Id = "])
def test_malformed(bad):
    with pytest.raises(QboFault) as err:
        query.parse(bad)
    assert err.value.code == "4000"


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=15), desc=st.booleans())
def test_paging_visits_every_row_once(size, desc):
    order = "ORDERBY TotalAmt DESC" if desc else "ORDERBY DocNumber"
    seen, start = [], 1
    while True:
        page = ids(f"SELECT * FROM Invoice {order} STARTPOSITION {start} MAXRESULTS {size}")
        assert len(page) <= size
        if not page:
            break
        seen += page
        start += size
    expected = [str(i) for i in (range(40, 0, -1) if desc else range(1, 41))]
    assert seen == expected
