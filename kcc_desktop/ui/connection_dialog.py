"""Connection Settings: what the next Connect uses (client id and secret, Xero's scopes, Intuit's
environment, the redirect URI), then Connect.

Holds no rule: the values become ``ConnectOptions``, which ``connect`` saves only when the sign-in
succeeds (the client secret goes to the keyring, never the company file). Shown pre-filled with what the
Connect would use today, so leaving a field alone keeps it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..connectors.connect import ConnectOptions, settings_for_connect
from ..connectors.provider import Provider
from ..connectors.settings import (
    DEFAULT_REDIRECT_URI,
    ENV_REDIRECT_URI,
    XERO_SCOPE_SETS,
    SettingsStore,
    parse_scopes,
    scope_setting,
)

SCOPE_CHOICES = [("Granular (apps created on or after 2 March 2026)", "granular"),
                 ("Broad (apps created before 2 March 2026)", "broad"), ("Custom", "custom")]
ENVIRONMENTS = [("Production (production keys)", "production"), ("Sandbox companies (development keys)", "sandbox")]


class ConnectionDialog(QDialog):
    """Emits ``connect_requested(ConnectOptions)`` when the user chooses Connect."""

    connect_requested = Signal(object)

    def __init__(self, provider: str, settings: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider = Provider(provider)
        self.setObjectName("connection_settings_dialog")
        self.setWindowTitle(f"Connection Settings — {self.provider.label}")
        current = settings_for_connect(self.provider, settings)

        self.client_id = QLineEdit(current.client_id)
        self.client_id.setAccessibleName("Client id")
        self.client_id.setPlaceholderText("from your app at developer.xero.com" if self.provider == Provider.XERO
                                          else "from Keys & OAuth at developer.intuit.com")
        self.client_secret = QLineEdit()
        self.client_secret.setAccessibleName("Client secret")
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setPlaceholderText("leave empty to keep the one in the keyring")
        self.environment = QComboBox()
        self.environment.setAccessibleName("Environment")
        for label, value in ENVIRONMENTS:
            self.environment.addItem(label, value)
        self.environment.setCurrentIndex(max(0, self.environment.findData(current.environment)))
        self.scopes = QComboBox()
        self.scopes.setAccessibleName("Scopes")
        for label, value in SCOPE_CHOICES:
            self.scopes.addItem(label, value)
        self.scopes.setCurrentIndex(self.scopes.findData(scope_setting(current.scopes)))
        self.custom_scopes = QLineEdit(" ".join(current.scopes))
        self.custom_scopes.setAccessibleName("Custom scopes")
        self.scopes.currentIndexChanged.connect(self.on_scopes_changed)
        self.redirect_uri = QLineEdit(current.redirect_uri)
        self.redirect_uri.setMinimumWidth(440)   # an address, and its hint, read whole
        self.redirect_uri.setAccessibleName("Redirect URI")
        self.redirect_uri.setToolTip("Exactly as registered with the app. Intuit's production keys need the https "
                                     "page you host (README: Register your app with Intuit).")

        form = QFormLayout()
        form.addRow("Client id:", self.client_id)
        if self.provider == Provider.QUICKBOOKS:
            form.addRow("Client secret:", self.client_secret)
            form.addRow("Environment:", self.environment)
        else:
            form.addRow("Scopes:", self.scopes)
            form.addRow("", self.custom_scopes)
        form.addRow("Redirect URI:", self.redirect_uri)
        self.error_label = QLabel()
        self.error_label.setObjectName("connection_settings_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b71c1c;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.on_connect_clicked)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("These are saved only when the sign-in succeeds."))
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.on_scopes_changed()
        self.environment.currentIndexChanged.connect(self.on_environment_changed)
        self.on_environment_changed()

    def on_environment_changed(self) -> None:
        """Intuit's production keys have no default redirect URI: the field asks for the hosted page."""
        if self.provider == Provider.QUICKBOOKS and self.environment.currentData() == "production":
            self.redirect_uri.setPlaceholderText("the https address of your hosted callback.html")
        else:
            self.redirect_uri.setPlaceholderText(f"{ENV_REDIRECT_URI}, else {DEFAULT_REDIRECT_URI}")

    def on_scopes_changed(self) -> None:
        choice = self.scopes.currentData()
        if choice in XERO_SCOPE_SETS:
            self.custom_scopes.setText(" ".join(XERO_SCOPE_SETS[choice]))
        self.custom_scopes.setReadOnly(choice != "custom")

    def options(self) -> ConnectOptions:
        """The Connect's options (a ValueError names a wrong one)."""
        scopes = None
        if self.provider == Provider.XERO:
            scopes = parse_scopes(self.provider, self.custom_scopes.text())
        return ConnectOptions(client_id=self.client_id.text().strip() or None, scopes=scopes,
                              environment=self.environment.currentData() if self.provider == Provider.QUICKBOOKS
                              else None,
                              redirect_uri=self.redirect_uri.text().strip(),
                              client_secret=self.client_secret.text().strip() or None)

    def on_connect_clicked(self) -> None:
        try:
            options = self.options()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        self.accept()
        self.connect_requested.emit(options)
