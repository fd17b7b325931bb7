"""Batches, per-element results, exact money, look-ups and payments against the Xero sandbox."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import keyring
import pytest
import requests

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, ItemIn, LineIn, PaymentIn
from kcc_desktop.connectors.tokens import SERVICE

D = Decimal
TODAY = date(2026, 3, 2)


def chunks(seq, n):
    return [seq[i:i + n] for i in range(0, len(seq), n)]


def line(qty="1", unit="10.00", account="200", tax="OUTPUT2", **kw):
    return LineIn(description="Widget", quantity=D(qty), unit_amount=D(unit), account_code=account,
                  tax_code=tax, **kw)


def doc(key, number, contact_id, lines, kind=DocKind.SALES_INVOICE, currency="GBP", **kw):
    return DocumentIn(key=key, kind=kind, number=number, contact_remote_id=contact_id, contact_name="",
                      date=TODAY, due_date=TODAY + timedelta(days=30), currency=currency, lines=lines, **kw)


def raw_get(sandbox, package, path):
    """Read what the sandbox holds, as Xero would show it (test-side inspection only)."""
    token = json.loads(keyring.get_password(SERVICE, f"xero:{package.tenant_id}"))["access_token"]
    resp = requests.get(sandbox.urls["api_url"] + path, timeout=5,
                        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": package.tenant_id,
                                 "Accept": "application/json"})
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def customer(package):
    [r] = package.upsert_contacts([ContactIn(key="cust", name="Acme Retail Ltd", email="buyer@acme.test")], "cust-1")
    assert r.ok, r.messages
    return r.remote_id


@pytest.fixture
def supplier(package):
    [r] = package.upsert_contacts([ContactIn(key="sup", name="Bolt Supplies Ltd", is_customer=False,
                                             is_supplier=True)], "sup-1")
    assert r.ok, r.messages
    return r.remote_id


def test_120_contacts_go_in_three_puts_with_one_result_each(package, sandbox):
    contacts = [ContactIn(key=f"k{i}", name=f"Customer {i:03d}") for i in range(120)]
    results = []
    for n, batch in enumerate(chunks(contacts, package.batch_size)):
        results += package.upsert_contacts(batch, f"contacts-{n}")
    assert sandbox.count("PUT /Contacts") == 3
    assert [r.key for r in results] == [c.key for c in contacts]
    assert results and all(r.ok and r.remote_id for r in results)
    assert len({r.remote_id for r in results}) == 120
    with pytest.raises(ValueError, match="At most 50"):
        package.upsert_contacts(contacts[:51], "too-many")


def test_update_of_an_exported_contact_goes_by_post(package, sandbox, customer):
    [r] = package.upsert_contacts([ContactIn(key="cust", name="Acme Retail Group Ltd", remote_id=customer)], "upd-1")
    assert r.ok and r.remote_id == customer
    assert sandbox.count("POST /Contacts") == 1
    assert package.find_contact("acme retail group ltd") == customer
    assert package.find_contact("Nobody Ltd") is None


def test_per_element_validation_keeps_the_valid_elements(package, sandbox):
    batch = [ContactIn(key="a", name="Alpha Ltd"), ContactIn(key="b", name="Beta Ltd", email="not-an-email"),
             ContactIn(key="c", name="Gamma Ltd"), ContactIn(key="d", name="Delta Ltd", currency="XYZ")]
    a, b, c, d = package.upsert_contacts(batch, "mixed-1")
    assert a.ok and c.ok and a.remote_id and c.remote_id
    assert not b.ok and b.messages == ["Email address must be valid."] and b.remote_id == ""
    assert not d.ok and "XYZ" in d.messages[0]           # refused locally, never sent
    assert sandbox.count("PUT /Contacts") == 1
    assert package.find_contact("Beta Ltd") is None and package.find_contact("Alpha Ltd") == a.remote_id


def test_invoices_keep_exact_money_and_report_the_packages_totals(package, sandbox, customer):
    docs = [
        doc("i1", "INV-1001", customer, [line("3", "19.99")]),                       # 59.97 + 11.99
        doc("i2", "INV-1002", customer, [line("10", "1.2345"), line("1", "0.10")]),  # needs unitdp=4
        doc("i3", "INV-1003", customer, [line("2", "5.00", account="")]),            # no account code
        doc("i4", "INV-1001", customer, [line("1", "5.00")]),                        # number reused
    ]
    r1, r2, r3, r4 = package.create_documents(docs, "docs-1")
    assert r1.ok and r1.remote_number == "INV-1001"
    assert isinstance(r1.total, Decimal) and r1.total == D("71.96")
    assert r2.ok and isinstance(r2.total, Decimal)
    assert not r3.ok and "Account code or ID must be specified" in r3.messages
    assert not r4.ok and "Invoice # must be unique." in r4.messages
    held = raw_get(sandbox, package, f"/Invoices/{r2.remote_id}?unitdp=4")["Invoices"][0]
    assert D(str(held["LineItems"][0]["UnitAmount"])) == D("1.2345")
    assert D(str(held["Total"])) == r2.total
    found = package.find_document(DocKind.SALES_INVOICE, "INV-1001")
    assert found.remote_id == r1.remote_id and found.total == D("71.96") and found.amount_due == D("71.96")
    assert package.find_document(DocKind.SALES_INVOICE, "INV-9999") is None
    assert package.find_document(DocKind.PURCHASE_INVOICE, "INV-1001") is None


def test_mixed_invoices_and_credit_notes_go_in_two_requests(package, sandbox, customer, supplier):
    docs = [doc("s1", "INV-2001", customer, [line("1", "100.00")]),
            doc("c1", "CN-2001", customer, [line("1", "20.00")], kind=DocKind.SALES_CREDIT),
            doc("p1", "BILL-77", supplier, [line("1", "50.00", account="300", tax="INPUT2")],
                kind=DocKind.PURCHASE_INVOICE)]
    results = package.create_documents(docs, "mixed-docs")
    assert [r.key for r in results] == ["s1", "c1", "p1"] and all(r.ok for r in results), results
    assert [r.total for r in results] == [D("120.00"), D("24.00"), D("60.00")]
    assert sandbox.count("PUT /Invoices") == 1 and sandbox.count("PUT /CreditNotes") == 1
    cn = package.find_document(DocKind.SALES_CREDIT, "CN-2001")
    assert cn is not None and cn.remote_id == results[1].remote_id and cn.kind is DocKind.SALES_CREDIT
    # Purchase invoice numbers are the supplier's and need not be unique: a second one is accepted.
    [again] = package.create_documents([doc("p2", "BILL-77", supplier, [line("1", "5.00", account="300",
                                                                             tax="INPUT2")],
                                            kind=DocKind.PURCHASE_INVOICE)], "bill-again")
    assert again.ok


def test_items_create_then_update(package, sandbox):
    [r] = package.upsert_items([ItemIn(key="w", code="WID-1", description="Blue widget", sales_price=D("12.50"),
                                       purchase_cost=D("7.25"), sales_account="200", purchase_account="300")], "it-1")
    assert r.ok and r.remote_number == "WID-1"
    assert package.find_item("WID-1") == r.remote_id and package.find_item("NOPE") is None
    [u] = package.upsert_items([ItemIn(key="w", code="WID-1", description="Blue widget (large)",
                                       sales_price=D("13.00"), remote_id=r.remote_id)], "it-2")
    assert u.ok and u.remote_id == r.remote_id
    assert sandbox.count("PUT /Items") == 1 and sandbox.count("POST /Items") == 1


def test_payments_and_listing_them_back(package, sandbox, customer, supplier):
    inv, bill, cn = package.create_documents(
        [doc("s", "INV-3001", customer, [line("1", "100.00")]),
         doc("b", "BILL-3001", supplier, [line("1", "40.00", account="300", tax="INPUT2")],
             kind=DocKind.PURCHASE_INVOICE)], "pay-docs") + \
        package.create_documents([doc("c", "CN-3001", customer, [line("1", "10.00")], kind=DocKind.SALES_CREDIT)],
                                 "pay-cn")
    start = datetime.now(UTC) - timedelta(seconds=5)
    results = package.create_payments([
        PaymentIn(key="r1", document_kind=DocKind.SALES_INVOICE, document_remote_id=inv.remote_id,
                  amount=D("70.05"), date=TODAY, bank_account_code="090", reference="BACS 1"),
        PaymentIn(key="p1", document_kind=DocKind.PURCHASE_INVOICE, document_remote_id=bill.remote_id,
                  amount=D("48.00"), date=TODAY, bank_account_code="090"),
        PaymentIn(key="x1", document_kind=DocKind.SALES_CREDIT, document_remote_id=cn.remote_id,
                  amount=D("12.00"), date=TODAY, bank_account_code="090"),      # a refund: never synced back
        PaymentIn(key="bad", document_kind=DocKind.SALES_INVOICE, document_remote_id=inv.remote_id,
                  amount=D("500.00"), date=TODAY, bank_account_code="090"),
    ], "pays-1")
    assert [r.ok for r in results] == [True, True, True, False]
    assert any("exceeds the amount outstanding" in m for m in results[3].messages), results[3].messages
    pages = list(package.list_payments(start))
    got = {p.remote_id: p for page in pages for p in page.payments}
    assert set(got) == {results[0].remote_id, results[1].remote_id}        # the credit-note refund is left out
    receipt, paid = got[results[0].remote_id], got[results[1].remote_id]
    assert receipt.kind == "receipt" and receipt.amount == D("70.05") and isinstance(receipt.amount, Decimal)
    assert receipt.allocations[0].document_remote_id == inv.remote_id
    assert receipt.allocations[0].document_number == "INV-3001" and receipt.unapplied == D("0")
    assert receipt.bank_account_code == "090" and receipt.reference == "BACS 1" and receipt.status == "AUTHORISED"
    assert receipt.updated_at.tzinfo is not None and receipt.date == TODAY
    assert paid.kind == "supplier_payment" and paid.amount == D("48.00")
    assert package.find_document(DocKind.SALES_INVOICE, "INV-3001").amount_due == D("49.95")
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert [p for page in package.list_payments(later) for p in page.payments] == []


def test_payments_are_read_100_a_page_and_pagination_ends_the_list(package, sandbox, customer):
    docs = [doc(f"d{i}", f"PG-{i:03d}", customer, [line("1", "1.00")]) for i in range(100)]
    invoices = []
    for n, batch in enumerate(chunks(docs, 50)):
        invoices += package.create_documents(batch, f"pg-docs-{n}")
    pays = [PaymentIn(key=f"p{i}", document_kind=DocKind.SALES_INVOICE, document_remote_id=r.remote_id,
                      amount=D("1.20"), date=TODAY, bank_account_code="090") for i, r in enumerate(invoices)]
    for n, batch in enumerate(chunks(pays, 50)):
        paid = package.create_payments(batch, f"pg-pays-{n}")
        assert paid and all(r.ok for r in paid)
    lists = ("GET /Payments", "GET /Overpayments", "GET /Prepayments")
    before = [sandbox.count(endpoint) for endpoint in lists]
    pages = list(package.list_payments(None))
    # A full page, then the (empty) overpayments and prepayments lists, the last ending the run.
    assert [len(p.payments) for p in pages] == [100, 0, 0]
    assert [p.has_more for p in pages] == [True, True, False]
    # pagination.pageCount says page 1 of 1: no trailing empty request for page 2.
    assert [sandbox.count(endpoint) - b for endpoint, b in zip(lists, before, strict=True)] == [1, 1, 1]
    assert raw_get(sandbox, package, "/Payments?page=1")["pagination"]["pageCount"] == 1


def test_document_url_opens_the_document(package, sandbox, customer):
    [r] = package.create_documents([doc("u", "INV-4001", customer, [line()])], "url-1")
    url = package.document_url(DocKind.SALES_INVOICE, r.remote_id)
    assert url.startswith(sandbox.urls["web_url"]) and r.remote_id in url
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "INV-4001" in page.text
    credit_url = package.document_url(DocKind.PURCHASE_CREDIT, "abc")
    assert credit_url.endswith("/AccountsPayable/ViewCreditNote.aspx?creditNoteID=abc")
