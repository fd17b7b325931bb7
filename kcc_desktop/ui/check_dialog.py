"""Mapping → Actions → Check Connection: ``kcc-desktop check`` in the window.

``CheckConnection`` owns the one QAction; it runs ``sync.check.check_connection`` in a ``worker.Worker``
(through the Mapping tab's ``_start``, so the tab's other actions wait for it), writes the verdict to the
tab's messages box and shows each problem, with what to do, in a ``CheckDialog``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..context import AppContext
from ..sync.check import CheckReport
from ..sync.mapping import MappingService
from .worker import JobFn, ProgressFn, Worker


class MappingTabLike(Protocol):
    """What the action uses of the Mapping tab (not imported: the tab imports this module)."""

    ctx: AppContext
    service: MappingService
    worker: Worker | None

    def show_message(self, text: str) -> None: ...

    def _start(self, job: JobFn, on_finished: Callable[[Any], None]) -> Worker: ...


class CheckDialog(QDialog):
    """The check's verdict: one row per problem, its message and what to do."""

    def __init__(self, report: CheckReport, package_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check Connection")
        self.setAccessibleName("Check Connection results")
        self.summary = QLabel(f"{package_name}: nothing found that would stop an upload." if report.ok else
                              f"{package_name}: {len(report.problems)} problem(s) would stop uploads. "
                              "Fix them, then check again.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(len(report.problems), 2)
        self.table.setAccessibleName("Problems found")
        self.table.setHorizontalHeaderLabels(["Problem", "What to do"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        for row, problem in enumerate(report.problems):
            for column, text in enumerate((problem.message, problem.advice)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.ItemDataRole.UserRole, problem.code)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.setVisible(not report.ok)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(860, 380 if report.problems else 120)


class CheckConnection(QObject):
    """The Check Connection action of a Mapping tab; ``checked`` carries the CheckReport."""

    checked = Signal(object)

    def __init__(self, tab: MappingTabLike, parent: QWidget) -> None:
        super().__init__(parent)
        self.tab = tab
        self.parent_widget = parent
        self.dialog: CheckDialog | None = None
        self.action = QAction("Check C&onnection…", parent)
        self.action.setToolTip("Read the organisation's settings and list what would stop the pending documents "
                               "from uploading (lock dates, currencies, plan limits, mappings, sign-in scopes)")
        self.action.triggered.connect(self.start)

    def start(self) -> None:
        if self.tab.worker is not None:
            return   # another of the tab's jobs is running; its actions are disabled until it ends
        ctx = self.tab.ctx
        self.tab.show_message("Checking the connection and the organisation's settings…")

        def job(_progress: ProgressFn, _cancel: threading.Event) -> CheckReport:
            from ..sync.check import check_connection

            return check_connection(ctx.store, ctx.package())
        self.action.setEnabled(False)
        worker = self.tab._start(job, self.on_finished)
        worker.done.connect(lambda: self.action.setEnabled(True))

    def on_finished(self, report: CheckReport) -> None:
        from ..connectors.provider import Provider

        self.tab.show_message(report.text)
        self.dialog = CheckDialog(report, Provider.label_of(self.tab.service.provider, short=True), self.parent_widget)
        self.dialog.show()
        self.checked.emit(report)
