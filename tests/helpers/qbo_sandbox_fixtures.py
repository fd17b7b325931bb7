"""Fixtures for the QuickBooks sandbox tests (a pytest plugin, see tests/conftest.py): a fresh server per
test with its books in the test's folder, its URLs, a sign-in's tokens and a signed-in python-quickbooks
client (``qb``)."""

from __future__ import annotations

import pytest

from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
from tests.helpers.qbo_builders import start_qbo


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
