"""Fixtures for Upload Data against the QuickBooks Online sandbox over HTTP (a pytest plugin, see
tests/conftest.py).

``qbo_sync_sandbox`` is the module's ``qbo_sync_server`` reset for the test (control helpers for
/_sandbox/*), ``qbo_exporting`` the company file signed in through the app's own connect flow (the test
plays the browser), with the chart fetched and the default mapping applied, and ``qbo_bookkeeper`` a
python-quickbooks client of a person working in QuickBooks (what the tests read the sandbox back with).
Nothing of the SDK or connector is replaced.
"""

from __future__ import annotations

import pytest

from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.connect import connect_quickbooks, open_package
from tests.helpers.sandboxes import QboSyncSandbox


@pytest.fixture(scope="module")
def qbo_sync_server():
    from kcc_desktop.sandbox.runner import start_sandbox

    sb = QboSyncSandbox(start_sandbox(provider="quickbooks", port=0))
    yield sb
    sb.server.stop()


@pytest.fixture
def qbo_sync_sandbox(qbo_sync_server, monkeypatch):
    qbo_sync_server.reset()
    monkeypatch.setenv("KCC_QBO_URL", qbo_sync_server.root)
    monkeypatch.setenv("KCC_QBO_CLIENT_ID", "test")
    reset_pacers()
    yield qbo_sync_server
    reset_pacers()


@pytest.fixture
def qbo_exporting(store, qbo_sync_sandbox):
    """(store, package): connected to QuickBooks, chart fetched, default mapping applied, integration on."""
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService

    connect_quickbooks(store)
    install_queue_listeners()
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "quickbooks")
    mapping.fetch(package)
    mapping.apply_default_setup()
    return store, package


@pytest.fixture
def qbo_bookkeeper(qbo_sync_sandbox):
    from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client

    return qbo_sdk_client(dict(qbo_sync_sandbox), qbo_login(dict(qbo_sync_sandbox)))
