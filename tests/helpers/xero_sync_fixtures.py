"""Fixtures for the sync and UI tests against the Xero sandbox (a pytest plugin, see tests/conftest.py):
a sandbox per module, a company file connected to it through the real OAuth flow, and a bookkeeper
working in the sandbox through the SDK.

``xero_sync_sandbox`` is the module's ``xero_sync_server`` reset for the test (its URLs as a dict, plus
control helpers), ``xero_connected_store`` the ``store`` signed in to it, ``xero_bookkeeper`` a
XeroBookkeeper, ``xero_exporting`` (store, package) with accounts fetched and the default mapping applied, and
``books`` that company's small ledger exported.
"""

from __future__ import annotations

import pytest

from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.connect import connect_store, open_package
from tests.helpers.sandboxes import XeroSyncSandbox


@pytest.fixture(scope="module")
def xero_sync_server():
    from kcc_desktop.sandbox.runner import start_sandbox

    sb = XeroSyncSandbox(start_sandbox(provider="xero", port=0))
    yield sb
    sb.server.stop()


@pytest.fixture
def xero_sync_sandbox(xero_sync_server, monkeypatch):
    xero_sync_server.reset()
    monkeypatch.setenv("KCC_XERO_URL", xero_sync_server.root)
    reset_pacers()
    yield xero_sync_server
    reset_pacers()


@pytest.fixture
def xero_connected_store(store, xero_sync_sandbox):
    """The company file, signed in to the sandbox through the app's own connect flow."""
    connect_store(store)
    return store


@pytest.fixture
def xero_bookkeeper(xero_sync_sandbox):
    """Someone working in the package: records payments etc. through xero-python over HTTP."""
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

    return XeroBookkeeper(xero_sdk_client(dict(xero_sync_sandbox), xero_login(dict(xero_sync_sandbox))))


@pytest.fixture
def xero_exporting(xero_connected_store):
    """(store, package): connected, accounts fetched, default mapping applied, integration on."""
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService

    store = xero_connected_store
    install_queue_listeners()
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    return store, package


@pytest.fixture
def books(xero_exporting):
    """(Books, package): the small ledger of ``build_ledger`` uploaded to the sandbox through the exporter, for
    the payments-import tests (``tests.helpers.books``)."""
    from tests.helpers.books import export_books

    store, package = xero_exporting
    return export_books(store, package, "xero"), package
