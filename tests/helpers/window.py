"""The main window as a user opens it on a company file."""

from __future__ import annotations


def open_window(qtbot, store, *, size: tuple[int, int] | None = None):
    """``MainWindow`` on ``store``, shown (at ``size`` if given) and exposed."""
    from kcc_desktop.context import AppContext
    from kcc_desktop.ui.main_window import MainWindow

    window = MainWindow(AppContext(store))
    qtbot.addWidget(window)
    if size is not None:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window
