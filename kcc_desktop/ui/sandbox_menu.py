"""The Sandbox menu, present only in demo mode: act as the bookkeeper in the sandbox, or switch package.

Everything here goes over HTTP to the in-process sandbox, so it runs on a worker thread.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from ..connectors.provider import Provider
from ..demo.payments import KINDS, DemoBookkeeper
from .worker import Worker, run_in_background


class SandboxMenu(QMenu):
    def __init__(self, window: QMainWindow, session) -> None:
        super().__init__("&Sandbox", window)
        self.setObjectName("sandbox_menu")
        self.window_ = window
        self.session = session
        self._workers: list[Worker] = []
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

    def _run(self, fn, on_done) -> Worker:
        self.setEnabled(False)
        worker = run_in_background(fn, parent=self, on_finished=on_done, on_failed=self._on_failed)
        worker.done.connect(lambda: self.setEnabled(True))
        self._workers.append(worker)
        worker.done.connect(lambda w=worker: self._workers.remove(w))
        return worker

    def record_payment(self, kind: str) -> Worker:
        store, provider, urls, ctx = (self.session.ctx.store, self.session.provider, self.session.server.urls(),
                                      self.session.ctx)

        def job(_progress, _cancel) -> str:
            return DemoBookkeeper(store, provider, urls, ctx.package()).record(kind).text

        return self._run(job, self._on_recorded)

    def _on_recorded(self, text: str) -> None:
        self.window_.statusBar().showMessage(f"{text} Fetch Payments on the Import tab to bring it in.", 15000)

    def switch_package(self) -> Worker:
        from ..demo.mode import connect_sandbox

        store, target = self.session.ctx.store, self._other()
        self.session.stop()
        return self._run(lambda _p, _c: connect_sandbox(store, target), self._on_switched)

    def _on_switched(self, result) -> None:
        ctx, provider, server = result
        self.session.ctx.sandbox, self.session.provider, self.session.server = server, provider, server
        self._update_labels()
        if hasattr(self.window_, "set_connection_status"):
            self.window_.set_connection_status(f"{Provider(provider).label} sandbox — connected", True)
        self.window_.statusBar().showMessage(f"The demo now uses the {Provider(provider).label} sandbox.", 10000)

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, "Sandbox", message, QMessageBox.StandardButton.Ok, self.window_)
        box.setObjectName("sandbox_error")
        box.open()   # not exec(): the window keeps running while the message is shown
