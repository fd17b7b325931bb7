"""The journal legs themselves (``ledger/postings.py``), as plain values: no database. Each rule is
written out leg by leg, signs and tags included (debit positive, credit negative)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kcc_desktop.ledger.postings import (
    Controls,
    Leg,
    PostedLine,
    Tags,
    assert_balanced,
    credit_allocation_legs,
    document_legs,
    payment_legs,
)

C = Controls(debtors=11, creditors=21, vat=22, prepayment=23)
SALES, PURCHASES, STOCK, COS, BANK = 40, 50, 10, 51, 12


@pytest.mark.parametrize("sales, control, sign", [(True, 11, 1), (False, 21, -1)])
def test_a_credit_allocation_moves_the_credit_onto_the_invoice_on_the_control_account(sales, control, sign):
    legs = credit_allocation_legs(sales, 7, 100, 200, D("12.34"), C)
    assert legs == [Leg(control, sign * D("12.34"), Tags(company_id=7, document_id=100)),
                    Leg(control, -sign * D("12.34"), Tags(company_id=7, document_id=200))]


def test_a_prepayment_goes_to_the_bank_tagged_with_the_bank_account():
    assert payment_legs("prepayment", 7, BANK, 3, D("50.00"), [], C) == [
        Leg(BANK, D("50.00"), Tags(bank_account_id=3)), Leg(23, D("-50.00"), Tags(company_id=7))]


@pytest.mark.parametrize("kind, control, sign", [("receipt", 11, 1), ("supplier_payment", 21, -1)])
def test_a_payment_pays_each_invoice_and_leaves_the_rest_on_account(kind, control, sign):
    legs = payment_legs(kind, 7, BANK, 3, D("100.00"), [(200, D("60.00"))], C)
    assert legs == [Leg(BANK, sign * D("100.00"), Tags(bank_account_id=3)),
                    Leg(control, -sign * D("60.00"), Tags(company_id=7, document_id=200)),
                    Leg(control, -sign * D("40.00"), Tags(company_id=7))]


def test_cost_of_sale_is_posted_only_with_a_cost_a_stock_and_a_cost_of_sale_nominal():
    whole = PostedLine(SALES, D("10.00"), D("2.00"), STOCK, COS, D("4.00"))
    no_cost = PostedLine(SALES, D("10.00"), D("2.00"), STOCK, COS, D("0"))
    no_stock = PostedLine(SALES, D("10.00"), D("2.00"), None, COS, D("4.00"))
    no_cos = PostedLine(SALES, D("10.00"), D("2.00"), STOCK, None, D("4.00"))
    tags = Tags(company_id=7, document_id=100)
    assert document_legs("sales_invoice", 7, 100, [whole], C) == [
        Leg(SALES, D("-10.00")), Leg(COS, D("4.00")), Leg(STOCK, D("-4.00")), Leg(22, D("-2.00")),
        Leg(11, D("12.00"), tags)]
    plain = [Leg(SALES, D("-10.00")), Leg(22, D("-2.00")), Leg(11, D("12.00"), tags)]
    for line in (no_cost, no_stock, no_cos):
        assert document_legs("sales_invoice", 7, 100, [line], C) == plain


@pytest.mark.parametrize("kind, sign", [("purchase_invoice", -1), ("purchase_credit", 1)])
def test_a_purchase_of_stock_goes_to_stock_else_to_its_nominal(kind, sign):
    stock_line = PostedLine(PURCHASES, D("10.00"), D("2.00"), STOCK, COS, D("10.00"))
    other = PostedLine(PURCHASES, D("5.00"), D("0"))
    assert document_legs(kind, 8, 300, [stock_line, other], C) == [
        Leg(STOCK, -sign * D("10.00")), Leg(PURCHASES, -sign * D("5.00")), Leg(22, -sign * D("2.00")),
        Leg(21, sign * D("17.00"), Tags(company_id=8, document_id=300))]


def test_an_unbalanced_posting_is_refused_with_its_total():
    assert_balanced([Leg(1, D("1.00")), Leg(2, D("-1.00"))])
    with pytest.raises(AssertionError, match=r"^unbalanced posting: legs sum to 0\.01$"):
        assert_balanced([Leg(1, D("1.00")), Leg(2, D("-0.99"))])


def test_what_is_left_on_account_is_the_amount_less_every_allocation():
    legs = payment_legs("receipt", 7, BANK, 3, D("100.00"), [(200, D("60.00")), (201, D("30.00"))], C)
    assert legs[-1] == Leg(11, D("-10.00"), Tags(company_id=7))
    assert_balanced(legs)
