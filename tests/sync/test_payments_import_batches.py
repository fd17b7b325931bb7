"""Create & Allocate over several payments and batches, as a bookkeeper runs it on a day's receipts: one
payment that cannot be created does not stop the others, the counts add up across batches, the log file
support reads names each payment and what happened to it, and Reverse Deleted Payments reverses exactly
the selected ones. Over HTTP to the Xero sandbox (issue 20: tests found missing by mutation testing)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.models import Payment
from kcc_desktop.sync import payments_import as pi
from kcc_desktop.sync.payments_import import PaymentsImport

ON = date(2026, 2, 1)
LOGGER = "kcc_desktop.sync.payments_import"


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


@pytest.mark.parametrize("batch", [50, 1])
def test_a_payment_that_cannot_be_created_does_not_stop_the_rest_and_the_counts_add_up(books, xero_bookkeeper,
                                                                                       caplog, batch):
    b, package = books
    outside = xero_bookkeeper.pay(b.invoice_raised_in_package(package, ON), Decimal("60.00"), ON, "Xero only")
    first = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    second = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON, "BACS 2")
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    ids = [b.row(outside).id, b.row(first).id, b.row(second).id]   # the refused one first

    with caplog.at_level(logging.INFO, logger=LOGGER):
        made = svc.create_and_allocate(ids, batch=batch)

    assert (made.created, made.skipped, made.failed) == (2, 0, 1)
    assert b.status(outside).startswith("Not created: invoice XERO-ONLY-1 was never exported from this ledger")
    assert b.status(first) == b.status(second) == "Payment created and allocated"
    assert b.outstanding("SI-0001") == 0 and b.outstanding("SI-0003") == 0
    assert b.payments() == 2 and b.bank_balance() == b.gross["SI-0001"] + b.gross["SI-0003"]
    # What support reads in the log file: each refusal with its payment, and each payment written.
    log = messages(caplog)
    assert f"Payment {outside} XERO-ONLY-1 not created: {b.status(outside)}" in log
    written = [m for m in log if m.startswith("Created and allocated ")]
    sent = {first: f"{b.gross['SI-0001']} GBP to SI-0001", second: f"{b.gross['SI-0003']} GBP to SI-0003"}
    if batch == 1:
        assert written == [f"Created and allocated 1 payments: {sent[first]}",
                           f"Created and allocated 1 payments: {sent[second]}"]
    else:
        assert written == [f"Created and allocated 2 payments: {sent[first]}; {sent[second]}"]
    assert log[-1] == "Create & Allocate Payments (Xero): 3 selected, 2 created, 0 skipped, 1 not created"


def test_two_refusals_in_two_batches_count_two(books, xero_bookkeeper):
    b, package = books
    refused = [xero_bookkeeper.pay(b.invoice_raised_in_package(package, ON), Decimal("20.00"), ON, "Part 1"),
                    xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)]
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    with b.store.transaction() as s:   # the ledger's invoice gone from the links: refused like the other
        for link in s.scalars(select(pi.RemoteLink).where(pi.RemoteLink.remote_id == b.remote["SI-0001"])):
            s.delete(link)

    made = svc.create_and_allocate([b.row(p).id for p in refused], batch=1)

    assert (made.created, made.skipped, made.failed) == (0, 0, 2)
    statuses = [b.status(p) for p in refused]
    assert len(statuses) == 2 and all(text.startswith("Not created: invoice ") for text in statuses)
    assert b.payments() == 0


def test_a_payment_written_on_its_own_after_another_run_got_one_first_keeps_its_reference_and_source(
        books, xero_bookkeeper):
    b, package = books
    mine = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 77")
    theirs = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    other = PaymentsImport(b.store, "xero")
    assert other.create_and_allocate([b.row(theirs).id]).created == 1   # another window, between fetch and ours
    with b.store.transaction() as s:   # our window still has it as ready: its batch write meets the other's
        s.get(pi.ImportedPayment, b.row(theirs).id).ledger_payment_id = None

    made = svc.create_and_allocate([b.row(mine).id, b.row(theirs).id])

    assert (made.created, made.skipped, made.failed) == (1, 1, 0)
    with b.store.session() as s:
        payment = s.scalar(select(Payment).where(Payment.remote_id == f"xero:{mine}"))
        assert (payment.reference, payment.source, payment.amount) == ("BACS 77", "xero", b.gross["SI-0001"])
    assert b.row(mine).ledger_payment_id == payment.id and b.status(mine) == "Payment created and allocated"
    assert b.payments() == 2 and b.outstanding("SI-0001") == 0 and b.trial_balance_balances()


def test_reverse_deleted_reverses_every_selected_payment_and_only_those(books, xero_bookkeeper, caplog):
    b, package = books
    paid = {n: xero_bookkeeper.pay(b.remote[n], b.gross[n], ON) for n in ("SI-0001", "SI-0002", "SI-0003")}
    kept = xero_bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    assert svc.create_and_allocate(svc.ready_ids()).created == 4
    for payment_id in paid.values():
        xero_bookkeeper.delete_payment(payment_id)
    svc.fetch(package)
    # the three deleted in Xero, in the order fetched; never the bill still paid there
    assert svc.deleted_imported_ids() == [b.row(paid[n]).id for n in ("SI-0001", "SI-0002", "SI-0003")]
    assert svc.deleted_imported_ids([b.row(kept).id]) == []
    assert PaymentsImport(b.store, "quickbooks").deleted_imported_ids() == []   # Xero's, not QuickBooks'

    with caplog.at_level(logging.INFO, logger=LOGGER):
        count = svc.reverse_deleted([b.row(paid["SI-0001"]).id, b.row(paid["SI-0003"]).id])

    assert count == 2
    assert b.outstanding("SI-0001") == b.gross["SI-0001"] and b.outstanding("SI-0003") == b.gross["SI-0003"]
    assert b.outstanding("SI-0002") == 0 and b.outstanding("PI-0001") == 0  # not selected / not deleted
    assert b.status(paid["SI-0002"]).startswith("Deleted in Xero: use Reverse Deleted Payments")
    assert svc.deleted_imported_ids() == [b.row(paid["SI-0002"]).id]
    with b.store.session() as s:
        reversed_ids = sorted(p.id for p in s.scalars(select(Payment).where(Payment.reversed_at.is_not(None))))
    assert len(reversed_ids) == 2
    assert [m for m in messages(caplog) if m.startswith("Reversed ")] == [
        f"Reversed ledger payment {reversed_ids[0]} ({b.gross['SI-0001']} GBP, deleted in Xero)",
        f"Reversed ledger payment {reversed_ids[1]} ({b.gross['SI-0003']} GBP, deleted in Xero)"]
    assert b.trial_balance_balances()


def test_a_payment_into_a_bank_account_added_in_xero_later_names_it_once_its_accounts_are_fetched(
        books, xero_bookkeeper):
    """Organisations have several bank accounts. One opened in Xero after the accounts were last fetched is
    named by its code only; once fetched, by code and name (its own, not another bank's, nor the account of
    that code in QuickBooks, to which the file was once connected)."""
    from kcc_desktop.models import PackageAccount
    from kcc_desktop.sync.mapping import MappingService

    b, package = books
    with b.store.transaction() as s:
        s.add(PackageAccount(provider="quickbooks", category="bank", code="091", remote_id="41", name="QB Savings",
                             type="", status="ACTIVE"))
    paid = xero_bookkeeper.open_bank_account("091", "Deposit Account").pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate([b.row(paid).id]).failed == 1
    assert b.status(paid) == ("Not created: bank account 091 in Xero is not mapped to a ledger bank account. Map it "
                              "on the Mapping tab, then run Create & Allocate Payments again.")
    MappingService(b.store, "xero").fetch(package)
    assert svc.create_and_allocate([b.row(paid).id]).failed == 1
    assert b.status(paid) == ("Not created: bank account 091 (Deposit Account) in Xero is not mapped to a ledger "
                              "bank account. Map it on the Mapping tab, then run Create & Allocate Payments again.")
    assert b.payments() == 0 and b.outstanding("SI-0001") == b.gross["SI-0001"]


def test_with_two_ledger_banks_on_one_xero_account_the_one_the_user_chose_takes_the_money(books, xero_bookkeeper):
    """Apply Default Setup maps every ledger bank it cannot tell apart to Xero's 090; the bookkeeper then picks
    the one that really is 090 on the Mapping tab. Payments into 090 go to that one."""
    from kcc_desktop.ledger import service
    from kcc_desktop.sync.mapping import BANK, MappingService

    b, package = books
    mapping = MappingService(b.store, "xero")
    banks = mapping.local_ids(BANK)
    assert len(banks) == 2 and b.bank_id in banks
    chosen = next(i for i in banks if i != b.bank_id)
    assert [mapping.row(BANK, i).remote_code for i in banks] == ["090", "090"]   # both, by the default setup
    mapping.set_mapping(BANK, chosen, "090")                                 # the user's own choice
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)

    assert svc.create_and_allocate([b.row(paid).id]).created == 1
    with b.store.session() as s:
        assert service.bank_balance(s, chosen) == b.gross["SI-0001"]
    assert b.bank_balance() == 0 and b.trial_balance_balances()


def test_ready_payments_are_this_packages_live_ones_oldest_first(books, xero_bookkeeper):
    """What Create & Allocate takes when nothing is selected (the import command, a scheduled run): every
    payment fetched from this package, not yet in the ledger and not deleted there, by date then as fetched."""
    from datetime import timedelta

    b, package = books
    later = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON + timedelta(days=2))
    earlier = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON)
    same_day = xero_bookkeeper.pay(b.remote["SI-0002"], Decimal("5.00"), ON)
    gone = xero_bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    xero_bookkeeper.delete_payment(gone)
    svc.fetch(package)

    assert svc.ready_ids() == [b.row(earlier).id, b.row(same_day).id, b.row(later).id]
    assert b.row(later).id < b.row(earlier).id < b.row(same_day).id   # fetched in another order than dated
    assert PaymentsImport(b.store, "quickbooks").ready_ids() == []   # Xero's payments wait for Xero's import
    made = svc.create_and_allocate(svc.ready_ids())
    assert (made.created, made.failed) == (3, 0) and svc.ready_ids() == []
    assert b.outstanding("PI-0001") == b.gross["PI-0001"]            # deleted before the import: never created



def test_a_batch_naming_more_ids_than_one_look_up_takes_finds_every_invoice_and_customer(books, xero_bookkeeper,
                                                                                        monkeypatch):
    """The ledger's links are read in IN lists of ``gil.CHUNK`` ids (SQLite's limit on bound values). Made one
    here, a batch paying four invoices and putting money on both customers' accounts needs every one of its six
    ids (each invoice, and each customer for the money on account) from a look-up of its own."""
    from kcc_desktop.sync import gil

    b, package = books
    paid = [xero_bookkeeper.pay(b.remote[n], b.gross[n], ON, f"BACS {n}")
            for n in ("SI-0001", "SI-0002", "SI-0003", "SI-0004")]
    on_account = {code: f"overpayment:{xero_bookkeeper.receive_overpayment(b.contact(code), Decimal('5.00'), ON)}"
                  for code in ("ACME", "BLOGGS")}
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    monkeypatch.setattr(gil, "CHUNK", 1)

    made = svc.create_and_allocate([b.row(r).id for r in [*paid, *on_account.values()]], batch=10)

    assert made.created == 6, [b.status(r) for r in [*paid, *on_account.values()]]
    assert [b.outstanding(n) for n in ("SI-0001", "SI-0002", "SI-0003", "SI-0004")] == [0, 0, 0, 0]
    assert b.bank_balance() == sum(b.gross[n] for n in ("SI-0001", "SI-0002", "SI-0003", "SI-0004")) + 10
