"""What Xero receives, field by field, from each payload builder (issue 20: the payloads mutation group).

Objects are built in memory (never flushed) on a company file mapped as tests/helpers/mapping.py maps it, so
every value, every field left out and every refusal's wording is pinned down without a sandbox.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from kcc_desktop.connectors.base import (
    DocKind,
    DocumentIn,
    ItemIn,
    LineIn,
    OrganisationSettings,
    PaymentIn,
    RemoteContact,
)
from kcc_desktop.models import (
    Allocation,
    BankAccount,
    Company,
    Document,
    DocumentLine,
    Mapping,
    NominalCode,
    PackageAccount,
    Payment,
    RemoteLink,
    StockItem,
    TaxCode,
)
from kcc_desktop.sync import payloads as pl
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.org_rules import OrganisationRules
from tests.helpers.mapping import map_everything

D = Decimal
LOCK = date(2026, 3, 31)


@pytest.fixture
def mapped(store):
    """The company file mapped to Xero; the bank account's Xero id known, as a fetch leaves it."""
    map_everything(store)
    with store.transaction() as s:
        s.execute(update(PackageAccount).where(PackageAccount.code == "090").values(remote_id="bank-090-id"))
    return store


@pytest.fixture
def ids(mapped):
    with mapped.session() as s:
        out = {n.code: n.id for n in s.scalars(select(NominalCode))}
        out |= {t.code: t.id for t in s.scalars(select(TaxCode))}
        out |= {b.code: b.id for b in s.scalars(select(BankAccount))}
    return out


@pytest.fixture
def ctx(mapped):
    return pl.PayloadContext.load(mapped, "xero")


def with_options(ctx, **options):
    return replace(ctx, options=replace(ctx.options, **options))


def line(ids, no, nominal="4000", tax="T1", q="1", price="10.00", disc="0", net="10.00", vat="2.00",
         description="Widget", stock_item_id=None):
    return DocumentLine(line_no=no, nominal_id=ids[nominal], tax_code_id=ids[tax], quantity=D(q),
                        unit_price=D(price), discount_rate=D(disc), net=D(net), tax=D(vat),
                        description=description, stock_item_id=stock_item_id)


def document(lines, kind="sales_invoice", number="SI-9", company_kind="customer", currency="GBP", **kw):
    company = Company(code="ACME", name="Acme Tools Ltd", kind=company_kind, email=kw.pop("email", None))
    return Document(kind=kind, number=number, company=company, date=kw.pop("when", date(2026, 4, 2)),
                    due_date=kw.pop("due_date", None), currency=currency, lines=lines,
                    gross_total=kw.pop("gross_total", D("12.00")), **kw)


# --- the context -------------------------------------------------------------------------------------

def test_the_context_reads_the_chart_the_tax_codes_and_the_default_nominals(mapped, ids):
    ctx = pl.PayloadContext.load(mapped, "xero", base_currency="EUR")
    assert (ctx.provider, ctx.mapping.provider, ctx.base_currency) == ("xero", "xero", "EUR")
    assert ctx.nominals[ids["1001"]] == ("1001", "Stock", "stock")
    assert ctx.taxes[ids["T5"]] == ("T5", "Reduced rate 5%", D("5"))
    # no default chosen: the first sales and the first purchase nominal of the chart
    assert (ctx.default_sales_id, ctx.default_purchase_id) == (ids["4000"], ids["5000"])
    assert ctx.options.create_authorised and not ctx.options.multicurrency and ctx.rules is None
    options = OptionsService(mapped)
    options.set("default_sales_nominal", "4010")
    options.set("default_purchase_nominal", "5010")
    options.set("multicurrency", True)
    ctx = pl.PayloadContext.load(mapped, "quickbooks")
    assert (ctx.provider, ctx.mapping.provider, ctx.base_currency) == ("quickbooks", "quickbooks", "GBP")
    assert (ctx.default_sales_id, ctx.default_purchase_id) == (ids["4010"], ids["5010"])
    assert ctx.options.multicurrency


def test_the_never_exported_codes_are_the_stock_and_cost_of_sale_nominals(ctx):
    assert pl.stock_and_cos_codes(ctx) == {"1001", "5100"}


def test_a_link_type_is_the_export_item_type():
    assert [pl.link_type(t) for t in ("company", "stock_item", "sales_credit")] == [
        "company", "stock_item", "sales_credit"]


def test_mapping_advice_names_the_nominal_with_or_without_its_name():
    assert pl.mapping_advice("4000", "Sales - Products") == (
        "Map nominal 4000 Sales - Products to an account in the Mapping tab, then upload again.")
    assert pl.mapping_advice("4000") == "Map nominal 4000 to an account in the Mapping tab, then upload again."


# --- remote links ------------------------------------------------------------------------------------

def test_a_remote_link_is_the_newest_of_that_package_object_and_organisation(mapped):
    with mapped.transaction() as s:
        for provider, tenant, typ, obj, remote in [
                ("xero", "org-a", "sales_invoice", 1, "inv-a"), ("xero", "org-b", "sales_invoice", 1, "inv-b"),
                ("quickbooks", "", "sales_invoice", 1, "qbo-1"), ("xero", "org-a", "sales_credit", 1, "cn-a"),
                ("xero", "org-a", "sales_invoice", 2, "inv-a2")]:
            s.add(RemoteLink(provider=provider, tenant_id=tenant, object_type=typ, object_id=obj, remote_id=remote))
            s.flush()
    with mapped.session() as s:
        def found(*args, **kw):
            link = pl.remote_link(s, *args, **kw)
            return link.remote_id if link is not None else None

        assert found("xero", "sales_invoice", 1) == "inv-b"      # any organisation: the newest
        assert found("xero", "sales_invoice", 1, "org-a") == "inv-a"
        assert found("xero", "sales_invoice", 1, tenant_id="org-b") == "inv-b"
        assert found("xero", "sales_invoice", 1, "org-c") is None
        assert found("quickbooks", "sales_invoice", 1) == "qbo-1"
        assert found("xero", "sales_credit", 1) == "cn-a"
        assert found("xero", "sales_invoice", 2, "org-a") == "inv-a2"
        assert found("xero", "sales_invoice", 3) is None
        assert found("xero", "purchase_invoice", 1) is None


# --- stock items -------------------------------------------------------------------------------------

def stock_item(ids, sales="4000", purchase="5000"):
    return StockItem(code="W-1", description="Blue widget", price=D("12.50"), cost=D("7.25"),
                     sales_nominal_id=ids[sales], purchase_nominal_id=ids[purchase],
                     stock_nominal_id=ids["1001"], cost_of_sale_nominal_id=ids["5100"], tax_code_id=ids["T1"])


def test_a_stock_item_carries_its_prices_and_its_sales_and_purchase_accounts_only(ctx, ids):
    assert pl.item_payload(ctx, stock_item(ids), "item-1") == ItemIn(
        key="item-1", code="W-1", description="Blue widget", sales_price=D("12.50"), purchase_cost=D("7.25"),
        sales_account="200", purchase_account="300", remote_id=None)
    assert pl.item_payload(ctx, stock_item(ids), "item-1", "xero-item-7").remote_id == "xero-item-7"
    assert pl.item_payload(ctx, stock_item(ids), "item-1", "").remote_id is None


def test_a_stock_item_coded_to_stock_or_cost_of_sale_gets_the_default_nominals(ctx, ids):
    # mapped on purpose to Inventory and Cost of Goods Sold: neither may reach Xero
    payload = pl.item_payload(ctx, stock_item(ids, sales="1001", purchase="5100"), "k")
    assert (payload.sales_account, payload.purchase_account) == ("200", "300")
    payload = pl.item_payload(ctx, stock_item(ids, sales="5100", purchase="1001"), "k")
    assert (payload.sales_account, payload.purchase_account) == ("200", "300")


def test_a_stock_item_on_an_unmapped_nominal_names_the_item_and_the_nominal(ctx, ids):
    with pytest.raises(pl.PayloadProblem) as err:
        pl.item_payload(ctx, stock_item(ids, purchase="5010"), "k")
    assert err.value.message.startswith("Stock item W-1: Nominal 5010 Purchases - Packaging is not mapped to a "
                                        "Xero account.")
    assert err.value.advice == ("Map nominal 5010 Purchases - Packaging to an account in the Mapping tab, then "
                                "upload again.")
    assert (err.value.nominal_code, err.value.category) == ("5010", "nominal")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.item_payload(ctx, stock_item(ids, sales="4010"), "k")
    assert err.value.message.startswith("Stock item W-1: Nominal 4010 Sales - Services is not mapped")
    assert err.value.nominal_code == "4010"


# --- documents ---------------------------------------------------------------------------------------

def test_a_sales_invoice_carries_every_line_as_the_ledger_has_it(ctx, ids):
    doc = document([
        line(ids, 1, q="2", price="10.00", net="20.00", vat="4.00", description="Widget", stock_item_id=7),
        line(ids, 2, tax="T5", q="3", price="1.99", disc="12.5", net="5.22", vat="0.26", description="",
             stock_item_id=8),
        line(ids, 3, nominal="1001", q="1", price="3.00", net="3.00", vat="0.60", description="Adjustment")],
        due_date=date(2026, 5, 2), reference="PO 1234", gross_total=D("33.08"), email="ap@acme.example")
    payload = pl.document_payload(ctx, doc, "doc-key", "xero-contact-1", {7: "W-1", 9: "W-9"})
    assert payload == DocumentIn(
        key="doc-key", kind=DocKind.SALES_INVOICE, number="SI-9", contact_remote_id="xero-contact-1",
        contact_name="Acme Tools Ltd", date=date(2026, 4, 2), due_date=date(2026, 5, 2), currency="GBP",
        lines=[
            LineIn(description="Widget", quantity=D("2"), unit_amount=D("10.00"), account_code="200",
                   tax_code="OUTPUT2", discount_rate=D("0"), item_code="W-1", line_amount=D("20.00"),
                   tax_amount=D("4.00")),
            # no description: Xero needs one, so the line says where it comes from; item 8 is not in Xero
            LineIn(description="Sales Invoice SI-9 line 2", quantity=D("3"), unit_amount=D("1.99"),
                   account_code="200", tax_code="RROUTPUT", discount_rate=D("12.5"), item_code="",
                   line_amount=D("5.22"), tax_amount=D("0.26")),
            # coded to the stock nominal by a slip: the default sales nominal's account instead
            LineIn(description="Adjustment", quantity=D("1"), unit_amount=D("3.00"), account_code="200",
                   tax_code="OUTPUT2", discount_rate=D("0"), item_code="", line_amount=D("3.00"),
                   tax_amount=D("0.60"))],
        reference="PO 1234", authorised=True, total=D("33.08"), contact_other_side=False,
        contact_email="ap@acme.example", contact_code="ACME")


def test_a_purchase_credit_note_uses_the_purchase_tax_rates_and_accounts(ctx, ids):
    doc = document([line(ids, 1, nominal="5000", stock_item_id=7),
                    line(ids, 2, nominal="5100", tax="T5", vat="0.50", description="Freight")],
                   kind="purchase_credit", number="PC-3", company_kind="supplier", gross_total=D("22.50"))
    payload = pl.document_payload(ctx, doc, "k", "xero-supplier-1")   # no item codes given: none sent
    assert (payload.kind, payload.number, payload.total) == (DocKind.PURCHASE_CREDIT, "PC-3", D("22.50"))
    assert [(x.account_code, x.tax_code, x.item_code, x.tax_amount) for x in payload.lines] == [
        ("300", "INPUT2", "", D("2.00")), ("300", "RRINPUT", "", D("0.50"))]
    assert (payload.reference, payload.contact_email, payload.due_date) == ("", "", None)
    assert payload.contact_other_side is False


@pytest.mark.parametrize("kind, company_kind, other_side", [
    ("sales_invoice", "customer", False), ("sales_credit", "supplier", True),
    ("purchase_invoice", "supplier", False), ("purchase_credit", "customer", True)])
def test_a_document_to_the_companys_other_side_says_so(ctx, ids, kind, company_kind, other_side):
    payload = pl.document_payload(ctx, document([line(ids, 1)], kind=kind, company_kind=company_kind), "k", "c")
    assert payload.kind == DocKind(kind)
    assert payload.contact_other_side is other_side


def test_drafts_when_create_authorised_is_off(ctx, ids):
    payload = pl.document_payload(with_options(ctx, create_authorised=False), document([line(ids, 1)]), "k", "c")
    assert payload.authorised is False


def test_a_sales_line_on_stock_without_a_default_sales_nominal_is_held_back(ctx, ids):
    doc = document([line(ids, 1), line(ids, 2, nominal="5100")])
    with pytest.raises(pl.PayloadProblem) as err:   # a purchase default does not stand in for a sales one
        pl.document_payload(replace(ctx, default_sales_id=None), doc, "k", "c")
    assert err.value.message == ("Sales Invoice SI-9 line 2 is coded to nominal 5100 Cost of Sales, which is never "
                                 "exported, and there is no default sales nominal to use instead.")
    assert err.value.advice == "Set the Default Sales nominal in the Mapping tab, or recode the line."
    assert (err.value.nominal_code, err.value.category) == ("", "")
    assert str(err.value) == err.value.message


def test_a_purchase_line_on_stock_without_a_default_purchase_nominal_is_held_back(ctx, ids):
    doc = document([line(ids, 1, nominal="1001")], kind="purchase_invoice", number="PI-4", company_kind="supplier")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(replace(ctx, default_purchase_id=None), doc, "k", "c")
    assert err.value.message == ("Purchase Invoice PI-4 line 1 is coded to nominal 1001 Stock, which is never "
                                 "exported, and there is no default purchase nominal to use instead.")
    assert err.value.advice == "Set the Default Purchase nominal in the Mapping tab, or recode the line."


def test_a_line_on_stock_goes_to_the_chosen_default_and_an_unmapped_default_is_named(ctx, ids):
    doc = document([line(ids, 1, nominal="1001")])
    with pytest.raises(pl.PayloadProblem) as err:   # 4010 is the default but is not mapped
        pl.document_payload(replace(ctx, default_sales_id=ids["4010"]), doc, "k", "c")
    assert err.value.message.startswith("Sales Invoice SI-9 line 1: Nominal 4010 Sales - Services is not mapped")
    assert err.value.message.endswith("then try again.")
    assert err.value.advice == "Map nominal 4010 Sales - Services to an account in the Mapping tab, then upload again."
    assert (err.value.nominal_code, err.value.category) == ("4010", "nominal")


@pytest.mark.parametrize("kind, side, category", [("sales_credit", "sales", "tax"),
                                                  ("purchase_invoice", "purchases", "tax_purchase")])
def test_an_unmapped_tax_code_names_the_code_and_its_side(ctx, ids, kind, side, category):
    doc = document([line(ids, 1, nominal="4000" if side == "sales" else "5000", tax="T0", vat="0.00")],
                   kind=kind, number="X-1")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(ctx, doc, "k", "c")
    label = pl.DocumentKind(kind).label
    assert err.value.message.startswith(f"{label} X-1 line 1: Tax code ")
    assert "T0 Zero rated is not mapped" in err.value.message
    assert err.value.advice == f"Map tax code T0 (Zero rated) for {side} in the Mapping tab, then upload again."
    assert (err.value.nominal_code, err.value.category) == ("", category)


def test_another_currency_is_held_back_unless_multicurrency_is_on(ctx, ids):
    doc = document([line(ids, 1)], currency="EUR")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(ctx, doc, "k", "c")
    assert err.value.message == ("Sales Invoice SI-9 is in EUR, and MultiCurrency is off (documents are sent in GBP "
                                 "only).")
    assert err.value.advice == ("Turn MultiCurrency on in the Mapping tab's options if the package has that "
                                "currency, or Mark as Exported and enter it by hand.")
    assert (err.value.nominal_code, err.value.category) == ("", "")
    assert pl.document_payload(with_options(ctx, multicurrency=True), doc, "k", "c").currency == "EUR"
    # the organisation's own currency is no other currency
    assert pl.document_payload(replace(ctx, base_currency="EUR"), doc, "k", "c").currency == "EUR"


# --- what the organisation refuses -------------------------------------------------------------------

def rules(provider="xero", authorised=True, **settings):
    return OrganisationRules(OrganisationSettings(**settings), provider, authorised=authorised)


def test_a_document_the_organisation_accepts_is_sent(ctx, ids):
    ctx = replace(ctx, rules=rules(lock_date=LOCK, lock_date_label="period lock date"))
    payload = pl.document_payload(ctx, document([line(ids, 1)], when=date(2026, 4, 1)), "k", "c")
    assert [x.account_code for x in payload.lines] == ["200"]


def test_every_refusal_of_the_organisation_is_told_at_once(ctx, ids):
    org = rules(lock_date=LOCK, lock_date_label="period lock date")
    ctx = replace(with_options(ctx, multicurrency=True), rules=org)
    doc = document([line(ids, 1)], currency="USD", when=LOCK)
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(ctx, doc, "k", "c")
    currency, lock = org.currency("USD"), org.lock(LOCK)
    assert currency is not None and lock is not None
    assert err.value.message == ("The currency 'USD' has not been added to this organisation.; The document date "
                                 "cannot be before the period lock date, currently set at 31-Mar-2026")
    assert err.value.advice == f"{currency.advice} {lock.advice}"


def test_a_tax_rate_refused_on_an_account_names_the_ledgers_nominal_and_tax_code(ctx, ids):
    org = rules(account_classes={"200": "REVENUE", "300": "EXPENSE"},
                tax_classes={"RROUTPUT": frozenset({"EXPENSE"}), "INPUT2": frozenset({"REVENUE"})})
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(replace(ctx, rules=org), document([line(ids, 1), line(ids, 2, tax="T5")]), "k", "c")
    assert err.value.message == "The TaxType code 'RROUTPUT' cannot be used with account code '200'."
    assert "where nominal 4000 is mapped" in err.value.advice
    assert "Map tax code T5 (Reduced rate 5%) for sales" in err.value.advice
    purchase = document([line(ids, 1, nominal="5000")], kind="purchase_invoice", company_kind="supplier")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.document_payload(replace(ctx, rules=org), purchase, "k", "c")
    assert err.value.message == "The TaxType code 'INPUT2' cannot be used with account code '300'."
    assert "where nominal 5000 is mapped" in err.value.advice
    assert "Map tax code T1 (Standard rate 20%) for purchases" in err.value.advice


def test_an_archived_contact_and_a_full_months_allowance_are_refused(ctx, ids):
    archived = rules(archived_contacts=(RemoteContact("xero-contact-1", "Acme Tools Ltd", status="ARCHIVED"),))
    with pytest.raises(pl.PayloadProblem, match="has been archived"):
        pl.document_payload(replace(ctx, rules=archived), document([line(ids, 1)]), "k", "xero-contact-1")
    assert pl.document_payload(replace(ctx, rules=archived), document([line(ids, 1)]), "k", "other-contact")
    capped = rules(plan="starter", monthly_caps={"sales_invoice": 1}, approved={"sales_invoice 2026-04": 1})
    with pytest.raises(pl.PayloadProblem, match="limit of invoices"):
        pl.document_payload(replace(ctx, rules=capped), document([line(ids, 1)], when=date(2026, 4, 30)), "k", "c")
    # counted by the document's date: May has room
    assert pl.document_payload(replace(ctx, rules=capped), document([line(ids, 1)], when=date(2026, 5, 1)), "k", "c")
    # credit notes are not capped
    assert pl.document_payload(replace(ctx, rules=capped),
                               document([line(ids, 1)], kind="sales_credit", when=date(2026, 4, 30)), "k", "c")


# --- rollup ------------------------------------------------------------------------------------------

def test_rollup_is_sent_only_when_the_option_is_on(ctx, ids):
    doc = document([line(ids, 1, description="A"), line(ids, 2, description="B")], gross_total=D("24.00"))
    assert [x.description for x in pl.document_payload(ctx, doc, "k", "c").lines] == ["A", "B"]
    rolled = pl.document_payload(with_options(ctx, use_rollup_transactions=True), doc, "k", "c")
    assert rolled.lines == [LineIn(description="Goods at Standard rate 20%", quantity=D("1"),
                                   unit_amount=D("20.00"), account_code="200", tax_code="OUTPUT2",
                                   line_amount=D("20.00"), tax_amount=D("4.00"))]
    assert rolled.total == D("24.00")


STANDARD, REDUCED = ("T1", "Standard rate 20%", D("20")), ("T5", "Reduced rate 5%", D("5"))


def sent(account, tax, net, vat, description="x", q="1", disc="0", item=""):
    return LineIn(description=description, quantity=D(q), unit_amount=D(net), account_code=account, tax_code=tax,
                  discount_rate=D(disc), item_code=item, line_amount=D(net), tax_amount=D(vat))


def test_rollup_makes_one_line_per_account_and_tax_rate_in_first_seen_order():
    lines = [sent("200", "OUTPUT2", "10.00", "2.00"), sent("200", "RROUTPUT", "20.00", "1.00"),
             sent("210", "OUTPUT2", "5.00", "1.00"), sent("200", "OUTPUT2", "7.50", "1.50"),
             sent("200", "RROUTPUT", "4.00", "0.20"), sent("210", "OUTPUT2", "2.50", "0.50")]
    rolled = pl.rollup(lines, [STANDARD, REDUCED, STANDARD, STANDARD, REDUCED, STANDARD])

    def goods(name, account, tax, net, vat):
        return LineIn(description=f"Goods at {name}", quantity=D("1"), unit_amount=D(net), account_code=account,
                      tax_code=tax, discount_rate=D("0"), item_code="", line_amount=D(net), tax_amount=D(vat))

    assert rolled == [goods("Standard rate 20%", "200", "OUTPUT2", "17.50", "3.50"),
                      goods("Reduced rate 5%", "200", "RROUTPUT", "24.00", "1.20"),
                      goods("Standard rate 20%", "210", "OUTPUT2", "7.50", "1.50")]


def test_rollup_leaves_a_line_alone_in_its_group_as_it_was():
    alone = sent("200", "OUTPUT2", "10.00", "2.00", description="Widget", q="4", disc="5", item="W-1")
    assert pl.rollup([alone, sent("200", "RROUTPUT", "1.00", "0.05")], [STANDARD, REDUCED]) == [
        alone, sent("200", "RROUTPUT", "1.00", "0.05")]


def test_rollup_keeps_a_group_unrolled_where_one_rounding_would_move_the_total():
    # 0.13 at 20 % is 0.026 -> 0.03 a line, 0.06 for two; one line of 0.26 would be taxed 0.05
    odd = [sent("200", "OUTPUT2", "0.13", "0.03", description=f"L{i}") for i in range(2)]
    even = [sent("200", "RROUTPUT", "10.00", "0.50"), sent("200", "RROUTPUT", "30.00", "1.50")]
    rolled = pl.rollup([odd[0], even[0], odd[1], even[1]], [STANDARD, REDUCED, STANDARD, REDUCED])
    assert rolled[:2] == odd
    assert [(x.description, x.line_amount, x.tax_amount) for x in rolled[2:]] == [
        ("Goods at Reduced rate 5%", D("40.00"), D("2.00"))]


def test_rollup_decides_by_the_rate_the_lines_are_taxed_at():
    # two lines of 10.00 taxed 2.00: one line of 20.00 at 20 % is taxed 4.00, the same; at 5 % it would not be
    lines = [sent("200", "OUTPUT2", "10.00", "2.00"), sent("200", "OUTPUT2", "10.00", "2.00")]
    assert [(x.line_amount, x.tax_amount) for x in pl.rollup(lines, [STANDARD, STANDARD])] == [(D("20.00"), D("4.00"))]
    assert pl.rollup(lines, [REDUCED, REDUCED]) == lines


def test_rollup_never_drops_a_line_it_has_no_rate_for():
    lines = [sent("200", "OUTPUT2", "10.00", "2.00"), sent("200", "OUTPUT2", "10.00", "2.00")]
    with pytest.raises(ValueError):   # rather than a document sent short of a line
        pl.rollup(lines, [STANDARD])


# --- prepayment allocations --------------------------------------------------------------------------

def allocation(ids, bank="CUR", reference="PP-77", when=date(2026, 4, 3), payment=True):
    pay = Payment(id=5, kind="prepayment", bank_account_id=ids[bank], reference=reference, amount=D("100.00"),
                  date=date(2026, 4, 1)) if payment else None
    return Allocation(payment=pay, document=Document(number="SI-3", kind="sales_invoice"), amount=D("60.00"),
                      date=when)


def test_a_prepayment_allocation_pays_the_invoice_from_the_mapped_bank(ctx, ids):
    assert pl.allocation_payload(ctx, allocation(ids), "alloc-1", "xero-inv-3", stamp="KCC-0a1b2c3d-9") == PaymentIn(
        key="alloc-1", document_kind=DocKind.SALES_INVOICE, document_remote_id="xero-inv-3", amount=D("60.00"),
        date=date(2026, 4, 3), bank_account_code="090", bank_account_id="bank-090-id", contact_remote_id="",
        reference="PP-77", stamp="KCC-0a1b2c3d-9")
    # no reference of its own: the prepayment's number; no stamp given, none sent
    payload = pl.allocation_payload(ctx, allocation(ids, reference=""), "alloc-1", "xero-inv-3")
    assert (payload.reference, payload.stamp) == ("Prepayment 5", "")


def test_a_credit_notes_allocation_stays_in_kcc(ctx, ids):
    with pytest.raises(pl.PayloadProblem) as err:
        pl.allocation_payload(ctx, allocation(ids, payment=False), "k", "inv")
    assert err.value.message == "Prepayment allocation to SI-3 is not a payment's allocation; it stays in KCC."
    assert err.value.advice == "Mark as Exported to clear it from the queue."


def test_an_allocation_from_an_unmapped_bank_says_to_map_it(ctx, ids):
    with pytest.raises(pl.PayloadProblem) as err:
        pl.allocation_payload(ctx, allocation(ids, bank="DEP"), "k", "inv")
    assert err.value.message.startswith("Prepayment allocation to SI-3: Bank account DEP Deposit Account is not "
                                        "mapped")
    assert err.value.advice == "Map the bank account in the Mapping tab, then upload again."
    assert (err.value.nominal_code, err.value.category) == ("", "bank")


def test_an_allocation_with_no_known_bank_id_sends_the_code_only(mapped, ids):
    with mapped.transaction() as s:
        s.execute(update(Mapping).where(Mapping.category == "bank").values(remote_code="091"))
        s.add(PackageAccount(provider="xero", category="bank", code="091", name="Savings", type="BANK"))
    ctx = pl.PayloadContext.load(mapped, "xero")
    payload = pl.allocation_payload(ctx, allocation(ids), "k", "inv")
    assert (payload.bank_account_code, payload.bank_account_id) == ("091", "")


def test_an_allocation_dated_in_a_locked_period_is_refused_even_while_sending_drafts(ctx, ids):
    org = rules(authorised=False, lock_date=LOCK, lock_date_label="period lock date")
    with pytest.raises(pl.PayloadProblem) as err:
        pl.allocation_payload(replace(ctx, rules=org), allocation(ids, when=LOCK), "k", "inv")
    assert err.value.message == "The payment date cannot be before the period lock date, currently set at 31-Mar-2026"
    assert err.value.advice.startswith("It is dated 31 Mar 2026.")
    payload = pl.allocation_payload(replace(ctx, rules=org), allocation(ids, when=date(2026, 4, 1)), "k", "inv")
    assert payload.date == date(2026, 4, 1)
