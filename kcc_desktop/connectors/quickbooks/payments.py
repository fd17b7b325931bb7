"""Payments read back from QuickBooks for the import: receipts, supplier payments, then deletions.

Each page is one query page as QuickBooks serves it (ordered by last update); the invoice and bill
numbers a page's payments are applied to are read once per page. Deletions come from change data
capture (``/cdc``), which looks back at most 30 days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from ..base import MalformedResponse, PaymentPage, RemotePayment
from . import mapping as m
from .api import QboApi
from .mapping import Row
from .remote import PaymentContext, deleted_payment, linked_ids, remote_payment

CDC_DAYS = 30
# (payment entity, the entity its lines pay)
PAYMENT_ENTITIES = (("Payment", "Invoice"), ("BillPayment", "Bill"))


class PaymentsBack:
    def __init__(self, api: QboApi, account_codes: Callable[[], dict[str, str]],
                 clock: Callable[[], datetime]) -> None:
        self.api = api
        self.account_codes = account_codes     # account id -> AcctNum, read when first needed
        self.clock = clock

    def pages(self, since: datetime | None, base_currency: Callable[[], str]) -> Iterator[PaymentPage]:
        """Pages of payments changed since ``since``; only the last says ``has_more=False``."""
        previous: list[RemotePayment] | None = None
        for page in self._payment_pages(since, base_currency):
            if previous is not None:
                yield PaymentPage(previous, has_more=True)
            previous = page
        yield PaymentPage(previous or [], has_more=False)

    def _payment_pages(self, since: datetime | None, base_currency: Callable[[], str]) -> Iterator[list[RemotePayment]]:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)   # the interface says UTC; be lenient
        ctx = PaymentContext(base_currency=base_currency())
        where = f"MetaData.LastUpdatedTime >= {m.quote(m.query_timestamp(since))}" if since else ""
        for entity, doc_entity in PAYMENT_ENTITIES:
            for rows in self.api.query_pages(entity, where, "MetaData.LastUpdatedTime, Id",
                                             f"the {entity} list request"):
                if not rows:
                    continue
                self._page_context(ctx, entity, doc_entity, rows)
                try:
                    page = [p for p in (remote_payment(entity, r, ctx) for r in rows) if p is not None]
                except (KeyError, TypeError, AttributeError):
                    raise MalformedResponse(f"QuickBooks sent a {entity} KCC Desktop does not understand.") from None
                if page:
                    yield page
        if since is not None:
            deleted = self._deleted_payments(since, ctx.base_currency)
            if deleted:
                yield deleted

    def _page_context(self, ctx: PaymentContext, entity: str, doc_entity: str, rows: list[Row]) -> None:
        if not ctx.account_codes:
            ctx.account_codes = self.account_codes()
        known = {k[1] for k in ctx.doc_numbers if k[0] == doc_entity}
        ids = {i for r in rows for i in linked_ids(entity, r)} - known
        if ids:
            for doc_id, row in self.api.by_ids(doc_entity, ids, "the paid documents lookup").items():
                ctx.doc_numbers[(doc_entity, doc_id)] = str(row.get("DocNumber") or "")

    def _deleted_payments(self, since: datetime, base_currency: str) -> list[RemotePayment]:
        # cdc looks back at most 30 days; older deletions are beyond what QuickBooks can report.
        floor = self.clock() - timedelta(days=CDC_DAYS) + timedelta(minutes=5)
        changed_since = m.query_timestamp(max(since, floor))
        data = self.api.changed_since("Payment,BillPayment", changed_since, "the deleted payments request")
        try:
            responses = data["CDCResponse"][0]["QueryResponse"]
            return [deleted_payment(entity, row, base_currency)
                    for block in responses for entity in ("Payment", "BillPayment")
                    for row in block.get(entity) or [] if str(row.get("status", "")).lower() == "deleted"]
        except (KeyError, IndexError, TypeError, AttributeError):
            raise MalformedResponse("QuickBooks sent a change list KCC Desktop does not understand.") from None
