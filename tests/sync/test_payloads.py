"""Payloads: never a stock or cost-of-sale account, rollup per tax rate, totals equal to the ledger's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kcc_desktop.connectors.base import ContactIn
from kcc_desktop.ledger import service
from kcc_desktop.ledger.rounding import line_amounts, money
from kcc_desktop.models import (
    Company,
    Document,
    NominalCode,
    StockItem,
    TaxCode,
)
from kcc_desktop.sync import payloads as pl
from kcc_desktop.sync.options import OptionsService
from tests.helpers.ledger import build_ledger
from tests.helpers.mapping import NOMINAL_MAP, map_everything

NEVER = {"630", "310", "1001", "5100"}


def context(store):
    return pl.PayloadContext.load(store, "xero")


def doc_payload(store, number, **kw):
    ctx = context(store)
    with store.session() as s:
        doc = s.scalar(select(Document).where(Document.number == number))
        return pl.document_payload(ctx, doc, "k", "contact-id", **kw), doc.gross_total, doc


def package_total(payload) -> Decimal:
    """What Xero computes: per line, net = round(q*u*(1-d)), tax = round(net*rate)."""
    rates = {"OUTPUT2": 20, "INPUT2": 20, "RROUTPUT": 5, "RRINPUT": 5}
    total = Decimal(0)
    for line in payload.lines:
        net, tax = line_amounts(line.quantity, line.unit_amount, line.discount_rate, rates[line.tax_code])
        total += net + tax
    return total


def test_no_payload_carries_a_stock_or_cost_of_sale_account_even_when_mapped(store):
    map_everything(store)
    build_ledger(store, invoices=2)
    with store.transaction() as s:   # a user's slip: a line coded straight to the stock nominal
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        stock = s.scalar(select(NominalCode.id).where(NominalCode.code == "1001"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        service.create_document(s, "sales_invoice", acme, "SI-SLIP", date(2026, 2, 1),
                                [service.LineInput(Decimal(1), Decimal("10"), description="Adjustment",
                                                   nominal_id=stock, tax_code_id=t1)])
    ctx = context(store)
    codes = set()
    with store.session() as s:
        for doc in s.scalars(select(Document)):
            payload = pl.document_payload(ctx, doc, "k", "c")
            codes |= {line.account_code for line in payload.lines}
        for item in s.scalars(select(StockItem)):
            p = pl.item_payload(ctx, item, "k")
            codes |= {p.sales_account, p.purchase_account}
    assert codes == {"200", "300"}
    assert not codes & NEVER


def test_purchase_of_stock_goes_to_the_purchase_account_not_stock(store):
    map_everything(store)
    build_ledger(store, invoices=0)
    payload, _total, _doc = doc_payload(store, "PI-0001")
    assert [(line.account_code, line.tax_code, line.item_code) for line in payload.lines] == [("300", "INPUT2", "")]


def test_totals_equal_the_ledgers_to_the_penny(store):
    map_everything(store)
    build_ledger(store, invoices=3, lines_per_invoice=4)
    for number in ("SI-0001", "SI-0002", "SI-0003", "SC-0001", "PI-0001"):
        payload, total, _ = doc_payload(store, number)
        assert package_total(payload) == total == payload.total


def test_rollup_sends_one_line_per_tax_rate_with_the_same_total(store):
    map_everything(store)
    OptionsService(store).set("use_rollup_transactions", True)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t = {x.code: x.id for x in s.scalars(select(TaxCode))}
        acme = Company(code="A", name="A Ltd", kind="customer")
        s.add(acme)
        s.flush()
        lines = [service.LineInput(Decimal(q), Decimal(p), description=f"L{i}", tax_code_id=t[tax],
                                   nominal_id=n["4000"])
                 for i, (q, p, tax) in enumerate([(2, "10.00", "T1"), (1, "5.00", "T1"), (3, "7.50", "T1"),
                                                  (1, "20.00", "T5"), (2, "2.00", "T5")])]
        service.create_document(s, "sales_invoice", acme, "R-1", date(2026, 1, 1), lines)
    payload, total, _ = doc_payload(store, "R-1")
    assert [(line.tax_code, line.quantity, line.unit_amount) for line in payload.lines] == [
        ("OUTPUT2", 1, Decimal("47.50")), ("RROUTPUT", 1, Decimal("24.00"))]
    assert package_total(payload) == total


def test_rollup_keeps_a_rate_unrolled_when_one_rounding_would_move_the_total(store):
    map_everything(store)
    OptionsService(store).set("use_rollup_transactions", True)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        acme = Company(code="A", name="A Ltd", kind="customer")
        s.add(acme)
        s.flush()
        # 0.02 tax per line twice (0.025 -> 0.03 each = 0.06), but 20% of 0.26 once is 0.05.
        lines = [service.LineInput(Decimal(1), Decimal("0.13"), description="x", tax_code_id=t1, nominal_id=n["4000"])
                 for _ in range(2)]
        service.create_document(s, "sales_invoice", acme, "R-2", date(2026, 1, 1), lines)
    payload, total, _ = doc_payload(store, "R-2")
    assert len(payload.lines) == 2 and package_total(payload) == total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 40), st.decimals("0.01", "500", places=4), st.sampled_from([0, 5, 12.5]),
                          st.sampled_from(["T1", "T5"])), min_size=1, max_size=6), st.booleans())
def test_any_document_totals_match_with_or_without_rollup(store, lines, rollup):
    if not hasattr(store, "_mapped"):
        map_everything(store)
        store._mapped = True
    OptionsService(store).set("use_rollup_transactions", rollup)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t = {x.code: x.id for x in s.scalars(select(TaxCode))}
        c = s.scalar(select(Company)) or Company(code="H", name="H Ltd", kind="customer")
        s.add(c)
        s.flush()
        number = f"H-{s.scalar(select(Document.id).order_by(Document.id.desc()).limit(1)) or 0}"
        service.create_document(s, "sales_invoice", c, number, date(2026, 1, 1), [
            service.LineInput(Decimal(q), Decimal(p), discount_rate=Decimal(str(d)), description="h",
                              tax_code_id=t[tax], nominal_id=n["4000"]) for q, p, d, tax in lines])
    payload, total, _ = doc_payload(store, number)
    assert package_total(payload) == money(total)


def test_a_missing_mapping_names_the_nominal_and_says_what_to_do(store):
    map_everything(store, {k: v for k, v in NOMINAL_MAP.items() if k != "4000"})
    build_ledger(store, invoices=1)
    with pytest.raises(pl.PayloadProblem) as err:
        doc_payload(store, "SI-0001")
    assert err.value.nominal_code == "4000"
    assert "Mapping tab" in err.value.advice and "4000" in err.value.advice


def test_another_currency_is_held_back_while_multicurrency_is_off(store):
    map_everything(store)
    build_ledger(store, invoices=1)
    with store.transaction() as s:
        s.scalar(select(Document).where(Document.number == "SI-0001")).currency = "EUR"
    with pytest.raises(pl.PayloadProblem, match="MultiCurrency is off"):
        doc_payload(store, "SI-0001")
    OptionsService(store).set("multicurrency", True)
    payload, _, _ = doc_payload(store, "SI-0001")
    assert payload.currency == "EUR"


@pytest.mark.parametrize("kind, customer, supplier", [("customer", True, False), ("supplier", False, True)])
def test_a_contact_carries_the_company_as_the_ledger_has_it(store, kind, customer, supplier):
    ctx = context(store)
    both = Company(code="ACME", name="Acme Tools Ltd", kind=kind, email="a@acme.example", currency="EUR",
                   trades_both_ways=True)
    assert pl.contact_payload(ctx, both, "key-1", "remote-9") == ContactIn(
        key="key-1", name="Acme Tools Ltd", email="a@acme.example", is_customer=customer, is_supplier=supplier,
        currency="EUR", account_number="ACME", remote_id="remote-9", other_side=True)
    plain = Company(code="B", name="Bloggs", kind=kind)   # no email, no currency of its own, one side
    assert pl.contact_payload(ctx, plain, "key-2") == ContactIn(
        key="key-2", name="Bloggs", email="", is_customer=customer, is_supplier=supplier, currency="GBP",
        account_number="B", remote_id=None, other_side=False)
    assert pl.contact_payload(ctx, plain, "key-3", "").remote_id is None
