"""Connecting from the Mapping tab as a person would: Connection Settings for a registered app (saved only
once the sign-in succeeds), a refusal told in the messages, and pasting the address the browser ended on."""

from __future__ import annotations

import re

import pytest
import requests
from PySide6.QtCore import Qt

from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.settings import XERO_GRANULAR_SCOPES, load_connection
from kcc_desktop.context import AppContext
from kcc_desktop.sandbox.registration import AppRegistration
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.settings_db import DbSettingsStore
from kcc_desktop.ui.mapping_tab import MappingTab
from tests.connectors.test_xero_registered_sign_in import free_port

URL = re.compile(r"(https?://\S+)")
CLIENT = "7A1F0C3E5B9D-registered"


@pytest.fixture
def registered_xero(monkeypatch):
    redirect = f"http://localhost:{free_port()}/callback"
    server = start_sandbox("xero", registration=AppRegistration(CLIENT, (redirect,)))
    monkeypatch.setenv("KCC_XERO_URL", server.root)
    monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", redirect)
    reset_pacers()
    yield server
    server.stop()


def make_tab(qtbot, store) -> MappingTab:
    tab = MappingTab(AppContext(store))
    tab.open_browser = False
    qtbot.addWidget(tab)
    tab.show()
    return tab


def printed_url(qtbot, tab) -> str:
    qtbot.waitUntil(lambda: URL.search(tab.messages.toPlainText()) is not None, timeout=10000)
    return URL.search(tab.messages.toPlainText()).group(1)


def test_connection_settings_sign_in_to_a_registered_app(qtbot, store, registered_xero):
    tab = make_tab(qtbot, store)
    tab.settings_action.trigger()
    dialog = tab.connection_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.scopes.currentData() == "granular" and dialog.custom_scopes.isReadOnly()
    dialog.client_id.clear()
    qtbot.keyClicks(dialog.client_id, CLIENT)
    assert load_connection(DbSettingsStore(store)) is None            # nothing saved before the sign-in
    with qtbot.waitSignal(tab.connected, timeout=15000):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        url = printed_url(qtbot, tab)
        first = requests.get(url, allow_redirects=False, timeout=10)   # the person's browser
        page = requests.get(first.headers["Location"], timeout=10)
    assert "Signed in" in page.text
    saved = load_connection(DbSettingsStore(store))
    assert saved.client_id == CLIENT and saved.scopes == XERO_GRANULAR_SCOPES
    assert "connected to Demo Company (UK)" in tab.status_label.text()


def test_a_refusal_is_told_in_the_messages_with_the_fix(qtbot, store, registered_xero):
    tab = make_tab(qtbot, store)
    tab.settings_action.trigger()
    dialog = tab.connection_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.client_id.setText(CLIENT)
    dialog.scopes.setCurrentIndex(dialog.scopes.findData("broad"))    # an older app's scopes, on a new app
    with qtbot.waitSignal(tab.failed, timeout=15000) as failed:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert "may not ask for accounting.transactions" in failed.args[0]
    assert "Scopes: Granular" in tab.messages.toPlainText()
    assert load_connection(DbSettingsStore(store)) is None
    assert tab.connect_action.isEnabled() and not tab.paste_action.isEnabled()


def test_pasting_the_address_the_browser_ended_on_completes_the_sign_in(qtbot, store, monkeypatch):
    hosted = "https://kcc.example.com/kcc/callback.html"       # a page the browser could not load here
    server = start_sandbox("quickbooks", registration=AppRegistration(
        "ABqboClient", (hosted,), client_secret="s3cret", environment="production"))
    try:
        monkeypatch.setenv("KCC_QBO_URL", server.root)
        monkeypatch.setenv("KCC_OAUTH_REDIRECT_URI", hosted)
        tab = make_tab(qtbot, store)
        tab.package_combo.setCurrentIndex(tab.package_combo.findData("quickbooks"))
        tab.settings_action.trigger()
        dialog = tab.connection_dialog
        qtbot.waitUntil(dialog.isVisible)
        dialog.client_id.setText("ABqboClient")
        dialog.client_secret.setText("s3cret")
        assert dialog.environment.currentData() == "production"
        assert "hosted callback.html" in dialog.redirect_uri.placeholderText()    # production keys: no default
        dialog.environment.setCurrentIndex(dialog.environment.findData("sandbox"))
        assert "http://localhost:53682/callback" in dialog.redirect_uri.placeholderText()
        dialog.environment.setCurrentIndex(dialog.environment.findData("production"))
        with qtbot.waitSignal(tab.connected, timeout=15000):
            qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
            ended_on = requests.get(printed_url(qtbot, tab), allow_redirects=False, timeout=10).headers["Location"]
            assert ended_on.startswith(hosted + "?")
            assert tab.paste_action.isEnabled()
            tab.paste_action.trigger()
            qtbot.waitUntil(lambda: tab.paste_dialog is not None and tab.paste_dialog.isVisible())
            tab.paste_dialog.setTextValue(ended_on)
            tab.paste_dialog.accept()
        assert "Connected to KCC Sandbox Trading Ltd" in tab.messages.toPlainText()
        assert not any("s3cret" in v for v in DbSettingsStore(store).items().values())
    finally:
        server.stop()
