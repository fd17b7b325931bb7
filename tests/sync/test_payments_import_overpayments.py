"""Xero overpayments through the Import: a customer paying more than an invoice is, in Xero, a
RECEIVE-OVERPAYMENT allocated to the invoice (never a Payment). The bookkeeper records them through
xero-python over HTTP; the ledger must end up with one payment, the invoice paid and the rest on account.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.models import Payment, RemoteLink
from kcc_desktop.sync.payments_import import PaymentsImport

ON = date(2026, 2, 1)


def test_an_overpayment_pays_the_invoice_and_leaves_the_rest_on_account(books, xero_bookkeeper):
    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), b.gross["SI-0001"] + Decimal("25.00"), ON, "Over")
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0001"], b.gross["SI-0001"], ON)
    acme_before = b.company_balance("ACME")
    svc = PaymentsImport(b.store, "xero")

    fetched = svc.fetch(package)
    made = svc.create_and_allocate(svc.ready_ids())

    assert (fetched.fetched, made.created, made.failed) == (1, 1, 0)
    row = b.row(f"overpayment:{op}")
    assert (row.kind, row.company_name, row.invoices, row.amount, row.bank_account_code, row.reference) == \
        ("receipt", "Acme Tools Ltd", "SI-0001", b.gross["SI-0001"] + 25, "090", "Over")
    assert row.status == "Payment created and allocated; 25.00 GBP more than was due, left on account"
    assert b.outstanding("SI-0001") == 0
    assert b.company_balance("ACME") == acme_before - b.gross["SI-0001"] - Decimal("25.00")
    assert b.bank_balance() == b.gross["SI-0001"] + Decimal("25.00")
    assert b.trial_balance_balances() and b.payments() == 1

    # Later the bookkeeper allocates the 25.00 left to another invoice: Xero shows the overpayment again.
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0003"], Decimal("25.00"), ON)
    again = svc.fetch(package)
    rerun = svc.create_and_allocate([row.id])

    assert again.fetched == 0 and (rerun.created, rerun.skipped) == (0, 1)
    assert b.status(f"overpayment:{op}") == ("Allocated in Xero after it was imported: 25.00 GBP more to "
                                             "SI-0003. In the ledger, allocate that from what this payment "
                                             "left on account")
    # Nothing was written: the ledger still holds one payment, with the 25.00 on account.
    assert b.payments() == 1 and b.outstanding("SI-0003") == b.gross["SI-0003"]
    assert b.bank_balance() == b.gross["SI-0001"] + Decimal("25.00") and b.trial_balance_balances()
    with b.store.session() as s:
        assert s.scalar(select(Payment.remote_id)) == f"xero:overpayment:{op}"


def test_a_refund_of_an_overpayment_is_not_a_receipt(books, xero_bookkeeper):
    from xero_python.accounting import Account, Overpayment, Payments
    from xero_python.accounting import Payment as XeroPayment

    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("30.00"), ON)
    api, tenant = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    [refund] = api.create_payments(tenant, Payments(payments=[XeroPayment(
        overpayment=Overpayment(overpayment_id=op), account=Account(code="090"), amount=Decimal("30.00"),
        date=ON)]), summarize_errors=False).payments
    assert refund.payment_type == "AROVERPAYMENTPAYMENT"

    PaymentsImport(b.store, "xero").fetch(package)

    assert [r.remote_id for r in b.rows()] == [f"overpayment:{op}"]   # the money in; never the refund


def test_our_own_exported_prepayment_allocation_is_never_imported_back(xero_exporting):
    """A non-account customer's prepayment, allocated in the ledger and uploaded as a Xero Payment, is
    already in the ledger: Fetch Payments must not list it and Create & Allocate must not make it twice."""
    from kcc_desktop.ledger import service
    from kcc_desktop.models import BankAccount, Company, Document
    from kcc_desktop.sync.export import ExportService
    from tests.helpers.ledger import build_ledger

    store, package = xero_exporting
    build_ledger(store, invoices=2, lines_per_invoice=1)
    with store.transaction() as s:
        bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
        invoice = s.scalar(select(Document).where(Document.number == "SI-0002"))
        assert bloggs.is_account is False and invoice.company_id == bloggs.id
        bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
        prepayment = service.record_payment(s, "prepayment", bloggs, bank, Decimal("50.00"), ON, reference="Deposit")
        service.allocate_prepayment(s, prepayment, invoice, Decimal("30.00"), ON)
        ids = (bloggs.id, bank.id, invoice.id)
    exporter = ExportService(store)
    summary = exporter.upload(exporter.pending_ids(), package)
    assert summary.failed == 0, summary.text
    with store.session() as s:
        [link] = s.scalars(select(RemoteLink).where(RemoteLink.object_type == "prepayment_allocation"))
        balances = (service.company_balance(s, ids[0]), service.bank_balance(s, ids[1]),
                    service.outstanding(s, ids[2]))
        payments = s.scalar(select(Payment.id).order_by(Payment.id.desc()))
    # Xero holds it as an ordinary receipt against SI-0002, and lists it.
    listed = {p.remote_id: p for page in package.list_payments(None) for p in page.payments}
    assert listed[link.remote_id].amount == Decimal("30.00") and listed[link.remote_id].kind == "receipt"

    svc = PaymentsImport(store, "xero")
    fetched = svc.fetch(package)
    made = svc.create_and_allocate(svc.ready_ids())

    assert fetched.fetched == 0 and svc.ready_ids() == [] and made.created == 0
    with store.session() as s:
        from kcc_desktop.models import ImportedPayment
        assert s.scalars(select(ImportedPayment)).all() == []
        assert s.scalar(select(Payment.id).order_by(Payment.id.desc())) == payments   # no second payment
        assert (service.company_balance(s, ids[0]), service.bank_balance(s, ids[1]),
                service.outstanding(s, ids[2])) == balances


def test_two_allocations_to_one_invoice_before_the_import_are_not_news_and_a_later_one_is(books, xero_bookkeeper):
    """An overpayment the bookkeeper allocated twice to the same invoice before the import is imported as it
    stands; fetching again does not call either part "allocated after it was imported". A later allocation,
    however small (0.50), is news, and only it is named."""
    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("40.00"), ON, "Over")
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0003"], Decimal("10.00"), ON)
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0003"], Decimal("5.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    made = svc.create_and_allocate(svc.ready_ids())
    assert made.created == 1 and b.outstanding("SI-0003") == b.gross["SI-0003"] - Decimal("15.00")
    created = b.status(f"overpayment:{op}")
    assert created.startswith("Payment created and allocated")

    svc.fetch(package)
    assert b.status(f"overpayment:{op}") == created

    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0003"], Decimal("0.50"), ON)
    svc.fetch(package)
    assert b.status(f"overpayment:{op}") == ("Allocated in Xero after it was imported: 0.50 GBP more to "
                                             "SI-0003. In the ledger, allocate that from what this payment "
                                             "left on account")
    assert b.payments() == 1 and b.trial_balance_balances()


def test_money_received_with_nothing_allocated_goes_on_the_customers_account(books, xero_bookkeeper):
    """A RECEIVE-OVERPAYMENT not yet allocated pays no invoice: the ledger takes it on the account of the
    company its contact was exported from, to the penny (75p here)."""
    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("0.75"), ON, "Deposit")
    before = b.company_balance("ACME")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    made = svc.create_and_allocate(svc.ready_ids())

    assert (made.created, made.failed) == (1, 0)
    assert b.status(f"overpayment:{op}") == ("Payment created and allocated; 0.75 GBP more than was due, "
                                             "left on account")
    assert b.company_balance("ACME") == before - Decimal("0.75") and b.bank_balance() == Decimal("0.75")
    with b.store.session() as s:
        payment = s.scalar(select(Payment))
        assert (payment.company_id, payment.amount, payment.reference) == (b.companies["ACME"], Decimal("0.75"),
                                                                           "Deposit")
    assert b.trial_balance_balances()


def test_money_from_a_contact_only_xero_knows_is_not_created_and_says_why(books, xero_bookkeeper):
    from xero_python.accounting import Contact, Contacts

    b, package = books
    api, tenant = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    [walk_in] = api.create_contacts(tenant, Contacts(contacts=[Contact(name="Walk-in Buyer")])).contacts
    op = xero_bookkeeper.receive_overpayment(str(walk_in.contact_id), Decimal("12.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    made = svc.create_and_allocate(svc.ready_ids())

    assert (made.created, made.failed) == (0, 1)
    assert b.status(f"overpayment:{op}") == ("Not created: Walk-in Buyer is not linked to a ledger company, so the "
                                             "payment has no account to go on. Upload the company from the Export "
                                             "tab first.")
    assert b.payments() == 0 and b.bank_balance() == 0


def test_pennies_count_a_part_payment_of_half_a_pound_and_half_a_pound_still_due(books, xero_bookkeeper):
    b, package = books
    short = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"] - Decimal("0.50"), ON)
    tiny = xero_bookkeeper.pay(b.remote["SI-0003"], Decimal("0.50"), ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate(svc.ready_ids()).created == 2

    assert b.status(short) == "Payment created and allocated; 0.50 GBP still outstanding on SI-0001"
    assert b.outstanding("SI-0001") == Decimal("0.50")
    assert b.outstanding("SI-0003") == b.gross["SI-0003"] - Decimal("0.50")
    assert b.status(tiny) == (f"Payment created and allocated; {b.gross['SI-0003'] - Decimal('0.50'):,.2f} GBP "
                              "still outstanding on SI-0003")
    assert b.trial_balance_balances()


def test_a_prepayment_allocation_sent_before_kcc_stamped_its_payments_is_known_by_its_link(books, xero_bookkeeper):
    """A file from a version before KCC stamped its payments: the allocation went to Xero as a payment whose
    Reference carries no stamp, and only the link the file stored says it is the ledger's own. Fetch Payments
    leaves it out and still brings in the customer's own payment listed after it."""
    from kcc_desktop.ledger import service
    from kcc_desktop.models import BankAccount, Company, Document, ExportItem
    from kcc_desktop.sync.target import read_target

    b, package = books
    with b.store.transaction() as s:
        bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
        invoice = s.scalar(select(Document).where(Document.number == "SI-0002"))
        bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
        prepayment = service.record_payment(s, "prepayment", bloggs, bank, Decimal("50.00"), ON, reference="Deposit")
        allocation = service.allocate_prepayment(s, prepayment, invoice, Decimal("30.00"), ON).id
    ours = xero_bookkeeper.pay(b.remote["SI-0002"], Decimal("30.00"), ON, "Deposit")   # as the old version sent it
    with b.store.transaction() as s:
        s.add(RemoteLink(provider="xero", tenant_id=read_target(s).tenant_id, object_type="prepayment_allocation",
                         object_id=allocation, remote_id=ours))
        item = s.scalar(select(ExportItem).where(ExportItem.item_type == "prepayment_allocation"))
        item.status, item.remote_id = "exported", ours
    theirs = xero_bookkeeper.pay(b.remote["SI-0001"], Decimal("12.00"), ON, "BACS")
    listed = [p.remote_id for page in package.list_payments(None) for p in page.payments]
    assert listed.index(ours) < listed.index(theirs) and not any(p.stamp for page in package.list_payments(None)
                                                                 for p in page.payments)

    fetched = PaymentsImport(b.store, "xero").fetch(package)

    assert fetched.fetched == 1 and [r.remote_id for r in b.rows()] == [theirs]
