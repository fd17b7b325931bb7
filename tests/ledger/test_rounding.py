from decimal import Decimal as D

import pytest

from kcc_desktop.ledger.rounding import line_amounts, money


@pytest.mark.parametrize("qty, price, disc, rate, net, tax", [
    ("1", "0.125", "0", "20", "0.13", "0.03"),      # half a penny rounds up, as Xero does
    ("3", "9.99", "0", "20", "29.97", "5.99"),      # 5.994 -> 5.99
    ("1", "2.675", "0", "20", "2.68", "0.54"),      # exact decimal half, not binary float 2.67
    ("7", "1.2345", "10", "20", "7.78", "1.56"),    # discount before rounding: 7.77735 -> 7.78
    ("2", "10.00", "0", "5", "20.00", "1.00"),
    ("1", "0.05", "0", "20", "0.05", "0.01"),
    ("-1", "2.675", "0", "20", "-2.68", "-0.54"),   # half away from zero for credits too
])
def test_line_rounding_matches_the_package(qty, price, disc, rate, net, tax):
    assert line_amounts(D(qty), D(price), D(disc), D(rate)) == (D(net), D(tax))


def test_document_tax_is_sum_of_rounded_lines_not_rounded_sum():
    # Three lines of 0.125 net at 20 %: per line 0.03 tax each = 0.09; rounding the total once gives 0.08.
    lines = [line_amounts(D("1"), D("0.125"), D("0"), D("20")) for _ in range(3)]
    assert sum(t for _, t in lines) == D("0.09")
    assert money(sum(n for n, _ in lines) * D("0.2")) == D("0.08")
