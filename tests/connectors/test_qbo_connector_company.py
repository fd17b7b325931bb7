"""The connector against a real-like QuickBooks company: its settings, VAT per rate, shared caches, voids,
Undeposited Funds and a company that is both customer and supplier."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, LineIn
from tests.helpers.qbo_connector import customer, invoice, key

VAT20 = "1"


def test_organisation_settings_come_from_preferences_and_currencies(qbo_sandbox, qbo_package):
    qbo_sandbox.control("company", {"book_close_date": "2026-03-31", "custom_txn_numbers": False,
                                    "multicurrency": True, "currencies": {"EUR": "0.86", "USD": "0.79"}})
    got = qbo_package.organisation_settings()
    assert (got.base_currency, got.currencies) == ("GBP", frozenset({"GBP", "EUR", "USD"}))
    assert (got.lock_date, got.lock_date_label) == (date(2026, 3, 31), "closing date")
    assert got.document_numbers_kept is False and got.document_number_max == 21


def test_each_company_look_up_is_made_once_however_many_threads_ask(qbo_sandbox, qbo_package):
    before = qbo_sandbox.count("/query")
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        qbo_package.organisation()
        qbo_package.organisation_settings()
        qbo_package.lookups.accounts()
        qbo_package.lookups.tax_rates()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # CompanyInfo, Preferences, Account, TaxRate, TaxCode: once each (multicurrency off: no currency query).
    assert qbo_sandbox.count("/query") - before == 5


def test_fetching_the_tax_rates_serves_the_uploads_vat_too(qbo_sandbox, qbo_package):
    assert qbo_package.fetch_tax_rates()                  # Get Nominal & Tax Accounts: TaxCode, TaxRate
    before = qbo_sandbox.count("/query")
    assert qbo_package.lookups.tax_rates()[(VAT20, True)].percent == Decimal("20")
    assert qbo_sandbox.count("/query") == before          # the upload's VAT per rate reads nothing again
    qbo_package.fetch_tax_rates()                         # a fetch always reads afresh
    assert qbo_sandbox.count("/query") - before == 2


def test_quickbooks_keeps_the_ledgers_vat_for_several_lines_at_one_rate(qbo_sandbox, qbo_package):
    cust = customer(qbo_package)
    lines = [LineIn("Pack", Decimal("1"), Decimal("10.03"), "4010", VAT20, line_amount=Decimal("10.03"),
                    tax_amount=Decimal("2.01")) for _ in range(3)]
    doc = DocumentIn(key("d"), DocKind.SALES_INVOICE, "INV-RATE", cust, "", date(2026, 1, 5), None, "GBP", lines)
    [result] = qbo_package.create_documents([doc], key())
    assert result.ok, result.messages
    assert result.total == Decimal("36.12")        # per line, as the ledger; QuickBooks per rate says 36.11
    row = qbo_sandbox.bookkeeper().get_single_object("Invoice", result.remote_id)["Invoice"]
    assert Decimal(str(row["TotalAmt"])) == Decimal("36.12")


def test_discounted_quantities_go_as_quickbooks_can_multiply_them(qbo_sandbox, qbo_package):
    cust = customer(qbo_package)
    # 23 at 1.95 less 10% = 40.365, the ledger's 40.37: no Qty x UnitPrice gives it, so the amount alone goes.
    line = LineIn("Tape", Decimal("23"), Decimal("1.95"), "4010", VAT20, discount_rate=Decimal("10"),
                  line_amount=Decimal("40.37"), tax_amount=Decimal("8.07"))
    doc = DocumentIn(key("d"), DocKind.SALES_INVOICE, "INV-TAPE", cust, "", date(2026, 1, 5), None, "GBP", [line])
    [result] = qbo_package.create_documents([doc], key())
    assert result.ok, result.messages
    assert result.total == Decimal("48.44")


def test_a_voided_receipt_comes_back_as_voided(qbo_sandbox, qbo_package):
    from quickbooks.objects.payment import Payment

    cust = customer(qbo_package)
    [inv] = qbo_package.create_documents([invoice("INV-V", cust)], key())
    [paid] = qbo_package.create_payments([_receipt(inv.remote_id, "120.00", cust)], key())
    qb = qbo_sandbox.bookkeeper()
    Payment.get(paid.remote_id, qb=qb).void(qb=qb)
    got = [p for page in qbo_package.list_payments(None) for p in page.payments if p.remote_id == paid.remote_id]
    assert [(p.status, p.amount, p.allocations) for p in got] == [("VOIDED", Decimal("0"), ())]


def test_undeposited_funds_is_offered_beside_the_banks(qbo_package):
    banks = {b.name: b.kind for b in qbo_package.fetch_bank_accounts()}
    assert banks == {"Business Bank Account": "", "Undeposited Funds": "clearing"}


def test_a_company_that_is_both_uploads_both_sides_and_its_bill_goes_to_the_supplier(qbo_sandbox, qbo_package):
    contact = ContactIn(key("c"), "Hartley Joinery", is_customer=True, is_supplier=False, other_side=True)
    [result] = qbo_package.upsert_contacts([contact], key())
    assert result.ok and "\u201cHartley Joinery (Supplier)\u201d" in " ".join(result.messages)
    qb = qbo_sandbox.bookkeeper()
    vendors = qb.query("SELECT * FROM Vendor WHERE DisplayName = 'Hartley Joinery (Supplier)'")["QueryResponse"]
    [vendor] = vendors["Vendor"]
    bill = invoice("HJ-1", result.remote_id, kind=DocKind.PURCHASE_INVOICE)
    bill.contact_name, bill.contact_other_side = "Hartley Joinery", True
    [sent] = qbo_package.create_documents([bill], key())
    assert sent.ok, sent.messages
    stored = qb.get_single_object("Bill", sent.remote_id)["Bill"]
    assert stored["VendorRef"]["value"] == vendor["Id"]
    # Uploading the company again finds the supplier side; nothing is created twice.
    [again] = qbo_package.upsert_contacts([ContactIn(key("c"), "Hartley Joinery", remote_id=result.remote_id,
                                                     other_side=True)], key())
    assert again.ok and len(qb.query("SELECT * FROM Vendor")["QueryResponse"]["Vendor"]) == 2


def _receipt(doc_id: str, amount: str, contact_id: str):
    from tests.helpers.qbo_connector import receipt

    return receipt(doc_id, amount, contact_id)


def test_an_allocation_never_applies_more_than_quickbooks_has_open(qbo_sandbox, qbo_package):
    from tests.helpers.qbo_connector import receipt

    cust = customer(qbo_package)
    [inv] = qbo_package.create_documents([invoice("INV-OPEN", cust)], key())        # 120.00
    qbo_package.create_payments([receipt(inv.remote_id, "100.00", cust)], key())    # a bookkeeper's part payment
    [paid] = qbo_package.create_payments([receipt(inv.remote_id, "50.00", cust)], key())
    assert paid.ok, paid.messages
    assert "only 20.00 open" in paid.messages[0]
    row = qbo_sandbox.bookkeeper().get_single_object("Payment", paid.remote_id)["Payment"]
    assert (Decimal(str(row["TotalAmt"])), Decimal(str(row["UnappliedAmt"])), Decimal(str(row["Line"][0]["Amount"]))) \
        == (Decimal("50.00"), Decimal("30.00"), Decimal("20.00"))


def test_a_bill_payment_quickbooks_could_not_apply_in_full_is_not_sent(qbo_sandbox, qbo_package):
    from tests.helpers.qbo_connector import receipt, vendor

    supplier = vendor(qbo_package)
    [bill] = qbo_package.create_documents([invoice("SUP-OPEN", supplier, kind=DocKind.PURCHASE_INVOICE)], key())
    pay = receipt(bill.remote_id, "100.00", supplier, kind=DocKind.PURCHASE_INVOICE)
    assert qbo_package.create_payments([pay], key())[0].ok            # paid in part there already
    [refused] = qbo_package.create_payments([receipt(bill.remote_id, "50.00", supplier,
                                                     kind=DocKind.PURCHASE_INVOICE)], key())
    assert not refused.ok and "only 20.00 open on bill SUP-OPEN" in refused.messages[0]
    payments = qbo_sandbox.bookkeeper().query("SELECT * FROM BillPayment")["QueryResponse"]["BillPayment"]
    assert len(payments) == 1
