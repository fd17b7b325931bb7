"""Writing to the ledger: documents, payments and allocations, each posted to the journal at once.

Every function works inside the caller's session and flushes; the caller's transaction decides whether
all of it lands. Nothing here commits, so a failure part-way leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    Allocation,
    AppSetting,
    BankAccount,
    Company,
    Document,
    DocumentKind,
    DocumentLine,
    JournalEntry,
    JournalLine,
    NominalCode,
    NominalKind,
    Payment,
    PaymentKind,
    StockItem,
    TaxCode,
    from_stored,
    get_required,
    utcnow,
)
from . import postings
from .errors import LedgerError, PaymentGuardError
from .rounding import line_amounts, money

log = logging.getLogger(__name__)

INTEGRATION_ENABLED_KEY = "integration.enabled"
GUARD_MESSAGE = (
    "{name} is an account customer. While the accounts integration is on, payments from account "
    "customers are recorded in the accounting package and imported with Create & Allocate Payments; "
    "they cannot be entered in the ledger."
)
SUPPLIER_GUARD_MESSAGE = (
    "{name} is a supplier. While the accounts integration is on, payments to suppliers are recorded in "
    "the accounting package and imported with Create & Allocate Payments; they cannot be entered in the ledger."
)
REFUND_GUARD_MESSAGE = (
    "{name} is a customer. While the accounts integration is on, money paid out on a customer's account (a "
    "refund) is recorded in the accounting package; it cannot be entered in the ledger."
)


@dataclass
class LineInput:
    """One line as entered: a stock item (its nominal and tax code are the defaults) or free text."""

    quantity: Decimal
    unit_price: Decimal
    stock_item_id: int | None = None
    description: str = ""
    discount_rate: Decimal = Decimal("0")
    tax_code_id: int | None = None
    nominal_id: int | None = None


def controls(session: Session) -> postings.Controls:
    """The control nominals, found by kind (the first of each kind is the control account).

    Kept in ``session.info`` for the session's life: every posting and balance asks, and four queries
    per call were half the cost of importing a payment. (Ids only grow, so the first of a kind stays first.)"""
    cached: postings.Controls | None = session.info.get("ledger.controls")
    if cached is not None:
        return cached
    found: dict[str, int] = {}
    for kind in (NominalKind.DEBTORS, NominalKind.CREDITORS, NominalKind.TAX, NominalKind.PREPAYMENT):
        nominal_id = session.scalar(select(func.min(NominalCode.id)).where(NominalCode.kind == kind))
        if nominal_id is None:
            raise LedgerError(f"No {kind} nominal code is set up. Add one in the chart of nominals first.")
        found[kind] = nominal_id
    result = postings.Controls(found["debtors"], found["creditors"], found["tax"], found["prepayment"])
    session.info["ledger.controls"] = result
    return result


def post(session: Session, when: date, source: str, source_id: int, description: str,
         legs: list[postings.Leg]) -> JournalEntry:
    postings.assert_balanced(legs)
    entry = JournalEntry(date=when, source=source, source_id=source_id, description=description)
    entry.lines = [
        JournalLine(date=when, nominal_id=leg.nominal_id, amount=leg.amount, company_id=leg.tags.company_id,
                    document_id=leg.tags.document_id, bank_account_id=leg.tags.bank_account_id)
        for leg in legs
    ]
    session.add(entry)
    return entry


def create_document(session: Session, kind: DocumentKind | str, company: Company, number: str, when: date,
                    lines: list[LineInput], *, due_date: date | None = None, reference: str = "",
                    currency: str | None = None) -> Document:
    kind = DocumentKind(kind)
    _check_party(kind, number, company, lines)
    doc = Document(kind=kind, number=number, company_id=company.id, date=when, due_date=due_date,
                   currency=currency or company.currency, reference=reference,
                   net_total=Decimal(0), tax_total=Decimal(0), gross_total=Decimal(0))
    posted = _fill_lines(session, kind, doc, lines)
    session.add(doc)
    session.flush()
    legs = postings.document_legs(kind, company.id, doc.id, posted, controls(session))
    post(session, when, "document", doc.id, f"{kind.label} {number}", legs)
    session.flush()
    log.debug("Posted %s %s for %s: %s gross", kind.label, number, company.code, doc.gross_total)
    return doc


def amend_document(session: Session, doc: Document, *, lines: list[LineInput] | None = None,
                   when: date | None = None, company: Company | None = None) -> Document:
    """Edit a posted document (its lines, date or company): the old posting is removed and the document
    posted again, so every balance follows. An exported document is not sent again by itself: reconciliation
    lists it as changed since export (sync/reconcile)."""
    kind = DocumentKind(doc.kind)
    company = company or doc.company
    if lines is None:
        lines = [LineInput(line.quantity, line.unit_price, stock_item_id=line.stock_item_id,
                           description=line.description, discount_rate=line.discount_rate,
                           tax_code_id=line.tax_code_id, nominal_id=line.nominal_id) for line in doc.lines]
    _check_party(kind, doc.number, company, lines)
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.source == "document",
                                                            JournalEntry.source_id == doc.id)):
        session.delete(entry)
    doc.lines.clear()
    session.flush()
    doc.company_id, doc.company = company.id, company
    doc.date = when or doc.date
    posted = _fill_lines(session, kind, doc, lines)
    session.flush()
    legs = postings.document_legs(kind, company.id, doc.id, posted, controls(session))
    post(session, doc.date, "document", doc.id, f"{kind.label} {doc.number}", legs)
    session.flush()
    log.debug("Amended %s %s: %s gross", kind.label, doc.number, doc.gross_total)
    return doc


def _check_party(kind: DocumentKind, number: str, company: Company, lines: list[LineInput]) -> None:
    if not lines:
        raise LedgerError(f"{kind.label} {number} has no lines.")
    expected = "customer" if kind.is_sales else "supplier"
    if company.kind != expected and not company.trades_both_ways:   # a company trading both ways has both sides
        raise LedgerError(f"{kind.label} {number}: {company.name} is not a {expected}.")


def _fill_lines(session: Session, kind: DocumentKind, doc: Document,
                lines: list[LineInput]) -> list[postings.PostedLine]:
    """The document's lines, priced and rounded per line, and its totals; returns what to post."""
    posted: list[postings.PostedLine] = []
    for no, spec in enumerate(lines, start=1):
        item = session.get(StockItem, spec.stock_item_id) if spec.stock_item_id else None
        if spec.stock_item_id and item is None:
            raise LedgerError(f"Line {no}: stock item {spec.stock_item_id} does not exist.")
        tax_code = session.get(TaxCode, spec.tax_code_id or (item.tax_code_id if item else None))
        if tax_code is None:
            raise LedgerError(f"Line {no}: choose a tax code.")
        nominal_id = spec.nominal_id or (
            (item.sales_nominal_id if kind.is_sales else item.purchase_nominal_id) if item else None)
        if nominal_id is None:
            raise LedgerError(f"Line {no}: choose a nominal code.")
        net, tax = line_amounts(spec.quantity, spec.unit_price, spec.discount_rate, tax_code.rate)
        doc.lines.append(DocumentLine(
            line_no=no, stock_item_id=item.id if item else None,
            description=spec.description or (item.description if item else ""), quantity=Decimal(spec.quantity),
            unit_price=Decimal(spec.unit_price), discount_rate=Decimal(spec.discount_rate),
            tax_code_id=tax_code.id, nominal_id=nominal_id, net=net, tax=tax))
        posted.append(postings.PostedLine(
            nominal_id=nominal_id, net=net, tax=tax,
            stock_nominal_id=item.stock_nominal_id if item else None,
            cost_of_sale_nominal_id=item.cost_of_sale_nominal_id if item else None,
            cost_value=postings.cost_value(spec.quantity, item.cost) if item else Decimal(0)))
    doc.net_total = sum((p.net for p in posted), Decimal(0))
    doc.tax_total = sum((p.tax for p in posted), Decimal(0))
    doc.gross_total = doc.net_total + doc.tax_total
    return posted


def integration_enabled(session: Session) -> bool:
    value = session.get(AppSetting, INTEGRATION_ENABLED_KEY)
    return value is not None and value.value == "1"


def check_payment_allowed(session: Session, company: Company, kind: str, source: str = "ledger") -> None:
    """The payment guard (seed rule 1: KCC is not used for payments on account, for suppliers or
    customers): while the integration is on, payments of account customers and of suppliers come from the
    accounting package only. A non-account customer's prepayment may still be entered."""
    if source != "ledger" or not integration_enabled(session):
        return
    # Any ledger payment from an account customer (a receipt, or one keyed as a prepayment) is refused.
    if company.kind == "customer" and company.is_account and kind != PaymentKind.SUPPLIER_PAYMENT:
        log.info("Payment guard refused a ledger payment for account customer %s", company.code)
        raise PaymentGuardError(GUARD_MESSAGE.format(name=company.name))
    if company.kind == "supplier":
        log.info("Payment guard refused a ledger payment to supplier %s", company.code)
        raise PaymentGuardError(SUPPLIER_GUARD_MESSAGE.format(name=company.name))
    if kind == PaymentKind.SUPPLIER_PAYMENT:   # money out on a customer's account is on account too
        log.info("Payment guard refused a ledger refund to customer %s", company.code)
        raise PaymentGuardError(REFUND_GUARD_MESSAGE.format(name=company.name))


def record_payment(session: Session, kind: PaymentKind | str, company: Company, bank: BankAccount,
                   amount: Decimal, when: date, allocations: Sequence[tuple[Document, Decimal]] = (), *,
                   reference: str = "", source: str = "ledger", remote_id: str | None = None) -> Payment:
    """Records money in or out and allocates it; any amount not allocated stays on account."""
    kind = PaymentKind(kind)
    amount = money(amount)
    check_payment_allowed(session, company, kind, source)
    if amount <= 0:
        raise LedgerError("A payment must be for more than zero.")
    if kind == PaymentKind.PREPAYMENT and allocations:
        raise LedgerError("A prepayment is allocated to invoices later, with allocate_prepayment.")
    wanted = "sales_invoice" if kind == PaymentKind.RECEIPT else "purchase_invoice"
    total = Decimal(0)
    for doc, part in allocations:
        if doc.kind != wanted or doc.company_id != company.id:
            raise LedgerError(f"{doc.number} is not an invoice of {company.name}'s that this payment can pay.")
        if part > outstanding(session, doc.id):
            raise LedgerError(f"{part} is more than the {outstanding(session, doc.id)} outstanding on {doc.number}.")
        total += part
    if total > amount:
        raise LedgerError("The allocations add up to more than the payment.")
    payment = Payment(kind=kind, company_id=company.id, bank_account_id=bank.id, date=when, amount=amount,
                      currency=company.currency, reference=reference, source=source, remote_id=remote_id)
    session.add(payment)
    session.flush()
    for doc, part in allocations:
        session.add(Allocation(payment_id=payment.id, document_id=doc.id, amount=money(part), date=when))
    legs = postings.payment_legs(kind, company.id, bank.nominal_id, bank.id, amount,
                                 [(doc.id, money(part)) for doc, part in allocations], controls(session))
    post(session, when, "payment", payment.id, f"{kind.value} {reference}".strip(), legs)
    session.flush()
    log.info("Recorded %s %s for %s (%s), allocated to %s", kind.value, amount, company.code, source,
             ", ".join(doc.number for doc, _ in allocations) or "nothing (on account)")
    return payment


def allocate_prepayment(session: Session, payment: Payment, invoice: Document, amount: Decimal,
                        when: date | None = None) -> Allocation:
    amount = money(amount)
    if payment.kind != PaymentKind.PREPAYMENT:
        raise LedgerError("Only a prepayment can be allocated this way.")
    if invoice.kind != DocumentKind.SALES_INVOICE or invoice.company_id != payment.company_id:
        raise LedgerError(f"{invoice.number} is not an invoice for the customer who paid.")
    if amount <= 0 or amount > outstanding(session, invoice.id) or amount > prepayment_unallocated(session, payment):
        raise LedgerError("The allocation is more than is outstanding on the invoice or left on the prepayment.")
    alloc = Allocation(payment_id=payment.id, document_id=invoice.id, amount=amount, date=when or invoice.date)
    session.add(alloc)
    session.flush()
    post(session, alloc.date, "allocation", alloc.id, f"prepayment to {invoice.number}",
         postings.prepayment_allocation_legs(payment.company_id, invoice.id, amount, controls(session)))
    session.flush()
    return alloc


def allocate_credit_note(session: Session, credit_note: Document, invoice: Document, amount: Decimal) -> Allocation:
    """Local only: credit-note allocations never sync to the accounting package, in either direction."""
    amount = money(amount)
    pairs = {("sales_credit", "sales_invoice"), ("purchase_credit", "purchase_invoice")}
    if (credit_note.kind, invoice.kind) not in pairs or credit_note.company_id != invoice.company_id:
        raise LedgerError(f"{credit_note.number} cannot be allocated to {invoice.number}.")
    if amount <= 0 or amount > outstanding(session, invoice.id) or amount > -outstanding(session, credit_note.id):
        raise LedgerError("The allocation is more than is left on the credit note or the invoice.")
    alloc = Allocation(credit_note_id=credit_note.id, document_id=invoice.id, amount=amount, date=invoice.date)
    session.add(alloc)
    session.flush()
    sales = credit_note.kind == "sales_credit"
    post(session, alloc.date, "allocation", alloc.id, f"{credit_note.number} to {invoice.number}",
         postings.credit_allocation_legs(sales, credit_note.company_id, credit_note.id, invoice.id, amount,
                                         controls(session)))
    session.flush()
    return alloc


def reverse_payment(session: Session, payment: Payment, when: date | None = None) -> None:
    """Undoes a payment and its allocations with opposite postings (history is never deleted)."""
    if payment.reversed_at is not None:
        return
    entries = session.scalars(select(JournalEntry).where(
        JournalEntry.source == "payment", JournalEntry.source_id == payment.id)).all()
    legs = [postings.Leg(line.nominal_id, -line.amount,
                         postings.Tags(line.company_id, line.document_id, line.bank_account_id))
            for e in entries for line in e.lines]
    post(session, when or payment.date, "reversal", payment.id, f"reversal of payment {payment.id}", legs)
    stamp = utcnow()
    payment.reversed_at = stamp
    for alloc in payment.allocations:
        alloc.reversed_at = stamp
    session.flush()


# --- balances, all summed from the journal -------------------------------------------------------

def outstanding(session: Session, document_id: int) -> Decimal:
    """What is still owed on a document: its control-account lines, signed so an invoice is positive.

    (An invoice's own gross, less payments and credit notes allocated to it. A credit note's comes out
    negative: the credit not yet used.)"""
    doc = get_required(session, Document, document_id)
    c = controls(session)
    control = c.debtors if doc.kind in ("sales_invoice", "sales_credit") else c.creditors
    raw = session.scalar(select(func.sum(JournalLine.amount)).where(
        JournalLine.document_id == document_id, JournalLine.nominal_id == control))
    value = from_stored(raw).quantize(Decimal("0.01"))
    return value if control == c.debtors else -value


def prepayment_unallocated(session: Session, payment: Payment) -> Decimal:
    used = session.scalar(select(func.sum(Allocation.amount)).where(
        Allocation.payment_id == payment.id, Allocation.reversed_at.is_(None)))
    return payment.amount - from_stored(used)


def company_balance(session: Session, company_id: int) -> Decimal:
    """What the company owes us (customers, positive) or we owe it (suppliers, positive)."""
    c = controls(session)
    company = get_required(session, Company, company_id)
    nominals = [c.debtors, c.prepayment] if company.kind == "customer" else [c.creditors]
    raw = session.scalar(select(func.sum(JournalLine.amount)).where(
        JournalLine.company_id == company_id, JournalLine.nominal_id.in_(nominals)))
    value = from_stored(raw).quantize(Decimal("0.01"))
    return value if company.kind == "customer" else -value


def bank_balance(session: Session, bank_account_id: int) -> Decimal:
    raw = session.scalar(select(func.sum(JournalLine.amount)).where(JournalLine.bank_account_id == bank_account_id))
    return from_stored(raw).quantize(Decimal("0.01"))
