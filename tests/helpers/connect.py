"""Signing a company file in to a sandbox as a user would (the test plays the browser on the address the
app prints), and opening the saved connection's package, as the sync and UI tests and the benchmarks do."""

from __future__ import annotations

import re
import threading

import requests

from kcc_desktop.connectors import connect as connect_mod
from kcc_desktop.connectors.tokens import TokenStore
from kcc_desktop.settings_db import DbSettingsStore

URL_IN_TEXT = re.compile(r"(https?://\S+)")


def connect_store(store) -> None:
    """Sign in to the Xero sandbox as a user would (the test plays the browser), saving to the company file."""
    printed: list[str] = []
    seen = threading.Event()
    errors: list[BaseException] = []

    def print_fn(text: str) -> None:
        printed.append(text)
        if URL_IN_TEXT.search(text):
            seen.set()

    def target() -> None:
        try:
            connect_mod.connect("xero", DbSettingsStore(store), TokenStore(), open_browser=False, timeout=10,
                                print_fn=print_fn, choose_tenant=lambda t: t[0]["tenant_id"])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert seen.wait(10), "connect printed no address"
    url = next(m.group(1) for line in printed for m in [URL_IN_TEXT.search(line)] if m)
    first = requests.get(url, allow_redirects=False, timeout=10)
    requests.get(first.headers["Location"], timeout=10)
    thread.join(20)
    if errors:
        raise errors[0]


class Browser:
    """Plays the user's browser as the app's ``print_fn``: opens the first address printed, in the
    background as a real browser would (the app's page answers only once the sign-in is over), and
    follows the sandbox's redirect back to the app. ``page()`` is what the browser showed in the end."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self._pages: list[requests.Response] = []
        self._thread: threading.Thread | None = None

    def __call__(self, text: str) -> None:
        found = URL_IN_TEXT.search(text)
        if found and self._thread is None:
            self.opened.append(found.group(1))
            self._thread = threading.Thread(target=lambda: self._pages.append(requests.get(found.group(1),
                                                                                           timeout=30)),
                                            daemon=True)
            self._thread.start()

    def page(self) -> requests.Response:
        assert self._thread is not None, "no address was printed"
        self._thread.join(40)
        assert self._pages, "the browser got no page"
        return self._pages[0]


def connect_quickbooks(store) -> None:
    """Connect to QuickBooks as a user would: the test plays the browser on the printed address."""
    browser = Browser()
    connect_mod.connect("quickbooks", DbSettingsStore(store), TokenStore(), open_browser=False, timeout=10,
                        print_fn=browser)
    assert browser.page().status_code == 200


def open_package(store):
    """The package of the company file's saved connection (Xero or QuickBooks)."""
    return connect_mod.open_package(DbSettingsStore(store), TokenStore(), timeout=5, connect_timeout=2)
