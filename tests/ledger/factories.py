"""Small ledger fixtures built through the real services."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.models import BankAccount, Company, NominalCode, StockItem, TaxCode


def codes(session):
    nominals = {n.code: n for n in session.scalars(select(NominalCode))}
    taxes = {t.code: t for t in session.scalars(select(TaxCode))}
    return nominals, taxes


def add_company(session, code, name, kind="customer", is_account=True, email="accounts@example.co.uk"):
    company = Company(code=code, name=name, kind=kind, is_account=is_account, email=email)
    session.add(company)
    session.flush()
    return company


def add_item(session, code, price, cost, tax="T1"):
    n, t = codes(session)
    item = StockItem(code=code, description=f"Item {code}", price=Decimal(price), cost=Decimal(cost),
                     sales_nominal_id=n["4000"].id, purchase_nominal_id=n["5000"].id,
                     stock_nominal_id=n["1001"].id, cost_of_sale_nominal_id=n["5100"].id, tax_code_id=t[tax].id)
    session.add(item)
    session.flush()
    return item


def bank(session, code="CUR"):
    return session.scalars(select(BankAccount).where(BankAccount.code == code)).one()
