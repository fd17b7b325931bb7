"""Xero mapping rows as a company file could hold them (for payload and pre-check tests that need no
sandbox): a small chart and tax rates fetched "from Xero", and every nominal, tax code and bank mapped."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.models import BankAccount, Mapping, NominalCode, PackageAccount, TaxCode

ACCOUNTS = [("200", "Sales", "REVENUE"), ("300", "Purchases", "DIRECTCOSTS"), ("630", "Inventory", "INVENTORY"),
            ("310", "Cost of Goods Sold", "DIRECTCOSTS"), ("090", "Business Bank Account", "BANK")]
TAXES = [("OUTPUT2", "20% (VAT on Income)", 20), ("INPUT2", "20% (VAT on Expenses)", 20),
         ("RROUTPUT", "5% (VAT on Income)", 5), ("RRINPUT", "5% (VAT on Expenses)", 5)]
NOMINAL_MAP = {"4000": "200", "5000": "300", "1001": "630", "5100": "310"}   # stock/COS mapped on purpose
TAX_MAP = {("tax", "T1"): "OUTPUT2", ("tax_purchase", "T1"): "INPUT2", ("tax", "T5"): "RROUTPUT",
           ("tax_purchase", "T5"): "RRINPUT"}


def map_everything(store, nominal_map=NOMINAL_MAP):
    """Mapping rows as a company file could hold them, even for stock and cost of sale."""
    with store.transaction() as s:
        for code, name, typ in ACCOUNTS:
            s.add(PackageAccount(provider="xero", category="bank" if typ == "BANK" else "account", code=code,
                                 name=name, type=typ))
        for code, name, rate in TAXES:
            s.add(PackageAccount(provider="xero", category="tax_rate", code=code, name=name, rate=Decimal(rate)))
        nominals = {n.code: n.id for n in s.scalars(select(NominalCode))}
        taxes = {t.code: t.id for t in s.scalars(select(TaxCode))}
        for local, remote in nominal_map.items():
            s.add(Mapping(provider="xero", category="nominal", local_id=nominals[local], remote_code=remote))
        for (cat, local), remote in TAX_MAP.items():
            s.add(Mapping(provider="xero", category=cat, local_id=taxes[local], remote_code=remote))
        cur = s.scalar(select(BankAccount.id).where(BankAccount.code == "CUR"))
        s.add(Mapping(provider="xero", category="bank", local_id=cur, remote_code="090"))
