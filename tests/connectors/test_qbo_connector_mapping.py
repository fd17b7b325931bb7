"""The pure mapping rules (no I/O): requestid, payload hygiene, and reading payments back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, ItemIn, LineIn, MalformedResponse, PaymentIn
from kcc_desktop.connectors.quickbooks import mapping as m
from kcc_desktop.connectors.quickbooks import remote
from kcc_desktop.connectors.quickbooks.http import BATCH_REQUEST_ID_MAX, REQUEST_ID_MAX, request_id
from kcc_desktop.connectors.quickbooks.vat import TaxRateOf


def test_request_id_keeps_short_keys_and_hashes_long_ones_stably():
    assert request_id("export-42", BATCH_REQUEST_ID_MAX) == "export-42"
    long_key = "x" * 80
    hashed = request_id(long_key, BATCH_REQUEST_ID_MAX)
    assert len(hashed) == BATCH_REQUEST_ID_MAX and hashed == request_id(long_key, BATCH_REQUEST_ID_MAX)
    assert request_id("y" * 80, BATCH_REQUEST_ID_MAX) != hashed
    assert len(request_id(long_key, REQUEST_ID_MAX)) == REQUEST_ID_MAX
    assert request_id("exactly-fifty-" + "z" * 36, REQUEST_ID_MAX) == "exactly-fifty-" + "z" * 36
    assert request_id("naïve key", REQUEST_ID_MAX).startswith("k")        # non-ASCII: hashed


def test_documents_carry_no_placeholders_or_read_only_fields():
    doc = DocumentIn("k", DocKind.SALES_INVOICE, "INV-9", "5", "Acme", date(2026, 1, 5), None, "", [
        LineIn("Bench", Decimal("3"), Decimal("9.99"), "4000", "1", discount_rate=Decimal("10"), item_code="B",
               line_amount=Decimal("26.97"), tax_amount=Decimal("5.39"))])
    body = json.loads(m.build_document(doc, {}, {"B": "9"}, {("1", True): TaxRateOf("1", Decimal("20"))}).to_json())
    text = json.dumps(body)
    assert '""' not in text and "Balance" not in text and "TotalAmt" not in text and "DueDate" not in text
    line = body["Line"][0]
    assert line["Amount"] == "26.97"                                      # exact string, never a float
    # 3 x 8.991 is 26.973, not the ledger's 26.97: the price sent is the one that multiplies to the amount.
    assert line["SalesItemLineDetail"]["UnitPrice"] == "8.99" and line["SalesItemLineDetail"]["Qty"] == "3"
    assert body["DocNumber"] == "INV-9" and body["TxnDate"] == "2026-01-05"
    # One TaxLine per rate, with the ledger's VAT and the net it is on.
    [tax_line] = body["TxnTaxDetail"]["TaxLine"]
    assert tax_line["Amount"] == "5.39" and tax_line["TaxLineDetail"]["NetAmountTaxable"] == "26.97"


def test_a_price_that_cannot_multiply_to_the_amount_goes_unsaid():
    # 23 x 1.755 = 40.365: QuickBooks wants 40.36 for that product, the ledger has 40.37; no price of at most
    # five decimals times 23 is 40.37, so the line goes as an amount alone.
    doc = DocumentIn("k", DocKind.SALES_INVOICE, "INV-10", "5", "Acme", date(2026, 1, 5), None, "", [
        LineIn("Tape", Decimal("23"), Decimal("1.95"), "4000", "1", discount_rate=Decimal("10"), item_code="B",
               line_amount=Decimal("40.37"), tax_amount=Decimal("8.07"))])
    detail = json.loads(m.build_document(doc, {}, {"B": "9"}).to_json())["Line"][0]["SalesItemLineDetail"]
    assert "Qty" not in detail and "UnitPrice" not in detail


def test_items_are_never_inventory():
    with pytest.raises(m.MappingError):
        m.build_item(ItemIn("k", "W", "Widget"), {})                      # no account at all
    item = m.build_item(ItemIn("k", "W", "Widget", sales_account="4000"), {"4000": "1"}, "Service")
    assert item.Type == "Service" and item.TrackQtyOnHand is False
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    from kcc_desktop.connectors.settings import ConnectionSettings
    with pytest.raises(ValueError):
        QuickBooksPackage(ConnectionSettings(provider="quickbooks", tenant_id="1"), item_type="Inventory")


def test_contacts_become_customers_unless_only_suppliers():
    assert m.contact_entity(ContactIn("k", "A")) == "Customer"
    assert m.contact_entity(ContactIn("k", "A", is_customer=True, is_supplier=True)) == "Customer"
    assert m.contact_entity(ContactIn("k", "A", is_customer=False, is_supplier=True)) == "Vendor"
    with pytest.raises(m.MappingError):
        m.build_contact(ContactIn("k", "   "))


def test_payments_only_against_invoices_and_bills():
    with pytest.raises(m.MappingError):
        m.build_payment(PaymentIn("k", DocKind.SALES_CREDIT, "1", Decimal("1"), date(2026, 1, 1), "1200", "8"), "3")


def _payment(lines, total, unapplied="0"):
    return {"Id": "77", "TxnDate": "2026-01-20", "TotalAmt": Decimal(total), "UnappliedAmt": Decimal(unapplied),
            "CustomerRef": {"value": "3", "name": "Acme"}, "DepositToAccountRef": {"value": "8"},
            "MetaData": {"LastUpdatedTime": "2026-01-20T10:00:00-08:00"},
            "Line": [{"Amount": Decimal(a), "LinkedTxn": [{"TxnId": i, "TxnType": t}]} for a, i, t in lines]}


def test_reading_back_a_payment():
    ctx = remote.PaymentContext(account_codes={"8": "1200"}, doc_numbers={("Invoice", "11"): "INV-11"})
    got = remote.remote_payment("Payment", _payment([("40.00", "11", "Invoice")], "50.00", "10.00"), ctx)
    assert got.allocations[0].document_number == "INV-11" and got.allocations[0].amount == Decimal("40.00")
    assert got.unapplied == Decimal("10.00") and got.bank_account_code == "1200"
    assert got.updated_at == datetime(2026, 1, 20, 18, 0, tzinfo=UTC)


def test_credit_memo_lines_are_not_allocations():
    ctx = remote.PaymentContext()
    credit_only = _payment([("30", "11", "Invoice"), ("30", "12", "CreditMemo")], "0")
    assert remote.remote_payment("Payment", credit_only, ctx) is None
    mixed = remote.remote_payment("Payment", _payment([("60", "11", "Invoice"), ("20", "12", "Invoice"),
                                                  ("35", "13", "CreditMemo")], "45"), ctx)
    assert [(a.document_remote_id, a.amount) for a in mixed.allocations] == [("11", Decimal("45"))]


def test_unreadable_amounts_and_dates_are_malformed():
    with pytest.raises(MalformedResponse):
        m.to_decimal("twelve")
    with pytest.raises(MalformedResponse):
        m.parse_datetime("yesterday")
    assert m.to_decimal(12) == Decimal("12") and m.to_decimal(Decimal("1.10")) == Decimal("1.10")


def test_query_literals_escape_quotes():
    assert m.quote("O'Brien's") == "'O\\'Brien\\'s'"
    assert m.query_timestamp(datetime(2026, 1, 5, 9, 30)) == "2026-01-05T09:30:00+00:00"
