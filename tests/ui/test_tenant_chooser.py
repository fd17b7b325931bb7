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


def test_a_question_asked_after_the_window_began_closing_gets_none_without_a_dialog(qtbot, store):
    """Closing cancels the Connect job while the sign-in is still under way; when the sign-in then asks which
    organisation, the job is told "none" at once instead of waiting on a dialog nobody will see."""
    import threading

    from kcc_desktop.connectors.base import ConnectorError

    tab = make_tab(qtbot, store)
    chooser = tab.tenant_chooser
    chooser.refuse()                     # what the job's cancel_requested calls as the window closes
    outcome: list[object] = []
    asked = threading.Thread(target=lambda: outcome.append(_ask(chooser)), daemon=True)   # never outlives a failure
    asked.start()
    qtbot.waitUntil(lambda: not asked.is_alive())
    assert chooser.dialog is None
    assert isinstance(outcome[0], ConnectorError) and str(outcome[0]).startswith("No organisation was chosen")


def _ask(chooser) -> object:
    from kcc_desktop.connectors.base import ConnectorError

    try:
        return chooser([{"tenant_id": "t1", "name": "Demo Company (UK)"}, {"tenant_id": "t2", "name": "Other"}])
    except ConnectorError as exc:
        return exc
