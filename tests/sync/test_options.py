"""Integration options: typed, kept in the company file, every change in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kcc_desktop.models import AppSetting, AuditEntry
from kcc_desktop.sync.options import IntegrationOptions, OptionError, OptionsService


def audit(store):
    with store.session() as s:
        return [(a.what, a.old_value, a.new_value) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_defaults_before_anything_is_saved(store):
    opts = OptionsService(store).load()
    assert opts == IntegrationOptions()
    assert opts.enabled is False and opts.create_authorised is True and opts.multicurrency is False


def test_options_survive_reopening_the_file(store, company_db):
    from kcc_desktop.store import open_store

    OptionsService(store).update(enabled=True, use_rollup_transactions=True, default_sales_nominal="4010")
    store.close()
    reopened = open_store(company_db)
    opts = OptionsService(reopened).load()
    assert (opts.enabled, opts.use_rollup_transactions, opts.default_sales_nominal) == (True, True, "4010")
    reopened.close()


def test_enabled_is_the_key_the_payment_guard_reads(store):
    OptionsService(store).set("enabled", True)
    with store.session() as s:
        assert s.get(AppSetting, "integration.enabled").value == "1"
    OptionsService(store).set("enabled", False)
    with store.session() as s:
        assert s.get(AppSetting, "integration.enabled").value == "0"


def test_every_change_is_audited_with_old_and_new_values(store):
    svc = OptionsService(store)
    assert svc.set("create_authorised", False) is True
    assert svc.set("create_authorised", False) is False   # no change, no audit entry
    svc.set("create_authorised", True)
    assert audit(store) == [
        ("Option integration.create_authorised", "", "0"),
        ("Option integration.create_authorised", "0", "1"),
    ]


def test_the_package_is_the_connection_s_and_never_an_option(store):
    from kcc_desktop.settings_db import DbSettingsStore

    assert OptionsService(store).provider == "xero"               # nothing connected yet
    DbSettingsStore(store).set("connection.provider", "quickbooks")
    assert OptionsService(store).provider == "quickbooks"
    with pytest.raises(OptionError, match="no integration option called 'provider'"):
        OptionsService(store).set("provider", "xero")
    assert OptionsService(store).provider == "quickbooks"


def test_bad_values_are_refused_with_what_is_allowed(store):
    svc = OptionsService(store)
    with pytest.raises(OptionError, match="must be a sales nominal; 5000 is purchase"):
        svc.set("default_sales_nominal", "5000")
    with pytest.raises(OptionError, match="no nominal code 9999"):
        svc.set("default_delivery_nominal", "9999")
    assert audit(store) == []


def test_default_nominal_falls_back_to_the_first_of_its_kind(store):
    from kcc_desktop.models import NominalCode

    svc = OptionsService(store)
    with store.session() as s:
        ids = {n.code: n.id for n in s.scalars(select(NominalCode))}
    assert svc.default_nominal_id("default_sales_nominal") == ids["4000"]
    svc.set("default_sales_nominal", "4020")
    assert svc.default_nominal_id("default_sales_nominal") == ids["4020"]
    assert svc.default_nominal_id("default_delivery_nominal") == ids["4905"]
