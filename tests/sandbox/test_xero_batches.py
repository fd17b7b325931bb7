"""summarizeErrors in both modes, including Xero's trap: a summarised 400 still creates the valid ones."""

from __future__ import annotations

import json

import pytest
from xero_python.accounting import Contact, Contacts, Invoices
from xero_python.exceptions import AccountingBadRequestException

from tests.helpers.xero_builders import contact, create_invoices, invoice, line


def test_summarised_400_lists_only_failures_but_creates_the_valid(xero):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    batch = [invoice(cid, reference="ok-1"), invoice(cid, reference="bad", lines=[line(account=None)]),
             invoice(cid, reference="ok-2")]
    with pytest.raises(AccountingBadRequestException) as exc:
        api.create_invoices(tid, Invoices(invoices=batch))
    body = exc.value.error_data
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10, "ValidationException", "A validation exception occurred")
    assert [e["Reference"] for e in body["Elements"]] == ["bad"]
    assert body["Elements"][0]["ValidationErrors"] == [{"Message": "Account code or ID must be specified"}]
    # The trap: the two valid invoices exist although the call "failed" and their ids never came back.
    stored = api.get_invoices(tid).invoices
    assert sorted(i.reference for i in stored) == ["ok-1", "ok-2"]


def test_unsummarised_200_reports_each_element(xero):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    batch = [invoice(cid, reference="ok"), invoice(cid, reference="bad", lines=[line(tax="XX")])]
    result = api.create_invoices(tid, Invoices(invoices=batch), summarize_errors=False).invoices
    assert [r.status_attribute_string for r in result] == ["OK", "ERROR"]
    assert result[0].invoice_id and not result[0].validation_errors
    assert [e.message for e in result[1].validation_errors] == [
        "The TaxType code 'XX' does not exist or cannot be used for this type of transaction."]
    assert result[1].has_errors is True
    assert [i.reference for i in api.get_invoices(tid).invoices] == ["ok"]


def test_contacts_batch_unsummarised(xero):
    api, tid = xero.accounting, xero.tenant_id
    contact(xero, "Taken")
    result = api.create_contacts(tid, Contacts(contacts=[Contact(name="New"), Contact(name="Taken")]),
                                 summarize_errors=False).contacts
    assert [c.status_attribute_string for c in result] == ["OK", "ERROR"]
    assert "already assigned" in result[1].validation_errors[0].message


def test_raw_body_shapes(xero, xero_urls):
    """What the app's own HTTP code would see, without the SDK's parsing in between."""
    import requests

    cid = contact(xero)
    headers = {"Authorization": f"Bearer {xero.token['access_token']}", "xero-tenant-id": xero.tenant_id}
    body = {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": cid}, "Status": "AUTHORISED",
                          "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 10}]}]}
    resp = requests.put(xero_urls["api_url"] + "/Invoices", json=body, headers=headers)
    assert resp.status_code == 400
    element = resp.json()["Elements"][0]
    assert element["HasErrors"] is True and element["Type"] == "ACCREC"
    resp = requests.put(xero_urls["api_url"] + "/Invoices?summarizeErrors=false", data=json.dumps(body),
                        headers=headers)
    assert resp.status_code == 200 and resp.json()["Invoices"][0]["StatusAttributeString"] == "ERROR"
    bad_json = requests.put(xero_urls["api_url"] + "/Invoices", data="{not json", headers=headers)
    assert bad_json.status_code == 400


def test_accpay_sequence_is_independent(xero):
    cid = contact(xero)
    bills = create_invoices(xero, invoice(cid, type_="ACCPAY", lines=[line(account="310", tax="INPUT2")]))
    assert bills[0].invoice_number in (None, "")
    assert create_invoices(xero, invoice(cid))[0].invoice_number == "INV-0001"
