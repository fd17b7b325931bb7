"""One exception hook for the whole app: log the unexpected error, then tell the user what to do.

Expected failures (a ledger rule, a connector failure) are shown where they happen, in their own words;
this is for the rest. The dialog is modeless and shown once at a time (an error in a paint event
would otherwise stack hundreds), and errors on other threads are marshalled to the GUI thread.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from .. import paths
from ..logging_setup import redact

log = logging.getLogger("kcc_desktop.unexpected")

WHAT_TO_DO = ("What was saved before this stays saved. Try again; if it happens again, "
              "use Help → Open Log Folder and send the newest log file to support.")


class ErrorReporter(QObject):
    """Installed as sys.excepthook / threading.excepthook; ``dialog`` is the one currently shown."""

    _reported = Signal(str, str)   # summary, details: crosses from any thread to the GUI thread

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self.parent_widget = parent_widget
        self.dialog: QMessageBox | None = None
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> ErrorReporter:
        sys.excepthook = self.excepthook
        threading.excepthook = lambda args: self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook

    def excepthook(self, exc_type, exc_value, exc_tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_hook(exc_type, exc_value, exc_tb)
            return
        log.error("Unexpected error", exc_info=(exc_type, exc_value, exc_tb))
        summary = redact(f"{exc_type.__name__}: {exc_value}")
        details = redact("".join(traceback.format_exception(exc_type, exc_value, exc_tb)))
        if QApplication.instance() is None:
            self._previous_hook(exc_type, exc_value, exc_tb)
            return
        if threading.current_thread() is threading.main_thread():
            self._show(summary, details)
        else:
            self._reported.emit(summary, details)

    def _show(self, summary: str, details: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return   # one at a time; the log has every occurrence
        box = QMessageBox(self.parent_widget)
        box.setObjectName("unexpected_error_dialog")
        box.setAccessibleName("Unexpected error")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("KCC Desktop: something went wrong")
        box.setText(f"Something unexpected went wrong:\n{summary}")
        box.setInformativeText(WHAT_TO_DO)
        box.setDetailedText(details)
        open_logs = box.addButton("Open Log Folder", QMessageBox.ButtonRole.ActionRole)
        open_logs.clicked.connect(open_log_folder)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget)
        self.dialog = box
        box.open()   # modeless call: the event loop keeps running (and tests can close it)

    def _forget(self, *_args) -> None:
        self.dialog = None


def open_log_folder() -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))
