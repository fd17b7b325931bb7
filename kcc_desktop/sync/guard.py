"""The payment guard, asked before a payment is entered (the ledger enforces it again on save).

The rule itself lives in ``ledger.service.check_payment_allowed``; this only lets a window ask
"would it be refused, and why?" so the payment action can be disabled with the reason as its tooltip.
"""

from __future__ import annotations

from ..ledger.errors import PaymentGuardError
from ..ledger.service import check_payment_allowed
from ..models import Company, PaymentKind
from ..store import Store


def payment_kind_for(company: Company) -> PaymentKind:
    """What a payment entered for this company is: a supplier payment, a receipt or a prepayment."""
    if company.kind == "supplier":
        return PaymentKind.SUPPLIER_PAYMENT
    return PaymentKind.RECEIPT if company.is_account else PaymentKind.PREPAYMENT


def payment_refusal(store: Store, company_id: int, kind: str | None = None) -> str | None:
    """The guard's message if a ledger payment for this company would be refused, else None."""
    with store.session() as s:
        company = s.get(Company, company_id)
        if company is None:
            return "Choose a customer or supplier first."
        try:
            check_payment_allowed(s, company, kind or payment_kind_for(company))
        except PaymentGuardError as exc:
            return str(exc)
    return None
