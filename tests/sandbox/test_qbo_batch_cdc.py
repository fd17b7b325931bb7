"""Batch (30 operations, a Fault per item inside a 200) and change data capture (with deletions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from quickbooks.batch import batch_create, batch_delete
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from .qbo_fixtures import ZERO_RATED, make_customer, make_invoice, make_payment, sales_line


def _invoice(customer_id: str, amount: str) -> Invoice:
    from quickbooks.objects.customer import Customer as C
    c = C()
    c.Id = customer_id
    inv = Invoice()
    inv.CustomerRef = c.to_ref()
    inv.Line = [sales_line(1, amount, ZERO_RATED)]
    return inv


def test_batch_of_thirty_invoices(qb):
    c = make_customer(qb, "Batch Buyer")
    result = batch_create([_invoice(c.Id, f"{i}.10") for i in range(1, 31)], qb=qb)
    assert len(result.successes) == 30 and not result.faults
    assert sorted(Decimal(str(i.TotalAmt)) for i in result.successes)[0] == Decimal("1.10")
    assert Invoice.count(qb=qb) == 30


def test_more_than_thirty_operations_are_refused(qb):
    c = make_customer(qb, "Too Many")
    items = [{"bId": f"b{i}", "operation": "create", "Invoice": json.loads(_invoice(c.Id, "1").to_json())}
             for i in range(31)]
    with pytest.raises(QuickbooksException) as err:
        qb.batch_operation(json.dumps({"BatchItemRequest": items}))
    assert "30" in err.value.detail
    assert Invoice.count(qb=qb) == 0  # nothing of a refused batch is applied


def test_batch_item_faults_arrive_inside_a_200(qb):
    make_customer(qb, "Taken Name")
    good, dup = Customer(), Customer()
    good.DisplayName, dup.DisplayName = "Fresh Name", "Taken Name"
    result = batch_create([good, dup], qb=qb)
    assert [c.DisplayName for c in result.successes] == ["Fresh Name"]
    assert len(result.faults) == 1 and result.faults[0].Error[0].code == "6240"
    assert result.faults[0].original_object is dup


def test_batch_query_and_delete_items(qb):
    c = make_customer(qb, "Batch Mixed")
    inv = make_invoice(qb, c)
    body = {"BatchItemRequest": [
        {"bId": "q1", "Query": "select * from Invoice"},
        {"bId": "d1", "operation": "delete", "Invoice": {"Id": inv.Id, "SyncToken": inv.SyncToken}},
        {"bId": "d2", "operation": "delete", "Invoice": {"Id": inv.Id, "SyncToken": inv.SyncToken}},
    ]}
    out = {item["bId"]: item for item in qb.batch_operation(json.dumps(body))["BatchItemResponse"]}
    assert [i["Id"] for i in out["q1"]["QueryResponse"]["Invoice"]] == [inv.Id]
    assert out["d1"]["Invoice"]["status"] == "Deleted"
    assert out["d2"]["Fault"]["Error"][0]["code"] == "610"


def test_sdk_batch_delete(qb):
    c = make_customer(qb, "Batch Deleter")
    invoices = [make_invoice(qb, c) for _ in range(3)]
    result = batch_delete(invoices, qb=qb)
    assert len(result.successes) == 3 and Invoice.count(qb=qb) == 0


def test_cdc_reports_changes_and_deletions(qbo_server, qb):
    c = make_customer(qb, "CDC Ltd")
    since = datetime.now(UTC) - timedelta(seconds=1)
    inv = make_invoice(qb, c, [sales_line(1, "80.00", ZERO_RATED)])
    kept = make_payment(qb, c, "30.00", [(inv, "30.00")])
    gone = make_payment(qb, c, "20.00", [(inv, "20.00")])
    gone.delete(qb=qb)
    cdc = change_data_capture([Payment, Invoice], since, qb=qb)
    payments = {p.Id: p for p in cdc.Payment}
    assert set(payments) == {kept.Id, gone.Id}
    assert getattr(payments[gone.Id], "status", None) == "Deleted"
    assert getattr(payments[kept.Id], "status", None) is None and payments[kept.Id].TotalAmt == Decimal("30.00")
    assert [i.Id for i in cdc.Invoice] == [inv.Id] and cdc.Invoice[0].Balance == Decimal("50.00")


def test_cdc_since_now_is_empty_and_30_days_is_the_limit(qb):
    later = datetime.now(UTC) + timedelta(minutes=5)
    raw = qb.change_data_capture("Payment", later.isoformat())
    assert raw["CDCResponse"][0]["QueryResponse"] == [{}]
    with pytest.raises(QuickbooksException):
        qb.change_data_capture("Payment", (datetime.now(UTC) - timedelta(days=31)).isoformat())
