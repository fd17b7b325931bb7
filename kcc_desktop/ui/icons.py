"""Our own SVG icons from ``resources/icons`` (beside the package in a checkout, in the bundle when frozen).

    from kcc_desktop.ui import icons
    action.setIcon(icons.icon("upload"))      # upload, mark-exported, connect, refresh, kcc (the app), ...
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)   # PyInstaller: build.spec copies resources/ into the bundle
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """The named icon; an empty QIcon (never an exception) if the file is missing."""
    path = icon_path(name)
    return QIcon(str(path)) if path.exists() else QIcon()


def app_icon() -> QIcon:
    return icon("kcc")


def available() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "icons").glob("*.svg"))
