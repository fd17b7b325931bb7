"""Record Payment…: a payment entered in the ledger, behind the account-customer payment guard.

``RecordPaymentAction`` follows the chosen company: with the integration on it is disabled for account
customers and its tooltip carries the guard's own message. The dialog still lets the service decide, so
a change made meanwhile (the integration switched on) is refused with the same message. What it reads
and the payment it records go through ``views.payments``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QDate
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..ledger.errors import LedgerError
from ..store import Store
from ..sync.guard import payment_refusal
from ..views.payments import bank_choices, company_choices, payment_kind, record_payment
from .qdates import to_date

KIND_LABELS = {"receipt": "Customer receipt", "prepayment": "Prepayment (non-account customer)",
               "supplier_payment": "Supplier payment"}


class RecordPaymentAction(QAction):
    """Put it in a menu or a grid's context menu and call ``set_company`` as the selection changes."""

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__("Record &Payment…", parent)
        self.store = store
        self.company_id: int | None = None
        self.dialog: PaymentDialog | None = None
        self.triggered.connect(self.on_triggered)
        self.refresh()

    def set_company(self, company_id: int | None) -> None:
        self.company_id = company_id
        self.refresh()

    def refresh(self) -> None:
        """Re-check the guard (call after the integration option changes)."""
        if self.company_id is None:
            self.setEnabled(False)
            self.setToolTip("Choose a customer or supplier first.")
            return
        reason = payment_refusal(self.store, self.company_id)
        self.setEnabled(reason is None)
        self.setToolTip(reason or "Record a payment, or a prepayment from a non-account customer")

    def on_triggered(self) -> None:
        owner = self.parent()
        self.dialog = PaymentDialog(self.store, self.company_id, owner if isinstance(owner, QWidget) else None)
        self.dialog.open()


class PaymentDialog(QDialog):
    def __init__(self, store: Store, company_id: int | None = None, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.payment_id: int | None = None
        self.setWindowTitle("Record Payment")
        self.company_combo = QComboBox()
        self.company_combo.setAccessibleName("Company")
        self.bank_combo = QComboBox()
        self.bank_combo.setAccessibleName("Bank account")
        for company in company_choices(store):
            self.company_combo.addItem(company.label, company.id)
        for bank in bank_choices(store):
            self.bank_combo.addItem(bank.label, bank.id)
        self.kind_label = QLabel()
        self.amount_edit = QLineEdit()
        self.amount_edit.setAccessibleName("Amount")
        self.amount_edit.setPlaceholderText("0.00")
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.reference_edit = QLineEdit()
        self.reference_edit.setAccessibleName("Reference")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b23c17;")
        self.error_label.setAccessibleName("Why the payment cannot be recorded")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.on_ok_clicked)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Company:", self.company_combo)
        form.addRow("Type:", self.kind_label)
        form.addRow("Bank account:", self.bank_combo)
        form.addRow("Amount:", self.amount_edit)
        form.addRow("Date:", self.date_edit)
        form.addRow("Reference:", self.reference_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.company_combo.currentIndexChanged.connect(lambda _i: self.on_company_changed())
        if company_id is not None:
            self.company_combo.setCurrentIndex(max(self.company_combo.findData(company_id), 0))
        self.on_company_changed()

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def on_company_changed(self) -> None:
        company_id = self.company_combo.currentData()
        if company_id is None:
            return
        kind = payment_kind(self.store, company_id)
        self.kind_label.setText(KIND_LABELS[kind] if kind is not None else "")
        reason = payment_refusal(self.store, company_id)
        self.error_label.setText(reason or "")
        self.ok_button.setEnabled(reason is None)
        self.ok_button.setToolTip(reason or "")

    def on_ok_clicked(self) -> None:
        try:
            amount = Decimal(self.amount_edit.text().replace(",", "").strip())
        except InvalidOperation:
            self.error_label.setText("Enter the amount as a number, e.g. 120.00.")
            return
        company_id, bank_id = self.company_combo.currentData(), self.bank_combo.currentData()
        if company_id is None or bank_id is None:
            self.error_label.setText("Choose the company and the bank account first.")
            return
        try:
            self.payment_id = record_payment(self.store, company_id, bank_id, amount, to_date(self.date_edit.date()),
                                             self.reference_edit.text().strip())
        except LedgerError as exc:   # the guard included: the service's own words
            self.error_label.setText(str(exc))
            return
        self.accept()
