"""Choosing a menu entry as a person does: press the tab's Actions or Grid Actions button (a QToolButton
whose menu pops up at once and runs its own event loop until closed), or right-click a grid row, then
click the entry where it is drawn. ``choose`` returns once the menu has closed; the action has run."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QToolButton

from kcc_desktop.ui.grid import GridView


def _entry(menu: QMenu, text: str):
    found = [a for a in menu.actions() if a.text().replace("&", "") == text]
    assert found, f"{text!r} is not in the menu: {[a.text() for a in menu.actions() if a.text()]}"
    return found[0]


def _click_entry(qtbot, menu: QMenu, text: str) -> None:
    action = _entry(menu, text)
    assert action.isEnabled(), f"{text} is disabled in the menu"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def choose_from_button(qtbot, button: QToolButton, text: str) -> None:
    """Press the button; when its menu is on screen, click ``text`` in it."""
    menu = button.menu()
    assert menu is not None and button.isEnabled()
    done: list[BaseException | None] = []

    def pick() -> None:
        if not menu.isVisible():
            QTimer.singleShot(10, pick)
            return
        try:
            _click_entry(qtbot, menu, text)
            done.append(None)
        except BaseException as exc:   # never leave the menu's own loop running: the test would hang
            menu.close()
            done.append(exc)

    QTimer.singleShot(0, pick)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)   # returns when the menu closes
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    if done[0] is not None:
        raise done[0]
    assert not menu.isVisible()


def choose_from_context_menu(qtbot, grid: GridView, text: str) -> None:
    """Right-click the first selected row (or the empty grid), then click ``text`` in the menu."""
    rows = grid.selected_proxy_rows()
    pos = (grid.visualRect(grid.proxy.index(rows[0], 1)).center() if rows
           else QPoint(5, 5))
    viewport = grid.viewport()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                       viewport.mapToGlobal(pos)))
    menu = grid._menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    _click_entry(qtbot, menu, text)
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=5000)


def entry_enabled(menu: QMenu, text: str) -> bool:
    return _entry(menu, text).isEnabled()
