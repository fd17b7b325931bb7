"""The Export tab's parts below its toolbar: the Error Feedback panel (open problems, or resolved ones too,
and a date range) and the dialog that shows one problem in full.

Kept apart from ``export_tab.py`` (actions and jobs) so each file says one thing.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..views.export import FeedbackRow
from .export_models import FeedbackModel, when_text
from .grid import GridPanel, GridView
from .qdates import to_date


class FeedbackPanel(GridPanel):
    """Error Feedback: open problems by default; "Show resolved" adds those fixed since; a date range."""

    def __init__(self, grid: GridView, model: FeedbackModel, parent=None) -> None:
        super().__init__(grid, parent, title="Error Feedback")
        self.model = model
        self.show_resolved = QCheckBox("Show resolved")
        self.show_resolved.setAccessibleName("Show resolved problems")
        self.show_resolved.setToolTip("Problems whose item has since been exported (or marked so) are resolved: "
                                      "hidden unless this is ticked")
        self.show_resolved.toggled.connect(model.set_show_resolved)
        self.date_filter = QCheckBox("Last seen from")
        self.date_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit, name in ((self.date_from, "Feedback from date"), (self.date_to, "Feedback to date")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
            edit.dateChanged.connect(self._apply_date_range)
        self.date_filter.toggled.connect(self._apply_date_range)
        # Into GridPanel's title row (title, count, stretch, filter), after the count.
        for i, w in enumerate((self.show_resolved, self.date_filter, self.date_from, QLabel("to"), self.date_to)):
            self.top_row.insertWidget(2 + i, w)

    def _apply_date_range(self) -> None:
        if self.date_filter.isChecked():
            self.model.set_date_range(to_date(self.date_from.date()), to_date(self.date_to.date()))
        else:
            self.model.set_date_range(None, None)


class FeedbackDialog(QDialog):
    """One problem in full: the package's own words (or KCC's finding, so labelled), what to do, when."""

    open_mapping_requested = Signal(str)

    def __init__(self, row: FeedbackRow, package: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedback_dialog")
        self.setWindowTitle(f"Error Feedback: {row.item}")
        self.resize(640, 420)
        self.row = row
        source = "KCC's own pre-check" if row.from_kcc else f"{package}, in its own words"
        self.message = QPlainTextEdit(row.message)
        self.message.setReadOnly(True)
        self.message.setAccessibleName("Message")
        self.advice = QPlainTextEdit(row.advice)
        self.advice.setReadOnly(True)
        self.advice.setAccessibleName("What to do")
        form = QFormLayout()
        form.addRow("Item:", QLabel(row.item))
        form.addRow("From:", QLabel(source))
        seen = f"{row.times:,} time{'s' if row.times != 1 else ''}: first {when_text(row.first_seen)}, " \
               f"last {when_text(row.at)}"
        form.addRow("Seen:", QLabel(seen))
        form.addRow("State:", QLabel(FeedbackModel.state_text(row)))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Message:"))
        layout.addWidget(self.message, 2)
        layout.addWidget(QLabel("What to do:"))
        layout.addWidget(self.advice, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        if row.nominal_code:
            button = buttons.addButton(f"Map nominal {row.nominal_code}…", QDialogButtonBox.ButtonRole.ActionRole)
            button.clicked.connect(self._open_mapping)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _open_mapping(self) -> None:
        self.open_mapping_requested.emit(self.row.nominal_code)
        self.accept()
