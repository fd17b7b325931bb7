"""The Sandbox menu, present only in demo mode: act as the bookkeeper in the sandbox, or switch package.

Everything here goes over HTTP to the in-process sandbox, so it runs in a ``worker.Worker``; the menu is
disabled while one runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox

from ..connectors.provider import Provider
from ..demo.mode import DemoSession
from ..demo.payments import KINDS, DemoBookkeeper
from .main_window import MainWindow
from .worker import JobFn, ProgressFn, Worker


class SandboxMenu(QMenu):
    def __init__(self, window: MainWindow, session: DemoSession) -> None:
        super().__init__("&Sandbox", window)
        self.setObjectName("sandbox_menu")
        self.window_ = window
        self.session = session
        self.worker: Worker | None = None   # the running job's, until it is done
        self.payment_actions: dict[str, QAction] = {}
        self.last_error = ""
        for kind, text in KINDS.items():
            action = QAction(f"Record {text}", self)
            action.setObjectName(f"sandbox_record_{kind}")
            action.setToolTip(f"Records this in the {self._label()} sandbox, as a bookkeeper would in the package.")
            action.triggered.connect(lambda _=False, k=kind: self.record_payment(k))
            self.addAction(action)
            self.payment_actions[kind] = action
        self.addSeparator()
        self.switch_action = QAction(self)
        self.switch_action.setObjectName("sandbox_switch")
        self.switch_action.triggered.connect(self.switch_package)
        self.addAction(self.switch_action)
        self._update_labels()

    def _label(self) -> str:
        return Provider(self.session.provider).label

    def _other(self) -> str:
        return "quickbooks" if self.session.provider == "xero" else "xero"

    def _update_labels(self) -> None:
        self.switch_action.setText(f"Switch the Demo to the {Provider(self._other()).label} Sandbox")

    def _run(self, fn: JobFn, on_done: Callable[[Any], None]) -> Worker:
        self.setEnabled(False)
        worker = Worker(fn, owner=self)
        worker.finished.connect(on_done)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        self.worker = worker
        return worker.start()

    def _on_done(self) -> None:
        self.worker = None
        self.setEnabled(True)

    def record_payment(self, kind: str) -> Worker:
        ctx = self.session.ctx
        store, provider, urls = ctx.store, self.session.provider, ctx.sandbox.urls()

        def job(_progress: ProgressFn, _cancel: threading.Event) -> str:
            return DemoBookkeeper(store, provider, urls, ctx.package()).record(kind).text

        return self._run(job, self._on_recorded)

    def _on_recorded(self, text: str) -> None:
        self.window_.statusBar().showMessage(f"{text} Fetch Payments on the Import tab to bring it in.", 15000)

    def switch_package(self) -> Worker:
        from ..demo.mode import connect_sandbox

        store, target = self.session.ctx.store, self._other()
        self.session.stop()
        return self._run(lambda _p, _c: connect_sandbox(store, target), self._on_switched)

    def _on_switched(self, result: tuple[Any, str, Any]) -> None:
        _ctx, provider, server = result
        self.session.ctx.sandbox, self.session.provider, self.session.server = server, provider, server
        self._update_labels()
        # The window follows: the status bar, the Mapping tab (the new package's chart and mappings) and the
        # Export tab (what this package has had, and everything it has not yet, pending).
        self.window_.refresh_connection_status()
        self.window_.statusBar().showMessage(f"The demo now uses the {Provider(provider).label} sandbox.", 10000)

    def _on_failed(self, message: str) -> None:
        """An expected refusal ("no uploaded invoice is waiting for payment") in its own plain words."""
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Information, "Sandbox", message, QMessageBox.StandardButton.Ok,
                          self.window_)
        box.setObjectName("sandbox_error")
        box.open()   # not exec(): the window keeps running while the message is shown
