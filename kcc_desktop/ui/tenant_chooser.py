"""Choosing an organisation when one sign-in covers several, asked on the GUI thread.

``connect()`` runs on a worker thread and calls ``choose_tenant(tenants)`` there; this object carries the
question to the GUI thread (a queued signal), shows a dialog without blocking the window, and hands the
answer back to the waiting worker.
"""

from __future__ import annotations

import queue

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QInputDialog, QWidget

from ..connectors.base import ConnectorError


class TenantChooser(QObject):
    _asked = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.dialog: QInputDialog | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()   # the chosen tenant id, or None: refused
        self._refused = False
        self._asked.connect(self._on_asked, Qt.ConnectionType.QueuedConnection)

    def __call__(self, tenants: list[dict[str, str]]) -> str:
        """On the worker thread: blocks until the user has chosen (or refused) in the dialog."""
        self._asked.emit(tenants)
        answer = self._answers.get()
        if answer is None:
            raise ConnectorError("No organisation was chosen, so nothing was connected.",
                                 "Use Connect again and choose the organisation this company file belongs to.")
        return answer

    def _on_asked(self, tenants: list[dict[str, str]]) -> None:
        if self._refused:   # the window closed before the question reached it: "none", with no dialog
            self._answers.put(None)
            return
        names = [t["name"] for t in tenants]
        dialog = QInputDialog(self.parent_widget)
        dialog.setObjectName("choose_organisation_dialog")
        dialog.setWindowTitle("Choose an organisation")
        dialog.setLabelText("Your sign-in covers several organisations. Which one does this company file "
                            "belong to?")
        dialog.setComboBoxItems(names)
        dialog.setComboBoxEditable(False)
        dialog.finished.connect(lambda result: self._on_finished(result, tenants, names))
        self.dialog = dialog
        dialog.open()

    def _on_finished(self, result: int, tenants: list[dict[str, str]], names: list[str]) -> None:
        chosen = self.dialog.textValue() if self.dialog is not None else ""
        accepted = result == QDialog.DialogCode.Accepted and chosen in names
        self.dialog = None
        self._answers.put(tenants[names.index(chosen)]["tenant_id"] if accepted else None)

    def refuse(self) -> None:
        """Closing the window: answer a question still open with "none", so the waiting job can end; one asked
        later (the sign-in was still under way) gets "none" at once, with no dialog on a closing window."""
        self._refused = True
        if self.dialog is not None:
            self.dialog.reject()
