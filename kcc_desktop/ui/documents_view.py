"""The Documents tab: every ledger document, filterable and sortable, opening a read-only view, exportable
to CSV like every grid.

The model holds document ids only and reads through ``views.documents``: rows, sorting and filtering
are single SQL queries, run off the GUI thread, so the tab stays smooth on 100,000 documents.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..context import AppContext
from ..models import DocumentKind
from ..views.documents import DocCol, DocumentList, DocumentRow
from . import icons
from .document_dialog import DocumentDialog
from .grid import GridPanel, GridView, LazyTableModel, bind_button, export_grid_csv, plain_label, selection_action
from .payment_dialog import RecordPaymentAction

__all__ = ["DocCol", "DocumentsModel", "DocumentsView"]


def money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


class DocumentsModel(LazyTableModel[DocumentRow, DocCol]):
    Columns = DocCol
    load_in_background = True
    headers: ClassVar[dict[int, str]] = {
        DocCol.KIND: "Type", DocCol.NUMBER: "Number", DocCol.COMPANY: "Company", DocCol.DATE: "Date",
        DocCol.NET: "Net", DocCol.TAX: "Tax", DocCol.GROSS: "Gross", DocCol.OUTSTANDING: "Outstanding",
        DocCol.CURRENCY: "Currency"}
    column_widths: ClassVar[dict[int, int]] = {
        DocCol.KIND: 160, DocCol.NUMBER: 110, DocCol.COMPANY: 330, DocCol.DATE: 95, DocCol.NET: 110, DocCol.TAX: 100,
        DocCol.GROSS: 110, DocCol.OUTSTANDING: 110}
    AMOUNTS = (DocCol.NET, DocCol.TAX, DocCol.GROSS, DocCol.OUTSTANDING)

    def __init__(self, queries: DocumentList, parent=None) -> None:
        super().__init__(parent=parent)
        self.queries = queries

    def load_ids(self) -> list[int]:
        return self.queries.ids()

    def fetch_rows(self, ids) -> dict[int, DocumentRow]:
        return self.queries.rows(ids)

    def display(self, row: DocumentRow, column: DocCol) -> str:
        if column == DocCol.KIND:
            return DocumentKind(row.kind).label
        if column == DocCol.DATE:
            return row.date.isoformat()
        value = row[column + 1]
        if isinstance(value, Decimal):
            return money_text(value)
        return str(value)

    def sort_key(self, row: DocumentRow, column: DocCol) -> Any:
        if column == DocCol.KIND:
            return DocumentKind(row.kind).label
        if column == DocCol.COMPANY:
            return row.company.lower()
        return row[column + 1]

    def sorted_ids(self, ids: list[int], column: DocCol, descending: bool) -> list[int]:
        ordered = self.queries.ordered_ids(column, descending)
        if len(ordered) != len(ids):   # documents added or removed since the last load: keep the shown set
            shown, known = set(ids), set(ordered)
            ordered = [i for i in ordered if i in shown] + [i for i in ids if i not in known]
        return ordered

    def matching_ids(self, text: str) -> set[int]:
        return self.queries.matching(text)

    def alignment(self, column: DocCol) -> Qt.AlignmentFlag | None:
        return Qt.AlignmentFlag.AlignRight if column in self.AMOUNTS else None

    def foreground(self, row: DocumentRow, column: DocCol) -> QColor | None:
        if column == DocCol.OUTSTANDING and row.outstanding == 0:
            return QColor("#757575")   # settled
        if DocumentKind(row.kind).is_credit and column in (DocCol.KIND, DocCol.NUMBER):
            return QColor("#b71c1c")
        return None


class DocumentsView(QWidget):
    """The Documents tab. ``open_action`` and ``refresh_action`` are reused by menus and shortcuts."""

    title = "Documents"

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Documents")
        self.model = DocumentsModel(DocumentList(ctx.store), self)
        self.grid = GridView(self.model, "documents", name="Documents")
        self.grid.id_activated.connect(self.open_document)

        self.open_action = selection_action(self.grid, "&Open Document", self.open_selected, parent=self,
                                            maximum=1, icon=icons.icon("document"),
                                            tooltip="Show the selected document, read-only (Enter)")
        self.refresh_action = selection_action(self.grid, "&Refresh", self.refresh, parent=self, minimum=0,
                                               icon=icons.icon("refresh"),
                                               tooltip="Read the documents again from the company file (F5)")
        # Payments are entered against the selected document's company, behind the payment guard.
        self.payment_action = RecordPaymentAction(ctx.store, self)
        self.payment_action.setObjectName("record_payment_action")
        self.payment_action.triggered.connect(self.on_payment_dialog_opened)
        self.export_csv_action = QAction(icons.icon("export-csv"), "Export grid to CS&V…", self)
        self.export_csv_action.setToolTip("Save the documents shown (filtered, in their order) as a CSV file")
        self.export_csv_action.triggered.connect(lambda: self.on_export_csv_triggered())
        self.grid.selection_changed.connect(self.on_grid_selection_changed)
        self.grid.set_context_actions([self.open_action, self.payment_action, None, self.refresh_action,
                                       self.export_csv_action])
        self.menu_actions = [self.open_action, self.payment_action, self.export_csv_action]

        buttons = QHBoxLayout()
        for action in (self.open_action, self.payment_action, self.refresh_action, self.export_csv_action):
            button = QPushButton(action.icon(), plain_label(action.text()))
            bind_button(button, action)
            buttons.addWidget(button)
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Documents status")
        self.status_label.setWordWrap(True)
        buttons.addWidget(self.status_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        self.panel = GridPanel(self.grid, title="Documents")
        layout.addWidget(self.panel)
        self.refresh()

    def refresh(self) -> None:
        self.model.reload()
        self.panel.update_count()
        self.payment_action.refresh()

    def on_grid_selection_changed(self) -> None:
        current = self.grid.current_id() if self.grid.selected_count() == 1 else None
        self.payment_action.set_company(None if current is None else self.model.queries.company_of(current),
                                        current)

    def on_payment_dialog_opened(self) -> None:
        dialog = self.payment_action.dialog
        if dialog is not None:
            dialog.accepted.connect(lambda: self.on_payment_recorded(dialog.result_text))

    def on_payment_recorded(self, text: str) -> None:
        self.status_label.setText(text)
        self.refresh()

    def on_export_csv_triggered(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export grid to CSV", "documents.csv", "CSV files (*.csv)")
            if not path:
                return None
        rows = export_grid_csv(self.grid, Path(path))
        self.status_label.setText(f"Saved {rows:,} rows to {path}.")
        return Path(path)

    def open_selected(self) -> None:
        ids = self.grid.selected_ids()
        if ids:
            self.open_document(ids[0])

    def open_document(self, document_id: int) -> DocumentDialog:
        dialog = DocumentDialog(self.ctx.store, document_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.last_dialog = dialog
        return dialog

