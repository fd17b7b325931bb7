"""The window's own message boxes: Help → About, and what File → Import Documents came to.

Each function builds the box (named, so tests and accessibility tools find it); the caller opens it.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from .. import APP_NAME, __version__
from . import icons

if TYPE_CHECKING:   # the CSV import's modules load when a file is imported, not before the window paints
    from ..ledger.csv_import import ImportReport

SDKS = ("xero-python", "python-quickbooks", "intuit-oauth")


def versions_text() -> str:
    lines = [f"{APP_NAME} {__version__}", f"Qt {qVersion()} (PySide6 {PYSIDE_VERSION})",
             f"Python {platform.python_version()} on {platform.system()} {platform.release()}"]
    for name in SDKS:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name}: not installed")
    return "\n".join(lines)


def about_box(parent: QWidget) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("about_dialog")
    box.setWindowTitle(f"About {APP_NAME}")
    box.setIconPixmap(icons.app_icon().pixmap(64, 64))
    box.setText(f"<b>{APP_NAME}</b><br>Keeps the stock-and-order ledger in step with Xero or QuickBooks.")
    box.setInformativeText(versions_text().replace("\n", "<br>"))
    return box


def import_report_box(parent: QWidget, path: str, report: ImportReport) -> QMessageBox:
    """All imported, or nothing and the first bad rows (the first hundred, and the count, in the details)."""
    name = Path(path).name
    if report.ok:
        box = QMessageBox(QMessageBox.Icon.Information, "Import documents", report.text(), parent=parent)
    else:
        box = QMessageBox(QMessageBox.Icon.Warning, "Import documents",
                          f"Nothing was imported from {name}: {report.error_count:,} "
                          f"problem{'s' if report.error_count != 1 else ''} found.", parent=parent)
        shown = [str(e) for e in report.errors[:10]]
        more = report.error_count - len(shown)
        box.setInformativeText("\n".join(shown + ([f"…and {more:,} more (see details)."] if more else []))
                               + "\n\nCorrect these rows in the file and import it again.")
        box.setDetailedText(report.text())
    box.setObjectName("import_result_dialog")
    return box


def import_failed_box(parent: QWidget, path: str, message: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, "Import documents",
                      f"{Path(path).name} was not imported; nothing was written.", parent=parent)
    box.setObjectName("import_result_dialog")
    box.setInformativeText(message)
    return box
