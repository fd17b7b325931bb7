"""Typed window settings over QSettings: layout, last tab, grid columns and filters.

Layout lives in QSettings (per user, per machine), not in the company file: two people opening the
same file keep their own window. Where the folder comes from:
- ``KCC_SETTINGS_DIR`` (tests, portable builds) or else ``KCC_DATA_DIR`` when set: an INI file there;
- otherwise the OS's native place for "KCC / KCC Desktop".
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from .. import APP_NAME

ORGANISATION = "KCC"
# Bump when a stored layout no longer fits the widgets; older layouts are dropped, not misapplied.
LAYOUT_VERSION = 1


def settings_file() -> Path | None:
    folder = os.environ.get("KCC_SETTINGS_DIR") or os.environ.get("KCC_DATA_DIR")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) / "ui-settings.ini"


def _qsettings() -> QSettings:
    path = settings_file()
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANISATION, APP_NAME)


class UiSettings:
    """One typed accessor per thing remembered; each has a default and ``reset_layout()`` clears them."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings or _qsettings()
        # Written only when it changes: a QSettings made while another has unsaved changes to the same file
        # writes the file first, and the window makes a dozen of these before its first paint.
        if self._s.contains("layout_version") and self._s.value("layout_version", 0, int) == LAYOUT_VERSION:
            return
        if self._s.contains("layout_version"):
            self.reset_layout()
        self._s.setValue("layout_version", LAYOUT_VERSION)

    # -- raw typed helpers ------------------------------------------------------------------------
    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _set(self, key: str, value) -> None:
        self._s.setValue(key, value)

    # -- window --------------------------------------------------------------------------------------
    @property
    def window_geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._set("window/state", value)

    @property
    def last_tab(self) -> str:
        return str(self._s.value("window/last_tab", "", str) or "")

    @last_tab.setter
    def last_tab(self, title: str) -> None:
        self._set("window/last_tab", title)

    # -- keyed pieces (splitters, grids) -----------------------------------------------------------
    def splitter_state(self, name: str) -> QByteArray | None:
        return self._bytes(f"splitters/{name}")

    def set_splitter_state(self, name: str, state: QByteArray) -> None:
        self._set(f"splitters/{name}", state)

    def grid_header(self, key: str) -> QByteArray | None:
        return self._bytes(f"grids/{key}/header")

    def set_grid_header(self, key: str, state: QByteArray) -> None:
        self._set(f"grids/{key}/header", state)

    def grid_filter(self, key: str) -> str:
        return str(self._s.value(f"grids/{key}/filter", "", str) or "")

    def set_grid_filter(self, key: str, text: str) -> None:
        self._set(f"grids/{key}/filter", text)

    def value(self, key: str, default=None, type_=None):
        """For a tab's own small remembered values (e.g. a date range): ``tabs/<tab>/<name>``."""
        return self._s.value(key, default, type_) if type_ else self._s.value(key, default)

    def set_value(self, key: str, value) -> None:
        self._set(key, value)

    # -- reset -----------------------------------------------------------------------------------------
    def reset_layout(self) -> None:
        """Forget every remembered layout and filter (View → Reset layout)."""
        for group in ("window", "splitters", "grids", "tabs"):
            self._s.remove(group)
        self._s.setValue("layout_version", LAYOUT_VERSION)

    def sync(self) -> None:
        self._s.sync()


def remember_splitter(splitter, name: str, settings: UiSettings | None = None) -> None:
    """Restore a QSplitter's sizes under ``name`` and save them whenever the user drags it.

    View → Reset layout puts it back to the sizes it had when this was called."""
    settings = settings or UiSettings()
    splitter.setObjectName(splitter.objectName() or f"splitter_{name}")
    splitter.setProperty("kcc_default_state", splitter.saveState())
    state = settings.splitter_state(name)
    if state is not None:
        splitter.restoreState(state)
    splitter.splitterMoved.connect(lambda *_: settings.set_splitter_state(name, splitter.saveState()))
