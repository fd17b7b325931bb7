"""Fixtures for the Xero sandbox tests: a sandbox per test, a logged-in SDK client, and a contract check that
validates every Xero JSON answer a test saw against the official OpenAPI schemas. (The QuickBooks sandbox
fixtures are in tests/helpers/qbo_sandbox_fixtures.py.)"""

from __future__ import annotations

import pytest

from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import xero_login, xero_sdk_client
from tests.helpers.xero_contract import Seen, contract_checks_on


@pytest.fixture
def xero_server(request):
    """A Xero sandbox on loopback (options via indirect parametrisation); at teardown every JSON answer
    it gave is checked against Xero's schemas, so every test doubles as a contract test."""
    checked = contract_checks_on()
    options = getattr(request, "param", {}) or {}
    server = start_sandbox("xero", **options)
    seen = Seen()
    server.provider.observers.append(lambda req, resp: seen.append((req.path, resp.status, resp.body)))
    server.seen = seen
    yield server
    server.stop()
    if checked:
        seen.check()


@pytest.fixture
def xero_urls(xero_server):
    return xero_server.urls()


@pytest.fixture
def xero(xero_urls):
    """A logged-in xero-python client on the sandbox (``.accounting``, ``.tenant_id``, ``.token``)."""
    return xero_sdk_client(xero_urls, xero_login(xero_urls))

