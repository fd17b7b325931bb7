"""The screens' queries without a window: plain rows, money as Decimal, typed sort keys, figures matched
as the grids show them, and Record Payment behind the payment guard. A real SQLite company file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kcc_desktop.ledger.errors import LedgerError
from kcc_desktop.models import Company, ExportItem, Payment
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import install_queue_listeners
from kcc_desktop.views.documents import DocCol, DocumentGone, DocumentList, document_snapshot
from kcc_desktop.views.export import PendingCol, PendingExport, export_counts
from kcc_desktop.views.payments import bank_choices, company_choices, record_payment
from tests.ui.conftest import build_small_company


@pytest.fixture
def books(store):
    install_queue_listeners()
    return store, build_small_company(store)["ids"]


def test_document_rows_are_plain_values_with_what_is_still_owed(books):
    store, ids = books
    docs = DocumentList(store)
    rows = docs.rows(docs.ids())
    si3 = rows[ids["SI-0003"]]
    assert (si3.number, si3.company, si3.date) == ("SI-0003", "Acme Tools Ltd", date(2025, 3, 15))
    assert si3.gross == Decimal("1200.00") == si3.outstanding and isinstance(si3.net, Decimal)
    assert rows[ids["SC-0001"]].outstanding == Decimal("-30.00")          # credit not yet used
    by_gross = docs.ordered_ids(DocCol.GROSS, descending=True)
    assert by_gross[0] == ids["SI-0003"] and by_gross[-1] == ids["SI-0002"]   # 1,200.00 ... 11.99, as numbers


def test_a_figure_typed_in_the_filter_matches_the_amount_shown(books):
    store, ids = books
    docs = DocumentList(store)
    assert docs.matching("1200.00") == {ids["SI-0003"], ids["PI-0001"]}   # gross 1,200.00, stored as 12000000
    assert docs.matching("11.99") == {ids["SI-0002"]}
    assert docs.matching("acme 1200") == {ids["SI-0003"]}                 # every word, any column
    assert docs.matching("12000000") == set()                             # never the stored integer


def test_pending_export_rows_order_and_counts(books):
    store, _ = books
    pending = PendingExport(store)
    rows = pending.rows(pending.ids())
    assert {r.reference for r in rows.values()} >= {"SI-0001", "SI-0003", "ACME"}
    [si3] = [i for i, r in rows.items() if r.reference == "SI-0003"]
    [si2] = [i for i, r in rows.items() if r.reference == "SI-0002"]
    assert rows[si3].amount == Decimal("1200.00")
    for descending in (False, True):   # ordered in SQL as numbers (1,200.00 above 11.99), blanks first going up
        by_amount = pending.ordered_ids(PendingCol.AMOUNT, descending)
        assert sorted(by_amount) == sorted(rows)
        amounts = [rows[i].amount for i in by_amount]
        blanks = [a is None for a in amounts]
        assert blanks == sorted(blanks, reverse=not descending)
        figures = [a for a in amounts if a is not None]
        assert figures == sorted(figures, reverse=descending) and figures[0 if descending else -1] == Decimal("1200.00")
    assert pending.matching("11.99") == {si2}
    with store.session() as s:
        queued = s.scalar(select(func.count()).select_from(ExportItem))
    assert export_counts(store).pending == queued == len(rows)


def test_a_document_gone_since_the_list_was_read_says_what_to_do(store):
    with pytest.raises(DocumentGone, match="Press F5"):
        document_snapshot(store, 999)


def test_record_payment_keeps_the_guard_and_writes_nothing_when_refused(books):
    store, _ = books
    with store.session() as s:
        acme = s.scalar(select(Company.id).where(Company.code == "ACME"))          # an account customer
        bloggs = s.scalar(select(Company.id).where(Company.code == "BLOGGS"))      # pays up front
    companies = {c.label: c.id for c in company_choices(store)}
    assert companies["Acme Tools Ltd (ACME)"] == acme
    bank = bank_choices(store)[0].id
    OptionsService(store).update(enabled=True)
    with pytest.raises(LedgerError, match="Acme Tools Ltd"):
        record_payment(store, acme, bank, Decimal("10.00"), date(2025, 4, 1))
    payment_id = record_payment(store, bloggs, bank, Decimal("10.00"), date(2025, 4, 1), "Cash").payment_id
    with store.session() as s:
        payments = s.scalars(select(Payment)).all()
    assert [(p.id, p.company_id, p.amount, p.kind) for p in payments] == [
        (payment_id, bloggs, Decimal("10.00"), "prepayment")]


def test_a_quickbooks_void_is_offered_for_reversal_like_a_deletion():
    from datetime import UTC, datetime

    from kcc_desktop.views.imports import payment_state

    assert payment_state(7, "VOIDED", "Voided in QuickBooks: use Reverse Deleted Payments", None) == "to_reverse"
    assert payment_state(7, "VOIDED", "", datetime(2026, 12, 1, tzinfo=UTC)) == "reversed"
    assert payment_state(None, "VOIDED", "Voided in QuickBooks before it was imported", None) == "deleted"
    assert payment_state(7, "AUTHORISED", "Payment created and allocated", None) == "created"


def test_a_figure_typed_in_the_import_grids_filter_matches_the_payment_shown(store):
    """Both engines (PostgreSQL has no printf: a figure typed into the Import tab's filter failed there)."""
    from kcc_desktop.models import ImportedPayment
    from kcc_desktop.views.imports import ImportedPayments

    with store.transaction() as s:
        for n, amount in enumerate((Decimal("250.00"), Decimal("1250.50"), Decimal("0.05"))):
            s.add(ImportedPayment(provider="xero", remote_id=f"p-{n}", kind="receipt", date=date(2026, 3, n + 1),
                                  amount=amount, company_name=f"Customer {n}"))
    with store.session() as s:
        ids = {p.amount: p.id for p in s.scalars(select(ImportedPayment))}
    grid = ImportedPayments(store, "xero")
    assert grid.matching("250") == {ids[Decimal("250.00")], ids[Decimal("1250.50")]}
    assert grid.matching("1250.50") == {ids[Decimal("1250.50")]}
    assert grid.matching("0.05") == {ids[Decimal("0.05")]}
    assert grid.matching("12505000") == set()   # never the stored integer


def test_whether_an_action_applies_to_a_selection_is_asked_in_sql_exactly_as_the_grid_decides(books):
    """The Import tab enables Create & Allocate and Reverse for rows it has not read (after a job, off screen)
    with one query: for every state a fetched payment can be in, it agrees with the row the grid shows."""
    from kcc_desktop.ledger import service
    from kcc_desktop.models import BankAccount, ImportedPayment, utcnow
    from kcc_desktop.views.imports import ImportedPayments

    store, _ = books
    with store.transaction() as s:
        acme = s.scalars(select(Company).where(Company.kind == "customer")).first()
        bank = s.scalars(select(BankAccount)).first()

        def ledger_payment(reversed_: bool) -> int:
            payment = service.record_payment(s, "receipt", acme, bank, Decimal("1.00"), date(2026, 2, 1),
                                             source="import", remote_id=None)
            if reversed_:
                payment.reversed_at = utcnow()
            s.flush()
            return payment.id

        cases = {"ready": ("AUTHORISED", "Ready to create", None), "problem": ("AUTHORISED", "Not created: no", None),
                 "deleted": ("DELETED", "Deleted in Xero before it was imported", None),
                 "voided": ("VOIDED", "Voided in QuickBooks before it was imported", None),
                 "created": ("AUTHORISED", "Payment created and allocated", ledger_payment(False)),
                 "to_reverse": ("DELETED", "Deleted in Xero: use Reverse", ledger_payment(False)),
                 "reversed": ("VOIDED", "Voided; reversed in the ledger", ledger_payment(True))}
        made = {}
        for name, (remote_status, status, ledger_id) in cases.items():
            row = ImportedPayment(provider="xero", remote_id=f"p-{name}", kind="receipt", date=date(2026, 2, 1),
                                  amount=Decimal("1.00"), remote_status=remote_status, status=status,
                                  ledger_payment_id=ledger_id)
            s.add(row)
            s.flush()
            made[name] = row.id
    view = ImportedPayments(store, "xero")
    shown = view.rows(list(made.values()))
    assert {name: shown[i].state for name, i in made.items()} == {
        "ready": "ready", "problem": "problem", "deleted": "deleted", "voided": "deleted", "created": "created",
        "to_reverse": "to_reverse", "reversed": "reversed"}
    for flag in ("can_create", "can_reverse"):
        assert {name: view.any_can([i], flag) for name, i in made.items()} == \
            {name: getattr(shown[i], flag) for name, i in made.items()}, flag
    assert view.any_can(list(made.values()), "can_reverse") and not view.any_can([made["created"]], "can_create")
