"""The connection check (``kcc-desktop check``): what would stop the pending documents, found before sending."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.cli import main
from kcc_desktop.connectors.base import OrganisationSettings
from kcc_desktop.ledger import service
from kcc_desktop.models import Company, ExportItem, TaxCode
from kcc_desktop.sync.check import CheckContext, check_connection, check_lock_date, check_plan_limit
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.org_settings import cached_settings
from kcc_desktop.sync.precheck import run_precheck
from tests.helpers.ledger import build_ledger


def _context(store, settings: OrganisationSettings) -> CheckContext:
    return CheckContext(store, "xero", "Xero", settings, OptionsService(store).load())


def test_a_clean_organisation_passes_and_its_settings_are_kept_for_the_precheck(xero_exporting):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    report = check_connection(store, package)
    assert report.ok and report.problems == []
    assert report.to_json()["ok"] is True
    kept = cached_settings(store, "xero")
    assert kept is not None and kept.base_currency == "GBP"


def test_an_unmapped_nominal_and_a_held_back_currency_are_listed_with_what_to_do(xero_exporting):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    mapping = MappingService(store, "xero")
    mapping.set_mapping(NOMINAL, mapping.find_local(NOMINAL, "4000"), None)
    with store.transaction() as s:
        euro = Company(code="EURO", name="Euro Buyer SARL", kind="customer", currency="EUR")
        s.add(euro)
        s.flush()
        t1 = s.scalar(select(TaxCode).where(TaxCode.code == "T1"))
        service.create_document(s, "sales_invoice", euro, "SI-EUR-1", date(2026, 2, 1),
                                [service.LineInput(quantity=Decimal(1), unit_price=Decimal("100"),
                                                   description="Widgets", tax_code_id=t1.id,
                                                   nominal_id=mapping.find_local(NOMINAL, "4000"))], currency="EUR")
    report = check_connection(store, package)
    codes = {p.code: p for p in report.problems}
    assert not report.ok
    assert "4000" in codes["mapping_unmapped"].message and "Mapping tab" in codes["mapping_unmapped"].advice
    assert "SI-EUR-1" in codes["multicurrency_off"].message
    assert "Turn MultiCurrency on" in codes["multicurrency_off"].advice


def test_documents_on_or_before_the_lock_date_are_named_and_the_precheck_refuses_them(xero_exporting):
    store, _package = xero_exporting
    build_ledger(store, invoices=3)   # dated 10, 11 and 12 January 2026; the bill the 5th
    settings = OrganisationSettings(lock_date=date(2026, 1, 11), lock_date_label="period lock date")
    [problem] = check_lock_date(_context(store, settings))
    assert problem.code == "lock_date"
    assert "3 pending document(s)" in problem.message and "11 Jan 2026" in problem.message
    assert "SI-0001" in problem.message and "SI-0002" in problem.message and "PI-0001" in problem.message
    assert "SI-0003" not in problem.message
    assert check_lock_date(_context(store, OrganisationSettings(lock_date=date(2026, 1, 4)))) == []

    from kcc_desktop.sync.org_settings import save_settings

    save_settings(store, "xero", settings)
    with store.session() as s:
        rows = {i.reference: i.id for i in s.scalars(select(ExportItem))}
    results = run_precheck(store, [rows["SI-0002"], rows["SI-0003"]], provider="xero")
    assert "period lock date (11 Jan 2026); Xero refuses it" in results[rows["SI-0002"]]
    assert "lock date" not in results[rows["SI-0003"]]


def test_more_invoices_than_the_plan_allows_is_a_problem_only_when_they_go_authorised(xero_exporting):
    store, _package = xero_exporting
    build_ledger(store, invoices=3)   # three sales invoices and a bill wait
    assert check_plan_limit(_context(store, OrganisationSettings(approvals_left=4))) == []
    [problem] = check_plan_limit(_context(store, OrganisationSettings(approvals_left=3)))
    assert "4 invoices and bills are waiting" in problem.message and "only 3 more" in problem.message
    OptionsService(store).set("create_authorised", False)
    assert check_plan_limit(_context(store, OrganisationSettings(approvals_left=3))) == []


def test_the_command_prints_json_and_exits_1_when_something_would_stop_an_upload(xero_exporting, company_db, tmp_path,
                                                                                 capsys):
    store, _package = xero_exporting
    build_ledger(store, invoices=1)
    assert main(["--db", company_db, "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    mapping = MappingService(store, "xero")
    mapping.set_mapping(NOMINAL, mapping.find_local(NOMINAL, "4000"), None)
    assert main(["--db", company_db, "check", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and {"code", "message", "advice"} <= set(out["problems"][0])
    assert main(["--db", str(tmp_path / "nowhere.sqlite"), "check"]) == 2


def test_a_sign_in_without_a_scope_kcc_now_asks_for_is_named_with_what_to_do(xero_exporting):
    from kcc_desktop.connectors.settings import load_connection, save_connection
    from kcc_desktop.settings_db import DbSettingsStore
    from tests.helpers.connect import open_package

    store, _package = xero_exporting
    settings = load_connection(DbSettingsStore(store))
    settings.scopes = [*settings.scopes, "accounting.budgets.read"]   # asked for now; the sign-in predates it
    save_connection(DbSettingsStore(store), settings)

    report = check_connection(store, open_package(store))

    [problem] = [p for p in report.problems if p.code == "scopes_missing"]
    assert "accounting.budgets.read" in problem.message and "Connect again" in problem.advice
