"""Fixtures for connector tests: a Xero sandbox per module, settings and token stores, a helper that
runs the connect flow while the test plays the browser over real HTTP. (The QuickBooks connector
fixtures are in tests/helpers/qbo_connector_fixtures.py.)

The keyring is the temporary PlaintextKeyring from tests/conftest.py (never the developer's own).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.connectors.settings import MemorySettingsStore
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.sandbox.testing import SandboxHandle

URL_IN_TEXT = re.compile(r"(https?://\S+)")


class Sandbox(SandboxHandle):
    """The Xero sandbox with the connector tests' shorthands."""

    def count(self, pattern: str) -> int:
        """Requests whose "METHOD /path" pattern ends with ``pattern`` (e.g. "PUT /Contacts")."""
        method, _, path = pattern.partition(" ")
        return self.requests_to(method, path)

    def reset(self, tokens: bool = True) -> None:
        # reset keeps runtime limit changes: put Xero's own limits back too.
        self.control("limits", {"concurrent": 5, "minute": 60, "day": 5000, "time_scale": 1})
        super().reset(tokens)


def start_xero(**options: Any) -> Sandbox:
    from kcc_desktop.sandbox.runner import start_sandbox
    return Sandbox(start_sandbox(provider="xero", port=0, **options))


@pytest.fixture(scope="module")
def xero_sandbox():
    sandbox = start_xero()
    yield sandbox
    sandbox.server.stop()


@pytest.fixture
def sandbox(xero_sandbox, monkeypatch):
    """The module's sandbox, reset, with KCC_XERO_URL pointing at it."""
    xero_sandbox.reset()
    monkeypatch.setenv("KCC_XERO_URL", xero_sandbox.root)
    reset_pacers()
    yield xero_sandbox
    reset_pacers()


@pytest.fixture
def settings_store() -> MemorySettingsStore:
    return MemorySettingsStore()


@pytest.fixture
def token_store() -> TokenStore:
    return TokenStore()


@dataclass
class ConnectRun:
    result: Any = None
    error: BaseException | None = None
    printed: list[str] | None = None
    browser_page: str = ""          # what the browser showed after the redirect


def play_browser(printed: list[str], wait: threading.Event, tamper: Callable[[str], str] | None = None,
                 timeout: float = 10, tamper_url: Callable[[str], str] | None = None) -> requests.Response:
    """What a browser does: open the printed address, follow the redirect to the loopback callback.
    ``tamper_url`` changes the address on its way to the sign-in page, ``tamper`` the one coming back."""
    assert wait.wait(timeout), "connect never printed an address"
    url = next(m.group(1) for line in printed for m in [URL_IN_TEXT.search(line)] if m)
    if tamper_url:
        url = tamper_url(url)
    first = requests.get(url, allow_redirects=False, timeout=timeout)
    assert first.status_code in (302, 303), f"authorize answered {first.status_code}: {first.text[:200]}"
    location = first.headers["Location"]
    if tamper:
        location = tamper(location)
    return requests.get(location, timeout=timeout)


def run_connect(settings_store, token_store, *, provider: str = "xero", browse: bool = True,
                tamper: Callable[[str], str] | None = None, timeout: float = 10,
                tamper_url: Callable[[str], str] | None = None, **kwargs: Any) -> ConnectRun:
    """Run ``connect`` in a thread (as the CLI would), playing the browser from this thread."""
    run = ConnectRun(printed=[])
    printed_event = threading.Event()

    def print_fn(text: str) -> None:
        run.printed.append(text)
        if URL_IN_TEXT.search(text):
            printed_event.set()

    def target() -> None:
        try:
            run.result = connect_mod.connect(provider, settings_store, token_store, open_browser=False,
                                             timeout=timeout, print_fn=print_fn, **kwargs)
        except BaseException as exc:
            run.error = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    if browse:
        run.browser_page = play_browser(run.printed, printed_event, tamper, tamper_url=tamper_url).text
    thread.join(timeout + 10)
    assert not thread.is_alive(), "connect did not finish"
    return run


@pytest.fixture
def connected(sandbox, settings_store, token_store):
    """A completed Xero connection: (settings_store, token_store, settings)."""
    run = run_connect(settings_store, token_store, choose_tenant=lambda tenants: tenants[0]["tenant_id"])
    if run.error:
        raise run.error
    return settings_store, token_store, run.result


@pytest.fixture
def package(connected):
    store, tokens, _ = connected
    return connect_mod.open_package(store, tokens, timeout=5, connect_timeout=2)


@pytest.fixture
def late_answers():
    """``expect(sandbox, status, n)``: an Event set once the sandbox has answered ``n`` more requests with
    ``status``. A fault the sandbox plays after the client gave up (a timeout) is answered late: the test
    waits for it, so it never lands in the next test's counts."""
    watched: list[tuple[Any, Callable[..., None]]] = []

    def expect(sb: SandboxHandle, status: int, n: int) -> threading.Event:
        done, seen = threading.Event(), []

        def observe(request: Any, response: Any) -> None:
            if response.status == status:
                seen.append(1)
                if len(seen) >= n:
                    done.set()
        sb.server.provider.observers.append(observe)
        watched.append((sb, observe))
        return done
    yield expect
    for sb, observe in watched:
        sb.server.provider.observers.remove(observe)


@pytest.fixture
def connect_runner():
    """``run_connect(settings_store, token_store, **kwargs) -> ConnectRun`` (test modules can't import conftest)."""
    return run_connect


@pytest.fixture
def sandbox_factory():
    """Start extra sandboxes with options (time scale, limits, tenants); stopped after the test."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        sb = start_xero(**options)
        started.append(sb)
        return sb
    yield make
    for sb in started:
        sb.server.stop()


SCALE = 1 / 60      # a sandbox "minute" lasts one second


@pytest.fixture
def scaled(sandbox_factory, monkeypatch, settings_store, token_store):
    """A connected, time-scaled sandbox (a "minute" is one second): (sandbox, settings_store, token_store)."""
    sb = sandbox_factory(time_scale=SCALE)
    monkeypatch.setenv("KCC_XERO_URL", sb.root)
    reset_pacers()
    run = run_connect(settings_store, token_store)
    if run.error:
        raise run.error
    yield sb, settings_store, token_store
    reset_pacers()

