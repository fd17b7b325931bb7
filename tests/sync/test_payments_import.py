"""Payments recorded in Xero by a bookkeeper (through xero-python, over HTTP) come back into the ledger.

Each test asserts what the ledger says afterwards: the invoice's outstanding amount, the company's and
the bank's balances, the trial balance still balancing, and the status the user reads in the grid.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kcc_desktop.cli import main as cli_main
from kcc_desktop.ledger import service
from kcc_desktop.models import Company, Document, Payment
from kcc_desktop.sync import payments_import as pi
from kcc_desktop.sync.mapping import BANK, MappingService
from kcc_desktop.sync.payments_import import PaymentsImport
from tests.helpers.books import Books

ON = date(2026, 2, 1)


def run(books: Books, package, create: bool = True) -> tuple[pi.ImportSummary, pi.ImportSummary | None]:
    svc = PaymentsImport(books.store, "xero")
    fetched = svc.fetch(package)
    made = svc.create_and_allocate(svc.ready_ids()) if create else None
    return fetched, made


def test_full_part_and_supplier_payments_are_created_and_allocated(books, xero_bookkeeper):
    b, package = books
    full = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, "BACS 1")
    part = xero_bookkeeper.pay(b.remote["SI-0002"], Decimal("10.00"), ON, "Part")
    bill = xero_bookkeeper.pay(b.remote["PI-0001"], b.gross["PI-0001"], ON, "Cheque 7")
    acme_before, bank_before = b.company_balance("ACME"), b.bank_balance()

    fetched, made = run(b, package)

    assert (fetched.fetched, made.created, made.failed) == (3, 3, 0)
    row = b.row(full)
    assert (row.kind, row.company_name, row.invoices, row.amount, row.currency, row.bank_account_code,
            row.reference) == ("receipt", "Acme Tools Ltd", "SI-0001", b.gross["SI-0001"], "GBP", "090", "BACS 1")
    assert b.row(bill).kind == "supplier_payment" and b.row(bill).company_name == "Widget Supplies plc"
    assert b.status(full) == "Payment created and allocated"
    left = b.gross["SI-0002"] - Decimal("10.00")
    assert b.status(part) == f"Payment created and allocated; {left:,.2f} GBP still outstanding on SI-0002"
    assert b.status(bill) == "Payment created and allocated"
    assert b.outstanding("SI-0001") == 0 and b.outstanding("SI-0002") == left and b.outstanding("PI-0001") == 0
    assert b.company_balance("ACME") == acme_before - b.gross["SI-0001"]
    assert b.company_balance("SUPP") == 0
    assert b.bank_balance() == bank_before + b.gross["SI-0001"] + Decimal("10.00") - b.gross["PI-0001"]
    assert b.trial_balance_balances()
    # The payment guard (integration on, Acme an account customer) did not block it: it came from Xero.
    with b.store.session() as s:
        assert s.scalar(select(Company.is_account).where(Company.code == "ACME"))
        assert {p.source for p in s.scalars(select(Payment))} == {"xero"}


def test_a_receipt_across_several_invoices_allocates_each(books, xero_bookkeeper):
    b, package = books
    # Xero keeps a batch receipt as one Payment per invoice, sent in one request.
    ids = xero_bookkeeper.pay_many([(b.remote["SI-0001"], b.gross["SI-0001"]), (b.remote["SI-0003"], Decimal("5.00"))],
                              ON, "Batch 12")
    before = b.company_balance("ACME")

    _, made = run(b, package)

    assert made.created == 2
    assert [b.row(i).invoices for i in ids] == ["SI-0001", "SI-0003"]
    assert b.outstanding("SI-0001") == 0 and b.outstanding("SI-0003") == b.gross["SI-0003"] - Decimal("5.00")
    assert b.company_balance("ACME") == before - b.gross["SI-0001"] - Decimal("5.00")
    assert b.bank_balance() == b.gross["SI-0001"] + Decimal("5.00")
    assert b.trial_balance_balances()


def test_more_than_the_ledger_has_due_goes_on_account(books, xero_bookkeeper):
    b, package = books
    # The credit note was allocated in the ledger (that never syncs), so Xero still shows SI-0001 fully due
    # and the customer pays it all: the ledger allocates what is due and keeps the rest on account.
    with b.store.transaction() as s:
        service.allocate_credit_note(s, s.get(Document, b.docs["SC-0001"]), s.get(Document, b.docs["SI-0001"]),
                                     b.gross["SC-0001"])
    before = b.company_balance("ACME")
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)

    _, made = run(b, package)

    assert made.created == 1
    over = b.gross["SC-0001"]
    assert b.status(paid) == f"Payment created and allocated; {over:,.2f} GBP more than was due, left on account"
    assert b.outstanding("SI-0001") == 0
    assert b.company_balance("ACME") == before - b.gross["SI-0001"]   # the extra is a credit on the account
    assert b.bank_balance() == b.gross["SI-0001"]
    assert b.trial_balance_balances()


def test_a_credit_note_allocated_in_xero_never_appears(books, xero_bookkeeper):
    b, package = books
    xero_bookkeeper.allocate_credit_note(b.remote["SC-0001"], b.remote["SI-0003"], Decimal("5.00"), ON)

    fetched, made = run(b, package)

    assert fetched.fetched == 0 and b.rows() == [] and made.created == 0
    assert b.outstanding("SI-0003") == b.gross["SI-0003"] and b.payments() == 0


def test_deleted_payments_reverse_only_after_confirmation(books, xero_bookkeeper):
    b, package = books
    imported = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    svc.create_and_allocate(svc.ready_ids())
    waiting = xero_bookkeeper.pay(b.remote["SI-0003"], Decimal("7.00"), ON)
    svc.fetch(package)                                           # shown, not yet created
    never_seen = xero_bookkeeper.pay(b.remote["SI-0002"], Decimal("3.00"), ON)
    for payment_id in (imported, waiting, never_seen):
        xero_bookkeeper.delete_payment(payment_id)

    summary = svc.fetch(package)

    assert summary.fetched == 0
    assert never_seen not in {r.remote_id for r in b.rows()}    # deleted before we saw it: not shown
    assert b.status(waiting) == "Deleted in Xero before it was imported; nothing to do"
    assert b.status(imported) == "Deleted in Xero: use Reverse Deleted Payments to undo it in the ledger"
    assert b.outstanding("SI-0001") == 0                          # nothing reversed without confirmation
    made = svc.create_and_allocate([b.row(waiting).id, b.row(imported).id])
    assert (made.created, made.skipped) == (0, 2) and b.outstanding("SI-0003") == b.gross["SI-0003"]

    assert svc.deleted_imported_ids() == [b.row(imported).id]
    assert svc.reverse_deleted([b.row(imported).id, b.row(waiting).id]) == 1   # the user confirmed

    assert b.status(imported) == "Deleted in Xero; reversed in the ledger with its allocations"
    assert b.outstanding("SI-0001") == b.gross["SI-0001"]
    assert b.bank_balance() == 0 and b.trial_balance_balances()
    assert svc.reverse_deleted([b.row(imported).id]) == 0 and svc.deleted_imported_ids() == []
    svc.fetch(package)
    assert b.status(imported).startswith("Deleted in Xero; reversed")


def test_an_invoice_this_ledger_never_exported_writes_nothing(books, xero_bookkeeper, xero_sync_sandbox):
    b, package = books
    paid = xero_bookkeeper.pay(b.invoice_raised_in_package(package, ON), Decimal("60.00"), ON)
    before = b.company_balance("ACME")

    _, summary = run(b, package)

    assert (summary.created, summary.failed) == (0, 1)
    assert b.status(paid) == ("Not created: invoice XERO-ONLY-1 was never exported from this ledger, so the "
                              "payment cannot be allocated here. Record it by hand against the ledger's own invoice.")
    assert b.payments() == 0 and b.bank_balance() == 0 and b.trial_balance_balances()
    assert b.company_balance("ACME") == before


def test_an_unmapped_bank_account_writes_nothing_until_mapped(books, xero_bookkeeper):
    b, package = books
    mapping = MappingService(b.store, "xero")
    for local_id in mapping.local_ids(BANK):       # Apply Default Setup mapped both ledger banks to 090
        mapping.set_mapping(BANK, local_id, None)
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    before = b.company_balance("ACME")

    _, summary = run(b, package)

    assert summary.failed == 1 and b.company_balance("ACME") == before and b.bank_balance() == 0
    assert b.status(paid) == ("Not created: bank account 090 (Business Bank Account) in Xero is not mapped to a "
                              "ledger bank account. Map it on the Mapping tab, then run Create & Allocate Payments "
                              "again.")
    assert b.payments() == 0 and b.outstanding("SI-0001") == b.gross["SI-0001"]

    mapping.set_mapping(BANK, b.bank_id, "090")
    again = PaymentsImport(b.store, "xero").create_and_allocate([b.row(paid).id])

    assert again.created == 1 and b.status(paid) == "Payment created and allocated"
    assert b.outstanding("SI-0001") == 0 and b.bank_balance() == b.gross["SI-0001"]
    assert b.company_balance("ACME") == before - b.gross["SI-0001"] and b.trial_balance_balances()


def test_running_it_twice_changes_nothing(books, xero_bookkeeper, xero_sync_sandbox):
    b, package = books
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    first_fetch, first = run(b, package)
    gets = xero_sync_sandbox.count("GET", "/Payments")

    second_fetch, second = run(b, package)

    assert (first_fetch.fetched, first.created) == (1, 1)
    assert (second_fetch.fetched, second.created) == (0, 0)
    assert len(b.rows()) == 1 and b.payments() == 1
    assert xero_sync_sandbox.count("GET", "/Payments") == gets + 1           # one page asked for, since the watermark
    again = PaymentsImport(b.store, "xero").create_and_allocate([b.row(paid).id])
    assert (again.created, again.skipped) == (0, 1)
    assert b.outstanding("SI-0001") == 0 and b.bank_balance() == b.gross["SI-0001"]
    with b.store.transaction() as s, pytest.raises(IntegrityError):   # the database itself refuses a second
        p = s.scalar(select(Payment))
        s.add(Payment(kind=p.kind, company_id=p.company_id, bank_account_id=p.bank_account_id, date=p.date,
                      amount=p.amount, source="xero", remote_id=p.remote_id))
        s.flush()


def test_the_import_command_prints_its_summary(books, xero_bookkeeper, capsys):
    b, _package = books
    xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    xero_bookkeeper.pay(b.remote["SI-0003"], Decimal("1.00"), ON)
    db = b.store.label

    assert cli_main(["--db", db, "import", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"fetched": 2, "created": 2, "skipped": 0, "failed": 0}
    assert cli_main(["--db", db, "import", "--fetch", "--create-allocate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"fetched": 0, "created": 0, "skipped": 0, "failed": 0}
    assert b.outstanding("SI-0001") == 0 and b.payments() == 2


def test_a_payment_another_window_created_first_is_kept_once(books, xero_bookkeeper):
    b, package = books
    first = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    second = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    with b.store.transaction() as s:     # another window's run got there first, between our fetch and create
        from kcc_desktop.models import BankAccount
        doc = s.get(Document, b.docs["SI-0003"])
        service.record_payment(s, "receipt", s.get(Company, doc.company_id), s.get(BankAccount, b.bank_id),
                               b.gross["SI-0003"], ON, [(doc, b.gross["SI-0003"])], source="xero",
                               remote_id=f"xero:{second}")

    made = svc.create_and_allocate(svc.ready_ids())

    assert (made.created, made.skipped, made.failed) == (1, 1, 0)
    assert b.status(first) == "Payment created and allocated"
    assert b.status(second) == "Payment created and allocated (by an earlier run)"
    assert b.payments() == 2 and b.outstanding("SI-0001") == 0 and b.outstanding("SI-0003") == 0
    assert b.bank_balance() == b.gross["SI-0001"] + b.gross["SI-0003"] and b.trial_balance_balances()


def test_the_import_command_reverses_deleted_payments_only_when_told(books, xero_bookkeeper, capsys):
    b, _package = books
    paid = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    db = b.store.label
    assert cli_main(["--db", db, "import", "--json"]) == 0
    capsys.readouterr()
    xero_bookkeeper.delete_payment(paid)

    assert cli_main(["--db", db, "import", "--fetch", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == {"fetched": 0, "created": 0, "skipped": 0, "failed": 0}
    assert "run with --reverse-deleted" in out.err and b.outstanding("SI-0001") == 0

    assert cli_main(["--db", db, "import", "--reverse-deleted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reversed"] == 1
    assert b.outstanding("SI-0001") == b.gross["SI-0001"] and b.bank_balance() == 0 and b.trial_balance_balances()


def test_the_import_command_without_a_connection_says_what_to_do(store, capsys):
    db = store.label
    assert cli_main(["--db", db, "import", "--json"]) == 2         # no sign-in: exit 2, as the README says
    out = capsys.readouterr()
    assert json.loads(out.out) == {"fetched": 0, "created": 0, "skipped": 0, "failed": 0}
    assert "Fetch Payments: " in out.err and "Connect" in out.err


def test_cancel_stops_between_batches_and_keeps_what_was_done(books, xero_bookkeeper):
    b, package = books
    first = xero_bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON)
    second = xero_bookkeeper.pay(b.remote["SI-0003"], b.gross["SI-0003"], ON)
    svc = PaymentsImport(b.store, "xero")
    svc.fetch(package)
    stop = __import__("threading").Event()
    seen = []

    made = svc.create_and_allocate([b.row(first).id, b.row(second).id], cancel=stop, batch=1,
                                   progress=lambda done, total, text: (seen.append((done, total)), stop.set()))

    assert made.cancelled and made.created == 1 and seen == [(1, 2)]
    assert b.status(first) == "Payment created and allocated" and b.status(second) == "Ready to create"
    assert b.outstanding("SI-0003") == b.gross["SI-0003"] and b.trial_balance_balances()


def test_two_desks_fetching_at_once_each_add_nothing_twice_and_neither_fails(books, xero_bookkeeper):
    """Both engines. Desk B is about to write a fetched page (its look found both receipts new) when desk A
    starts the same fetch. A may only look once B's page is written: then it finds both there. (Before, A looked
    at the same moment, found them absent and added them too: "duplicate key value violates unique constraint"
    in the chaos suite's three-desk rounds on PostgreSQL.)"""
    import threading

    from sqlalchemy import event, func

    from kcc_desktop.models import ImportedPayment

    b, package = books
    xero_bookkeeper.pay(b.remote["SI-0001"], Decimal("5.00"), ON, "BACS 1")
    xero_bookkeeper.pay(b.remote["SI-0002"], Decimal("6.00"), ON, "BACS 2")
    engine = b.store.engine
    desk_b = threading.get_ident()
    a_reached_the_store = threading.Event()
    a_result: list[object] = []

    def desk_a() -> None:
        try:
            a_result.append(PaymentsImport(b.store, "xero").fetch(package).fetched)
        except Exception as exc:   # what the test is about: reported by the assert below
            a_result.append(exc)
        finally:
            a_reached_the_store.set()

    started: list[threading.Thread] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        on_a = threading.get_ident() != desk_b
        if on_a and ("pg_advisory_xact_lock" in statement or "WHERE 1 = 0" in statement):
            a_reached_the_store.set()          # A waits for B's page here (the lock): B may go on
        elif not on_a and statement.lstrip().upper().startswith("INSERT INTO IMPORTED_PAYMENT") and not started:
            started.append(threading.Thread(target=desk_a))
            started[0].start()
            a_reached_the_store.wait()

    def after(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != desk_b and statement.lstrip().upper().startswith("SELECT") \
                and "from imported_payment" in statement.lower():
            a_reached_the_store.set()          # without the lock: A has looked, before B's page is saved
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        fetched_by_b = PaymentsImport(b.store, "xero").fetch(package).fetched
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    started[0].join()
    assert fetched_by_b == 2 and a_result == [0]          # A found both already there, and did not fail
    with b.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ImportedPayment)) == 2
