"""MappingService: fetch from the Xero sandbox over HTTP, Apply Default Setup, setting and resolving."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import AuditEntry, BankAccount, Mapping, NominalCode, PackageAccount, TaxCode
from kcc_desktop.sync.mapping import (
    BANK,
    NEVER_EXPORTED,
    NOMINAL,
    TAX,
    InvalidMapping,
    MappingMissing,
    MappingService,
    MappingStale,
    NeverExported,
)


def ids(store, model=NominalCode):
    with store.session() as s:
        return {r.code: r.id for r in s.scalars(select(model))}


def fetched(store) -> MappingService:
    svc = MappingService(store)
    svc.fetch(AppContext(store).package())
    return svc


def add_accounts(store, rows, provider="xero", category="account"):
    """Package accounts as a fetch would have kept them (for rules that need no package)."""
    with store.transaction() as s:
        for code, name, typ, *rest in rows:
            s.add(PackageAccount(provider=provider, category=category, code=code, name=name, type=typ,
                                 status=rest[0] if rest else "ACTIVE"))


# --- over HTTP, against the Xero sandbox ----------------------------------------------------------

def test_fetch_keeps_accounts_tax_rates_and_banks_with_the_time(xero_connected_store):
    svc = fetched(xero_connected_store)
    with xero_connected_store.session() as s:
        rows = {(p.category, p.code): p for p in s.scalars(select(PackageAccount))}
    assert (rows["account", "200"].name, rows["account", "200"].type) == ("Sales", "REVENUE")
    assert rows["tax_rate", "OUTPUT2"].rate == Decimal("20") and rows["tax_rate", "OUTPUT2"].type == "sales"
    assert rows["tax_rate", "INPUT2"].type == "purchases"
    assert rows["bank", "090"].name == "Business Bank Account" and rows["bank", "090"].remote_id
    assert rows and all(p.fetched_at is not None and p.fetched_at.tzinfo is not None for p in rows.values())
    assert svc.fetched_at() is not None


def test_refetch_flags_mappings_to_archived_and_deleted_accounts(xero_connected_store, xero_sync_sandbox):
    import requests
    from xero_python.accounting import Account, Accounts, AccountType

    from kcc_desktop.sandbox.testing import xero_login, xero_sdk_client

    # A bookkeeper changes the chart in Xero, through the SDK over HTTP.
    client = xero_sdk_client(dict(xero_sync_sandbox), xero_login(dict(xero_sync_sandbox)))
    api, tenant = client.accounting, client.tenant_id
    api.create_account(tenant, Account(code="205", name="Sales - Trade", type=AccountType.REVENUE))
    svc = fetched(xero_connected_store)
    n = ids(xero_connected_store)
    svc.set_mapping(NOMINAL, n["4000"], "205")
    svc.set_mapping(NOMINAL, n["4010"], "260")
    assert svc.problems(NOMINAL, [n["4000"], n["4010"]]) == []

    other = next(a for a in api.get_accounts(tenant).accounts if a.code == "260")
    api.update_account(tenant, other.account_id, Accounts(accounts=[Account(status="ARCHIVED")]))
    summary = svc.fetch(AppContext(xero_connected_store).package())
    assert [p.local_code for p in summary.flagged] == ["4010"]
    assert svc.row(NOMINAL, n["4010"]).status == "Archived in Xero: choose another account"

    # A new organisation no longer has account 205: it was deleted as far as this ledger can tell.
    requests.post(xero_sync_sandbox["root"] + "/_sandbox/reset", json={"tokens": False}, timeout=10).raise_for_status()
    summary = svc.fetch(AppContext(xero_connected_store).package())
    assert "account 205" in summary.newly_deleted
    states = {p.local_code: p.state for p in svc.problems(NOMINAL, [n["4000"], n["4010"]])}
    assert states == {"4000": "deleted"}  # 260 is active again in the fresh organisation
    with pytest.raises(MappingStale, match="Nominal 4000 Sales - Products: Deleted in Xero"):
        svc.resolve_nominal(n["4000"])


def test_apply_default_setup_on_the_sandbox_chart_says_why(xero_connected_store):
    svc = fetched(xero_connected_store)
    by_code = {s.local_code + ":" + s.category: s for s in svc.apply_default_setup()}
    assert by_code["5000:nominal"].remote_code == "300"
    assert "Same name" in by_code["5000:nominal"].reason
    assert by_code["4010:nominal"].remote_code == "200"
    assert "sale" in by_code["4010:nominal"].reason and "REVENUE fits sales" in by_code["4010:nominal"].reason
    assert by_code["1200:nominal"].remote_code == "090"
    assert by_code["CUR:bank"].remote_code == "090"
    assert (by_code["T1:tax"].remote_code, by_code["T1:tax_purchase"].remote_code) == ("OUTPUT2", "INPUT2")
    assert (by_code["T5:tax"].remote_code, by_code["T0:tax"].remote_code) == ("RROUTPUT", "ZERORATEDOUTPUT")
    assert by_code["T2:tax_purchase"].remote_code == "EXEMPTINPUT"
    assert "1001:nominal" not in by_code and "5100:nominal" not in by_code
    # Nothing fits by code or name: left for the user, with the reason.
    assert by_code["4905:nominal"].remote_code == "" and "map it by hand" in by_code["4905:nominal"].reason
    t = ids(xero_connected_store, TaxCode)
    assert svc.resolve_tax(t["T1"]) == "OUTPUT2" and svc.resolve_tax(t["T1"], sales=False) == "INPUT2"


# --- rules that need no package ---------------------------------------------------------------------

XERO_CHART = [("200", "Sales", "REVENUE"), ("260", "Other Revenue", "REVENUE"), ("300", "Purchases", "DIRECTCOSTS"),
              ("4905", "Carriage", "REVENUE"), ("630", "Inventory", "INVENTORY"),
              ("310", "Cost of Goods Sold", "DIRECTCOSTS"),
              ("090", "Business Bank Account", "BANK"), ("800", "Accounts Payable", "CURRLIAB"),
              ("999", "Old Sales", "REVENUE", "ARCHIVED")]


def test_default_setup_maps_by_code_first_and_never_overwrites_the_user(store):
    add_accounts(store, XERO_CHART)
    svc = MappingService(store)
    n = ids(store)
    svc.set_mapping(NOMINAL, n["4000"], "260")          # the user's own choice
    suggestions = {s.local_code: s for s in svc.apply_default_setup() if s.category == NOMINAL}
    assert "4000" not in suggestions                     # not even looked at
    assert svc.resolve_nominal(n["4000"]) == "260"
    assert suggestions["4905"].remote_code == "4905" and suggestions["4905"].reason.startswith("Same code 4905")
    with store.session() as s:
        m = s.scalar(select(Mapping).where(Mapping.local_id == n["4905"], Mapping.category == NOMINAL))
        assert (m.set_by, m.reason) == ("auto", suggestions["4905"].reason)
    # A second run changes nothing the user set, and re-suggests its own choices the same way.
    svc.apply_default_setup()
    assert svc.resolve_nominal(n["4000"]) == "260" and svc.resolve_nominal(n["4905"]) == "4905"


def test_set_mapping_checks_the_code_exists_is_active_and_fits(store):
    add_accounts(store, XERO_CHART)
    svc = MappingService(store)
    n = ids(store)
    with pytest.raises(InvalidMapping, match="Xero has no account with code 123"):
        svc.set_mapping(NOMINAL, n["4000"], "123")
    with pytest.raises(InvalidMapping, match=r"300 Purchases \(DIRECTCOSTS\) does not fit nominal 4000"):
        svc.set_mapping(NOMINAL, n["4000"], "300")
    with pytest.raises(InvalidMapping, match="999 Old Sales is archived"):
        svc.set_mapping(NOMINAL, n["4000"], "999")
    with pytest.raises(NeverExported, match=NEVER_EXPORTED):
        svc.set_mapping(NOMINAL, n["1001"], "630")
    svc.set_nominal("4000", "200")
    assert svc.resolve_nominal(n["4000"]) == "200"
    assert [c.label for c in svc.choices(NOMINAL, n["5000"])] == ["300 — Purchases (DIRECTCOSTS)",
                                                                  "310 — Cost of Goods Sold (DIRECTCOSTS)"]


def test_every_mapping_change_is_audited(store):
    add_accounts(store, XERO_CHART)
    svc = MappingService(store)
    n = ids(store)
    svc.set_mapping(NOMINAL, n["4000"], "200")
    svc.set_mapping(NOMINAL, n["4000"], "260")
    svc.set_mapping(NOMINAL, n["4000"], None)
    with store.session() as s:
        trail = [(a.what, a.old_value, a.new_value) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert trail == [
        ("Mapping nominal 4000 Sales - Products", "", "200 — Sales (REVENUE)"),
        ("Mapping nominal 4000 Sales - Products", "200 — Sales (REVENUE)", "260 — Other Revenue (REVENUE)"),
        ("Mapping nominal 4000 Sales - Products", "260 — Other Revenue (REVENUE)", ""),
    ]


def test_stock_and_cost_of_sale_are_never_resolved_whatever_is_mapped(store):
    add_accounts(store, XERO_CHART)
    n = ids(store)
    with store.transaction() as s:  # a mapping made some other way (an old file, a hand edit)
        s.add(Mapping(provider="xero", category=NOMINAL, local_id=n["1001"], remote_code="630"))
        s.add(Mapping(provider="xero", category=NOMINAL, local_id=n["5100"], remote_code="310"))
    svc = MappingService(store)
    for code in ("1001", "5100"):
        with pytest.raises(NeverExported, match="never sent to the accounting package"):
            svc.resolve_nominal(n[code])
        row = svc.row(NOMINAL, n[code])
        assert (row.status, row.editable) == (NEVER_EXPORTED, False)
    assert not [p for p in svc.problems() if p.local_code in ("1001", "5100")]
    assert svc.choices(NOMINAL, n["1001"]) == []


def test_resolve_names_the_nominal_to_map_and_problems_list_it(store):
    add_accounts(store, XERO_CHART)
    svc = MappingService(store)
    n = ids(store)
    with pytest.raises(MappingMissing) as err:
        svc.resolve_nominal(n["4020"])
    assert "Nominal 4020 Sales - Export is not mapped to a Xero account" in str(err.value)
    assert "kcc-desktop mapping set 4020" in str(err.value)
    assert (err.value.category, err.value.local_code) == (NOMINAL, "4020")
    problems = {(p.category, p.local_code): p.state for p in svc.problems()}
    assert problems[NOMINAL, "4020"] == "unmapped"
    assert (NOMINAL, "1100") not in problems        # debtors control: Xero keeps its own
    assert problems[BANK, "CUR"] == "unmapped" and problems[TAX, "T1"] == "unmapped"
    b = ids(store, BankAccount)
    with pytest.raises(InvalidMapping, match="Xero has no bank account with code 090"):
        svc.set_mapping(BANK, b["CUR"], "090")
    add_accounts(store, [("090", "Business Bank Account", "")], category="bank")
    svc.refresh()
    svc.set_mapping(BANK, b["CUR"], "090")
    assert svc.resolve_bank(b["CUR"]) == "090"
    assert svc.local_bank_for(remote_code="090") == b["CUR"]
    with pytest.raises(MappingMissing, match="Tax code \\(purchases\\) T1"):
        svc.resolve_tax(ids(store, TaxCode)["T1"], sales=False)


def test_quickbooks_types_fit_by_their_own_names(store):
    add_accounts(store, [("4000", "Sales of Product Income", "Income"),
                         ("5000", "Cost of Goods Sold", "Cost of Goods Sold"),
                         ("1200", "Business Bank Account", "Bank"), ("2300", "Deposits", "Other Current Liabilities")],
                 provider="quickbooks")
    svc = MappingService(store, provider="quickbooks")
    got = {s.local_code: s.remote_code for s in svc.apply_default_setup() if s.category == NOMINAL}
    assert got["4000"] == "4000" and got["5000"] == "5000" and got["1200"] == "1200"
    assert got["5010"] == "5000"          # no 5010 in the package: the only account that fits purchases
    assert got["2300"] == "2300"
    assert got["4010"] == "4000"


def test_fetch_and_default_setup_against_the_quickbooks_sandbox(store):
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings
    from kcc_desktop.connectors.tokens import TokenSet, TokenStore, bind
    from kcc_desktop.sandbox.qbo_testing import qbo_login
    from kcc_desktop.sandbox.runner import start_sandbox

    server = start_sandbox("quickbooks", port=0)
    try:
        urls = server.urls()
        login = qbo_login(urls, "test", "test")
        settings = ConnectionSettings(provider=QUICKBOOKS, api_root=urls["root"], client_id="test",
                                      tenant_id=urls["realm_id"])
        TokenStore().save(QUICKBOOKS, login["realm_id"],
                          bind(TokenSet.from_response(login), settings.endpoints().audience, login["realm_id"]))
        package = QuickBooksPackage(settings, TokenStore(), client_secret="test")
        svc = MappingService(store, provider="quickbooks")
        summary = svc.fetch(package)
    finally:
        server.stop()
    assert (summary.accounts, summary.tax_rates, summary.bank_accounts) == (15, 5, 2)   # the bank and Undeposited Funds
    got = {(s.category, s.local_code): s for s in svc.apply_default_setup()}
    assert got[NOMINAL, "4000"].remote_code == "4000" and got[NOMINAL, "4000"].reason.startswith("Same code 4000")
    assert got[NOMINAL, "5000"].remote_code == "5000"     # "Cost of Goods Sold" type fits purchases
    assert got[NOMINAL, "1200"].remote_code == "1200" and got[BANK, "CUR"].remote_code == "1200"
    assert got[NOMINAL, "2300"].remote_code == ""          # never "the only liability" (that is VAT)
    # QuickBooks tax codes serve both sides: the same code for sales and purchases.
    assert {c: (got[TAX, c].remote_code, got["tax_purchase", c].remote_code) for c in ("T1", "T5", "T0", "T2")} == \
        {"T1": ("1", "1"), "T5": ("2", "2"), "T0": ("3", "3"), "T2": ("4", "4")}
