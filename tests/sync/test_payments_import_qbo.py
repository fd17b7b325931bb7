"""Payments recorded in QuickBooks by a bookkeeper (python-quickbooks, over HTTP) come back into the ledger.

QuickBooks keeps a receipt across several invoices as one Payment with a line per invoice, and an
overpayment as the Payment's UnappliedAmt: both land as one ledger payment.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from kcc_desktop.connectors.quickbooks import QuickBooksPackage
from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
from kcc_desktop.connectors.tokens import TokenSet, TokenStore, bind
from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync.mapping import MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.payments_import import PaymentsImport
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.books import Books, export_books


@pytest.fixture
def qbo(store, qbo_sync_server):
    """(Books, package, bookkeeper's SDK client): the ledger exported to a fresh QuickBooks sandbox."""
    import requests

    urls = qbo_sync_server.urls
    requests.post(f"{urls['root']}/_sandbox/reset", json={"tokens": True}, timeout=10).raise_for_status()
    data = qbo_login(urls)
    settings = ConnectionSettings(provider=QUICKBOOKS, api_root=urls["root"], client_id="test",
                                  tenant_id=data["realm_id"])
    TokenStore().save(QUICKBOOKS, data["realm_id"],
                      bind(TokenSet.from_response(data), settings.endpoints().audience, data["realm_id"]))
    package = QuickBooksPackage(settings, TokenStore(), client_secret="test")
    install_queue_listeners()
    DbSettingsStore(store).set("connection.provider", "quickbooks")   # as a saved connection would
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "quickbooks")
    mapping.fetch(package)
    mapping.apply_default_setup()
    books = export_books(store, package, "quickbooks")
    return books, package, qbo_sdk_client(urls, qbo_login(urls))


def receive(qb, customer_id: str, total: Decimal, lines: list[tuple[str, Decimal]], bank_id: str) -> str:
    """Receive Payment in QuickBooks: one Payment, a line per invoice it pays, deposited to the bank."""
    body = {"CustomerRef": {"value": customer_id}, "TotalAmt": str(total), "TxnDate": "2026-02-01",
            "DepositToAccountRef": {"value": bank_id}, "PaymentRefNum": "QB-1",
            "Line": [{"Amount": str(a), "LinkedTxn": [{"TxnId": i, "TxnType": "Invoice"}]} for i, a in lines]}
    return qb.create_object("Payment", json.dumps(body))["Payment"]["Id"]


def bank_and_customer(b: Books, package) -> tuple[str, str]:
    from sqlalchemy import select

    from kcc_desktop.models import RemoteLink

    with b.store.session() as s:
        acme = s.scalar(select(RemoteLink.remote_id).where(RemoteLink.provider == "quickbooks",
                                                           RemoteLink.object_type == "company",
                                                           RemoteLink.object_id == b.companies["ACME"]))
    bank = MappingService(b.store, "quickbooks").bank_remote_id(b.bank_id)
    return bank, acme


def run(b: Books, package):
    svc = PaymentsImport(b.store, "quickbooks")
    return svc.fetch(package), svc.create_and_allocate(svc.ready_ids())


def test_full_payment_across_two_invoices_is_one_ledger_payment(qbo):
    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    total = b.gross["SI-0001"] + b.gross["SI-0003"]
    paid = receive(qb, acme, total, [(b.remote["SI-0001"], b.gross["SI-0001"]),
                                     (b.remote["SI-0003"], b.gross["SI-0003"])], bank)
    before = b.company_balance("ACME")

    fetched, made = run(b, package)

    assert (fetched.fetched, made.created, made.failed) == (1, 1, 0)
    row = b.row(paid)
    assert (row.kind, row.company_name, row.invoices, row.amount) == ("receipt", "Acme Tools Ltd",
                                                                       "SI-0001, SI-0003", total)
    assert row.status == "Payment created and allocated"
    assert b.outstanding("SI-0001") == 0 and b.outstanding("SI-0003") == 0
    assert b.company_balance("ACME") == before - total and b.bank_balance() == total
    assert b.payments() == 1 and b.trial_balance_balances()


def test_an_overpayment_allocates_what_is_due_and_keeps_the_rest_on_account(qbo):
    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    paid = receive(qb, acme, b.gross["SI-0001"] + Decimal("20.00"), [(b.remote["SI-0001"], b.gross["SI-0001"])],
                   bank)
    before = b.company_balance("ACME")

    fetched, made = run(b, package)

    assert (fetched.fetched, made.created) == (1, 1)
    assert b.status(paid) == "Payment created and allocated; 20.00 GBP more than was due, left on account"
    assert b.outstanding("SI-0001") == 0
    assert b.company_balance("ACME") == before - b.gross["SI-0001"] - Decimal("20.00")
    assert b.bank_balance() == b.gross["SI-0001"] + Decimal("20.00") and b.trial_balance_balances()
    again_fetch, again = run(b, package)
    assert (again_fetch.fetched, again.created, b.payments()) == (0, 0, 1)


@pytest.mark.parametrize("how", ["Deleted", "Voided"])
def test_a_payment_deleted_or_voided_in_quickbooks_is_reversed_after_confirmation(qbo, how):
    """A QuickBooks void keeps the payment at zero; for the ledger it is gone, like a deletion, and the
    status the bookkeeper reads says which of the two happened."""
    from quickbooks.objects.payment import Payment as QboPayment

    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    paid = receive(qb, acme, b.gross["SI-0001"], [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    run(b, package)
    assert b.outstanding("SI-0001") == 0
    if how == "Deleted":
        row = qb.get_single_object("Payment", paid)["Payment"]
        qb.delete_object("Payment", json.dumps({"Id": row["Id"], "SyncToken": row["SyncToken"]}))
    else:
        QboPayment.get(paid, qb=qb).void(qb=qb)

    svc = PaymentsImport(b.store, "quickbooks")
    assert svc.fetch(package).fetched == 0

    assert b.status(paid) == f"{how} in QuickBooks: use Reverse Deleted Payments to undo it in the ledger"
    assert b.outstanding("SI-0001") == 0                            # not before the user confirms
    assert svc.reverse_deleted(svc.deleted_imported_ids()) == 1
    assert b.status(paid) == f"{how} in QuickBooks; reversed in the ledger with its allocations"
    assert b.outstanding("SI-0001") == b.gross["SI-0001"] and b.bank_balance() == 0 and b.trial_balance_balances()


def _change(qb, payment_id: str, total: Decimal, lines: list[tuple[str, Decimal]]) -> None:
    """The bookkeeper edits a received payment in QuickBooks: a new total and new amounts per invoice."""
    row = qb.get_single_object("Payment", payment_id)["Payment"]
    body = {"Id": row["Id"], "SyncToken": row["SyncToken"], "sparse": True, "TotalAmt": str(total),
            "Line": [{"Amount": str(a), "LinkedTxn": [{"TxnId": i, "TxnType": "Invoice"}]} for i, a in lines]}
    qb.update_object("Payment", json.dumps(body))


def test_a_payment_changed_in_quickbooks_before_the_import_is_created_as_it_now_stands(qbo):
    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    paid = receive(qb, acme, b.gross["SI-0001"], [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    svc = PaymentsImport(b.store, "quickbooks")
    svc.fetch(package)
    less = b.gross["SI-0001"] - Decimal("10.00")
    _change(qb, paid, less, [(b.remote["SI-0001"], less)])

    assert svc.fetch(package).fetched == 0   # the same payment, brought up to date
    row = b.row(paid)
    assert (row.amount, row.status) == (less, "Ready to create")
    assert svc.create_and_allocate([row.id]).created == 1

    assert b.status(paid) == "Payment created and allocated; 10.00 GBP still outstanding on SI-0001"
    assert b.outstanding("SI-0001") == Decimal("10.00") and b.bank_balance() == less


def test_a_payment_changed_in_quickbooks_after_the_import_says_so_and_leaves_the_ledger_alone(qbo):
    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    big = Decimal("1234.50")
    paid = receive(qb, acme, b.gross["SI-0001"] + big, [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    run(b, package)
    before = b.status(paid)
    _change(qb, paid, b.gross["SI-0001"] + big + 1, [(b.remote["SI-0001"], b.gross["SI-0001"])])

    assert PaymentsImport(b.store, "quickbooks").fetch(package).fetched == 0

    assert before == "Payment created and allocated; 1,234.50 GBP more than was due, left on account"
    assert b.status(paid) == (f"Changed in QuickBooks after it was imported (now {b.gross['SI-0001'] + big + 1:,.2f} "
                              "GBP): reverse and re-enter it by hand if the ledger must follow")
    assert b.bank_balance() == b.gross["SI-0001"] + big and b.payments() == 1


@pytest.mark.parametrize("how", ["Deleted", "Voided"])
def test_a_payment_deleted_or_voided_in_quickbooks_before_the_import_is_never_created(qbo, how):
    from quickbooks.objects.payment import Payment as QboPayment

    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    paid = receive(qb, acme, b.gross["SI-0001"], [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    svc = PaymentsImport(b.store, "quickbooks")
    svc.fetch(package)
    if how == "Deleted":
        row = qb.get_single_object("Payment", paid)["Payment"]
        qb.delete_object("Payment", json.dumps({"Id": row["Id"], "SyncToken": row["SyncToken"]}))
    else:
        QboPayment.get(paid, qb=qb).void(qb=qb)

    svc.fetch(package)

    assert b.status(paid) == f"{how} in QuickBooks before it was imported; nothing to do"
    assert svc.ready_ids() == [] and svc.deleted_imported_ids() == []
    assert svc.create_and_allocate([b.row(paid).id]).skipped == 1
    assert b.payments() == 0 and b.outstanding("SI-0001") == b.gross["SI-0001"]


def test_a_part_payment_of_two_invoices_names_both_still_outstanding(qbo):
    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    one, three = b.gross["SI-0001"] - Decimal("1.00"), b.gross["SI-0003"] - Decimal("2.00")
    paid = receive(qb, acme, one + three, [(b.remote["SI-0001"], one), (b.remote["SI-0003"], three)], bank)

    assert run(b, package)[1].created == 1

    assert b.status(paid) == "Payment created and allocated; 3.00 GBP still outstanding on SI-0001, SI-0003"
    assert b.outstanding("SI-0001") == Decimal("1.00") and b.outstanding("SI-0003") == Decimal("2.00")


def test_ids_of_another_quickbooks_company_never_take_a_payment(qbo):
    """QuickBooks numbers its objects per company, so ids repeat across companies. This file was once
    connected to another QuickBooks company, where SI-0003 became invoice and ACME customer under the same ids
    as SI-0001 and another customer here, and a payment it sent for the ledger under this payment's id: a
    payment of SI-0001 in this company is fetched (not taken for the file's own) and pays SI-0001."""
    from kcc_desktop.models import RemoteLink

    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    with b.store.transaction() as s:
        s.add_all([RemoteLink(provider="quickbooks", tenant_id="another-company", object_type="sales_invoice",
                              object_id=b.docs["SI-0003"], remote_id=b.remote["SI-0001"]),
                   RemoteLink(provider="quickbooks", tenant_id="another-company", object_type="company",
                              object_id=b.companies["BLOGGS"], remote_id=acme)])
    paid = receive(qb, acme, b.gross["SI-0001"], [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    with b.store.transaction() as s:   # and there, a prepayment allocation this file sent became that payment id
        s.add(RemoteLink(provider="quickbooks", tenant_id="another-company", object_type="prepayment_allocation",
                         object_id=1, remote_id=paid))

    assert run(b, package)[1].created == 1

    assert b.status(paid) == "Payment created and allocated"
    assert b.outstanding("SI-0001") == 0 and b.outstanding("SI-0003") == b.gross["SI-0003"]


def test_a_customer_numbered_like_a_payment_never_hides_that_payment(qbo):
    """QuickBooks numbers customers apart from transactions, so a customer this file exported can share its
    Id with a payment. Only the file's own prepayment allocations are left out of Fetch Payments, never a
    payment whose id some other kind of link happens to carry."""
    from kcc_desktop.models import Company, RemoteLink
    from kcc_desktop.sync.target import read_target

    b, package, qb = qbo
    bank, acme = bank_and_customer(b, package)
    paid = receive(qb, acme, b.gross["SI-0001"], [(b.remote["SI-0001"], b.gross["SI-0001"])], bank)
    customer = "0"
    while int(customer) < int(paid):   # customers count on by themselves, up to the payment's Id
        customer = qb.create_object("Customer", json.dumps({"DisplayName": f"Trade Customer {customer}"}))[
            "Customer"]["Id"]
    assert customer == paid
    with b.store.transaction() as s:
        trade = Company(code="TRADE", name="Trade Customer", kind="customer")
        s.add(trade)
        s.flush()
        s.add(RemoteLink(provider="quickbooks", tenant_id=read_target(s).tenant_id, object_type="company",
                         object_id=trade.id, remote_id=customer))

    assert run(b, package)[1].created == 1

    assert b.status(paid) == "Payment created and allocated"
