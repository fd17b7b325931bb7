"""Small builders for SDK objects used across the Xero sandbox tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_python.accounting import Contact, Contacts, CreditNote, CreditNotes, Invoice, Invoices, LineItem

D = Decimal
TODAY = date(2026, 11, 20)


def contact(xero, name: str = "Acme Ltd", **kw) -> str:
    result = xero.accounting.create_contacts(xero.tenant_id, Contacts(contacts=[Contact(name=name, **kw)]))
    return str(result.contacts[0].contact_id)


def line(qty="1", unit="100.00", account="200", tax="OUTPUT2", **kw) -> LineItem:
    return LineItem(description=kw.pop("description", "Widget"), quantity=D(qty), unit_amount=D(unit),
                    account_code=account, tax_type=tax, **kw)


def invoice(contact_id: str, lines=None, type_="ACCREC", status="AUTHORISED", number=None, date=TODAY,
            **kw) -> Invoice:
    return Invoice(type=type_, contact=Contact(contact_id=contact_id), line_items=lines or [line()],
                   date=date, due_date=kw.pop("due_date", date), status=status, invoice_number=number, **kw)


def create_invoices(xero, *invoices_, **kw):
    return xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=list(invoices_)), **kw).invoices


def create_invoice(xero, contact_id: str, **kw) -> Invoice:
    return create_invoices(xero, invoice(contact_id, **kw))[0]


def credit_note(xero, contact_id: str, amount="50.00", type_="ACCRECCREDIT", number=None) -> CreditNote:
    cn = CreditNote(type=type_, contact=Contact(contact_id=contact_id), date=TODAY, status="AUTHORISED",
                    line_items=[line(unit=amount, tax="NONE")], credit_note_number=number)
    return xero.accounting.create_credit_notes(xero.tenant_id, CreditNotes(credit_notes=[cn])).credit_notes[0]
