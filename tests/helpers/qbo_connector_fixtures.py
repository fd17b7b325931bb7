"""Fixtures for the QuickBooks connector tests (a pytest plugin, see tests/conftest.py): a sandbox per
module with a clock the tests move (``qbo_clocked_server``), reset for each test (``qbo_sandbox``), a
virtual clock for pacing (``vtime``) and a package signed in to the sandbox (``qbo_package``)."""

from __future__ import annotations

import pytest

from kcc_desktop.connectors.quickbooks import QuickBooksPackage
from kcc_desktop.sandbox.runner import start_sandbox
from tests.helpers.qbo_connector import QboClockedSandbox, SandboxClock, VirtualTime, make_package, sign_in


@pytest.fixture(scope="module")
def qbo_clocked_server():
    # One server per module (stopping one costs half a second); each test gets it reset.
    clock = SandboxClock()
    server = start_sandbox("quickbooks", port=0, clock=clock)
    try:
        yield QboClockedSandbox(server, clock)
    finally:
        server.stop()


@pytest.fixture
def qbo_sandbox(qbo_clocked_server):
    qbo_clocked_server.clock.now = SandboxClock().now
    qbo_clocked_server.reset()
    return qbo_clocked_server


@pytest.fixture
def vtime() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def qbo_package(qbo_sandbox, vtime) -> QuickBooksPackage:
    sign_in(qbo_sandbox)
    return make_package(qbo_sandbox, vtime)
