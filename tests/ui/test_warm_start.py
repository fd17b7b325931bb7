"""The connected package's connector loads in the background after the window is up, so the first Upload
Data does not stall the window while its worker imports the SDK (issue 17)."""

from __future__ import annotations

import importlib
import logging
import threading

import pytest

from kcc_desktop.connectors import warm
from kcc_desktop.context import AppContext
from kcc_desktop.ui.main_window import MainWindow


@pytest.fixture
def fresh(monkeypatch) -> list[threading.Thread]:
    """Nothing warmed yet in this process; the threads started are collected to be joined."""
    started: list[threading.Thread] = []
    real = warm.warm

    def tracked(provider: str) -> threading.Thread | None:
        thread = real(provider)
        if thread is not None:
            started.append(thread)
        return thread

    monkeypatch.setattr(warm, "_started", set())
    monkeypatch.setattr(warm, "warm", tracked)
    return started


def test_a_connected_window_loads_its_packages_modules_once_it_is_up(qtbot, xero_connected_store, fresh):
    window = MainWindow(AppContext(xero_connected_store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection_label.full_text.endswith("— connected"))

    assert [t.name for t in fresh] == ["warm-xero"], window.connection_label.full_text
    fresh[0].join()
    assert warm._started == {"xero"}
    window.refresh_connection_status()   # again: nothing more is started
    assert len(fresh) == 1


def test_a_window_not_connected_loads_nothing_ahead(qtbot, store, fresh):
    window = MainWindow(AppContext(store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "Not connected" in window.connection_label.full_text)

    assert fresh == [] and warm._started == set()


@pytest.mark.parametrize("provider", ["xero", "quickbooks"])
def test_every_module_named_for_warming_exists(provider):
    """A module renamed or moved would only be logged at start; here it fails."""
    names = warm.CONNECTORS[provider] + warm.SYNC
    assert len(names) == 4 and all(importlib.import_module(n).__name__ == n for n in names)


def test_a_module_that_fails_to_load_is_logged_and_the_rest_skipped(caplog):
    with caplog.at_level(logging.WARNING, logger="kcc_desktop.connectors.warm"):
        warm._load(("kcc_desktop.no_such_module", "kcc_desktop.sync.export"))
    assert [r.getMessage() for r in caplog.records] == ["Could not load kcc_desktop.no_such_module ahead of the "
                                                        "first job"]
