"""The query endpoint: the SQL-like subset clients use, paging, counts and its faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from quickbooks.batch import batch_create
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from .qbo_fixtures import ZERO_RATED, make_customer, make_invoice, sales_line


@pytest.fixture
def many_customers(qb):
    """25 new customers (plus the seeded one), created in one batch."""
    objs = []
    for i in range(25):
        c = Customer()
        c.DisplayName = f"Paging Customer {i:02d}"
        objs.append(c)
    result = batch_create(objs, qb=qb)
    assert not result.faults
    return result.successes


def test_paging_with_startposition_and_maxresults(qb, many_customers):
    seen = []
    start = 1
    while True:
        page = qb.query(f"SELECT * FROM Customer STARTPOSITION {start} MAXRESULTS 10")["QueryResponse"]
        rows = page.get("Customer", [])
        if not rows:
            assert page == {}  # QBO leaves the list out when a page is empty
            break
        assert page["startPosition"] == start and page["maxResults"] == len(rows)
        seen += [r["Id"] for r in rows]
        start += 10
    assert len(seen) == 26 == len(set(seen))
    assert seen == sorted(seen, key=int)
    assert Customer.count(qb=qb) == 26


def test_where_in_like_order_and_sdk_helpers(qb, many_customers):
    ids = [c.Id for c in many_customers[:3]]
    got = Customer.where(f"Id IN ('{ids[0]}', '{ids[2]}')", qb=qb)
    assert sorted(c.Id for c in got) == sorted([ids[0], ids[2]])
    desc = Customer.where("DisplayName LIKE 'Paging Customer 0%'", order_by="DisplayName DESC", qb=qb)
    assert [c.DisplayName for c in desc][:2] == ["Paging Customer 09", "Paging Customer 08"]
    assert len(Customer.filter(DisplayName="paging customer 07", qb=qb)) == 1
    assert len(Customer.all(order_by="DisplayName", max_results=5, qb=qb)) == 5  # "ORDER BY" spelling too


def test_where_on_amounts_dates_refs_and_lastupdated(qb):
    c = make_customer(qb, "Query Ltd")
    before = datetime.now(UTC) - timedelta(seconds=2)
    small = make_invoice(qb, c, [sales_line(1, "10.00", ZERO_RATED)])
    big = make_invoice(qb, c, [sales_line(1, "500.00", ZERO_RATED)])
    rows = qb.query(f"select * from Invoice where CustomerRef = '{c.Id}' and TotalAmt > '100' "
                    f"and MetaData.LastUpdatedTime > '{before.isoformat()}'")["QueryResponse"]["Invoice"]
    assert [r["Id"] for r in rows] == [big.Id]
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S-08:00")
    assert qb.query(f"select * from Invoice where MetaData.LastUpdatedTime > '{future}'")["QueryResponse"] == {}
    rows = Invoice.where(f"TxnDate <= '{datetime.now(UTC).date()}' AND DocNumber = '{small.DocNumber}'",
                         qb=qb)
    assert [r.Id for r in rows] == [small.Id]
    assert Invoice.count(f"CustomerRef = '{c.Id}'", qb=qb) == 2


def test_get_query_and_projection(qbo_urls, qbo_tokens):
    r = requests.get(f"{qbo_urls['api_url']}/company/{qbo_tokens['realm_id']}/query",
                     params={"query": "SELECT Id, AcctNum FROM Account WHERE AccountType = 'Bank'",
                             "minorversion": "75"},
                     headers={"Authorization": "Bearer " + qbo_tokens["access_token"], "Accept": "application/json"},
                     timeout=5)
    accounts = r.json()["QueryResponse"]["Account"]
    assert [a["AcctNum"] for a in accounts] == ["1200"] and "Name" not in accounts[0]


def test_maxresults_is_capped_at_1000(qb):
    page = qb.query("SELECT * FROM Account MAXRESULTS 5000")["QueryResponse"]
    assert page["maxResults"] == len(page["Account"]) <= 1000


@pytest.mark.parametrize("bad", ["SELECT * FROM Nothing", "SELECT * FROM Invoice WHERE Id = '1' OR Id = '2'",
                                 "DELETE FROM Invoice", "SELECT * FROM Invoice WHERE"])
def test_bad_queries_are_4000(qb, bad):
    with pytest.raises(ValidationException) as err:
        qb.query(bad)
    assert err.value.error_code == 4000
