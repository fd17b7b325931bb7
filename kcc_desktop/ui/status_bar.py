"""The main window's status bar: the connection, the last sync, the last scheduled run, the company file.

The labels are compact and elide what does not fit (full text in their tooltips), so the messages on the
left are never cut off by them. The sync facts come from the company file (``views.sync_status``), so
reopening books that were synced shows when, and a scheduled run that failed is shown, once, as a
notification the next time the window opens (or while it is open: the record is read every minute).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSizePolicy

from ..schedule import RunRecord, mark_seen, unseen_failure
from ..store import Store
from ..views.sync_status import sync_facts

CHECK_EVERY_MS = 60_000


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, then "…"; the whole text is its tooltip."""

    def __init__(self, text: str = "", max_width: int = 300, parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMaximumWidth(max_width)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    @property
    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str, tooltip: str | None = None) -> None:
        self._full = text
        self.setToolTip(tooltip or text)
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        """As wide as the whole text (up to the maximum): the layout shrinks it only when space runs out."""
        hint = super().sizeHint()
        wanted = QFontMetrics(self.font()).horizontalAdvance(self._full) + 8
        return QSize(min(wanted, self.maximumWidth()), hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(60, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = min(self.maximumWidth(), self.width() if self.isVisible() else self.sizeHint().width())
        self.setText(QFontMetrics(self.font()).elidedText(self._full, Qt.TextElideMode.ElideRight, max(width, 60)))


def when_text(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone()
    today = datetime.now().astimezone().date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d/%m/%Y %H:%M")


class SyncStatus(QObject):
    """Adds the permanent labels to ``window``'s status bar and keeps the sync facts current."""

    failure_shown = Signal(object)   # the RunRecord whose failure was just notified

    def __init__(self, window: QMainWindow, store: Store) -> None:
        super().__init__(window)
        self.window_ = window
        self.store = store
        self.notice: QMessageBox | None = None
        bar = window.statusBar()
        # wide enough for "● Xero sandbox: Demo Company (UK) — connected", with room left for the message
        self.connection_label = ElidedLabel("Not connected", 340)
        self.connection_label.setObjectName("connection_label")
        self.connection_label.setAccessibleName("Connection")
        self.last_sync_label = ElidedLabel("Last sync: never", 170)
        self.last_sync_label.setObjectName("last_sync_label")
        self.last_sync_label.setAccessibleName("Last sync")
        self.schedule_label = ElidedLabel("", 230)
        self.schedule_label.setObjectName("scheduled_run_label")
        self.schedule_label.setAccessibleName("Last scheduled sync")
        self.company_label = ElidedLabel(f"File: {Path(store.label).name}", 180)
        self.company_label.setObjectName("company_file_label")
        self.company_label.setAccessibleName("Company file")
        self.company_label.set_full_text(f"File: {Path(store.label).name}", f"Company file: {store.label}")
        for label in (self.connection_label, self.last_sync_label, self.schedule_label, self.company_label):
            bar.addPermanentWidget(label)
        self.schedule_label.hide()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.set_connection_status("Not connected", False)

    def set_connection_status(self, text: str, ok: bool) -> None:
        self.connection_label.set_full_text(("● " if ok else "○ ") + text)
        self.connection_label.setStyleSheet(f"color: {'#2e7d32' if ok else '#b71c1c'};")

    def set_last_sync(self, when: datetime | None) -> None:
        self.last_sync_label.set_full_text(f"Last sync: {when_text(when)}" if when else "Last sync: never")

    def refresh(self) -> None:
        """Read the facts again (after a sync, and every minute for a scheduled run meanwhile)."""
        try:
            facts = sync_facts(self.store)
        except Exception:   # a file being migrated or closed: try again at the next tick
            return
        self.set_last_sync(facts.last_sync)
        self.show_run(facts.last_run)
        failed = unseen_failure(self.store)
        if failed is not None:
            self.notify(failed)

    def show_run(self, record: RunRecord | None) -> None:
        if record is None:
            self.schedule_label.hide()
            return
        state = "✓" if record.ok else "failed"
        colour = "#2e7d32" if record.ok else "#b71c1c"
        detail = f"Scheduled sync at {when_text(record.finished_at)}: {record.summary}"
        if record.notes:
            detail += " " + " ".join(record.notes)
        self.schedule_label.set_full_text(f"Scheduled sync {when_text(record.finished_at)} {state}", detail)
        self.schedule_label.setStyleSheet(f"color: {colour};")
        self.schedule_label.show()

    def notify(self, record: RunRecord) -> QMessageBox:
        """The failed scheduled run, once: nothing it could not send was lost, and what to do about it."""
        mark_seen(self.store, record)
        box = QMessageBox(QMessageBox.Icon.Warning, "Scheduled sync",
                          f"The scheduled sync at {when_text(record.finished_at)} did not finish its work.",
                          QMessageBox.StandardButton.Ok, self.window_)
        box.setObjectName("scheduled_run_failed")
        box.setInformativeText(record.summary + " Everything not sent is still pending: it goes with the next "
                               "run, or with Upload Data.")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda: setattr(self, "notice", None))
        self.notice = box
        box.open()
        self.failure_shown.emit(record)
        return box
