"""Record Payment…: a payment entered in the ledger, behind the payment guard.

``RecordPaymentAction`` follows the chosen company: with the integration on it is disabled for account
customers and suppliers (their payments come from the package) and its tooltip carries the guard's own
message. The dialog still lets the service decide, so a change made meanwhile (the integration switched
on) is refused with the same message. A non-account customer's prepayment can be allocated to one of its
open invoices (the selected one by default): that allocation is queued for export. What it reads and the
payment it records go through ``views.payments``.
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
from ..views.payments import Recorded, bank_choices, company_choices, open_invoices, payment_kind, record_payment
from .qdates import to_date

KIND_LABELS = {"receipt": "Customer receipt", "prepayment": "Prepayment (non-account customer)",
               "supplier_payment": "Supplier payment"}


class RecordPaymentAction(QAction):
    """Put it in a menu or a grid's context menu and call ``set_company`` as the selection changes."""

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__("Record &Payment…", parent)
        self.store = store
        self.company_id: int | None = None
        self.document_id: int | None = None
        self.dialog: PaymentDialog | None = None
        self.triggered.connect(self.on_triggered)
        self.refresh()

    def set_company(self, company_id: int | None, document_id: int | None = None) -> None:
        self.company_id, self.document_id = company_id, document_id
        self.refresh()

    def refresh(self) -> None:
        """Re-check the guard (call after the integration option changes)."""
        if self.company_id is None:
            self.setEnabled(False)
            self.setToolTip("Choose a customer or supplier first.")
            return
        reason = payment_refusal(self.store, self.company_id)
        self.setEnabled(reason is None)
        self.setToolTip(reason or "Record a prepayment from a non-account customer (allocated to its invoice)")

    def on_triggered(self) -> None:
        owner = self.parent()
        self.dialog = PaymentDialog(self.store, self.company_id, owner if isinstance(owner, QWidget) else None,
                                    invoice_id=self.document_id)
        self.dialog.open()


class PaymentDialog(QDialog):
    def __init__(self, store: Store, company_id: int | None = None, parent=None, *,
                 invoice_id: int | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.payment_id: int | None = None
        self.recorded: Recorded | None = None
        self.invoice_id = invoice_id
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
        self.invoice_combo = QComboBox()
        self.invoice_combo.setAccessibleName("Allocate to invoice")
        self.invoice_combo.setToolTip("The prepayment pays this invoice; the allocation goes to the accounting "
                                      "package with the next Upload Data")
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
        form.addRow("Allocate to:", self.invoice_combo)
        self.form = form
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
        self.invoice_combo.clear()
        if kind == "prepayment":
            self.invoice_combo.addItem("(none: keep it on account)", None)
            for choice in open_invoices(self.store, company_id):
                self.invoice_combo.addItem(choice.label, choice.id)
            found = self.invoice_combo.findData(self.invoice_id) if self.invoice_id is not None else -1
            self.invoice_combo.setCurrentIndex(max(found, 0))
        self.form.setRowVisible(self.invoice_combo, kind == "prepayment")
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
            self.recorded = record_payment(self.store, company_id, bank_id, amount, to_date(self.date_edit.date()),
                                           self.reference_edit.text().strip(),
                                           allocate_to=self.invoice_combo.currentData())
        except LedgerError as exc:   # the guard included: the service's own words
            self.error_label.setText(str(exc))
            return
        self.payment_id = self.recorded.payment_id
        self.accept()

    @property
    def result_text(self) -> str:
        """What was recorded, for the tab's status line."""
        r = self.recorded
        if r is None:
            return ""
        if r.invoice:
            return (f"Prepayment recorded and {r.allocated:,.2f} allocated to {r.invoice}: the allocation is "
                    "queued for export (Export tab, Pending Export).")
        return "Payment recorded. A prepayment goes to the accounting package when it is allocated to an invoice."
