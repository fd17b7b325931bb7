"""The main window's File menu work: importing documents from CSV, opening another company file.

A mixin of ``MainWindow`` (kept apart so the window's own file stays small); it uses the window's
``ctx``, status bar, ``refresh_all`` and ``last_message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from ..context import AppContext
from . import messages
from .worker import Worker

if TYPE_CHECKING:   # the CSV import's modules load when a file is imported, not before the window paints
    from ..ledger.csv_import import ImportReport


class FileMenu(QMainWindow):
    """File → Import Documents… and File → Open Company File…"""

    ctx: AppContext
    last_message: QMessageBox | None
    settings: Any

    def refresh_all(self) -> None:
        raise NotImplementedError

    def new_window(self, ctx: AppContext) -> FileMenu:
        """Another main window like this one, on ``ctx`` (the window class provides it)."""
        raise NotImplementedError

    def on_import_documents_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import documents", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.import_documents(path)

    def import_documents(self, path: str) -> Worker:
        """Import in the background; a summary or the list of bad rows when done."""
        from ..ledger.csv_import import import_documents

        store = self.ctx.store
        self.statusBar().showMessage(f"Importing {Path(path).name}…")
        worker = Worker(lambda _p, _c: import_documents(store, path), owner=self)
        worker.finished.connect(lambda result: self.on_import_finished(path, result))
        worker.failed.connect(lambda message: self.on_import_failed(path, message))
        return worker.start()

    def on_import_finished(self, path: str, report: ImportReport) -> None:
        """``report`` is ledger.csv_import's ImportReport: all imported, or nothing and every bad row."""
        name = Path(path).name
        if report.ok:
            self.statusBar().showMessage(f"Imported {report.imported:,} documents from {name}.", 10000)
            self.refresh_all()
        else:
            self.statusBar().showMessage(f"{name} was not imported: {report.error_count:,} problems.", 10000)
        self.last_message = messages.import_report_box(self, path, report)
        self.last_message.open()

    def on_import_failed(self, path: str, message: str) -> None:
        self.statusBar().clearMessage()
        self.last_message = messages.import_failed_box(self, path, message)
        self.last_message.open()

    def on_open_company_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open company file", str(Path(self.ctx.store.label).parent),
                                              "Company files (*.sqlite *.db);;All files (*)")
        if path:
            self.open_company_file(path)

    def on_new_company_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New company file", str(Path(self.ctx.store.label).parent),
                                              "Company files (*.sqlite)")
        if path:
            self.open_company_file(path, new=True)

    def open_company_file(self, path: str, new: bool = False) -> FileMenu | None:
        """A new window on the chosen file (``new``: a new company there, with the standard chart); this one
        closes (its company file with it). Only File → New makes a file; Open refuses a missing one."""
        from ..store import StoreError

        title = "New company file" if new else "Open company file"
        if new and Path(path).exists():
            QMessageBox.warning(self, title, f"{path} already exists. Choose a new name, or open it with File → "
                                             "Open Company File. Nothing was changed.")
            return None
        try:
            ctx = AppContext.open(path, new=new)
        except StoreError as exc:
            QMessageBox.warning(self, title, str(exc))
            return None
        window = self.new_window(ctx)
        app = QApplication.instance()
        if app is not None:   # keep it alive after this one goes
            app.setProperty("kcc_windows", [*(app.property("kcc_windows") or []), window])
        window.show()
        self.close()
        return window

