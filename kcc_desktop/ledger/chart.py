"""The standard UK chart a new company file starts with: nominals, VAT codes and a bank account."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import BankAccount, NominalCode, NominalKind, TaxCode

STANDARD_NOMINALS = [
    ("1001", "Stock", NominalKind.STOCK),
    ("1100", "Debtors Control Account", NominalKind.DEBTORS),
    ("1200", "Bank Current Account", NominalKind.BANK),
    ("1210", "Bank Deposit Account", NominalKind.BANK),
    ("2100", "Creditors Control Account", NominalKind.CREDITORS),
    ("2200", "VAT Liability", NominalKind.TAX),
    ("2300", "Customer Prepayments", NominalKind.PREPAYMENT),
    ("4000", "Sales - Products", NominalKind.SALES),
    ("4010", "Sales - Services", NominalKind.SALES),
    ("4020", "Sales - Export", NominalKind.SALES),
    ("4905", "Carriage and Delivery", NominalKind.DELIVERY),
    ("5000", "Purchases", NominalKind.PURCHASE),
    ("5010", "Purchases - Packaging", NominalKind.PURCHASE),
    ("5100", "Cost of Sales", NominalKind.COST_OF_SALE),
    ("7500", "Office Costs", NominalKind.OTHER),
]

STANDARD_TAX_CODES = [
    ("T1", "Standard rate 20%", Decimal("20")),
    ("T5", "Reduced rate 5%", Decimal("5")),
    ("T0", "Zero rated", Decimal("0")),
    ("T2", "Exempt", Decimal("0")),
]


def seed_standard_chart(session: Session) -> None:
    """Adds whatever of the standard chart is missing; safe to run twice."""
    have = set(session.scalars(select(NominalCode.code)))
    for code, name, kind in STANDARD_NOMINALS:
        if code not in have:
            session.add(NominalCode(code=code, name=name, kind=kind))
    have_tax = set(session.scalars(select(TaxCode.code)))
    for code, name, rate in STANDARD_TAX_CODES:
        if code not in have_tax:
            session.add(TaxCode(code=code, name=name, rate=rate))
    session.flush()
    if session.scalar(select(BankAccount.id).limit(1)) is None:
        by_code = {n.code: n for n in session.scalars(select(NominalCode))}
        session.add(BankAccount(code="CUR", name="Current Account", nominal_id=by_code["1200"].id))
        session.add(BankAccount(code="DEP", name="Deposit Account", nominal_id=by_code["1210"].id))
    session.flush()
