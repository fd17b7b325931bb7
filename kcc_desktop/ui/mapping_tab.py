"""The Mapping tab: connect, fetch the package's accounts, map nominals / tax codes / bank accounts, options.

Holds no rule: MappingService and OptionsService decide; this adapts them to Qt. Connecting and fetching
talk to the package, so they run in a ``worker.Worker``, their progress written to the messages box;
Apply Default Setup is local and quick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..connectors.connect import ConnectOptions
from ..connectors.loopback import AnswerBox
from ..connectors.provider import Provider
from ..connectors.settings import ConnectionSettings
from ..context import AppContext
from ..sync.mapping import NOMINAL, MappingService
from ..sync.mapping_types import FetchSummary, Suggestion
from . import icons
from .audit_dialog import AuditDialog
from .check_dialog import CheckConnection
from .connection_dialog import ConnectionDialog
from .grid import GridPanel, GridView
from .mapping_delegate import AccountComboDelegate
from .mapping_models import BankMappingModel, NominalMappingModel, TaxMappingModel
from .options_panel import OptionsPanel
from .settings import UiSettings
from .tenant_chooser import TenantChooser
from .worker import JobFn, ProgressFn, Worker

EDIT_TRIGGERS = (QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                 | QAbstractItemView.EditTrigger.SelectedClicked)


class MappingTab(QWidget):
    """Actions → Connect / Connection Settings / Paste Sign-in Address / Get Nominal & Tax Accounts /
    Apply Default Setup / View Audit Trail."""

    connected = Signal(object)      # ConnectionSettings, after Connect succeeded
    fetched = Signal(object)        # FetchSummary, after Get Nominal & Tax Accounts succeeded
    failed = Signal(str)            # a background job's plain-words failure
    defaults_applied = Signal(list)  # [Suggestion]
    options_changed = Signal(str)   # an option's name, after it was saved (e.g. refresh the payment action)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store = ctx.store
        self.open_browser = True     # False for headless runs: the address to open is shown instead
        self.tenant_chooser = TenantChooser(self)   # asks which organisation, when a sign-in has several
        self.worker: Worker | None = None
        self.service = MappingService(self.store)
        self._ui = UiSettings()

        self.connect_action = QAction(icons.icon("connect"), "&Connect…", self)
        self.connect_action.setToolTip("Sign in to the accounting package in your browser")
        self.connect_action.triggered.connect(self.on_connect_triggered)
        self.settings_action = QAction("Connection &Settings…", self)
        self.settings_action.setToolTip("Client id, scopes, environment and redirect URI for the next Connect")
        self.settings_action.triggered.connect(self.on_settings_triggered)
        self.paste_action = QAction("&Paste Sign-in Address…", self)
        self.paste_action.setToolTip("While connecting: paste the address the browser ended on, if it did not come "
                                     "back to KCC Desktop by itself")
        self.paste_action.setEnabled(False)
        self.paste_action.triggered.connect(self.on_paste_triggered)
        self.answers: AnswerBox | None = None      # where a pasted address goes while Connect waits
        self.connection_dialog: ConnectionDialog | None = None
        self.paste_dialog: QInputDialog | None = None
        self.fetch_action = QAction(icons.icon("refresh"), "&Get Nominal && Tax Accounts", self)
        self.fetch_action.setToolTip("Fetch the package's chart of accounts, tax rates and bank accounts")
        self.fetch_action.triggered.connect(self.on_fetch_triggered)
        self.apply_defaults_action = QAction("&Apply Default Setup", self)
        self.apply_defaults_action.setToolTip("Map by code, then by name and type; never changes a mapping you set")
        self.apply_defaults_action.triggered.connect(self.on_apply_defaults_triggered)
        self.audit_action = QAction("View &Audit Trail…", self)
        self.audit_action.triggered.connect(self.on_audit_triggered)
        self.check = CheckConnection(self, self)   # Check Connection: kcc-desktop check in a dialog (check_dialog.py)
        self.actions_list = [self.connect_action, self.settings_action, self.paste_action, None, self.fetch_action,
                             self.check.action, self.apply_defaults_action, None, self.audit_action]
        self.menu_actions = self.actions_list   # listed under the window's Actions menu

        self.actions_button = QToolButton()
        self.actions_button.setText("Actions")
        self.actions_button.setAccessibleName("Mapping actions")
        self.actions_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.actions_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.actions_button)
        for action in self.actions_list:
            menu.addSeparator() if action is None else menu.addAction(action)
        self.actions_button.setMenu(menu)
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Connection and fetch status")
        self.status_label.setWordWrap(True)   # long texts wrap rather than widen the window

        self.delegate = AccountComboDelegate(self)
        self.nominal_model = NominalMappingModel(self.service, self)
        self.tax_model = TaxMappingModel(self.service, self)
        self.bank_model = BankMappingModel(self.service, self)
        self.nominal_grid = self._grid(self.nominal_model, "mapping_nominals", "Nominal mapping", [3])
        self.tax_grid = self._grid(self.tax_model, "mapping_tax", "Tax code mapping", [3, 4])
        self.bank_grid = self._grid(self.bank_model, "mapping_banks", "Bank account mapping", [3])
        self.grids = (self.nominal_grid, self.tax_grid, self.bank_grid)
        self.tabs = QTabWidget()
        self.tabs.addTab(GridPanel(self.nominal_grid, title="Nominal codes"), "Nominal Codes")
        self.tabs.addTab(GridPanel(self.tax_grid, title="Tax codes"), "Tax Codes")
        self.tabs.addTab(GridPanel(self.bank_grid, title="Bank accounts"), "Bank Accounts")

        self.options_panel = OptionsPanel(self.store)
        self.options_panel.option_changed.connect(self.on_option_changed)
        self.options_panel.option_failed.connect(self.show_message)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.options_panel)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(315)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([955, 315])
        state = self._ui.splitter_state("mapping")
        if state is not None:
            self.splitter.restoreState(state)
        self.splitter.splitterMoved.connect(
            lambda *_: self._ui.set_splitter_state("mapping", self.splitter.saveState()))

        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setAccessibleName("Mapping messages")
        self.messages.setMaximumHeight(130)
        self.messages.setPlaceholderText("What Connect, Get Nominal & Tax Accounts and Apply Default Setup did "
                                         "appears here.")

        # What Connect signs in to. Not a setting: the package in use is always the connection's.
        self.package_combo = QComboBox()
        self.package_combo.setAccessibleName("Package to connect to")
        self.package_combo.setToolTip("Connect signs in to this accounting package")
        for provider in Provider:
            self.package_combo.addItem(provider.label, provider.value)
        self.package_combo.setCurrentIndex(self.package_combo.findData(str(self.service.provider)))

        top = QHBoxLayout()
        top.addWidget(self.actions_button)
        top.addWidget(QLabel("Package:"))
        top.addWidget(self.package_combo)
        top.addWidget(self.status_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.messages)
        self.reload()

    def _grid(self, model, key: str, name: str, editable_columns: list[int]) -> GridView:
        grid = GridView(model, key, name=name)
        grid.setEditTriggers(EDIT_TRIGGERS)
        for column in editable_columns:
            grid.setItemDelegateForColumn(column, self.delegate)
        grid.set_context_actions(self.actions_list)
        model.mapping_changed.connect(lambda text: self.show_message(f"Mapped {text}."))
        model.mapping_failed.connect(self.show_message)
        return grid

    # --- refresh ----------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read everything (after a fetch, a provider change, or another window's edits)."""
        self.service.refresh()
        for model in (self.nominal_model, self.tax_model, self.bank_model):
            model.reload()
        self.options_panel.reload()
        self.update_status()

    def update_status(self) -> None:
        from ..connectors.connect import status

        try:
            info = status(self.ctx.settings, self.ctx.token_store())
        except Exception as exc:
            info = {"connected": False, "message": str(exc), "organisation": None}
        package = Provider.label_of(self.service.provider)
        parts = [package]
        if info.get("connected") and info.get("provider") == self.service.provider:
            parts.append(f"connected to {info['organisation']}")
        else:
            parts.append("not connected (Actions → Connect)")
        when = self.service.fetched_at()
        parts.append(f"accounts fetched {when.astimezone():%d %b %Y %H:%M}" if when
                     else "accounts not fetched yet (Actions → Get Nominal & Tax Accounts)")
        self.status_label.setText(" · ".join(parts))

    def show_message(self, text: str) -> None:
        self.messages.appendPlainText(text)

    def show_nominal(self, nominal_code: str) -> None:
        """Open on one nominal (the Export tab's "map this nominal" link)."""
        self.tabs.setCurrentIndex(0)
        local_id = self.service.find_local(NOMINAL, nominal_code)
        self.nominal_grid.select_ids([local_id])
        row = self.nominal_model.row_of(local_id)
        if row is not None:
            self.nominal_grid.scrollTo(self.nominal_grid.proxy.mapFromSource(self.nominal_model.index(row, 3)))

    # --- actions -----------------------------------------------------------------------------------------

    def _busy(self, busy: bool) -> None:
        for action in (self.connect_action, self.settings_action, self.fetch_action, self.apply_defaults_action):
            action.setEnabled(not busy)

    def _start(self, job: JobFn, on_finished: Callable[[Any], None]) -> Worker:
        self._busy(True)
        worker = Worker(job, owner=self)
        worker.progress.connect(self.on_worker_progress)
        worker.finished.connect(on_finished)
        worker.failed.connect(self.on_worker_failed)
        worker.done.connect(self.on_worker_done)
        self.worker = worker
        return worker.start()

    def on_worker_progress(self, _done: int, _total: int, text: str) -> None:
        if text:
            self.show_message(text)

    def on_worker_done(self) -> None:
        self.worker = None
        self.answers = None
        self.paste_action.setEnabled(False)
        self._busy(False)

    def on_connect_triggered(self) -> None:
        self.start_connect(None)

    def on_settings_triggered(self) -> None:
        dialog = ConnectionDialog(self.package_combo.currentData(), self.ctx.settings, self)
        dialog.connect_requested.connect(self.start_connect)
        self.connection_dialog = dialog
        dialog.open()

    def start_connect(self, options: ConnectOptions | None) -> None:
        """Connect in the background; ``options`` (from Connection Settings) are saved only if it succeeds."""
        from ..connectors.connect import connect
        from ..connectors.tokens import TokenStore
        from ..settings_db import DbSettingsStore

        provider = self.package_combo.currentData()
        store, open_browser, chooser = self.store, self.open_browser, self.tenant_chooser
        answers = self.answers = AnswerBox()
        self.show_message(f"Connecting to {Provider(provider).label}: sign in in your browser…")

        def job(progress: ProgressFn, _cancel: threading.Event) -> ConnectionSettings:
            return connect(provider, DbSettingsStore(store), TokenStore(), options=options, open_browser=open_browser,
                           choose_tenant=chooser, print_fn=lambda text: progress(0, 1, text), answers=answers)
        worker = self._start(job, self.on_connect_finished)
        self.paste_action.setEnabled(True)
        worker.cancel_requested.connect(chooser.refuse)   # the window closing answers an open question

    def on_paste_triggered(self) -> None:
        dialog = QInputDialog(self)
        dialog.setObjectName("paste_sign_in_dialog")
        dialog.setWindowTitle("Paste Sign-in Address")
        dialog.setLabelText("The whole address the browser ended on after you signed in:")
        dialog.textValueSelected.connect(self.on_address_pasted)
        self.paste_dialog = dialog
        dialog.open()

    def on_address_pasted(self, text: str) -> None:
        if self.answers is None:
            self.show_message("No Connect is waiting for a sign-in now: use Connect first.")
            return
        try:
            self.answers.paste(text)
        except ValueError as exc:
            self.show_message(str(exc))

    def on_connect_finished(self, settings: ConnectionSettings) -> None:
        self.show_message(f"Connected to {settings.organisation_name or settings.tenant_id}. "
                          "Next: Actions → Get Nominal & Tax Accounts.")
        self._rebuild_service()
        self.connected.emit(settings)

    def on_fetch_triggered(self) -> None:
        ctx, provider = self.ctx, self.service.provider
        self.show_message("Getting nominal and tax accounts…")
        self._start(lambda _p, _c: MappingService(ctx.store, provider).fetch(ctx.package()), self.on_fetch_finished)

    def on_fetch_finished(self, summary: FetchSummary) -> None:
        self.reload()
        self.show_message(summary.text)
        self.fetched.emit(summary)

    def on_worker_failed(self, message: str) -> None:
        self.show_message(message)
        self.update_status()
        self.failed.emit(message)

    def on_apply_defaults_triggered(self) -> None:
        suggestions: list[Suggestion] = self.service.apply_default_setup()
        self.reload()
        made = [s for s in suggestions if s.remote_code]
        lines = [f"Apply Default Setup: {len(made)} mapped, {len(suggestions) - len(made)} left for you "
                 "(mappings you set were not touched)."]
        lines += [f"  {s.local_code} → {s.remote_code or '—'}: {s.reason}" for s in suggestions]
        self.show_message("\n".join(lines))
        self.defaults_applied.emit(suggestions)

    def on_audit_triggered(self) -> None:
        self.audit_dialog = AuditDialog(self.store, self)
        self.audit_dialog.show()

    def on_option_changed(self, name: str) -> None:
        self.options_changed.emit(name)

    def _rebuild_service(self) -> None:
        self.service = MappingService(self.store)
        self.package_combo.setCurrentIndex(self.package_combo.findData(str(self.service.provider)))
        for model in (self.nominal_model, self.tax_model, self.bank_model):
            model.service = self.service
        self.reload()
