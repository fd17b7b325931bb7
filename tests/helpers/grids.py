"""Waiting for the window's grids: big grids load, sort and filter on a worker thread, so a test waits for
the rows it then looks at (never a sleep)."""

from __future__ import annotations


def wait_loaded(qtbot, *models, timeout: int = 20_000) -> None:
    """Until every model has applied its last load, sort or filter."""
    qtbot.waitUntil(lambda: all(not m.is_loading for m in models), timeout=timeout)


def wait_tab(qtbot, tab, timeout: int = 20_000) -> None:
    """Until the tab's job (if any) has ended and its grids have loaded what it changed."""
    qtbot.waitUntil(lambda: not getattr(tab, "busy", False), timeout=timeout)
    from kcc_desktop.ui.grid import GridView

    wait_loaded(qtbot, *[g.source_model for g in tab.findChildren(GridView)], timeout=timeout)


def references(model) -> set[str]:
    """The Reference column of every row an Export grid shows."""
    return {model.row_data(i).reference for i in model.ids()}
