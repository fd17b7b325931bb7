"""Create, read, update and delete through python-quickbooks, and the faults QBO answers with."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.account import Account
from quickbooks.objects.bill import Bill
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import DescriptionOnlyLine
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.taxrate import TaxRate
from quickbooks.objects.vendor import Vendor
from quickbooks.objects.vendorcredit import VendorCredit

from tests.helpers.qbo_builders import (
    VAT20,
    ZERO_RATED,
    expense_line,
    make_credit_memo,
    make_customer,
    make_invoice,
    make_vendor,
    ref,
    sales_line,
)


def raw(qbo_urls, qbo_tokens, method, path, **kw):
    """A call without the SDK, to see exactly what a client receives."""
    headers = {"Authorization": "Bearer " + qbo_tokens["access_token"], "Accept": "application/json"}
    headers.update(kw.pop("headers", {}))
    url = f"{qbo_urls['api_url']}/company/{qbo_tokens['realm_id']}/{path}"
    return requests.request(method, url, headers=headers, timeout=5, **kw)


def test_seed_company_chart_and_vat_codes(qb):
    accounts = {a.AcctNum: a for a in Account.all(qb=qb)}
    assert accounts["1200"].AccountType == "Bank" and accounts["1200"].Name == "Business Bank Account"
    assert accounts["1001"].Name == "Inventory Asset" and accounts["1100"].AccountType == "Accounts Receivable"
    assert accounts["2100"].AccountType == "Accounts Payable" and accounts["2200"].Name == "VAT Control"
    assert accounts["4000"].Name == "Sales of Product Income" and accounts["5000"].Name == "Cost of Goods Sold"
    codes = {c.Name: c for c in TaxCode.all(qb=qb)}
    assert {"20.0% S", "5.0% R", "0.0% Z", "Exempt", "No VAT"} <= set(codes)
    rate_id = codes["20.0% S"].SalesTaxRateList.TaxRateDetail[0].TaxRateRef.value
    assert Decimal(str(TaxRate.get(rate_id, qb=qb).RateValue)) == Decimal("20")


def test_customer_create_read_sparse_update_and_deactivate(qb):
    c = make_customer(qb, "Harrogate Hardware")
    assert c.Id and c.SyncToken == "0" and c.MetaData["CreateTime"].endswith("+00:00")
    got = Customer.get(c.Id, qb=qb)
    got.PrimaryEmailAddr = None
    got.CompanyName = "Harrogate Hardware Ltd"
    saved = got.save(qb=qb)
    assert saved.SyncToken == "1" and saved.CompanyName == "Harrogate Hardware Ltd"
    # Sparse update: only the fields sent change. Names cannot be deleted, only made inactive.
    r = qb.update_object("Customer", json.dumps({"Id": c.Id, "SyncToken": "1", "sparse": True, "Active": False}))
    assert r["Customer"]["Active"] is False and r["Customer"]["CompanyName"] == "Harrogate Hardware Ltd"
    assert c.Id not in [x.Id for x in Customer.all(qb=qb)]  # lists hide inactive names
    assert [x.Id for x in Customer.where("Active = false", qb=qb)] == [c.Id]


def test_stale_sync_token_is_5010(qb):
    c = make_customer(qb, "Stale Ltd")
    first = Customer.get(c.Id, qb=qb)
    second = Customer.get(c.Id, qb=qb)
    first.Notes = "one"
    first.save(qb=qb)
    second.Notes = "two"
    with pytest.raises(QuickbooksException) as err:
        second.save(qb=qb)
    assert err.value.error_code == 5010
    assert Customer.get(c.Id, qb=qb).Notes == "one"


def test_duplicate_display_name_across_customers_and_vendors_is_6240(qb):
    make_customer(qb, "Leeds Packaging")
    with pytest.raises(QuickbooksException) as err:
        make_vendor(qb, "leeds packaging")
    assert err.value.error_code == 6240 and "Duplicate Name Exists" in err.value.message


def test_unknown_object_is_610(qb):
    with pytest.raises(ObjectNotFoundException) as err:
        Invoice.get("999", qb=qb)
    assert err.value.error_code == 610


def test_invoice_totals_are_per_line_and_decimal_exact(qb, qbo_urls, qbo_tokens):
    c = make_customer(qb, "Wakefield Wholesale")
    inv = make_invoice(qb, c, [sales_line(3, "19.99"), sales_line(7, "0.333", VAT20), sales_line(1, "10", ZERO_RATED)])
    # 59.97 + 2.33 (7 x 0.333 = 2.331) + 10.00; VAT per line: 11.99 + 0.47 + 0.00
    assert inv.Line[0].Amount == Decimal("59.97") and inv.Line[1].Amount == Decimal("2.33")
    assert inv.TxnTaxDetail.TotalTax == Decimal("12.46")
    assert inv.TotalAmt == Decimal("84.76") and inv.Balance == Decimal("84.76")
    assert inv.DocNumber == "1001" and inv.DueDate and inv.Line[-1].DetailType == "SubTotalLineDetail"
    text = raw(qbo_urls, qbo_tokens, "GET", f"invoice/{inv.Id}").text
    assert '"TotalAmt": 84.76' in text and '"Balance": 84.76' in text  # bare JSON numbers, exact


def test_amounts_may_be_json_numbers_and_wrapped(qbo_urls, qbo_tokens):
    body = {"Invoice": {"CustomerRef": {"value": "1"}, "Line": [
        {"Amount": 12.5, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "1"}}}]}}
    r = raw(qbo_urls, qbo_tokens, "POST", "invoice", json=body, params={"minorversion": "75"})
    assert r.status_code == 200, r.text
    assert r.json()["Invoice"]["TotalAmt"] == 15.0 and '"TotalAmt": 15.00' in r.text
    assert r.json()["time"]


def test_amount_not_matching_qty_times_price_is_6070(qb):
    c = make_customer(qb, "Mismatch Ltd")
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [sales_line(2, "5.00", amount="11.00")])
    assert err.value.error_code == 6070


def test_duplicate_invoice_number_is_6140_unless_allowed(qb):
    c = make_customer(qb, "Dup Doc Ltd")
    make_invoice(qb, c, doc_number="INV-7")
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, doc_number="INV-7")
    assert err.value.error_code == 6140
    again = make_invoice(qb, c, doc_number="INV-7", params={"include": "allowduplicatedocnum"})
    assert again.DocNumber == "INV-7"


def test_unknown_references_are_2500(qb):
    c = make_customer(qb, "Ref Ltd")
    with pytest.raises(ValidationException) as err:
        make_invoice(qb, c, [sales_line(1, "5", item="999")])
    assert err.value.error_code == 2500 and "999" in err.value.detail
    with pytest.raises(ValidationException) as err:
        make_invoice(qb, c, [sales_line(1, "5", tax_code="77")])
    assert err.value.error_code == 2500
    ghost = Customer()
    ghost.Id = "4242"
    with pytest.raises(ValidationException) as err:
        make_invoice(qb, ghost)
    assert err.value.error_code == 2500


def test_line_without_item_or_vat_is_6000(qb):
    c = make_customer(qb, "No Item Ltd")
    line = sales_line(1, "5")
    line.SalesItemLineDetail.ItemRef = None
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [line])
    assert err.value.error_code == 6000
    line = sales_line(1, "5")
    line.SalesItemLineDetail.TaxCodeRef = None
    with pytest.raises(QuickbooksException) as err:
        make_invoice(qb, c, [line])
    assert err.value.error_code == 6000 and "VAT" in err.value.detail


def test_invoice_full_update_recomputes_and_delete(qb):
    c = make_customer(qb, "Update Ltd")
    inv = make_invoice(qb, c, [sales_line(1, "10.00")])
    inv.Line = [sales_line(2, "10.00")] + [line for line in inv.Line if isinstance(line, DescriptionOnlyLine)]
    inv.TotalAmt = "1.00"  # read-only: ignored
    saved = inv.save(qb=qb)
    assert saved.TotalAmt == Decimal("24.00") and saved.SyncToken == "1"
    saved.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(inv.Id, qb=qb)


def test_customer_delete_is_refused(qb):
    c = make_customer(qb, "Keep Me Ltd")
    with pytest.raises(QuickbooksException) as err:
        qb.delete_object("Customer", json.dumps({"Id": c.Id, "SyncToken": c.SyncToken}))
    assert err.value.error_code == 500


def test_bill_and_vendor_credit(qb):
    v = make_vendor(qb, "Sheffield Steel")
    bill = Bill()
    bill.VendorRef = v.to_ref()
    bill.Line = [expense_line("100.00"), expense_line("0.05")]
    bill.DocNumber = "SS-1"
    bill = bill.save(qb=qb)
    assert bill.TotalAmt == Decimal("120.06") and bill.Balance == Decimal("120.06")  # 20.00 + 0.01 VAT
    assert Vendor.get(v.Id, qb=qb).Balance == Decimal("120.06")
    vc = VendorCredit()
    vc.VendorRef = v.to_ref()
    vc.Line = [expense_line("10.00")]
    vc = vc.save(qb=qb)
    assert vc.TotalAmt == Decimal("12.00")
    assert Vendor.get(v.Id, qb=qb).Balance == Decimal("108.06")
    missing = Bill()
    missing.VendorRef = v.to_ref()
    line = expense_line("5")
    line.AccountBasedExpenseLineDetail.AccountRef = None
    missing.Line = [line]
    with pytest.raises(QuickbooksException) as err:
        missing.save(qb=qb)
    assert err.value.error_code == 6000


def test_items_and_accounts(qb):
    item = Item()
    item.Name = "Oak plank 2m"
    item.Type = "Inventory"
    item.IncomeAccountRef = ref("1")
    item.ExpenseAccountRef = ref("4")
    item.AssetAccountRef = ref("6")
    item.QtyOnHand = 10
    item.InvStartDate = "2026-01-01"
    item.UnitPrice = "12.50"
    saved = item.save(qb=qb)
    assert saved.Type == "Inventory" and saved.TrackQtyOnHand is True
    assert [i.Id for i in Item.filter(Name="Oak plank 2m", qb=qb)] == [saved.Id]
    assert saved.Id in [i.Id for i in Item.all(qb=qb)]  # the SDK asks "SELECT *, Sku FROM Item"
    dup = Item()
    dup.Name = "Oak plank 2m"
    dup.IncomeAccountRef = ref("1")
    with pytest.raises(QuickbooksException) as err:
        dup.save(qb=qb)
    assert err.value.error_code == 6240
    acct = Account()
    acct.Name = "Packaging"
    acct.AccountType = "Expense"
    acct.AcctNum = "5100"
    saved_acct = acct.save(qb=qb)
    assert [a.Id for a in Account.filter(Name="Packaging", qb=qb)] == [saved_acct.Id]
    # AcctNum is not one of Account's filterable fields: QuickBooks refuses the query (4001).
    with pytest.raises(QuickbooksException) as err:
        Account.filter(AcctNum="5100", qb=qb)
    assert err.value.error_code == 4001 and "'AcctNum' is not queryable" in err.value.detail


def test_credit_memo_has_remaining_credit(qb):
    c = make_customer(qb, "Credit Ltd")
    cm = make_credit_memo(qb, c, "30.00")
    assert cm.TotalAmt == Decimal("30.00") and cm.RemainingCredit == Decimal("30.00")
    assert Customer.get(c.Id, qb=qb).Balance == Decimal("-30.00")


def test_inventory_quantity_follows_invoices_bills_and_deletes(qb):
    from quickbooks.objects.detailline import ItemBasedExpenseLine, ItemBasedExpenseLineDetail

    item = Item()
    item.Name, item.Type, item.QtyOnHand, item.InvStartDate = "Walnut board", "Inventory", 10, "2026-01-01"
    item.IncomeAccountRef, item.ExpenseAccountRef, item.AssetAccountRef = ref("1"), ref("4"), ref("6")
    item = item.save(qb=qb)
    c = make_customer(qb, "Stock Buyer")
    inv = make_invoice(qb, c, [sales_line(3, "20.00", item=item.Id)])
    assert Decimal(str(Item.get(item.Id, qb=qb).QtyOnHand)) == 7
    v = make_vendor(qb, "Stock Seller")
    bill = Bill()
    bill.VendorRef = v.to_ref()
    line = ItemBasedExpenseLine()
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref(item.Id)
    line.ItemBasedExpenseLineDetail.Qty = 5
    line.ItemBasedExpenseLineDetail.UnitPrice = "8.00"
    line.ItemBasedExpenseLineDetail.TaxCodeRef = ref(VAT20)
    bill.Line = [line]
    bill = bill.save(qb=qb)
    assert bill.TotalAmt == Decimal("48.00")
    assert Decimal(str(Item.get(item.Id, qb=qb).QtyOnHand)) == 12
    inv.delete(qb=qb)
    assert Decimal(str(Item.get(item.Id, qb=qb).QtyOnHand)) == 15
