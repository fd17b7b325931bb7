"""Per-OS folders (platformdirs), overridable by environment for tests and portable installs."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from . import APP_NAME

_APP_DIR_NAME = APP_NAME.replace(" ", "")


def data_dir() -> Path:
    override = os.environ.get("KCC_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(_APP_DIR_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    override = os.environ.get("KCC_LOG_DIR")
    path = Path(override) if override else Path(platformdirs.user_log_dir(_APP_DIR_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "kcc.sqlite"


def demo_db_path() -> Path:
    return data_dir() / "demo" / "demo.sqlite"
