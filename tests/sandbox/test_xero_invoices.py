"""Invoices, contacts and items through xero-python: totals, numbering, validations, queries."""

from __future__ import annotations

import pytest
import requests
from xero_python.accounting import Account, Invoice, Invoices, Item, Items, LineAmountTypes, LineItem, Purchase
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from .xero_builders import D, contact, create_invoice, create_invoices, invoice, line


def test_line_maths_per_line_rounding_half_up(xero):
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[
        line("3", "10.125"),                       # unit cut to 10.12 -> 30.36, VAT 6.072 -> 6.07
        line("1", "0.125", tax="OUTPUT2"),        # cut to 0.12, VAT 0.024 -> 0.02
        line("2", "10.00", discount_rate=D("12.5")),  # 17.50, VAT 3.50
        line("1", "9.99", tax="RROUTPUT"),         # VAT 5%: 0.4995 -> 0.50
    ])
    amounts = [(li.unit_amount, li.line_amount, li.tax_amount) for li in inv.line_items]
    assert amounts == [(D("10.12"), D("30.36"), D("6.07")), (D("0.12"), D("0.12"), D("0.02")),
                       (D("10.00"), D("17.50"), D("3.50")), (D("9.99"), D("9.99"), D("0.50"))]
    assert (inv.sub_total, inv.total_tax, inv.total) == (D("57.97"), D("10.09"), D("68.06"))
    assert inv.amount_due == D("68.06") and inv.amount_paid == 0


def test_unitdp_4_keeps_four_places(xero):
    cid = contact(xero)
    inv = create_invoices(xero, invoice(cid, lines=[line("3", "1.23456")]), unitdp=4)[0]
    assert inv.line_items[0].unit_amount == D("1.2345") and inv.line_items[0].line_amount == D("3.70")


def test_inclusive_amounts_take_tax_out(xero):
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[line("1", "120.00")], line_amount_types=LineAmountTypes.INCLUSIVE)
    assert (inv.sub_total, inv.total_tax, inv.total) == (D("100.00"), D("20.00"), D("120.00"))


def test_exact_decimals_on_the_wire(xero, xero_urls):
    cid = contact(xero)
    inv = create_invoice(xero, cid, lines=[line("1", "100.42")])
    raw = requests.get(f"{xero_urls['api_url']}/Invoices/{inv.invoice_id}",
                       headers={"Authorization": f"Bearer {xero.token['access_token']}",
                                "xero-tenant-id": xero.tenant_id}).text
    assert '"Total": 120.50' in raw and '"UnitAmount": 100.42' in raw
    assert '"Date": "/Date(' in raw and '+0000)/"' in raw and '"DateString": "2026-11-20T00:00:00"' in raw


def test_sales_numbers_generated_and_unique_bills_may_repeat(xero):
    cid = contact(xero)
    first = create_invoice(xero, cid)
    assert first.invoice_number == "INV-0001"
    with pytest.raises(AccountingBadRequestException) as exc:
        create_invoice(xero, cid, number="INV-0001")
    assert exc.value.reason == "Invoice # must be unique."
    bills = [create_invoice(xero, cid, type_="ACCPAY", number="SUP-9", lines=[line(account="300", tax="INPUT2")])
             for _ in range(2)]
    assert bills[0].invoice_id != bills[1].invoice_id and {b.invoice_number for b in bills} == {"SUP-9"}


@pytest.mark.parametrize("bad_line, message", [
    ({"account": None}, "Account code or ID must be specified"),
    ({"account": "999"}, "Account code '999' is not a valid code for this document."),
    ({"account": "090"}, "Account code '090' is not a valid code for this document."),
    ({"tax": "VAT99"}, "The TaxType code 'VAT99' does not exist or cannot be used for this type of transaction."),
    ({"item_code": "NOPE"}, "Item code 'NOPE' is not valid"),
])
def test_line_validations(xero, bad_line, message):
    cid = contact(xero)
    with pytest.raises(AccountingBadRequestException) as exc:
        create_invoice(xero, cid, lines=[line(**bad_line)])
    assert exc.value.reason == message
    assert xero.accounting.get_invoices(xero.tenant_id).invoices == []


def test_draft_may_lack_account_code(xero):
    cid = contact(xero)
    inv = create_invoice(xero, cid, status="DRAFT", lines=[line(account=None)])
    assert inv.status == "DRAFT" and inv.line_items[0].account_code is None


def test_archived_account_refused(xero):
    api, tid = xero.accounting, xero.tenant_id
    acc = next(a for a in api.get_accounts(tid, where='Code=="260"').accounts)
    api.update_account(tid, acc.account_id, _accounts(Account(status="ARCHIVED")))
    cid = contact(xero)
    with pytest.raises(AccountingBadRequestException) as exc:
        create_invoice(xero, cid, lines=[line(account="260")])
    assert "has been archived" in exc.value.reason


def _accounts(acc):
    from xero_python.accounting import Accounts
    return Accounts(accounts=[acc])


def test_item_without_sales_account_needs_account_code(xero):
    api, tid = xero.accounting, xero.tenant_id
    api.create_items(tid, Items(items=[Item(code="BARE", name="Bare item"),
                                       Item(code="W1", name="Widget", sales_details=Purchase(unit_price=D("12.50"),
                                            account_code="200", tax_type="OUTPUT2"))]))
    cid = contact(xero)
    with pytest.raises(AccountingBadRequestException) as exc:
        create_invoice(xero, cid, lines=[line(account=None, item_code="BARE")])
    assert exc.value.reason == "Account code or ID must be specified"
    inv = create_invoice(xero, cid, lines=[LineItem(item_code="W1", quantity=D("2"))])
    li = inv.line_items[0]
    assert (li.account_code, li.unit_amount, li.line_amount, li.tax_amount) == (
        "200", D("12.50"), D("25.00"), D("5.00"))


def test_item_codes_unique(xero):
    api, tid = xero.accounting, xero.tenant_id
    api.create_items(tid, Items(items=[Item(code="W1", name="Widget")]))
    with pytest.raises(AccountingBadRequestException) as exc:
        api.create_items(tid, Items(items=[Item(code="w1", name="Other")]))
    assert "already exists" in exc.value.reason


def test_contact_rules(xero):
    contact(xero, "Acme Ltd")
    with pytest.raises(AccountingBadRequestException) as exc:
        contact(xero, "Acme Ltd")
    assert exc.value.reason == ("The contact name Acme Ltd is already assigned to another contact. "
                                "The contact name must be unique across all active contacts.")
    with pytest.raises(AccountingBadRequestException) as exc:
        contact(xero, "Bad Mail", email_address="not-an-email")
    assert exc.value.reason == "Email address must be valid."
    with pytest.raises(AccountingBadRequestException) as exc:
        create_invoice(xero, "6b1f2e8e-0000-4000-8000-000000000000")
    assert exc.value.reason == "Contact could not be found"


def test_post_updates_and_moves_updated_date(xero):
    api, tid = xero.accounting, xero.tenant_id
    cid = contact(xero)
    inv = create_invoice(xero, cid, status="DRAFT")
    upd = api.update_invoice(tid, inv.invoice_id, Invoices(invoices=[Invoice(reference="PO-7", status="AUTHORISED")]))
    got = upd.invoices[0]
    assert got.invoice_id == inv.invoice_id and got.reference == "PO-7" and got.status == "AUTHORISED"
    assert got.updated_date_utc > inv.updated_date_utc
    # POST /Invoices creates when there is no id
    made = api.update_or_create_invoices(tid, Invoices(invoices=[invoice(cid)])).invoices[0]
    assert made.invoice_id != inv.invoice_id
    voided = api.update_invoice(tid, inv.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])).invoices[0]
    assert voided.status == "VOIDED" and voided.amount_due == 0


def test_get_by_id_number_and_404(xero):
    api, tid = xero.accounting, xero.tenant_id
    inv = create_invoice(xero, contact(xero))
    assert api.get_invoice(tid, inv.invoice_id).invoices[0].invoice_number == inv.invoice_number
    assert api.get_invoice(tid, inv.invoice_number).invoices[0].invoice_id == inv.invoice_id
    with pytest.raises(NotFoundException):
        api.get_invoice(tid, "00000000-0000-4000-8000-000000000000")


def test_list_filters_order_and_paging(xero):
    api, tid = xero.accounting, xero.tenant_id
    a, b = contact(xero, "A Ltd"), contact(xero, "B Ltd")
    made = create_invoices(xero, *[invoice(a if i % 2 else b, reference=f"R{i}") for i in range(5)],
                           invoice(a, type_="ACCPAY", lines=[line(account="300", tax="INPUT2")]))
    numbers = [i.invoice_number for i in made[:5]]
    got = api.get_invoices(tid, where='Type=="ACCREC" AND Reference=="R3"').invoices
    assert [i.invoice_number for i in got] == [numbers[3]]
    assert len(api.get_invoices(tid, where='Type=="ACCPAY"').invoices) == 1
    assert len(api.get_invoices(tid, where=f'Contact.ContactID==Guid("{a}") AND Status=="AUTHORISED"').invoices) == 3
    assert {i.invoice_number for i in api.get_invoices(tid, invoice_numbers=numbers[:2]).invoices} == set(numbers[:2])
    assert [i.invoice_id for i in api.get_invoices(tid, i_ds=[made[4].invoice_id]).invoices] == [made[4].invoice_id]
    assert len(api.get_invoices(tid, contact_i_ds=[b], statuses=["AUTHORISED"]).invoices) == 3
    desc = api.get_invoices(tid, where='Type=="ACCREC"', order="InvoiceNumber DESC").invoices
    assert [i.invoice_number for i in desc] == sorted(numbers, reverse=True)
    page = api.get_invoices(tid, page=2, page_size=4, order="InvoiceNumber")
    assert len(page.invoices) == 2 and page.pagination.page_count == 2 and page.pagination.item_count == 6
    assert page.invoices[0].line_items  # paged lists carry lines; unpaged ones do not, as in Xero
    assert not api.get_invoices(tid).invoices[0].line_items


def test_where_by_name_and_code(xero):
    api, tid = xero.accounting, xero.tenant_id
    contact(xero, "Zed & Co")
    assert [c.name for c in api.get_contacts(tid, where='Name=="zed & co"').contacts] == ["Zed & Co"]
    assert [a.name for a in api.get_accounts(tid, where='Code=="090"').accounts] == ["Business Bank Account"]
    assert api.get_accounts(tid, where='Type=="BANK"').accounts[0].bank_account_number


def test_seed_chart_and_tax_rates(xero):
    api, tid = xero.accounting, xero.tenant_id
    codes = {a.code: a for a in api.get_accounts(tid).accounts}
    assert {"090", "200", "260", "300", "310", "425", "610", "630", "800", "820"} <= set(codes)
    assert codes["090"].type.value == "BANK" and codes["820"].name == "VAT"
    rates = {r.tax_type: r for r in api.get_tax_rates(tid).tax_rates}
    assert rates["OUTPUT2"].name == "20% (VAT on Income)" and rates["OUTPUT2"].effective_rate == D("20")
    assert rates["RRINPUT"].effective_rate == D("5") and rates["ZERORATEDOUTPUT"].effective_rate == 0
    assert {"INPUT2", "RROUTPUT", "ZERORATEDINPUT", "EXEMPTOUTPUT", "NONE"} <= set(rates)
    org = api.get_organisations(tid).organisations[0]
    assert org.base_currency.value == "GBP" and org.country_code.value == "GB"


def test_contact_by_name_is_found_or_created_and_archived_ones_hidden(xero):
    from xero_python.accounting import Contact, Contacts

    api, tid = xero.accounting, xero.tenant_id
    existing = contact(xero, "Known Ltd")
    inv = create_invoices(xero, Invoice(type="ACCREC", contact=Contact(name="known ltd"), line_items=[line()],
                                        status="AUTHORISED"))[0]
    assert str(inv.contact.contact_id) == existing
    new = create_invoices(xero, Invoice(type="ACCREC", contact=Contact(name="Brand New"), line_items=[line()],
                                        status="AUTHORISED"))[0]
    assert new.contact.contact_id and new.contact.name == "Brand New"
    api.update_contact(tid, existing, Contacts(contacts=[Contact(contact_status="ARCHIVED")]))
    assert [c.name for c in api.get_contacts(tid).contacts] == ["Brand New"]
    assert len(api.get_contacts(tid, include_archived=True).contacts) == 2
    assert contact(xero, "Known Ltd")  # the name is free again once archived
