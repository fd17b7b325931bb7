"""The QuickBooks sandbox as strict as a real UK company: VAT per rate, tax overrides, the Amount check, the
closing date, Preferences, document numbers, multicurrency, voids and Undeposited Funds."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.bill import Bill
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment
from quickbooks.objects.preferences import Preferences

from tests.helpers.qbo_builders import (
    VAT20,
    expense_line,
    make_customer,
    make_invoice,
    make_payment,
    make_vendor,
    sales_line,
)

REDUCED = "2"   # TaxCode "5.0% R"


def company(qbo_urls, **settings) -> dict:
    resp = requests.post(qbo_urls["root"] + "/_sandbox/company", json=settings, timeout=10)
    resp.raise_for_status()
    return resp.json()


def invoice_json(customer_id: str, lines: list[tuple[str, str]], tax_lines: list[dict] | None = None,
                 total_tax: str | None = None, **extra) -> dict:
    body = {"CustomerRef": {"value": customer_id}, "TxnDate": "2026-03-02",
            "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": code}}}
                     for amount, code in lines], **extra}
    if tax_lines is not None or total_tax is not None:
        body["TxnTaxDetail"] = {"TotalTax": total_tax or "0", "TaxLine": tax_lines or []}
    return body


def tax_line(rate_id: str, amount: str, net: str) -> dict:
    return {"Amount": amount, "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": rate_id}, "PercentBased": True, "NetAmountTaxable": net}}


def test_vat_is_worked_out_per_rate_with_one_tax_line_each(qb):
    c = make_customer(qb, "Per Rate Ltd")
    # Three lines of 10.03 at 20%: 2.006 each, so 6.03 rounded per line but 6.02 on the rate's 30.09.
    inv = make_invoice(qb, c, [sales_line(1, "10.03"), sales_line(1, "10.03"), sales_line(1, "10.03"),
                               sales_line(1, "40.00", REDUCED)])
    detail = inv.TxnTaxDetail
    assert [(t.TaxLineDetail.TaxRateRef.value, t.TaxLineDetail.NetAmountTaxable, t.Amount) for t in detail.TaxLine] \
        == [("1", Decimal("30.09"), Decimal("6.02")), ("3", Decimal("40.00"), Decimal("2.00"))]
    assert detail.TotalTax == Decimal("8.02") and inv.TotalAmt == Decimal("78.11")


def test_total_tax_alone_is_recalculated_but_a_tax_line_per_rate_is_kept(qb):
    c = make_customer(qb, "Override Ltd")
    lines = [("10.03", VAT20)] * 3
    bare = qb.create_object("Invoice", json.dumps(invoice_json(c.Id, lines, total_tax="6.03")))["Invoice"]
    assert Decimal(str(bare["TotalAmt"])) == Decimal("36.11")           # TotalTax alone: ignored
    kept = qb.create_object("Invoice", json.dumps(invoice_json(c.Id, lines, [tax_line("1", "6.03", "30.09")],
                                                               "6.03")))["Invoice"]
    assert Decimal(str(kept["TotalAmt"])) == Decimal("36.12")           # the ledger's per-line VAT
    assert Decimal(str(kept["TxnTaxDetail"]["TaxLine"][0]["Amount"])) == Decimal("6.03")
    # A TaxLine on another net cannot stand for the rate: recalculated, not trusted.
    other = qb.create_object("Invoice", json.dumps(invoice_json(c.Id, lines, [tax_line("1", "6.03", "30.00")])))
    assert Decimal(str(other["Invoice"]["TotalAmt"])) == Decimal("36.11")
    with pytest.raises(QuickbooksException) as err:    # more than a penny a line away from the rate's VAT
        qb.create_object("Invoice", json.dumps(invoice_json(c.Id, lines, [tax_line("1", "9.00", "30.09")])))
    assert err.value.error_code == 6000 and "too far" in err.value.detail


def test_amount_must_be_quantity_times_price_as_quickbooks_multiplies(qb):
    c = make_customer(qb, "Tape Ltd")
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [sales_line(23, "1.755", amount="40.37")])   # 40.365 in a double is 40.3649999...
    assert err.value.error_code == 6070
    inv = make_invoice(qb, c, [sales_line(23, "1.755", amount="40.36")])
    assert inv.Line[0].Amount == Decimal("40.36")


def test_closing_date_refuses_documents_on_or_before_it(qb, qbo_urls):
    prefs = Preferences.get(qb=qb)
    prefs.AccountingInfoPrefs.BookCloseDate = "2026-02-28"
    prefs.save(qb=qb)                                        # read only through the API: nothing changes
    assert Preferences.get(qb=qb).AccountingInfoPrefs.BookCloseDate in (None, "")
    assert company(qbo_urls, book_close_date="2026-02-28")["book_close_date"] == "2026-02-28"
    c = make_customer(qb, "Closed Books Ltd")
    with pytest.raises(QuickbooksException) as err:
        qb.create_object("Invoice", json.dumps(invoice_json(c.Id, [("10.00", VAT20)], TxnDate="2026-02-28")))
    assert err.value.error_code == 6210 and "account period has closed" in err.value.detail
    open_one = qb.create_object("Invoice", json.dumps(invoice_json(c.Id, [("10.00", VAT20)], TxnDate="2026-03-01")))
    assert open_one["Invoice"]["TxnDate"] == "2026-03-01"
    assert Preferences.get(qb=qb).AccountingInfoPrefs.BookCloseDate == "2026-02-28"


def test_custom_transaction_numbers_off_numbers_invoices_itself(qb):
    prefs = Preferences.get(qb=qb)
    assert prefs.SalesFormsPrefs.CustomTxnNumbers is True
    prefs.SalesFormsPrefs.CustomTxnNumbers = False
    prefs.save(qb=qb)                                        # writable through the API
    c = make_customer(qb, "Numbered Ltd")
    inv = make_invoice(qb, c, [sales_line(1, "10.00")], doc_number="INV-OURS")
    assert inv.DocNumber != "INV-OURS" and inv.DocNumber.isdigit()


def test_doc_numbers_are_at_most_21_characters_and_duplicates_follow_each_type(qb):
    c = make_customer(qb, "Dup Ltd")
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [sales_line(1, "1.00")], doc_number="X" * 22)
    assert "21 characters" in err.value.detail
    make_invoice(qb, c, [sales_line(1, "1.00")], doc_number="D-1")
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [sales_line(1, "1.00")], doc_number="D-1")
    assert err.value.error_code == 6140
    a, b = make_vendor(qb, "Vendor A"), make_vendor(qb, "Vendor B")
    for vendor in (a, b):                                    # bill numbers are per vendor
        bill = Bill()
        bill.VendorRef, bill.DocNumber, bill.Line = vendor.to_ref(), "SUP-77", [expense_line("10.00")]
        bill.save(qb=qb)
    dup = Bill()
    dup.VendorRef, dup.DocNumber, dup.Line = a.to_ref(), "SUP-77", [expense_line("10.00")]
    with pytest.raises(QuickbooksException) as err:
        dup.save(qb=qb)
    assert err.value.error_code == 6140


def test_allow_duplicate_docnum_lets_a_duplicate_invoice_through(qbo_server, qbo_urls, qbo_tokens, qb):
    c = make_customer(qb, "Dup Allowed Ltd")
    make_invoice(qb, c, [sales_line(1, "1.00")], doc_number="D-9")
    url = f"{qbo_urls['api_url']}/company/{qbo_tokens['realm_id']}/invoice"
    body = {**invoice_json(c.Id, [("1.00", VAT20)]), "DocNumber": "D-9"}
    headers = {"Authorization": f"Bearer {qbo_tokens['access_token']}", "Accept": "application/json"}
    refused = requests.post(url, json=body, headers=headers, timeout=10)
    assert refused.status_code == 400 and refused.json()["Fault"]["Error"][0]["code"] == "6140"
    allowed = requests.post(url, json=body, headers=headers, params={"include": "allowduplicatedocnum"}, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["Invoice"]["DocNumber"] == "D-9"


def test_multicurrency_off_refuses_a_foreign_currency_on_keeps_it_with_its_rate(qb, qbo_urls):
    c = make_customer(qb, "Euro Off SARL")
    with pytest.raises(QuickbooksException) as err:
        qb.create_object("Invoice", json.dumps(invoice_json(c.Id, [("10.00", VAT20)], CurrencyRef={"value": "EUR"})))
    assert "Multicurrency is not enabled" in err.value.detail
    prefs = Preferences.get(qb=qb)
    prefs.CurrencyPrefs.MultiCurrencyEnabled = True
    prefs.save(qb=qb)
    company(qbo_urls, currencies={"EUR": "0.86"})
    eur = qb.create_object("Customer", json.dumps({"DisplayName": "Euro On SARL", "CurrencyRef": {"value": "EUR"}}))
    inv = qb.create_object("Invoice", json.dumps(invoice_json(eur["Customer"]["Id"], [("10.00", VAT20)],
                                                              CurrencyRef={"value": "EUR"}, ExchangeRate="0.85")))
    assert inv["Invoice"]["CurrencyRef"]["value"] == "EUR" and Decimal(str(inv["Invoice"]["ExchangeRate"])) == \
        Decimal("0.85")
    with pytest.raises(QuickbooksException):                 # a GBP customer cannot take a EUR invoice
        qb.create_object("Invoice", json.dumps(invoice_json(c.Id, [("10.00", VAT20)], CurrencyRef={"value": "EUR"})))
    prefs = Preferences.get(qb=qb)
    prefs.CurrencyPrefs.MultiCurrencyEnabled = False
    with pytest.raises(QuickbooksException) as err:          # never off again
        prefs.save(qb=qb)
    assert "cannot be turned off" in err.value.detail


def test_a_voided_payment_stays_with_a_zero_total_and_releases_the_invoice(qb):
    c = make_customer(qb, "Void Ltd")
    inv = make_invoice(qb, c, [sales_line(1, "50.00")])
    pay = make_payment(qb, c, "60.00", [(inv, "60.00")])
    Payment.get(pay.Id, qb=qb).void(qb=qb)
    voided = Payment.get(pay.Id, qb=qb)
    assert voided.TotalAmt == Decimal("0.00") and voided.PrivateNote == "Voided"
    assert Invoice.get(inv.Id, qb=qb).Balance == Decimal("60.00")


def test_a_receipt_with_no_bank_goes_to_undeposited_funds(qb):
    c = make_customer(qb, "Cash Sale Ltd")
    inv = make_invoice(qb, c, [sales_line(1, "10.00")])
    body = {"CustomerRef": {"value": c.Id}, "TotalAmt": "12.00",
            "Line": [{"Amount": "12.00", "LinkedTxn": [{"TxnId": inv.Id, "TxnType": "Invoice"}]}]}
    pay = qb.create_object("Payment", json.dumps(body))["Payment"]
    assert pay["DepositToAccountRef"] == {"value": "9", "name": "Undeposited Funds"}
    body["DepositToAccountRef"] = {"value": "12"}           # VAT Control: not somewhere money is deposited
    with pytest.raises(QuickbooksException):
        qb.create_object("Payment", json.dumps(body))


def test_queries_only_filter_and_sort_on_queryable_fields(qb):
    for text, prop in (("SELECT * FROM Account WHERE AcctNum = '1200'", "AcctNum"),
                       ("SELECT * FROM Invoice WHERE Colour = 'red'", "Colour"),
                       ("SELECT * FROM Customer ORDERBY PrimaryEmailAddr", "PrimaryEmailAddr")):
        with pytest.raises(QuickbooksException) as err:
            qb.query(text)
        assert err.value.error_code == 4001 and f"'{prop}' is not queryable" in err.value.detail
    assert qb.query("SELECT * FROM Account WHERE AccountType = 'Bank' ORDERBY Name")["QueryResponse"]["Account"]
