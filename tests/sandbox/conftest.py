"""Fixtures for the sandbox tests: a Xero sandbox per test, a logged-in SDK client, and a contract
check that validates every Xero JSON answer a test saw against the official OpenAPI schemas."""

from __future__ import annotations

import pytest

from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import xero_login, xero_sdk_client
from tests.helpers.xero_contract import SPEC_PATH, Seen


@pytest.fixture
def xero_server(request):
    options = getattr(request, "param", {}) or {}
    server = start_sandbox("xero", **options)
    seen = Seen()
    server.provider.observers.append(lambda req, resp: seen.append((req.path, resp.status, resp.body)))
    server.seen = seen
    yield server
    server.stop()
    if SPEC_PATH.exists():
        seen.check()  # every test doubles as a contract test


@pytest.fixture
def xero_urls(xero_server):
    return xero_server.urls()


@pytest.fixture
def xero(xero_urls):
    """A logged-in xero-python client on the sandbox (``.accounting``, ``.tenant_id``, ``.token``)."""
    return xero_sdk_client(xero_urls, xero_login(xero_urls))
