"""The Xero connector against an organisation with settings and data of its own: what it reads of the
organisation, how it finds contacts and items already there, how it sends discounted lines so totals agree,
and the prepayments it reads back. Everything over HTTP to the sandbox, through xero-python."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, ItemIn, LineIn

D = Decimal
ON = date(2026, 5, 4)


@pytest.fixture
def bookkeeper(sandbox):
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

    return XeroBookkeeper(xero_sdk_client(sandbox.urls, xero_login(sandbox.urls)))


def test_organisation_settings_read_lock_dates_currencies_plan_tax_rules_and_archived_contacts(
        package, sandbox, bookkeeper):
    sandbox.organisation(PeriodLockDate="2026-03-31", EndOfYearLockDate="2025-12-31", Currencies=["EUR", "USD"],
                         Plan="STARTER")
    gone = bookkeeper.add_contact("Gone Away Ltd", account_number="GONE1")
    bookkeeper.archive_contact(gone)
    old, new = bookkeeper.add_contact("Old Name Ltd"), bookkeeper.add_contact("New Name Ltd")
    sandbox.merge_contacts(old, into=new)
    [c] = package.upsert_contacts([ContactIn(key="c", name="Counted Ltd")], "counted")
    for n in range(3):
        [r] = package.create_documents([_doc(f"S-{n}", c.remote_id, date(2026, 4, 1 + n))], f"doc-{n}")
        assert r.ok, r.messages

    settings = package.organisation_settings()

    assert (settings.lock_date, settings.lock_date_label) == (date(2026, 3, 31), "period lock date")
    assert (settings.base_currency, settings.currencies) == ("GBP", frozenset({"GBP", "EUR", "USD"}))
    assert settings.plan == "STARTER"
    assert settings.monthly_caps == {"sales_invoice": 20, "purchase_invoice": 5}
    assert settings.approved == {"sales_invoice 2026-04": 3}
    assert settings.tax_refused_on("200", "INPUT2") and not settings.tax_refused_on("200", "OUTPUT2")
    assert settings.tax_refused_on("429", "OUTPUT2") and not settings.tax_refused_on("429", "INPUT2")
    assert settings.archived_contact(name="gone away ltd").remote_id == gone
    assert settings.archived_contact(account_number="GONE1").remote_id == gone
    assert settings.archived_contact(remote_id=old) is None and settings.merged_into(old) == new
    assert "accounting.invoices" in settings.needed_scopes and not settings.missing_scopes


# (ours besides the five, contacts a listed page, requests): a few are looked up by name and number; many, in
# an organisation this small, found by listing every contact (one request); many in an organisation with
# more contacts than that would take look-ups, looked up after all (one request spent finding out). Following
# the merge takes one more.
@pytest.mark.parametrize(("others", "page", "requests"), [(0, None, 2), (30, None, 2), (12, 2, 4)],
                         ids=["looked-up", "listed", "too-many-to-list"])
def test_existing_contacts_are_matched_by_account_number_then_exact_name_and_merged_ones_followed(
        package, sandbox, bookkeeper, monkeypatch, others, page, requests):
    if page is not None:
        monkeypatch.setattr("kcc_desktop.connectors.xero.package.LIST_PAGE", page)
    by_number = bookkeeper.add_contact("Thames Interiors (old name)", account_number="THAMES01")
    by_name = bookkeeper.add_contact("Severn Joinery Ltd")
    archived = bookkeeper.add_contact("Closed Shop Ltd")
    bookkeeper.archive_contact(archived)
    merged, into = bookkeeper.add_contact("Medway Hotel"), bookkeeper.add_contact("Medway Hotel Group")
    sandbox.merge_contacts(merged, into=into)
    wanted = [ContactIn(key="1", name="Thames Interiors Ltd", account_number="THAMES01"),
              ContactIn(key="2", name="severn joinery ltd", account_number="SEV01"),
              ContactIn(key="3", name="Closed Shop Ltd"), ContactIn(key="4", name="Medway Hotel"),
              ContactIn(key="5", name="Brand New Ltd")]
    wanted += [ContactIn(key=f"n{i}", name=f"Nobody {i} Ltd", account_number=f"NB{i}") for i in range(others)]
    before = package.request_count

    found = package.match_contacts(wanted)

    assert package.request_count - before == requests

    assert found["1"].remote_id == by_number and found["2"].remote_id == by_name
    assert found["3"].remote_id == archived and not found["3"].active
    assert found["4"].remote_id == into and found["4"].active
    assert "5" not in found


@pytest.mark.parametrize("others", [0, 30], ids=["looked-up", "listed"])
def test_existing_items_are_matched_by_code_in_one_request(package, bookkeeper, others):
    pap = bookkeeper.add_item("PAP-001", "Copier paper", "18.40")
    wanted = [ItemIn(key="a", code="pap-001", description="Paper"), ItemIn(key="b", code="NEW-1", description="New")]
    before = package.request_count
    found = package.match_items(wanted + [ItemIn(key=f"n{i}", code=f"NEW-{i + 2}", description="New")
                                          for i in range(others)])
    assert found == {"a": pap} and package.request_count - before == 1


@pytest.mark.parametrize("kind", [DocKind.SALES_CREDIT, DocKind.PURCHASE_INVOICE, DocKind.PURCHASE_CREDIT,
                                  DocKind.SALES_INVOICE])
def test_discounted_lines_arrive_with_the_ledgers_totals_on_every_document_type(package, kind):
    [c] = package.upsert_contacts([ContactIn(key="c", name="Discounts Ltd")], "disc")
    sales = kind in (DocKind.SALES_INVOICE, DocKind.SALES_CREDIT)
    account, tax = ("200", "OUTPUT2") if sales else ("429", "INPUT2")
    # 3 x 7.20 less 12.5 % = 18.90 net, 3.78 VAT; 7 x 3.33 less 2.5 % = 22.73 (22.7273 rounded), 4.55 VAT;
    # 1,250 x 0.0175 less 12.345 % = 19.17 (19.1742...): no 4-place unit amount gives it, so one unit.
    lines = [LineIn("Paper", D("3"), D("7.20"), account, tax, D("12.5"), line_amount=D("18.90")),
             LineIn("Pens", D("7"), D("3.33"), account, tax, D("2.5"), line_amount=D("22.73")),
             LineIn("Washers", D("1250"), D("0.0175"), account, tax, D("12.345"), line_amount=D("19.17"))]
    doc = DocumentIn("d", kind, "", c.remote_id, "", ON, ON, "GBP", lines, total=D("72.96"))

    [r] = package.create_documents([doc], f"disc-{kind.value}")

    assert r.ok, r.messages
    assert r.total == D("72.96")                 # 60.80 net + 12.16 VAT, line by line as the ledger
    assert r.total == doc.total


def test_prepayments_come_back_with_their_allocations_and_bank(package, bookkeeper):
    [c] = package.upsert_contacts([ContactIn(key="c", name="Deposits Ltd")], "dep")
    [inv] = package.create_documents([_doc("DEP-1", c.remote_id, ON)], "dep-inv")     # 120.00
    pid = bookkeeper.receive_prepayment(c.remote_id, "50.00", ON, reference="Deposit")
    bookkeeper.allocate_prepayment(pid, inv.remote_id, "50.00", ON)

    payments = {p.remote_id: p for page in package.list_payments(None) for p in page.payments}

    prepayment = payments[f"prepayment:{pid}"]
    assert (prepayment.kind, prepayment.amount, prepayment.unapplied) == ("receipt", D("50.00"), D("0.00"))
    assert [(a.document_remote_id, a.amount) for a in prepayment.allocations] == [(inv.remote_id, D("50.00"))]
    assert prepayment.bank_account_code == "090" and prepayment.contact_remote_id == c.remote_id
    assert len(payments) == 1                       # not a Payment, not an Overpayment


def _doc(number: str, contact_id: str, on: date) -> DocumentIn:
    return DocumentIn(number, DocKind.SALES_INVOICE, number, contact_id, "", on, on, "GBP",
                      [LineIn("Widgets", D(1), D("100.00"), "200", "OUTPUT2", line_amount=D("100.00"))],
                      total=D("120.00"))
