"""The Mapping tab driven as a user would: Connect and fetch from the Xero sandbox, Apply Default Setup,
edit a mapping through the combobox, options kept, the audit trail; and the payment guard in the UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import Company, Mapping, NominalCode, PackageAccount, Payment
from kcc_desktop.sync.mapping import NEVER_EXPORTED, NOMINAL
from kcc_desktop.ui.mapping_models import NominalColumns, TaxColumns
from kcc_desktop.ui.mapping_tab import MappingTab

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
URL = re.compile(r"(https?://\S+)")


@pytest.fixture
def demo_store(tmp_path):
    from kcc_desktop.demo.company import build_demo
    from kcc_desktop.store import open_store

    store = open_store(tmp_path / "demo.sqlite")
    with store.transaction() as s:
        build_demo(s, documents=10, seed=7)
    yield store
    store.close()


def make_tab(qtbot, store) -> MappingTab:
    tab = MappingTab(AppContext(store))
    tab.open_browser = False
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    return tab


def menu_action(tab: MappingTab, text: str, grid=None):
    """The QAction as the user finds it: in the Actions button's menu, or in a grid's right-click menu."""
    menu = grid.build_context_menu() if grid is not None else tab.actions_button.menu()

    def plain(t: str) -> str:
        return t.replace("&&", "\0").replace("&", "").replace("\0", "&")

    return next(a for a in menu.actions() if plain(a.text()) == text)


def cell(grid, model, code: str, column: int):
    ids = {model.row_data(i)[model.primary].local_code: i for i in model.ids()}
    return grid.proxy.mapFromSource(model.index(model.row_of(ids[code]), column))


def tick(qtbot, check) -> None:
    """Click the check box's square, where a user clicks (the widget may be wider than its text)."""
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))


def nominal_ids(store):
    with store.session() as s:
        return {n.code: n.id for n in s.scalars(select(NominalCode))}


def connect_and_fetch(qtbot, tab: MappingTab) -> None:
    with qtbot.waitSignal(tab.connected, timeout=15000):
        menu_action(tab, "Connect…").trigger()
        qtbot.waitUntil(lambda: URL.search(tab.messages.toPlainText()) is not None, timeout=10000)
        url = URL.search(tab.messages.toPlainText()).group(1)       # the user opens it in the browser
        first = requests.get(url, allow_redirects=False, timeout=10)
        requests.get(first.headers["Location"], timeout=10)          # Xero redirects back to the app
    assert "Connected to Demo Company (UK)" in tab.messages.toPlainText()
    with qtbot.waitSignal(tab.fetched, timeout=15000):
        menu_action(tab, "Get Nominal & Tax Accounts", tab.nominal_grid).trigger()
        assert not tab.fetch_action.isEnabled()                       # busy while the worker runs
    assert tab.fetch_action.isEnabled()
    assert "Fetched 42 accounts, 11 tax rates and 1 bank accounts from Xero" in tab.messages.toPlainText()
    assert "accounts fetched" in tab.status_label.text() and "connected to Demo Company (UK)" in tab.status_label.text()


def test_connect_fetch_apply_defaults_edit_and_audit_on_the_demo(qtbot, qtlog, xero_sync_sandbox, demo_store):
    tab = make_tab(qtbot, demo_store)
    connect_and_fetch(qtbot, tab)

    with qtbot.waitSignal(tab.defaults_applied):
        menu_action(tab, "Apply Default Setup").trigger()
    grid, model = tab.nominal_grid, tab.nominal_model

    def shown(code, col):
        return grid.proxy.data(cell(grid, model, code, col))

    assert shown("5000", NominalColumns.MAPPED) == "300 — Purchases (DIRECTCOSTS)"
    assert shown("5000", NominalColumns.WHY).startswith("Same name \u201cPurchases\u201d in Xero")
    assert shown("7502", NominalColumns.MAPPED) == "489 — Telephone & Internet (OVERHEADS)"
    assert shown("4905", NominalColumns.MAPPED) == "" and shown("4905", NominalColumns.STATUS) == "Not mapped"
    assert "map it by hand" in shown("4905", NominalColumns.WHY) or "map it by hand" in tab.messages.toPlainText()
    assert shown("1001", NominalColumns.STATUS) == "Stays in KCC"     # short in the grid, in full on hovering
    assert grid.proxy.data(cell(grid, model, "1001", NominalColumns.STATUS), Qt.ItemDataRole.ToolTipRole) == (
        NEVER_EXPORTED)
    assert not (grid.proxy.flags(cell(grid, model, "1001", NominalColumns.MAPPED)) & Qt.ItemFlag.ItemIsEnabled)
    assert "Apply Default Setup:" in tab.messages.toPlainText()
    assert "5000 → 300: Same name" in tab.messages.toPlainText()
    tax = tab.tax_grid
    assert tax.proxy.data(cell(tax, tab.tax_model, "T1", TaxColumns.SALES)) == "OUTPUT2 — 20% (VAT on Income) (20%)"

    # The user maps Carriage and Delivery: double-click the cell, type to narrow the list, Enter.
    index = cell(grid, model, "4905", NominalColumns.MAPPED)
    grid.scrollTo(index)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualRect(index).center())
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualRect(index).center())
    editor = grid.findChild(QComboBox, "account_combo")
    assert editor is not None and editor.isVisible()
    offered = [editor.itemText(i) for i in range(editor.count())]
    assert "260 — Other Revenue (REVENUE)" in offered
    assert not any("DIRECTCOSTS" in text or "BANK" in text for text in offered)   # only types that fit
    qtbot.keyClicks(editor.lineEdit(), "other rev")      # type-ahead narrows the list to one
    completer_popup = editor.completer().popup()
    assert completer_popup.isVisible() and editor.completer().completionCount() == 1
    qtbot.keyClick(completer_popup, Qt.Key.Key_Down)
    qtbot.keyClick(completer_popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shown("4905", NominalColumns.MAPPED) == "260 — Other Revenue (REVENUE)")
    assert shown("4905", NominalColumns.STATUS) == "Mapped"
    assert "Mapped 4905 Carriage and Delivery to 260 — Other Revenue (REVENUE)." in tab.messages.toPlainText()
    # Each grid has its own editor: Qt has nothing to complain about (it did on every edit).
    assert not [r.message for r in qtlog.records if "commitData" in r.message]
    with demo_store.session() as s:
        m = s.scalar(select(Mapping).where(Mapping.category == NOMINAL,
                                           Mapping.local_id == nominal_ids(demo_store)["4905"]))
        assert (m.remote_code, m.set_by) == ("260", "user")

    # A second Apply Default Setup leaves the user's choice alone.
    menu_action(tab, "Apply Default Setup").trigger()
    assert shown("4905", NominalColumns.MAPPED) == "260 — Other Revenue (REVENUE)"

    # The audit trail, as the user opens it.
    menu_action(tab, "View Audit Trail…", tab.tax_grid).trigger()
    dialog = tab.audit_dialog
    qtbot.waitExposed(dialog)
    rows = [[dialog.model.display(dialog.model.row_data(i), c) for c in dialog.model.Columns]
            for i in dialog.model.ids()]
    assert rows[0][1:4] == ["Mapping nominal 4905 Carriage and Delivery", "", "260 — Other Revenue (REVENUE)"]
    assert any(r[1] == "Mapping nominal 5000 Purchases (Apply Default Setup)" for r in rows)
    assert any(r[1] == "Fetched accounts from Xero" for r in rows)
    dialog.close()

    ARTIFACTS.mkdir(exist_ok=True)
    tab.tabs.setCurrentIndex(1)
    assert tab.grab().save(str(ARTIFACTS / "mapping_tab_tax.png"))
    tab.tabs.setCurrentIndex(0)
    assert tab.grab().save(str(ARTIFACTS / "mapping_tab.png"))


def test_archived_account_is_flagged_after_a_refetch(qtbot, xero_sync_sandbox, store):
    from xero_python.accounting import Account, Accounts

    from kcc_desktop.sandbox.testing import xero_login, xero_sdk_client

    tab = make_tab(qtbot, store)
    connect_and_fetch(qtbot, tab)
    tab.service.set_nominal("4010", "260")
    bookkeeper = xero_sdk_client(xero_sync_sandbox, xero_login(xero_sync_sandbox))
    other = next(a for a in bookkeeper.accounting.get_accounts(bookkeeper.tenant_id).accounts if a.code == "260")
    bookkeeper.accounting.update_account(bookkeeper.tenant_id, other.account_id,
                                         Accounts(accounts=[Account(status="ARCHIVED")]))
    with qtbot.waitSignal(tab.fetched, timeout=15000):
        menu_action(tab, "Get Nominal & Tax Accounts").trigger()
    grid, model = tab.nominal_grid, tab.nominal_model
    assert grid.proxy.data(cell(grid, model, "4010", NominalColumns.STATUS)) == (
        "Archived in Xero: choose another account")
    assert "now point at archived or deleted accounts: Nominal 4010 Sales - Services" in tab.messages.toPlainText()


def test_a_bad_typed_entry_changes_nothing_and_a_refusal_is_shown(qtbot, store):
    with store.transaction() as s:
        s.add_all([PackageAccount(provider="xero", category="account", code="200", name="Sales", type="REVENUE"),
                   PackageAccount(provider="xero", category="account", code="300", name="Purchases",
                                  type="DIRECTCOSTS")])
    tab = make_tab(qtbot, store)
    grid, model = tab.nominal_grid, tab.nominal_model
    index = cell(grid, model, "4000", NominalColumns.MAPPED)
    grid.setCurrentIndex(index)
    grid.edit(index)
    editor = grid.findChild(QComboBox, "account_combo")
    assert [editor.itemText(i) for i in range(editor.count())] == ["(not mapped)", "200 — Sales (REVENUE)"]
    editor.lineEdit().setText("no such account")
    qtbot.keyClick(editor.lineEdit(), Qt.Key.Key_Tab)
    assert grid.proxy.data(index) == ""
    # The model refuses what the service refuses (a purchases account on a sales nominal), in words.
    assert not grid.proxy.setData(index, "300")
    assert "300 Purchases (DIRECTCOSTS) does not fit nominal 4000" in tab.messages.toPlainText()


def test_options_are_saved_audited_and_shown_again_after_reopening(qtbot, store):
    tab = make_tab(qtbot, store)
    panel = tab.options_panel
    tick(qtbot, panel.checks["enabled"])
    tick(qtbot, panel.checks["create_authorised"])
    tick(qtbot, panel.checks["use_rollup_transactions"])
    picker = panel.pickers["default_sales_nominal"]
    picker.setCurrentIndex(picker.findData("4010"))
    tab.close()

    again = make_tab(qtbot, store)
    p = again.options_panel
    assert p.checks["enabled"].isChecked() and not p.checks["create_authorised"].isChecked()
    assert p.checks["use_rollup_transactions"].isChecked() and not p.checks["multicurrency"].isChecked()
    assert p.pickers["default_sales_nominal"].currentData() == "4010"
    menu_action(again, "View Audit Trail…").trigger()
    model = again.audit_dialog.model
    rows = [tuple(model.display(model.row_data(i), c) for c in model.Columns)[1:4] for i in model.ids()]
    assert rows == [
        ("Option: Default Sales nominal", "", "4010"),
        ("Option: Use Rollup Transactions", "", "On"),
        ("Option: Create Authorised Invoices", "", "Off"),
        ("Option: Integration enabled", "", "On"),
    ]


def test_record_payment_is_disabled_for_account_customers_with_the_reason(qtbot, company):
    from kcc_desktop.sync.options import OptionsService
    from kcc_desktop.ui.payment_dialog import RecordPaymentAction

    store, _info = company
    with store.session() as s:
        who = {c.code: c.id for c in s.scalars(select(Company))}
    tab = make_tab(qtbot, store)
    action = RecordPaymentAction(store, tab)
    tab.options_changed.connect(lambda _n: action.refresh())
    action.set_company(who["ACME"])
    assert action.isEnabled()

    tick(qtbot, tab.options_panel.checks["enabled"])   # integration on
    assert not action.isEnabled()
    assert action.toolTip().startswith("Acme Tools Ltd is an account customer. While the accounts integration is on")

    action.set_company(who["BLOGGS"])     # non-account: a prepayment, allowed
    assert action.isEnabled()
    action.trigger()
    dialog = action.dialog
    assert dialog.kind_label.text() == "Prepayment (non-account customer)"
    dialog.amount_edit.setText("60.00")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.payment_id is not None

    # The service is the judge: a dialog opened before the integration was switched on is refused.
    OptionsService(store).set("enabled", False)
    action.set_company(who["ACME"])
    action.trigger()
    dialog = action.dialog
    assert dialog.ok_button.isEnabled()
    OptionsService(store).set("enabled", True)
    dialog.amount_edit.setText("10.00")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "Acme Tools Ltd is an account customer" in dialog.error_label.text()
    assert dialog.isVisible()
    with store.session() as s:
        assert [p.company_id for p in s.scalars(select(Payment))] == [who["BLOGGS"]]


def test_models_pass_the_model_tester(qtbot, qtmodeltester, store):
    with store.transaction() as s:
        s.add(PackageAccount(provider="xero", category="account", code="200", name="Sales", type="REVENUE"))
    tab = make_tab(qtbot, store)
    for model in (tab.nominal_model, tab.tax_model, tab.bank_model):
        qtmodeltester.check(model)


def test_one_action_each_shared_by_the_button_and_every_grid_menu(qtbot, store):
    tab = make_tab(qtbot, store)
    button = [a for a in tab.actions_button.menu().actions() if not a.isSeparator()]
    assert button == [tab.connect_action, tab.settings_action, tab.paste_action, tab.fetch_action,
                      tab.check.action, tab.apply_defaults_action, tab.audit_action, tab.export_csv_action]
    for grid in tab.grids:
        in_menu = [a for a in grid.build_context_menu().actions() if a in button]
        assert in_menu == button


def test_fetch_without_a_connection_shows_what_to_do(qtbot, store):
    tab = make_tab(qtbot, store)
    with qtbot.waitSignal(tab.failed, timeout=10000) as failed:
        menu_action(tab, "Get Nominal & Tax Accounts").trigger()
    assert failed.args[0].startswith("Valid Connection Required")
    assert "Valid Connection Required" in tab.messages.toPlainText() and tab.fetch_action.isEnabled()
    assert "not connected (Actions → Connect)" in tab.status_label.text()


def test_show_nominal_selects_the_row_to_map(qtbot, store):
    tab = make_tab(qtbot, store)
    tab.tabs.setCurrentIndex(2)
    tab.show_nominal("4905")
    assert tab.tabs.currentIndex() == 0
    assert [tab.nominal_model.row_data(i)[NOMINAL].local_code for i in tab.nominal_grid.selected_ids()] == ["4905"]


def test_apply_default_setup_never_maps_across_classes_and_says_why(qtbot, xero_sync_sandbox, demo_store):
    """The walk-through: 7200 Electricity and 7500 Office Costs went to Other Revenue, 2300 Customer
    Prepayments to Accounts Payable. Costs go to cost accounts only; a prepayment never to payables or tax."""
    tab = make_tab(qtbot, demo_store)
    connect_and_fetch(qtbot, tab)
    with qtbot.waitSignal(tab.defaults_applied):
        menu_action(tab, "Apply Default Setup").trigger()

    def shown(code, col):
        return tab.nominal_grid.proxy.data(cell(tab.nominal_grid, tab.nominal_model, code, col)) or ""

    for code in ("7100", "7200", "7500"):
        mapped = shown(code, NominalColumns.MAPPED)
        assert mapped == "" or mapped.endswith(("(OVERHEADS)", "(EXPENSE)", "(DIRECTCOSTS)")), (code, mapped)
        assert "REVENUE" not in mapped and "SALES" not in mapped
    prepayments = shown("2300", NominalColumns.MAPPED)
    assert not any(word in prepayments for word in ("Payable", "VAT", "Tax")), prepayments
    assert shown("4000", NominalColumns.MAPPED).endswith(("(REVENUE)", "(SALES)"))
    # Each suggestion says how it was made, naming the class it had to fit.
    assert "an expense account" in shown("7502", NominalColumns.WHY)
    assert "an income account" in shown("4000", NominalColumns.WHY)
def test_check_connection_lists_what_would_stop_an_upload_in_a_dialog(qtbot, xero_sync_sandbox, store):
    from kcc_desktop.sync.options import OptionsService
    from kcc_desktop.sync.queue import install_queue_listeners
    from tests.helpers.ledger import build_ledger

    install_queue_listeners()
    OptionsService(store).update(enabled=True)
    build_ledger(store, invoices=2)     # SI-0001 is dated 10 Jan 2026
    tab = make_tab(qtbot, store)
    connect_and_fetch(qtbot, tab)
    menu_action(tab, "Apply Default Setup").trigger()
    xero_sync_sandbox.organisation(PeriodLockDate="2026-01-10")

    with qtbot.waitSignal(tab.check.checked, timeout=15000) as checked:
        menu_action(tab, "Check Connection…").trigger()
        assert not tab.check.action.isEnabled() and not tab.fetch_action.isEnabled()   # one job at a time
    report = checked.args[0]
    assert "lock_date" in {p.code for p in report.problems}
    dialog = tab.check.dialog
    assert dialog is not None and dialog.isVisible() and tab.check.action.isEnabled()
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert any("SI-0001" in t and "period lock date" in t for t in texts)
    rows = range(dialog.table.rowCount())
    assert rows and all(dialog.table.item(r, 1).text() for r in rows)
    assert "problem(s) would stop uploads" in tab.messages.toPlainText()
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "check_connection.png"))
