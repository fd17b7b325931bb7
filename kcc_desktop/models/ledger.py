"""The stock system's ledger: companies, nominals, stock, documents, payments and the journal.

Balances are never stored: outstanding amounts, company, bank and trial balances are all sums over
``JournalLine``, the one source of truth, so they cannot drift from each other.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .types import Money, UTCDateTime, utcnow


class CompanyKind(StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"


class NominalKind(StrEnum):
    SALES = "sales"
    PURCHASE = "purchase"
    STOCK = "stock"
    COST_OF_SALE = "cost_of_sale"
    BANK = "bank"
    PREPAYMENT = "prepayment"
    DELIVERY = "delivery"
    TAX = "tax"
    DEBTORS = "debtors"
    CREDITORS = "creditors"
    OTHER = "other"


# Stock and cost of sale stay in KCC: these nominals are never sent to the accounting package.
NEVER_EXPORTED_KINDS = frozenset({NominalKind.STOCK, NominalKind.COST_OF_SALE})


class DocumentKind(StrEnum):
    SALES_INVOICE = "sales_invoice"
    SALES_CREDIT = "sales_credit"
    PURCHASE_INVOICE = "purchase_invoice"
    PURCHASE_CREDIT = "purchase_credit"

    @property
    def is_sales(self) -> bool:
        return self in (DocumentKind.SALES_INVOICE, DocumentKind.SALES_CREDIT)

    @property
    def is_credit(self) -> bool:
        return self in (DocumentKind.SALES_CREDIT, DocumentKind.PURCHASE_CREDIT)

    @property
    def label(self) -> str:
        return {
            "sales_invoice": "Sales Invoice",
            "sales_credit": "Sales Credit Note",
            "purchase_invoice": "Purchase Invoice",
            "purchase_credit": "Purchase Credit Note",
        }[self.value]


class PaymentKind(StrEnum):
    RECEIPT = "receipt"                    # an account customer pays invoices
    SUPPLIER_PAYMENT = "supplier_payment"  # we pay a supplier's invoices
    PREPAYMENT = "prepayment"              # a non-account customer pays up front


class Company(Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    is_account: Mapped[bool] = mapped_column(Boolean, default=True)  # credit terms; False = pays up front
    # A customer who also supplies us (or a supplier who also buys): the package gets both sides.
    trades_both_ways: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NominalCode(Base):
    __tablename__ = "nominal_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))

    @property
    def never_exported(self) -> bool:
        return self.kind in NEVER_EXPORTED_KINDS


class TaxCode(Base):
    __tablename__ = "tax_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rate: Mapped[Decimal] = mapped_column(Money)  # percent


class BankAccount(Base):
    __tablename__ = "bank_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))

    nominal: Mapped[NominalCode] = relationship()


class StockItem(Base):
    __tablename__ = "stock_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    sales_nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))
    purchase_nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))
    stock_nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))
    cost_of_sale_nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))
    tax_code_id: Mapped[int] = mapped_column(ForeignKey("tax_code.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sales_nominal: Mapped[NominalCode] = relationship(foreign_keys=[sales_nominal_id])
    purchase_nominal: Mapped[NominalCode] = relationship(foreign_keys=[purchase_nominal_id])
    stock_nominal: Mapped[NominalCode] = relationship(foreign_keys=[stock_nominal_id])
    cost_of_sale_nominal: Mapped[NominalCode] = relationship(foreign_keys=[cost_of_sale_nominal_id])
    tax_code: Mapped[TaxCode] = relationship()


class Document(Base):
    """An invoice or credit note. Totals are fixed at posting from per-line rounded figures."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("kind", "number", name="kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    number: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    reference: Mapped[str] = mapped_column(String(100), default="")
    net_total: Mapped[Decimal] = mapped_column(Money)
    tax_total: Mapped[Decimal] = mapped_column(Money)
    gross_total: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship()
    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", order_by="DocumentLine.line_no", cascade="all, delete-orphan"
    )


class DocumentLine(Base):
    __tablename__ = "document_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    stock_item_id: Mapped[int | None] = mapped_column(ForeignKey("stock_item.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # percent
    tax_code_id: Mapped[int] = mapped_column(ForeignKey("tax_code.id"))
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"))
    net: Mapped[Decimal] = mapped_column(Money)   # rounded per line
    tax: Mapped[Decimal] = mapped_column(Money)   # rounded per line

    document: Mapped[Document] = relationship(back_populates="lines")
    stock_item: Mapped[StockItem | None] = relationship()
    tax_code: Mapped[TaxCode] = relationship()
    nominal: Mapped[NominalCode] = relationship()


class Payment(Base):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_account.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    reference: Mapped[str] = mapped_column(String(100), default="")
    # Where it was first recorded: "ledger", or the accounting package ("xero", "quickbooks").
    source: Mapped[str] = mapped_column(String(16), default="ledger")
    # One ledger payment per package payment, enforced here.
    remote_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship()
    bank_account: Mapped[BankAccount] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="payment", foreign_keys="Allocation.payment_id"
    )


class Allocation(Base):
    """Money from a payment or a credit note set against an invoice."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint(
            "(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"
        ),
        CheckConstraint("amount > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    date: Mapped[dt.date] = mapped_column(Date)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment: Mapped[Payment | None] = relationship(back_populates="allocations", foreign_keys=[payment_id])
    credit_note: Mapped[Document | None] = relationship(foreign_keys=[credit_note_id])
    document: Mapped[Document] = relationship(foreign_keys=[document_id])


class JournalEntry(Base):
    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(24))      # document, payment, allocation, reversal
    source_id: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[JournalLine]] = relationship(back_populates="entry", cascade="all, delete-orphan")


class JournalLine(Base):
    """One side of a posting: ``amount`` is positive for a debit, negative for a credit.

    ``company_id``/``document_id``/``bank_account_id`` tag the lines that balances are summed from.
    """

    __tablename__ = "journal_line"
    __table_args__ = (
        Index("ix_journal_line_document_nominal", "document_id", "nominal_id"),
        Index("ix_journal_line_company_nominal", "company_id", "nominal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)  # copied from the entry for range queries
    nominal_id: Mapped[int] = mapped_column(ForeignKey("nominal_code.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_account.id"), index=True)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    nominal: Mapped[NominalCode] = relationship()
