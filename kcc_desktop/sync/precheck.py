"""Run Pre-Check: what would stop the selected rows from uploading, found before anything is sent.

Checks: unmapped nominal, unmapped tax code, a mapping to an account archived or deleted in the
package, a company with a malformed email, a currency the options do not allow, and a stock item the
package does not have (neither exported nor in the selection). Every problem of a row is listed, not
just the first, and the result fills the Pending Export grid's "Pre-check" column ("OK" when clean).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..connectors.base import OrganisationSettings
from ..connectors.provider import Provider
from ..models import (
    Allocation,
    Company,
    Document,
    DocumentKind,
    ExportItem,
    ExportStatus,
    ItemType,
    RemoteLink,
    StockItem,
)
from ..store import Store
from . import payloads as pl
from .org_rules import OrganisationRules
from .org_settings import cached_settings

log = logging.getLogger(__name__)

OK = "OK"
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
CHUNK = 500
QBO_DOC_NUMBER_MAX = 21   # QuickBooks' DocNumber limit (Xero allows 255)


def email_problem(company: Company) -> str | None:
    email = (company.email or "").strip()
    if email and not EMAIL.match(email):
        return f"{company.name}'s email address \u201c{email}\u201d is not valid: correct it in the ledger"
    return None


def _try(problems: list[str], fn: Callable[[], object]) -> None:
    try:
        fn()
    except pl.PayloadProblem as exc:
        if exc.message not in problems:
            problems.append(exc.message)


class PreCheck:
    """Checks rows against the mapping and the ledger; ``run`` saves the results on the rows."""

    def __init__(self, store: Store, provider: str | None = None) -> None:
        from .options import OptionsService

        self.store = store
        self.provider = provider or OptionsService(store).provider
        self.pkg = Provider.label_of(self.provider, short=True)
        # The organisation's settings as last read (Get Nominal & Tax Accounts, or Check Connection).
        self.org = cached_settings(store, self.provider) or OrganisationSettings()
        self.rules = OrganisationRules(self.org, self.provider)

    def run(self, item_ids: Iterable[int], progress: Callable[[int, int, str], None] | None = None,
            cancel: threading.Event | None = None) -> dict[int, str]:
        ids = list(item_ids)
        ctx = pl.PayloadContext.load(self.store, self.provider)
        # Xero's own refusals (tax rates on accounts, the plan's allowance, archived contacts), predicted
        # from the kept settings; the plan's allowance is shared out in the order the rows are checked.
        self.rules = OrganisationRules(self.org, self.provider, authorised=ctx.options.create_authorised)
        results: dict[int, str] = {}
        with self.store.session() as s:
            exported_items = self._known_items(s)
            selected_items: set[int] = set()
            for start in range(0, len(ids), CHUNK):
                selected_items |= set(s.scalars(select(ExportItem.object_id).where(
                    ExportItem.item_type == ItemType.STOCK_ITEM, ExportItem.id.in_(ids[start:start + CHUNK]))))
            for start in range(0, len(ids), CHUNK):
                if cancel is not None and cancel.is_set():
                    break
                chunk = ids[start:start + CHUNK]
                rows = s.scalars(select(ExportItem).where(ExportItem.id.in_(chunk),
                                                          ExportItem.status == ExportStatus.PENDING)).all()
                for item in rows:
                    problems = self.check(s, ctx, item, exported_items | selected_items)
                    item.precheck = ("; ".join(problems) if problems else OK)[:300]
                    results[item.id] = item.precheck
                s.commit()
                if progress:
                    progress(min(start + CHUNK, len(ids)), len(ids), "Checking")
        log.info("Pre-check: %d checked, %d with problems", len(results), sum(1 for r in results.values() if r != OK))
        return results

    def _known_items(self, s: Session) -> set[int]:
        done = set(s.scalars(select(ExportItem.object_id).where(
            ExportItem.item_type == ItemType.STOCK_ITEM, ExportItem.status == ExportStatus.EXPORTED)))
        done |= set(s.scalars(select(RemoteLink.object_id).where(
            RemoteLink.provider == self.provider, RemoteLink.object_type == ItemType.STOCK_ITEM)))
        return done

    def check(self, s: Session, ctx: pl.PayloadContext, item: ExportItem, items_available: set[int]) -> list[str]:
        problems: list[str] = []
        kind = item.item_type
        if kind == ItemType.COMPANY:
            company = s.get(Company, item.object_id)
            if company is None:
                return ["The company no longer exists in the ledger"]
            found = email_problem(company)
            if found:
                problems.append(found)
            if not ctx.options.multicurrency and company.currency != ctx.base_currency:
                problems.append(f"{company.name} trades in {company.currency}; MultiCurrency is off")
            if self.provider == "quickbooks" and ":" in company.name:
                problems.append(f"QuickBooks names cannot contain a colon: rename {company.name} in the ledger")
            if self.provider == "xero":
                link = pl.remote_link(s, self.provider, ItemType.COMPANY, company.id)
                archived = (self.rules.archived(company.name, link.remote_id) if link is not None
                            else self.rules.archived(company.name, account_number=company.code))
                if archived is not None:
                    problems.append(archived.text)
        elif kind == ItemType.STOCK_ITEM:
            stock = s.get(StockItem, item.object_id)
            if stock is None:
                return ["The stock item no longer exists in the ledger"]
            _try(problems, lambda: ctx.account(stock.sales_nominal_id, sales=True, what=f"Stock item {stock.code}"))
            _try(problems, lambda: ctx.account(stock.purchase_nominal_id, sales=False,
                                               what=f"Stock item {stock.code}"))
        elif kind == ItemType.PREPAYMENT_ALLOCATION:
            alloc = s.get(Allocation, item.object_id)
            if alloc is None:
                return ["The allocation no longer exists in the ledger"]
            _try(problems, lambda: pl.allocation_payload(ctx, alloc, "", "x"))
            locked = self.rules.lock(alloc.date, "payment", authorised=True) if self.provider == "xero" else None
            if locked is not None:
                problems.append(f"The payment is {locked.text}")
        else:
            doc = s.scalar(select(Document).where(Document.id == item.object_id)
                           .options(selectinload(Document.lines), selectinload(Document.company)))
            if doc is None:
                return ["The document no longer exists in the ledger"]
            self._document(doc, ctx, problems, items_available, s)
        return problems

    def _document(self, doc: Document, ctx: pl.PayloadContext, problems: list[str], items_available: set[int],
                  s: Session) -> None:
        label = f"{DocumentKind(doc.kind).label} {doc.number}"
        if not ctx.options.multicurrency and doc.currency != ctx.base_currency:
            problems.append(f"{label} is in {doc.currency}; MultiCurrency is off, so it is held back")
        found = email_problem(doc.company)
        if found:
            problems.append(found)
        longest = min(self.org.document_number_max, QBO_DOC_NUMBER_MAX if self.provider == "quickbooks" else 255)
        if len(doc.number) > longest:
            problems.append(f"{label}: {self.pkg} document numbers have at most {longest} characters; "
                            "shorten the number in the ledger")
        lock = self.org.lock_date
        if lock is not None and doc.date <= lock and self.rules.lock(doc.date) is not None:   # Xero keeps drafts
            problems.append(f"{label} is dated {doc.date:%d %b %Y}, on or before {self.pkg}'s "
                            f"{self.org.lock_date_label or 'lock date'} ({lock:%d %b %Y}); {self.pkg} refuses it")
        if not self.org.document_numbers_kept and DocumentKind(doc.kind).is_sales:
            problems.append(f"{label}: {self.pkg} numbers sales documents itself (custom transaction numbers are "
                            f"off), so it would not keep {doc.number}; turn them on in {self.pkg}")
        if (ctx.options.multicurrency and doc.currency != self.org.base_currency
                and doc.currency not in self.org.currencies):
            problems.append(f"{label} is in {doc.currency}, which {self.pkg} does not have: add the currency "
                            f"in {self.pkg} first")
        sales = DocumentKind(doc.kind).is_sales
        for line in doc.lines:
            what = f"Line {line.line_no}"
            _try(problems, partial(ctx.account, line.nominal_id, sales=sales, what=what))
            _try(problems, partial(ctx.tax, line.tax_code_id, sales=sales, what=what))
            if line.stock_item_id and line.stock_item_id not in items_available:
                code = s.scalar(select(StockItem.code).where(StockItem.id == line.stock_item_id))
                msg = f"Stock item {code} is not in {self.pkg} yet and not selected (Upload Data sends it first)"
                if msg not in problems:
                    problems.append(msg)
        if self.provider == "xero":
            self._xero(s, ctx, doc, problems)

    def _xero(self, s: Session, ctx: pl.PayloadContext, doc: Document, problems: list[str]) -> None:
        """What the organisation's settings make Xero refuse: a tax rate on an account its class may not
        use, an archived contact, and (for a document nothing else stops) the plan's monthly allowance."""
        kind = DocumentKind(doc.kind)
        link = pl.remote_link(s, self.provider, ItemType.COMPANY, doc.company_id)
        archived = self.rules.archived(doc.company.name, link.remote_id) if link is not None else None
        if archived is not None:
            problems.append(archived.text)
        for line in doc.lines:
            try:
                account = ctx.account(line.nominal_id, sales=kind.is_sales, what="")
                tax = ctx.tax(line.tax_code_id, sales=kind.is_sales, what="")
            except pl.PayloadProblem:
                continue   # named above
            refused = self.rules.tax_on_account(account, tax, ctx.nominals[line.nominal_id][0])
            if refused is not None and refused.text not in problems:
                problems.append(refused.text)
        if not problems:
            capped = self.rules.approval(kind.value, doc.date)
            if capped is not None:
                problems.append(capped.text)


def run_precheck(store: Store, item_ids: Iterable[int], provider: str | None = None,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancel: threading.Event | None = None) -> dict[int, str]:
    return PreCheck(store, provider).run(item_ids, progress, cancel)
