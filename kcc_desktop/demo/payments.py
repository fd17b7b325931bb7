"""The demo's bookkeeper: records payments in the sandbox through the package's own API and SDK.

This is what a bookkeeper does in Xero or QuickBooks after KCC has uploaded invoices; the Import tab
then brings the payments back. It signs in separately (as a person would), never with the app's tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..connectors.base import DocKind
from ..errors import PlainError
from ..ledger.rounding import money
from ..ledger.service import outstanding
from ..models import Document, Mapping, RemoteLink
from ..store import Store

if TYPE_CHECKING:
    from ..connectors.base import AccountingPackage
    from ..sandbox.testing import XeroBookkeeper

KINDS = {
    "full": "Full payment of an invoice",
    "part": "Part payment (half an invoice)",
    "over": "Overpayment (an invoice plus £25.00)",
    "across": "One payment across two invoices",
}


@dataclass
class Recorded:
    text: str


class NothingToPay(PlainError, LookupError):
    """The sandbox has no uploaded invoice the bookkeeper could pay (upload some first)."""


class DemoBookkeeper:
    def __init__(self, store: Store, provider: str, urls: dict[str, str], package: AccountingPackage) -> None:
        self.store, self.provider, self.urls, self.package = store, provider, urls, package
        self._xero: XeroBookkeeper | None = None
        self._qb: Any = None    # python-quickbooks' client (the SDK is untyped)

    def _open_invoices(self, wanted: int) -> list[tuple[Document, str, Decimal]]:
        """``wanted`` exported invoices of one customer that still have something to pay in the package."""
        with self.store.session() as s:
            rows = s.execute(select(Document, RemoteLink.remote_id).join(
                RemoteLink, (RemoteLink.object_id == Document.id) & (RemoteLink.object_type == "sales_invoice")
                & (RemoteLink.provider == self.provider)).order_by(Document.date, Document.id).limit(300)).all()
            # Both sides must still be owed the whole amount: the demo's history has receipts entered in the
            # ledger before the integration was switched on, which the package never heard of.
            owed = {doc.id: outstanding(s, doc.id) for doc, _ in rows}
        open_by_company: dict[int, list[tuple[Document, str]]] = {}
        for doc, remote_id in rows:
            if owed[doc.id] > 0:
                open_by_company.setdefault(doc.company_id, []).append((doc, remote_id))
        # Single payments take customers with one open invoice first, so pairs stay for "across"
        # (a small demo has few customers with two invoices open on both sides).
        groups = sorted(open_by_company.values(), key=lambda g: (len(g) > 1) if wanted == 1 else 0)
        for candidates in groups:
            if len(candidates) < wanted:
                continue
            group: list[tuple[Document, str, Decimal]] = []
            for doc, remote_id in candidates:
                remote = self.package.find_document(DocKind.SALES_INVOICE, doc.number)
                if remote is None or remote.amount_due != owed[doc.id]:
                    continue
                group.append((doc, remote_id, remote.amount_due))
                if len(group) == wanted:
                    return group
        return []

    def record(self, kind: str, on: date | None = None) -> Recorded:
        if kind not in KINDS:
            raise ValueError(f"unknown payment kind {kind!r}")
        invoices = self._open_invoices(2 if kind == "across" else 1)
        if not invoices:
            raise NothingToPay("No uploaded invoice is waiting for payment in the sandbox"
                               + (" (a payment across two invoices needs one customer with two open invoices)"
                                  if kind == "across" else "")
                               + ". Upload some invoices from the Export tab first (select them, then Upload Data).")
        on = on or date.today()
        if kind == "across":
            parts = [(remote_id, due) for _, remote_id, due in invoices]
            self._pay(parts, on, extra=Decimal(0))
            numbers = " and ".join(d.number for d, _, _ in invoices)
            return Recorded(f"Recorded one payment of {sum(p for _, p in parts):.2f} across {numbers}.")
        doc, remote_id, due = invoices[0]
        amount = {"full": due, "part": money(due / 2), "over": due}[kind]
        extra = Decimal("25.00") if kind == "over" else Decimal(0)
        self._pay([(remote_id, amount)], on, extra=extra, contact=doc)
        what = {"full": "a full payment", "part": "a part payment", "over": "an overpayment"}[kind]
        return Recorded(f"Recorded {what} of {amount + extra:.2f} for {doc.number}.")

    def _pay(self, parts: list[tuple[str, Decimal]], on: date, extra: Decimal, contact: Document | None = None) -> None:
        if self.provider == "quickbooks":
            self._pay_quickbooks(parts, on, extra)
        else:
            self._pay_xero(parts, on, extra, contact)

    def _pay_xero(self, parts: list[tuple[str, Decimal]], on: date, extra: Decimal, contact: Document | None) -> None:
        from ..sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

        if self._xero is None:
            self._xero = XeroBookkeeper(xero_sdk_client(self.urls, xero_login(self.urls)))
        client = self._xero
        if extra:
            assert contact is not None, "an overpayment is for one customer's invoice"
            # Xero keeps money beyond an invoice as an overpayment, then allocates it.
            with self.store.session() as s:
                link = s.scalar(select(RemoteLink.remote_id).where(
                    RemoteLink.provider == self.provider, RemoteLink.object_type == "company",
                    RemoteLink.object_id == contact.company_id))
            if link is None:
                raise NothingToPay(f"The customer of {contact.number} is not in the sandbox yet; upload it first.")
            overpayment = client.receive_overpayment(link, parts[0][1] + extra, on, "Demo overpayment")
            client.allocate_overpayment(overpayment, parts[0][0], parts[0][1], on)
            return
        client.pay_many(parts, on, reference="Demo receipt")

    def _mapped_bank_id(self) -> str:
        """The package's id of the bank account the ledger's first bank is mapped to ("" if none)."""
        with self.store.session() as s:
            mapped = s.scalars(select(Mapping).where(Mapping.provider == self.provider, Mapping.category == "bank")
                               .order_by(Mapping.set_by != "user", Mapping.local_id)).first()
        if mapped is None:
            return ""
        for bank in self.package.fetch_bank_accounts():
            if mapped.remote_code in (bank.code, bank.id):
                return bank.id
        return ""

    def _pay_quickbooks(self, parts: list[tuple[str, Decimal]], on: date, extra: Decimal) -> None:
        from quickbooks.objects.invoice import Invoice
        from quickbooks.objects.payment import Payment, PaymentLine

        from ..sandbox.qbo_testing import qbo_login, qbo_sdk_client

        if self._qb is None:
            self._qb = qbo_sdk_client(self.urls, qbo_login(self.urls))
        qb = self._qb
        first = Invoice.get(parts[0][0], qb=qb)
        payment = Payment()
        payment.CustomerRef = first.CustomerRef
        payment.TxnDate = on.isoformat()
        payment.TotalAmt = str(sum((p for _, p in parts), Decimal(0)) + extra)
        # Into the bank the ledger's bank is mapped to: with no DepositToAccountRef QuickBooks files the
        # money under Undeposited Funds, which no ledger bank account matches.
        bank_id = self._mapped_bank_id()
        if bank_id:
            payment.DepositToAccountRef = {"value": bank_id}
        payment.Line = []
        for remote_id, amount in parts:
            line = PaymentLine()
            line.Amount = str(amount)
            line.LinkedTxn = [{"TxnId": remote_id, "TxnType": "Invoice"}]
            payment.Line.append(line)
        payment.save(qb=qb)
