"""What a bookkeeper does in the package around an import, and what the Import tab then says: a bank account
renumbered after it was mapped, a mapping made for the other package, money in another currency, a contact
name too long for the Status column, progress and cancel as the window shows them. Over HTTP to the Xero
sandbox through xero-python (issue 20: gaps found by mutation testing of ``sync/payments_import.py``)."""

from __future__ import annotations

import logging
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import BankAccount, Mapping, NominalCode
from kcc_desktop.sandbox.testing import XeroBookkeeper
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.sync import payments_import as pi
from kcc_desktop.sync.payments_import import PaymentsImport

ON = date(2026, 2, 1)
LOGGER = "kcc_desktop.sync.payments_import"


def test_a_bank_account_renumbered_in_xero_after_it_was_mapped_still_takes_its_payments(books, xero_bookkeeper):
    """The mapping holds 090, the code Xero had when the accounts were fetched. The bookkeeper renumbers it
    095 in Xero; its payments now name 095. The account's Xero id is unchanged, so they still land."""
    from xero_python.accounting import Account, Accounts

    b, package = books
    api, tenant = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    [bank] = [a for a in api.get_accounts(tenant).accounts if a.code == "090"]
    api.update_account(tenant, bank.account_id, Accounts(accounts=[Account(code="095")]))
    paid = XeroBookkeeper(xero_bookkeeper.client, bank_code="095").pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    assert b.row(paid).bank_account_code == "095"

    made = svc.create_and_allocate([b.row(paid).id])

    assert (made.created, made.failed) == (1, 0)
    assert b.status(paid) == "Payment created and allocated"
    assert b.bank_balance() == b.gross["SI-0001"] and b.outstanding("SI-0001") == 0


def test_a_quickbooks_mapping_of_the_same_code_does_not_take_xero_money(books, xero_bookkeeper):
    """The file was once connected to QuickBooks, where the user mapped a savings account to an account
    numbered 090 too. Xero's 090 is the current account: Xero's payments go there."""
    b, package = books
    with b.store.transaction() as s:
        nominal = s.scalar(select(NominalCode.id).where(NominalCode.code == "1200"))
        savings = BankAccount(code="SAV", name="Savings", currency="GBP", nominal_id=nominal)
        s.add(savings)
        s.flush()
        s.add(Mapping(provider="quickbooks", category="bank", local_id=savings.id, remote_code="090", set_by="user"))
        savings_id = savings.id
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate([b.row(paid).id]).created == 1

    assert b.bank_balance() == b.gross["SI-0001"]
    with b.store.session() as s:
        assert service.bank_balance(s, savings_id) == 0


def test_money_on_account_in_another_currency_is_not_created_and_says_why(books, xero_bookkeeper, xero_sync_sandbox):
    """Acme's account in the ledger is in pounds; the bookkeeper records a deposit from Acme in euros."""
    b, package = books
    xero_sync_sandbox.organisation(Currencies=["EUR"], Rates={"EUR": "1.2500"})
    deposit = xero_bookkeeper.receive_prepayment(b.contact("ACME"), "50.00", ON, reference="EUR deposit",
                                                 currency="EUR")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    [row] = b.rows()
    assert (row.currency, row.amount, row.invoices) == ("EUR", Decimal("50.00"), "")

    made = svc.create_and_allocate([row.id])

    assert (made.created, made.failed) == (0, 1)
    assert b.row(row.remote_id).status == ("Not created: currency mismatch: the payment is in EUR but Acme Tools Ltd "
                                           "is in GBP. Check the payment in Xero.")
    assert b.payments() == 0 and b.bank_balance() == 0 and deposit in row.remote_id


def test_a_contact_name_too_long_for_the_status_column_is_cut_with_an_ellipsis(books, xero_bookkeeper):
    """The Status and Company columns hold 200 characters; Xero allows contact names of 255. A refusal naming
    a contact fits exactly or is cut to 199 characters and an ellipsis; one that fits is kept whole."""
    b, package = books
    room = 200 - len(pi.NO_COMPANY.format(name=""))
    fits, longest = "F" * room, "L" * 255
    ids = {}
    for name in (fits, longest):
        contact = xero_bookkeeper.add_contact(name)
        ids[name] = xero_bookkeeper.receive_overpayment(contact, Decimal("5.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    assert b.row(f"overpayment:{ids[longest]}").company_name == "L" * 199 + "…"

    assert svc.create_and_allocate(svc.ready_ids()).failed == 2

    whole = b.status(f"overpayment:{ids[fits]}")
    cut = b.status(f"overpayment:{ids[longest]}")
    assert whole == pi.NO_COMPANY.format(name=fits) and len(whole) == 200
    assert len(cut) == 200 and cut == pi.NO_COMPANY.format(name="L" * 199 + "…")[:199] + "…"


def test_a_long_reference_is_kept_to_what_the_ledger_holds(books, xero_bookkeeper):
    """Xero sets no length on a payment's reference; the Import grid shows 200 characters of it and the
    ledger's payment keeps the first 100, as its own screens do."""
    from kcc_desktop.models import Payment

    b, package = books
    reference = "".join(f"{n:03d}-" for n in range(60))   # 240 characters
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, reference)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    assert b.row(paid).reference == reference[:199] + "…"

    assert svc.create_and_allocate([b.row(paid).id]).created == 1

    with b.store.session() as s:
        assert s.scalar(select(Payment.reference)) == reference[:100]


def test_a_bill_raised_in_xero_without_a_number_is_named_by_its_xero_id(books, xero_bookkeeper):
    """Xero numbers sales invoices itself but not bills: a payment of a bill this ledger never sent, and
    that has no number, is refused naming the bill by the only name Xero gives it."""
    from xero_python.accounting import Contact, Invoice, Invoices, LineItem

    b, package = books
    api, tenant = xero_bookkeeper.client.accounting, xero_bookkeeper.client.tenant_id
    bill = Invoice(type="ACCPAY", contact=Contact(contact_id=b.contact("SUPP")), date=ON, due_date=ON,
                   status="AUTHORISED", line_items=[LineItem(description="Raised in Xero", quantity=Decimal(1),
                                                             unit_amount=Decimal("40.00"), account_code="429",
                                                             tax_type="INPUT2")])
    [made] = api.create_invoices(tenant, Invoices(invoices=[bill])).invoices
    assert not made.invoice_number
    paid = xero_bookkeeper.pay(str(made.invoice_id), Decimal("48.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate([b.row(paid).id]).failed == 1

    assert b.status(paid) == pi.NOT_EXPORTED.format(number=made.invoice_id)
    assert b.payments() == 0


def test_progress_says_how_many_were_created_and_a_cancelled_run_says_so_in_the_log(books, xero_bookkeeper, caplog):
    """The window's progress line after each batch, and the log file's last word on a cancelled run."""
    b, package = books
    refused = xero_bookkeeper.pay(b.invoice_raised_in_package(package, ON), Decimal("10.00"), ON)
    first = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    second = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    stop = threading.Event()
    seen: list[tuple[int, int, str]] = []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total, text))
        if done == 2:
            stop.set()

    with caplog.at_level(logging.INFO, logger=LOGGER):
        made = svc.create_and_allocate([b.row(p).id for p in (refused, first, second)], progress=progress,
                                       cancel=stop, batch=1)

    assert seen == [(1, 3, "0 created, 1 not created"), (2, 3, "1 created, 1 not created")]
    assert made.cancelled and made.text == "1 created and allocated, 1 not created (see Status) (cancelled)."
    last = [r.getMessage() for r in caplog.records if r.name == LOGGER][-1]
    assert last == "Create & Allocate Payments (Xero): 3 selected, 1 created, 0 skipped, 1 not created (cancelled)"
    assert b.status(second) == "Ready to create"


def test_an_overpayment_allocated_later_to_two_invoices_names_both(books, xero_bookkeeper):
    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("30.00"), ON, "Over")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    assert svc.create_and_allocate(svc.ready_ids()).created == 1
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0001"], Decimal("10.00"), ON)
    xero_bookkeeper.allocate_overpayment(op, b.remote["SI-0003"], Decimal("12.50"), ON)

    svc.fetch(package)

    assert b.status(f"overpayment:{op}") == ("Allocated in Xero after it was imported: 22.50 GBP more to SI-0001, "
                                             "SI-0003. In the ledger, allocate that from what this payment left "
                                             "on account")
    assert b.payments() == 1 and b.outstanding("SI-0001") == b.gross["SI-0001"]


def test_money_on_account_is_logged_as_going_to_the_account(books, xero_bookkeeper, caplog):
    """What support reads in the log file for a receipt that pays no invoice."""
    b, package = books
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("7.25"), ON, "Deposit")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    row = b.row(f"overpayment:{op}")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert svc.create_and_allocate([row.id]).created == 1

    assert row.amount == Decimal("7.25") and row.invoices == ""
    assert f"Created and allocated 1 payments: {row.amount} GBP to account" in [r.getMessage() for r in caplog.records]


def test_a_payment_of_an_invoice_the_ledger_already_settled_goes_on_account_with_no_allocation(books, xero_bookkeeper):
    """Bloggs (not an account customer) paid SI-0002 at the counter, recorded in the ledger; the bookkeeper
    also records a payment of it in Xero. The ledger has nothing left due on it: the money goes on Bloggs's
    account, and no allocation of nothing is written against the invoice."""
    from kcc_desktop.models import Allocation, BankAccount, Company, Document, Payment

    b, package = books
    with b.store.transaction() as s:
        invoice = s.get(Document, b.docs["SI-0002"])
        service.record_payment(s, "receipt", s.get(Company, b.companies["BLOGGS"]), s.get(BankAccount, b.bank_id),
                               invoice.gross_total, ON, [(invoice, invoice.gross_total)], reference="Counter")
    assert b.outstanding("SI-0002") == 0
    paid = xero_bookkeeper.pay(b.remote["SI-0002"], b.gross["SI-0002"], ON, "Xero too")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate([b.row(paid).id]).created == 1

    assert b.status(paid) == (f"Payment created and allocated; {b.gross['SI-0002']:,.2f} GBP more than was due, "
                              "left on account")
    with b.store.session() as s:
        imported = s.scalar(select(Payment).where(Payment.reference == "Xero too"))
        assert imported is not None and imported.amount == b.gross["SI-0002"]
        assert s.scalars(select(Allocation).where(Allocation.payment_id == imported.id)).all() == []


def test_fetch_progress_counts_what_was_read_and_what_was_new(books, xero_bookkeeper, caplog):
    """The window's progress line while Fetch Payments reads (the package never says how many there are),
    page by page (Xero's payments, then its overpayments, then its prepayments), and the log's line at the end."""
    b, package = books
    xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    xero_bookkeeper.pay(b.remote["SI-0003"], Decimal("1.00"), ON)
    xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("3.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    seen: list[tuple[int, int, str]] = []

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert svc.fetch(package, progress=lambda done, total, text: seen.append((done, total, text))).fetched == 3

    assert seen == [(2, 0, "2 payments read, 2 new"), (3, 0, "3 payments read, 3 new"),
                    (3, 0, "3 payments read, 3 new")]
    ends = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Fetch Payments from Xero")]
    assert ends == ["Fetch Payments from Xero: 3 read, 3 new or changed (since the start)"]
    since = DbSettingsStore(b.store).get(pi.watermark_key("xero"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        svc.fetch(package)
    assert since and caplog.records[-1].getMessage().endswith(f" new or changed (since {since})")


def test_a_cancelled_fetch_keeps_what_it_read_and_the_next_one_reads_the_rest(books, xero_bookkeeper):
    b, package = books
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    op = xero_bookkeeper.receive_overpayment(b.contact("ACME"), Decimal("3.00"), ON)
    svc = PaymentsImport(b.store, "xero")
    stop = threading.Event()

    cut = svc.fetch(package, cancel=stop, progress=lambda done, total, text: stop.set())

    assert cut.cancelled and cut.fetched == 1 and cut.text == "1 new payment fetched (cancelled)."
    assert [r.remote_id for r in b.rows()] == [paid]
    rest = svc.fetch(package)
    assert not rest.cancelled and rest.fetched == 1
    assert sorted(r.remote_id for r in b.rows()) == sorted([paid, f"overpayment:{op}"])


def test_a_company_file_locked_past_every_retry_says_so_keeps_nothing_and_the_next_fetch_gets_it_all(
        books, xero_bookkeeper, monkeypatch):
    """Another program holds the company file's write lock (PostgreSQL: the lock a desk takes to write a
    fetched page) for longer than Fetch Payments waits: the user reads what could not be done and that
    nothing was lost; once it is free, the same fetch brings in every payment."""
    import contextlib

    from sqlalchemy import text

    from kcc_desktop import store as store_module
    from kcc_desktop.store import StoreBusy

    b, package = books
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], Decimal("5.00"), ON, "BACS 1")
    monkeypatch.setattr(store_module, "BUSY_PATIENCE", 0.3)        # minutes in a desk, a moment here
    monkeypatch.setattr(store_module, "SQLITE_BUSY_MS", 20)
    monkeypatch.setattr(store_module, "PG_LOCK_TIMEOUT", "20ms")
    b.store.engine.dispose()   # the connections made from now on wait that long for a lock
    other = b.store.engine.connect()   # the other program, on a connection of its own
    with contextlib.closing(other):
        if b.store.is_postgres:
            other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": pi._FETCH_LOCK})
        else:
            other.execute(text("UPDATE imported_payment SET id = id WHERE 1 = 0"))   # takes the write lock
        with pytest.raises(StoreBusy) as busy:
            PaymentsImport(b.store, "xero").fetch(package)
        other.rollback()

    assert str(busy.value) == (f"Could not save the payments read: the company file {b.store.label} stayed locked "
                               "by another desk or program for over two minutes. Nothing was lost; try again when "
                               "it is free.")
    assert b.rows() == [] and DbSettingsStore(b.store).get(pi.watermark_key("xero")) in (None, "")
    assert PaymentsImport(b.store, "xero").fetch(package).fetched == 1 and b.row(paid).amount == Decimal("5.00")
