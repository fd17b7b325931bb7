"""Fixtures for the sandbox tests: a Xero and a QuickBooks sandbox per test, logged-in SDK clients, and a
contract check that validates every Xero JSON answer a test saw against the official OpenAPI schemas."""

from __future__ import annotations

import pytest

from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import xero_login, xero_sdk_client

from .qbo_fixtures import start_qbo
from .xero_contract import Seen, contract_checks_on


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


@pytest.fixture
def qbo_server(tmp_path):
    """A QuickBooks sandbox on loopback whose books are kept in a state file under ``tmp_path``."""
    server = start_qbo(state_file=str(tmp_path / "qbo-state.json"))
    yield server
    server.stop()


@pytest.fixture
def qbo_urls(qbo_server):
    return qbo_server.urls()


@pytest.fixture
def qbo_tokens(qbo_urls):
    """The tokens of a "Connect to QuickBooks" sign-in (and the realm it chose)."""
    return qbo_login(qbo_urls)


@pytest.fixture
def qb(qbo_urls, qbo_tokens):
    """A signed-in python-quickbooks client on the sandbox."""
    return qbo_sdk_client(qbo_urls, qbo_tokens)
