"""Run Pre-Check: every reason a row would not upload, found before anything is sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import Company, Document, ExportItem, NominalCode, PackageAccount, TaxCode
from kcc_desktop.sync.precheck import run_precheck
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.ledger import build_ledger
from tests.helpers.mapping import map_everything


def ids_by_ref(store):
    with store.session() as s:
        return {(e.item_type, e.reference): e.id for e in s.scalars(select(ExportItem))}


def test_clean_rows_say_ok_and_the_result_is_saved_on_the_row(store):
    install_queue_listeners()
    map_everything(store)
    build_ledger(store, invoices=1)
    ids = ids_by_ref(store)
    results = run_precheck(store, list(ids.values()), provider="xero")
    assert set(results.values()) == {"OK"}
    with store.session() as s:
        assert s.get(ExportItem, ids["sales_invoice", "SI-0001"]).precheck == "OK"


def test_each_problem_is_named(store):
    install_queue_listeners()
    map_everything(store)
    build_ledger(store, invoices=1)
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t = {x.code: x.id for x in s.scalars(select(TaxCode))}
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        acme.email = "accounts@@acme"
        service.create_document(s, "sales_invoice", acme, "SI-UNMAPPED", date(2026, 2, 1), [
            service.LineInput(Decimal(1), Decimal("10"), description="Fitting", nominal_id=n["4010"],
                              tax_code_id=t["T0"])])
        s.scalar(select(Document).where(Document.number == "SI-0001")).currency = "USD"
        s.scalar(select(PackageAccount).where(PackageAccount.code == "300")).status = "ARCHIVED"
    ids = ids_by_ref(store)
    selected = [ids["sales_invoice", "SI-UNMAPPED"], ids["sales_invoice", "SI-0001"],
                ids["purchase_invoice", "PI-0001"], ids["company", "ACME"]]
    results = run_precheck(store, selected, provider="xero")
    unmapped = results[ids["sales_invoice", "SI-UNMAPPED"]]
    assert "Nominal 4010 Sales - Services" in unmapped and "not mapped" in unmapped      # unmapped nominal
    assert "Tax code (sales) T0" in unmapped                                              # unmapped tax code
    assert "email address" in unmapped and "accounts@@acme" in unmapped                  # malformed email
    assert "USD" in results[ids["sales_invoice", "SI-0001"]] and "MultiCurrency is off" in results[
        ids["sales_invoice", "SI-0001"]]                                                  # currency
    assert "Stock item W-100 is not in Xero yet" in results[ids["sales_invoice", "SI-0001"]]  # not selected
    assert "Archived in Xero" in results[ids["purchase_invoice", "PI-0001"]]              # archived account
    assert "email address" in results[ids["company", "ACME"]]


def test_a_stock_item_in_the_selection_or_already_exported_is_no_problem(store):
    install_queue_listeners()
    map_everything(store)
    build_ledger(store, invoices=1)
    ids = ids_by_ref(store)
    with store.transaction() as s:
        s.get(ExportItem, ids["stock_item", "CHILD-1"]).status = "exported"
    results = run_precheck(store, [ids["sales_invoice", "SI-0001"], ids["stock_item", "W-100"]], provider="xero")
    assert results[ids["sales_invoice", "SI-0001"]] == "OK"
