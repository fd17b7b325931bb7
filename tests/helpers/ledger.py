"""Ledgers for the tests, built through the real services: factories for single rows, the small ledger
most sync and UI tests export (``build_ledger``, ``build_qbo_ledger``), and a digest of every table to
prove two files hold the same books."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import BankAccount, Base, Company, Document, NominalCode, StockItem, TaxCode, UTCDateTime


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


def foreign_invoice(store, code: str, currency: str, number: str, quantity: str, price: str, on: date,
                    discount: str = "0") -> None:
    """A customer trading in ``currency`` and one sales invoice to it (nominal 4000, standard rate)."""
    with store.transaction() as s:
        company = Company(code=code, name=f"{code} Kunde", kind="customer", currency=currency)
        s.add(company)
        s.flush()
        n, t = codes(s)
        line = service.LineInput(quantity=Decimal(quantity), unit_price=Decimal(price), description="Widgets",
                                 tax_code_id=t["T1"].id, nominal_id=n["4000"].id, discount_rate=Decimal(discount))
        service.create_document(s, "sales_invoice", company, number, on, [line], currency=currency)


def bank(session, code="CUR"):
    return session.scalars(select(BankAccount).where(BankAccount.code == code)).one()


def table_digests(store) -> dict[str, str]:
    """Per table, a hash of every row in primary-key order. Creation timestamps are left out: they record
    when a row was written, not what the books say."""
    out = {}
    with store.session() as s:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.c if not isinstance(c.type, UTCDateTime)]
            rows = s.execute(select(*cols).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def build_ledger(store, *, invoices: int = 3, lines_per_invoice: int = 2) -> dict:
    """Two customers, a supplier, two stock items; invoices with awkward pennies, a credit note, a bill."""
    with store.transaction() as s:
        n = {x.code: x for x in s.scalars(select(NominalCode))}
        t = {x.code: x for x in s.scalars(select(TaxCode))}
        acme = Company(code="ACME", name="Acme Tools Ltd", kind="customer", email="accounts@acme.example")
        bloggs = Company(code="BLOGGS", name="Bloggs Hardware", kind="customer", is_account=False)
        supp = Company(code="SUPP", name="Widget Supplies plc", kind="supplier")
        s.add_all([acme, bloggs, supp])
        s.flush()
        items = []
        for code, price, tax in (("W-100", "19.99", "T1"), ("CHILD-1", "3.333", "T5")):
            item = StockItem(code=code, description=f"Widget {code}", price=Decimal(price), cost=Decimal("2.50"),
                             sales_nominal_id=n["4000"].id, purchase_nominal_id=n["5000"].id,
                             stock_nominal_id=n["1001"].id, cost_of_sale_nominal_id=n["5100"].id,
                             tax_code_id=t[tax].id)
            s.add(item)
            items.append(item)
        s.flush()
        L = service.LineInput
        docs = {}
        for k in range(invoices):
            lines = [L(quantity=Decimal(3 + j), unit_price=items[j % 2].price, stock_item_id=items[j % 2].id,
                       discount_rate=Decimal("2.5") if j else Decimal(0)) for j in range(lines_per_invoice)]
            d = service.create_document(s, "sales_invoice", acme if k % 2 == 0 else bloggs, f"SI-{k + 1:04d}",
                                        date(2026, 1, 10) + timedelta(days=k % 300), lines)
            docs[d.number] = d.id
        cn = service.create_document(s, "sales_credit", acme, "SC-0001", date(2026, 1, 20),
                                     [L(quantity=Decimal(1), unit_price=Decimal("19.99"), stock_item_id=items[0].id)])
        bill = service.create_document(s, "purchase_invoice", supp, "PI-0001", date(2026, 1, 5),
                                       [L(quantity=Decimal(10), unit_price=Decimal("2.50"), stock_item_id=items[0].id)])
        docs[cn.number] = cn.id
        docs[bill.number] = bill.id
        return {"docs": docs, "items": [i.id for i in items], "companies": [acme.id, bloggs.id, supp.id]}


def build_qbo_ledger(store, invoices: int = 3) -> dict:
    """``build_ledger`` (awkward pennies, line discounts, a credit note, a bill) plus what QuickBooks makes
    hard: a supplier credit note, a supplier with the same name as a customer (QBO names are unique across
    customers and vendors) and a non-account customer's prepayment allocated to her invoice."""
    info = build_ledger(store, invoices=invoices, lines_per_invoice=3)
    with store.transaction() as s:
        supp = s.scalar(select(Company).where(Company.code == "SUPP"))
        bloggs = s.scalar(select(Company).where(Company.code == "BLOGGS"))
        w100 = s.scalar(select(StockItem).where(StockItem.code == "W-100"))
        office = s.scalar(select(NominalCode).where(NominalCode.code == "7500"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        both = Company(code="ACME-S", name="Acme Tools Ltd", kind="supplier")
        s.add(both)
        s.flush()
        L = service.LineInput
        pc = service.create_document(s, "purchase_credit", supp, "PC-0001", date(2026, 1, 25),
                                     [L(quantity=Decimal(2), unit_price=Decimal("2.50"), stock_item_id=w100.id)])
        stock = s.scalar(select(NominalCode).where(NominalCode.code == "1001"))
        lines = [L(quantity=Decimal(3), unit_price=Decimal("1.333"), description="Paper", nominal_id=office.id,
                   tax_code_id=t1),
                 # a slip: coded straight to the stock nominal (the payload falls back to the default purchases)
                 L(quantity=Decimal(7), unit_price=Decimal("0.99"), description="Boxes", nominal_id=stock.id,
                   tax_code_id=t1, discount_rate=Decimal("10"))]
        bill = service.create_document(s, "purchase_invoice", both, "PI-0002", date(2026, 1, 26), lines)
        info["docs"].update({pc.number: pc.id, bill.number: bill.id})
        invoice = s.scalar(select(Document).where(Document.company_id == bloggs.id,
                                                  Document.kind == "sales_invoice").order_by(Document.id))
        bank = s.scalar(select(BankAccount).where(BankAccount.code == "CUR"))
        pre = service.record_payment(s, "prepayment", bloggs, bank, Decimal("50.00"), date(2026, 2, 1),
                                     reference="PRE-1")
        service.allocate_prepayment(s, pre, invoice, Decimal("20.00"), date(2026, 2, 2))
        info["prepaid_invoice"] = invoice.number
    return info


def add_cos_and_stock_documents(store) -> None:
    """A sale and a bill each with a line coded straight to cost of sale (5100) and one to stock (1001), on
    top of ``build_ledger``'s stock-item lines (whose cost of sale the ledger posts itself)."""
    with store.transaction() as s:
        n = {x.code: x.id for x in s.scalars(select(NominalCode))}
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        supp = s.scalar(select(Company).where(Company.code == "SUPP"))

        def coded(nominal, price):
            return service.LineInput(Decimal(1), Decimal(price), description=f"coded to {nominal}",
                                     nominal_id=n[nominal], tax_code_id=t1)

        service.create_document(s, "sales_invoice", acme, "SI-COS", date(2026, 3, 2),
                                [coded("5100", "40.00"), coded("1001", "15.00")])
        service.create_document(s, "purchase_invoice", supp, "PI-COS", date(2026, 3, 2),
                                [coded("5100", "12.00"), coded("1001", "8.00")])
