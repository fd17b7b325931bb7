"""Builders for the QuickBooks sandbox tests: a live server on loopback, and small helpers that create
documents the way a bookkeeper would (the fixtures that use them are in conftest.py)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable
from decimal import Decimal

from kcc_desktop.sandbox.http import SandboxServer
from kcc_desktop.sandbox.runner import make_provider

# python-quickbooks warns about minorversion on every client; it is noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="quickbooks.*")

VAT20 = "1"      # TaxCode "20.0% S"
ZERO_RATED = "3"  # TaxCode "0.0% Z"
SERVICES_ITEM = "1"
BANK = "8"       # Business Bank Account (1200)
PURCHASES = "5"  # Purchases (5010)


def start_qbo(**options) -> SandboxServer:
    """Like ``runner.start_sandbox`` but polling for shutdown every 10 ms, so a stop costs no 0.5 s."""
    server = SandboxServer(make_provider("quickbooks", **options))
    server._thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                      daemon=True)
    server._thread.start()
    return server


def ref(value: str):
    from quickbooks.objects.base import Ref

    r = Ref()
    r.value = value
    return r


def make_customer(qb, name: str):
    from quickbooks.objects.customer import Customer

    c = Customer()
    c.DisplayName = name
    return c.save(qb=qb)


def make_vendor(qb, name: str):
    from quickbooks.objects.vendor import Vendor

    v = Vendor()
    v.DisplayName = name
    return v.save(qb=qb)


def sales_line(qty, price, tax_code: str = VAT20, item: str = SERVICES_ITEM, amount=None):
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail

    line = SalesItemLine()
    detail = SalesItemLineDetail()
    detail.ItemRef = ref(item)
    detail.Qty = qty
    detail.UnitPrice = str(price)
    detail.TaxCodeRef = ref(tax_code)
    line.SalesItemLineDetail = detail
    line.Amount = str(amount) if amount is not None else 0
    return line


def expense_line(amount: str, account: str = PURCHASES, tax: str = VAT20):
    from quickbooks.objects.detailline import AccountBasedExpenseLine, AccountBasedExpenseLineDetail

    line = AccountBasedExpenseLine()
    line.Amount = amount
    d = AccountBasedExpenseLineDetail()
    d.AccountRef = ref(account)
    d.TaxCodeRef = ref(tax)
    line.AccountBasedExpenseLineDetail = d
    return line


def make_invoice(qb, customer, lines: Iterable | None = None, doc_number: str | None = None, **kw):
    from quickbooks.objects.invoice import Invoice

    inv = Invoice()
    inv.CustomerRef = customer.to_ref()
    inv.Line = list(lines) if lines is not None else [sales_line(1, "100.00", ZERO_RATED)]
    inv.DocNumber = doc_number
    return inv.save(qb=qb, **kw)


def make_credit_memo(qb, customer, amount: str):
    from quickbooks.objects.creditmemo import CreditMemo

    cm = CreditMemo()
    cm.CustomerRef = customer.to_ref()
    cm.Line = [sales_line(1, amount, ZERO_RATED)]
    return cm.save(qb=qb)


def make_payment(qb, customer, total, links: Iterable[tuple[object, str]] = (), **kw):
    """``links``: (document, amount) pairs; documents are Invoice or CreditMemo objects."""
    from quickbooks.objects.base import LinkedTxn
    from quickbooks.objects.payment import Payment, PaymentLine

    p = Payment()
    p.CustomerRef = customer.to_ref()
    p.TotalAmt = str(total)
    p.DepositToAccountRef = ref(BANK)
    for doc, amount in links:
        line = PaymentLine()
        line.Amount = str(amount)
        lt = LinkedTxn()
        lt.TxnId, lt.TxnType = doc.Id, doc.qbo_object_name
        line.LinkedTxn = [lt]
        p.Line.append(line)
    return p.save(qb=qb, **kw)


def balance(qb, doc) -> Decimal:
    return Decimal(str(type(doc).get(doc.Id, qb=qb).Balance))
