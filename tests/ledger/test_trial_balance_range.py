"""The trial balance for a date range against figures worked out by hand, where the range's first and last
days each hold a document and the days either side hold others that must stay out (issue 20: the other
range tests compare ``trial_balance()`` with itself, so a range that dropped its last day went unseen)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest

from kcc_desktop.cli import main
from kcc_desktop.ledger import service as L
from kcc_desktop.ledger.trial_balance import trial_balance
from tests.helpers.ledger import add_company, add_item, codes

MARCH = (date(2026, 3, 1), date(2026, 3, 31))

# Worked by hand for 1–31 March 2026:
#   INV-FIRST (1 Mar):  1 × 100.00 on 4000 at 20 %        -> Dr 1100 120.00, Cr 4000 100.00, Cr 2200 20.00
#   INV-LAST (31 Mar):  3 × 9.99 on 4010 at 20 %          -> net 29.97, tax 5.994 -> 5.99
#                       3 × W1 at 9.99 (sales 4000, 20 %) -> net 29.97, tax 5.99; cost 3 × 4.1234 = 12.3702
#                                                            -> Dr 5100 12.37, Cr 1001 12.37
#                       debtors 29.97 + 5.99 + 29.97 + 5.99 = 71.92
#   INV-BEFORE (28 Feb) and INV-AFTER (1 Apr): 1 × 500.00 and 1 × 1,000.00, outside the range.
MARCH_FIGURES = {
    "1001": (D("0.00"), D("12.37")),
    "1100": (D("191.92"), D("0.00")),
    "2200": (D("0.00"), D("31.98")),
    "4000": (D("0.00"), D("129.97")),
    "4010": (D("0.00"), D("29.97")),
    "5100": (D("12.37"), D("0.00")),
}
MARCH_TOTAL = D("204.29")


@pytest.fixture
def books(store):
    with store.transaction() as s:
        n, t = codes(s)
        cust = add_company(s, "C1", "Acme Ltd")
        item = add_item(s, "W1", "9.99", "4.1234")

        def free(qty, price, nominal):
            return L.LineInput(D(qty), D(price), description="Goods", nominal_id=n[nominal].id,
                               tax_code_id=t["T1"].id)

        L.create_document(s, "sales_invoice", cust, "INV-BEFORE", date(2026, 2, 28), [free(1, "500.00", "4000")])
        L.create_document(s, "sales_invoice", cust, "INV-FIRST", date(2026, 3, 1), [free(1, "100.00", "4000")])
        L.create_document(s, "sales_invoice", cust, "INV-LAST", date(2026, 3, 31),
                          [free(3, "9.99", "4010"), L.LineInput(D(3), D("9.99"), item.id)])
        L.create_document(s, "sales_invoice", cust, "INV-AFTER", date(2026, 4, 1), [free(1, "1000.00", "4000")])
    return store


def test_a_month_includes_its_first_and_last_days_and_nothing_either_side(books):
    with books.session() as s:
        tb = trial_balance(s, *MARCH)
    assert {r.code: (r.debit, r.credit) for r in tb.rows} == MARCH_FIGURES
    assert tb.total_debit == tb.total_credit == MARCH_TOTAL


def test_the_last_day_alone_is_a_range(books):
    with books.session() as s:
        tb = trial_balance(s, date(2026, 3, 31), date(2026, 3, 31))
    assert {r.code: (r.debit, r.credit) for r in tb.rows} == {
        "1001": (D("0.00"), D("12.37")), "1100": (D("71.92"), D("0.00")), "2200": (D("0.00"), D("11.98")),
        "4000": (D("0.00"), D("29.97")), "4010": (D("0.00"), D("29.97")), "5100": (D("12.37"), D("0.00"))}


def test_open_ended_ranges_take_everything_on_their_open_side(books):
    with books.session() as s:
        up_to = {r.code: (r.debit, r.credit) for r in trial_balance(s, date_to=date(2026, 3, 31)).rows}
        since = {r.code: (r.debit, r.credit) for r in trial_balance(s, date_from=date(2026, 3, 1)).rows}
    # up to 31 March: March plus INV-BEFORE (500.00 + 100.00 tax)
    assert up_to["1100"] == (D("791.92"), D("0.00")) and up_to["4000"] == (D("0.00"), D("629.97"))
    # from 1 March: March plus INV-AFTER (1,000.00 + 200.00 tax)
    assert since["1100"] == (D("1391.92"), D("0.00")) and since["2200"] == (D("0.00"), D("231.98"))


def test_the_command_prints_the_hand_worked_figures(books, company_db, capsys):
    assert main(["--db", str(company_db), "trial-balance", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["code"]: (D(r["debit"]), D(r["credit"])) for r in out["rows"]} == MARCH_FIGURES
    assert D(out["total_debit"]) == D(out["total_credit"]) == MARCH_TOTAL


def test_balances_under_a_pound_keep_their_side(store):
    """1 × 0.50 at 20 %: debtors 0.60 Dr, sales 0.50 Cr, VAT 0.10 Cr; nothing rounds to a side it is not on."""
    with store.transaction() as s:
        n, t = codes(s)
        cust = add_company(s, "C1", "Acme Ltd")
        L.create_document(s, "sales_invoice", cust, "INV-P", date(2026, 3, 5),
                          [L.LineInput(D(1), D("0.50"), description="Sachet", nominal_id=n["4000"].id,
                                       tax_code_id=t["T1"].id)])
        tb = trial_balance(s)
    assert {r.code: (r.debit, r.credit) for r in tb.rows} == {
        "1100": (D("0.60"), D("0.00")), "2200": (D("0.00"), D("0.10")), "4000": (D("0.00"), D("0.50"))}
    assert tb.total_debit == tb.total_credit == D("0.60")


def test_rows_come_in_code_order_with_names_and_an_empty_range_is_zero_pounds(books):
    from sqlalchemy import select

    from kcc_desktop.models import Company, NominalCode, NominalKind

    with books.transaction() as s:        # a nominal added after the chart, with the lowest code
        _n, t = codes(s)
        suspense = NominalCode(code="0900", name="Suspense", kind=NominalKind.OTHER)
        s.add(suspense)
        s.flush()
        cust = s.scalars(select(Company).where(Company.code == "C1")).one()
        L.create_document(s, "sales_invoice", cust, "INV-S", date(2026, 3, 15),
                          [L.LineInput(D(1), D("5.00"), description="Odd", nominal_id=suspense.id,
                                       tax_code_id=t["T0"].id)])
    with books.session() as s:
        tb = trial_balance(s, *MARCH)
        empty = trial_balance(s, date(1999, 1, 1), date(1999, 12, 31))
    assert [(r.code, r.name) for r in tb.rows][:2] == [("0900", "Suspense"), ("1001", "Stock")]
    assert [r.code for r in tb.rows] == sorted(r.code for r in tb.rows)
    assert tb.to_json()["rows"][0] == {"code": "0900", "name": "Suspense", "debit": "0.00", "credit": "5.00"}
    assert empty.rows == [] and empty.to_json() == {"rows": [], "total_debit": "0.00", "total_credit": "0.00"}
