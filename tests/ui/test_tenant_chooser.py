"""Connect from the Mapping tab when one sign-in covers two Xero organisations: the user chooses one."""

from __future__ import annotations

import pytest
import requests
from PySide6.QtWidgets import QDialog

from kcc_desktop.connectors.settings import load_connection
from kcc_desktop.settings_db import DbSettingsStore

from .test_mapping_tab import URL, make_tab, menu_action


@pytest.fixture
def two_organisations(monkeypatch):
    from kcc_desktop.connectors.pacing import reset_pacers
    from kcc_desktop.sandbox.runner import start_sandbox

    server = start_sandbox(provider="xero", port=0, tenants=2)
    monkeypatch.setenv("KCC_XERO_URL", server.root)
    reset_pacers()
    yield server
    server.stop()
    reset_pacers()


def sign_in(qtbot, tab):
    menu_action(tab, "Connect…").trigger()
    qtbot.waitUntil(lambda: URL.search(tab.messages.toPlainText()) is not None, timeout=10000)
    url = URL.search(tab.messages.toPlainText()).group(1)        # the user opens it in the browser
    first = requests.get(url, allow_redirects=False, timeout=10)
    requests.get(first.headers["Location"], timeout=10)           # Xero redirects back to the app
    qtbot.waitUntil(lambda: tab.tenant_chooser.dialog is not None and tab.tenant_chooser.dialog.isVisible(),
                    timeout=10000)
    return tab.tenant_chooser.dialog


def test_the_user_chooses_the_second_organisation(qtbot, two_organisations, store):
    tab = make_tab(qtbot, store)
    dialog = sign_in(qtbot, tab)
    assert dialog.comboBoxItems() == ["Demo Company (UK)", "Second Company (UK)"]
    with qtbot.waitSignal(tab.connected, timeout=15000):
        dialog.setTextValue("Second Company (UK)")
        dialog.accept()
    assert "Connected to Second Company (UK)" in tab.messages.toPlainText()
    assert load_connection(DbSettingsStore(store)).organisation_name == "Second Company (UK)"


def test_cancelling_the_choice_connects_nothing(qtbot, two_organisations, store):
    tab = make_tab(qtbot, store)
    dialog = sign_in(qtbot, tab)
    with qtbot.waitSignal(tab.failed, timeout=15000) as failed:
        dialog.done(QDialog.DialogCode.Rejected)
    assert failed.args[0].startswith("No organisation was chosen")
    saved = load_connection(DbSettingsStore(store))
    assert saved is None or not saved.tenant_id
