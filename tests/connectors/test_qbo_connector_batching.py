"""Writes: batches of at most 30 with requestid, single saves, and what each element maps to in QBO."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, LineIn
from kcc_desktop.connectors.quickbooks.http import BATCH_REQUEST_ID_MAX, request_id
from tests.helpers.qbo_connector import (
    PURCHASES_CODE,
    VAT20,
    customer,
    invoice,
    item_in,
    key,
    vendor,
)


def test_seventy_invoices_go_in_three_batch_requests(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    docs = [invoice(f"INV-{n:03d}", cust, net=f"{n}.10") for n in range(1, 71)]

    results = qbo_package.create_documents(docs, key("seventy"))

    assert len(results) == 70 and all(r.ok for r in results)
    assert [r.key for r in results] == [d.key for d in docs]              # in order, under the caller's keys
    assert results[0].remote_number == "INV-001" and results[69].remote_number == "INV-070"
    assert results[9].total == Decimal("12.12")                           # 10.10 + 20% VAT, as Decimal
    assert qbo_sandbox.count("/batch") == 3
    assert len({r.remote_id for r in results}) == 70


def test_a_retried_batch_with_the_same_key_replays(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    long_key = "export-run-2026-01-05T09:00:00Z/sales-invoices/part-0001"   # longer than 36: hashed
    docs = [invoice("INV-R1", cust), invoice("INV-R2", cust)]

    first = qbo_package.create_documents(docs, long_key)
    second = qbo_package.create_documents(docs, long_key)

    assert [r.remote_id for r in first] == [r.remote_id for r in second]
    assert len(qbo_package.api.query_all("Invoice", what="test")) == 2
    rid = request_id(long_key, BATCH_REQUEST_ID_MAX)
    assert len(rid) <= BATCH_REQUEST_ID_MAX and rid == request_id(long_key, BATCH_REQUEST_ID_MAX)


def test_one_element_is_a_single_save_not_a_batch(qbo_package, qbo_sandbox):
    cust = customer(qbo_package)
    [result] = qbo_package.create_documents([invoice("INV-ONE", cust)], key())
    assert result.ok
    assert qbo_sandbox.count("/invoice") == 1 and qbo_sandbox.count("/batch") == 0


def test_each_document_kind_maps_to_its_qbo_entity(qbo_package, qbo_sandbox):
    cust, supp = customer(qbo_package), vendor(qbo_package)
    docs = [invoice("S-1", cust), invoice("P-1", supp, kind=DocKind.PURCHASE_INVOICE),
            invoice("SC-1", cust, kind=DocKind.SALES_CREDIT), invoice("PC-1", supp, kind=DocKind.PURCHASE_CREDIT)]

    results = qbo_package.create_documents(docs, key())

    assert results and all(r.ok for r in results), [r.messages for r in results]
    for doc, entity in zip(docs, ("Invoice", "Bill", "CreditMemo", "VendorCredit"), strict=True):
        [row] = qbo_package.api.query_all(entity, f"DocNumber = '{doc.number}'", what="test")
        assert row["TotalAmt"] == Decimal("120.00")
        assert row["TxnDate"] == "2026-01-05"
        found = qbo_package.find_document(doc.kind, doc.number)
        assert found.kind == doc.kind and found.total == Decimal("120.00")
    [bill] = qbo_package.api.query_all("Bill", "DocNumber = 'P-1'", what="test")
    line = bill["Line"][0]
    assert line["DetailType"] == "AccountBasedExpenseLineDetail"
    assert line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == "5"     # AcctNum 5010
    assert line["AccountBasedExpenseLineDetail"]["TaxCodeRef"]["value"] == VAT20


def test_invoice_lines_with_items_quantities_and_discounts(qbo_package):
    cust = customer(qbo_package)
    [item] = qbo_package.upsert_items([item_in("BENCH-01")], key())
    doc = DocumentIn(key("d"), DocKind.SALES_INVOICE, "INV-ITEMS", cust, "", date(2026, 1, 5), None, "GBP", [
        LineIn("Bench", Decimal("3"), Decimal("9.99"), "4000", VAT20, discount_rate=Decimal("10"),
               item_code="BENCH-01", line_amount=Decimal("26.97")),
    ])
    [result] = qbo_package.create_documents([doc], key())
    assert result.ok, result.messages
    [row] = qbo_package.api.query_all("Invoice", "DocNumber = 'INV-ITEMS'", what="test")
    line = row["Line"][0]
    assert line["SalesItemLineDetail"]["ItemRef"]["value"] == item.remote_id
    assert line["SalesItemLineDetail"]["Qty"] == Decimal("3")
    assert line["Amount"] == Decimal("26.97")
    assert result.total == Decimal("32.36")                    # 26.97 + 5.39 VAT


def test_items_are_non_inventory_with_accounts_found_by_code(qbo_package):
    [result] = qbo_package.upsert_items([item_in("PLANTER-02")], key())
    assert result.ok
    [row] = qbo_package.api.query_all("Item", "Name = 'PLANTER-02'", what="test")
    assert row["Type"] == "NonInventory" and row.get("TrackQtyOnHand") is False
    assert row["IncomeAccountRef"]["value"] == "1" and row["ExpenseAccountRef"]["value"] == "5"
    assert row["UnitPrice"] == Decimal("120.00") and row["PurchaseCost"] == Decimal("55.50")
    assert qbo_package.find_item("PLANTER-02") == result.remote_id
    assert qbo_package.find_item("NO-SUCH") is None


def test_item_update_and_existing_name_links(qbo_package):
    [created] = qbo_package.upsert_items([item_in("TROUGH-3")], key())
    change = item_in("TROUGH-3")
    change.remote_id = created.remote_id
    change.sales_price = Decimal("130.00")
    [updated] = qbo_package.upsert_items([change], key())
    [again] = qbo_package.upsert_items([change], key())     # SyncToken re-read each time: no 5010
    assert updated.ok and again.ok and updated.remote_id == created.remote_id
    [row] = qbo_package.api.query_all("Item", "Name = 'TROUGH-3'", what="test")
    assert row["UnitPrice"] == Decimal("130.00")

    [linked] = qbo_package.upsert_items([item_in("TROUGH-3")], key())   # new to KCC, already in QBO
    assert linked.ok and linked.remote_id == created.remote_id and "linked" in linked.messages[0]


def test_contacts_duplicates_link_or_take_a_kind_suffix(qbo_package, qbo_sandbox):
    contacts = [ContactIn(key("c"), "Acme Ltd", email="ap@acme.example"),
                ContactIn(key("c"), "Bridgewater Garden Centre"),            # already a customer: link
                ContactIn(key("c"), "Northern Timber Supplies"),             # already a VENDOR: 6240
                ContactIn(key("c"), "Pine & Co", is_customer=False, is_supplier=True)]

    results = qbo_package.upsert_contacts(contacts, key())

    assert [r.ok for r in results] == [True, True, True, True]
    assert results[1].remote_id == "1" and "linked" in results[1].messages[0]
    # A customer who is also a supplier: QBO names are unique across both, so the customer gets a suffix.
    [suffixed] = qbo_package.api.query_all("Customer", "DisplayName = 'Northern Timber Supplies (Customer)'",
                                        what="test")
    assert suffixed["Id"] == results[2].remote_id
    assert qbo_package.find_contact("Northern Timber Supplies", supplier=False) == results[2].remote_id
    assert qbo_package.find_contact("Northern Timber Supplies", supplier=True) not in (None, results[2].remote_id)
    assert qbo_package.find_contact("Pine & Co") == results[3].remote_id
    assert qbo_package.api.query_all("Vendor", "DisplayName = 'Pine & Co'", what="test")
    assert qbo_package.find_contact("Acme Ltd") == results[0].remote_id
    assert qbo_package.find_contact("Nobody") is None
    assert qbo_sandbox.count("/batch") == 1 and qbo_sandbox.count("/customer") == 1   # + the suffixed one


def test_contact_update_changes_the_email(qbo_package):
    [created] = qbo_package.upsert_contacts([ContactIn(key("c"), "Rose & Thorn")], key())
    update = ContactIn(key("c"), "Rose & Thorn", email="accounts@rose.example", remote_id=created.remote_id)
    results = qbo_package.upsert_contacts([update, ContactIn(key("c"), "Second Contact")], key())
    assert len(results) == 2 and all(r.ok for r in results)
    [row] = qbo_package.api.query_all("Customer", f"Id = '{created.remote_id}'", what="test")
    assert row["PrimaryEmailAddr"]["Address"] == "accounts@rose.example"


def test_a_missing_contact_is_refused_without_a_request(qbo_package):
    doc = invoice("INV-NOCONTACT", "")
    [result] = qbo_package.create_documents([doc], key())
    assert not result.ok and "export the contact first" in result.messages[0]


def test_bill_with_unknown_account_code_fails_only_that_bill(qbo_package):
    supp = vendor(qbo_package)
    good = invoice("B-OK", supp, kind=DocKind.PURCHASE_INVOICE)
    bad = invoice("B-BAD", supp, kind=DocKind.PURCHASE_INVOICE)
    bad.lines[0].account_code = "0000"
    results = qbo_package.create_documents([good, bad], key())
    assert [r.ok for r in results] == [True, False]
    assert "0000" in results[1].messages[0]
    assert good.lines[0].account_code == PURCHASES_CODE


def test_names_with_quotes_round_trip_through_queries(qbo_package):
    [made] = qbo_package.upsert_contacts([ContactIn(key("c"), "O'Brien's Landscapes")], key())
    assert made.ok
    assert qbo_package.find_contact("O'Brien's Landscapes") == made.remote_id
    [linked] = qbo_package.upsert_contacts([ContactIn(key("c"), "O'Brien's Landscapes")], key())
    assert linked.ok and linked.remote_id == made.remote_id
