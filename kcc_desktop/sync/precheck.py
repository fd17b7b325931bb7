"""Run Pre-Check: what would stop the selected rows from uploading, found before anything is sent.

Checks: unmapped nominal, unmapped tax code, a mapping to an account archived or deleted in the
package, a company with a malformed email, a currency the options do not allow, and a stock item the
package does not have (neither exported nor in the selection); for Xero, what the organisation's settings
refuse (lock dates, currencies not added, tax rates an account may not use, archived contacts, the plan's
monthly allowance: ``org_rules``). Every problem of a row is listed, not just the first, and the result fills
the Pending Export grid's "Pre-check" column ("OK" when clean). Each problem also goes to Error Feedback in
the package's own words (Xero's, where Xero would refuse it) with what to do; checking again refreshes
that entry rather than adding a second.
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
from ..connectors.provider import Provider, possessive
from ..models import (
    Allocation,
    Company,
    Document,
    DocumentKind,
    ExportFeedback,
    ExportItem,
    ExportStatus,
    ItemType,
    RemoteLink,
    StockItem,
    utcnow,
)
from ..store import Store
from . import payloads as pl
from .export.outcomes import label as item_label
from .org_rules import OrganisationRules, Refusal
from .org_settings import cached_settings

log = logging.getLogger(__name__)

OK = "OK"
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
CHUNK = 500
QBO_DOC_NUMBER_MAX = 21   # QuickBooks' DocNumber limit (Xero allows 255)
_GONE = "Mark as Exported to clear it from the queue."
_MULTICURRENCY = ("Turn MultiCurrency on in the Mapping tab's options if the package has that currency, "
                  "or Mark as Exported and enter it by hand.")


class Findings(list[str]):
    """A row's problems: the short texts for the Pre-check column, and for Error Feedback each one's
    message (the package's words where it would refuse), advice and the nominal to map."""

    def __init__(self) -> None:
        super().__init__()
        self.feedback: list[tuple[str, str, str]] = []

    def add(self, text: str, advice: str, message: str = "", nominal_code: str = "") -> None:
        if text in self:
            return
        self.append(text)
        self.feedback.append((message or text, advice, nominal_code))

    def refused(self, refusal: Refusal, text: str = "") -> None:
        self.add(text or refusal.text, refusal.advice, refusal.message)


def email_problem(company: Company) -> str | None:
    email = (company.email or "").strip()
    if email and not EMAIL.match(email):
        return f"{company.name}'s email address \u201c{email}\u201d is not valid: correct it in the ledger"
    return None


def _try(problems: Findings, fn: Callable[[], object]) -> None:
    try:
        fn()
    except pl.PayloadProblem as exc:
        problems.add(exc.message, exc.advice, nominal_code=exc.nominal_code)


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
                logged = self._logged(s, [item.id for item in rows])
                for item in rows:
                    problems = self.check(s, ctx, item, exported_items | selected_items)
                    item.precheck = ("; ".join(problems) if problems else OK)[:300]
                    results[item.id] = item.precheck
                    self._feedback(s, item, problems, logged)
                s.commit()
                if progress:
                    progress(min(start + CHUNK, len(ids)), len(ids), "Checking")
        log.info("Pre-check: %d checked, %d with problems", len(results), sum(1 for r in results.values() if r != OK))
        return results

    @staticmethod
    def _logged(s: Session, ids: list[int]) -> dict[tuple[int, str], ExportFeedback]:
        """The rows' Error Feedback so far, by (row, message): one query per chunk."""
        return {(f.export_item_id, f.message): f for f in s.scalars(select(ExportFeedback).where(
            ExportFeedback.export_item_id.in_(ids))) if f.export_item_id is not None}

    @staticmethod
    def _feedback(s: Session, item: ExportItem, problems: Findings,
                  logged: dict[tuple[int, str], ExportFeedback]) -> None:
        """Each problem in Error Feedback; one already there (same row, same words) is brought up to date."""
        for message, advice, nominal_code in problems.feedback:
            entry = logged.get((item.id, message))
            if entry is None:
                entry = logged[(item.id, message)] = ExportFeedback(export_item_id=item.id, item_label=item_label(item),
                                                                    message=message)
                s.add(entry)
            entry.at, entry.advice, entry.nominal_code = utcnow(), advice, nominal_code

    def _known_items(self, s: Session) -> set[int]:
        done = set(s.scalars(select(ExportItem.object_id).where(
            ExportItem.item_type == ItemType.STOCK_ITEM, ExportItem.status == ExportStatus.EXPORTED)))
        done |= set(s.scalars(select(RemoteLink.object_id).where(
            RemoteLink.provider == self.provider, RemoteLink.object_type == ItemType.STOCK_ITEM)))
        return done

    def check(self, s: Session, ctx: pl.PayloadContext, item: ExportItem, items_available: set[int]) -> Findings:
        problems = Findings()
        kind = item.item_type
        if kind == ItemType.COMPANY:
            company = s.get(Company, item.object_id)
            if company is None:
                problems.add("The company no longer exists in the ledger", _GONE)
                return problems
            found = email_problem(company)
            if found:
                problems.add(found, "Correct the email address in the ledger, then upload.")
            if not ctx.options.multicurrency and company.currency != ctx.base_currency:
                problems.add(f"{company.name} trades in {company.currency}; MultiCurrency is off", _MULTICURRENCY)
            if self.provider == "quickbooks" and ":" in company.name:
                problems.add(f"QuickBooks names cannot contain a colon: rename {company.name} in the ledger",
                             "Rename the company in the ledger without the colon, then upload.")
            if self.provider == "xero":
                link = pl.remote_link(s, self.provider, ItemType.COMPANY, company.id)
                archived = (self.rules.archived(company.name, link.remote_id) if link is not None
                            else self.rules.archived(company.name, account_number=company.code))
                if archived is not None:
                    problems.refused(archived)
        elif kind == ItemType.STOCK_ITEM:
            stock = s.get(StockItem, item.object_id)
            if stock is None:
                problems.add("The stock item no longer exists in the ledger", _GONE)
                return problems
            _try(problems, lambda: ctx.account(stock.sales_nominal_id, sales=True, what=f"Stock item {stock.code}"))
            _try(problems, lambda: ctx.account(stock.purchase_nominal_id, sales=False,
                                               what=f"Stock item {stock.code}"))
        elif kind == ItemType.PREPAYMENT_ALLOCATION:
            alloc = s.get(Allocation, item.object_id)
            if alloc is None:
                problems.add("The allocation no longer exists in the ledger", _GONE)
                return problems
            _try(problems, lambda: pl.allocation_payload(ctx, alloc, "", "x"))
            locked = self.rules.lock(alloc.date, "payment", authorised=True) if self.provider == "xero" else None
            if locked is not None:
                problems.refused(locked, f"The payment is {locked.text}")
        else:
            doc = s.scalar(select(Document).where(Document.id == item.object_id)
                           .options(selectinload(Document.lines), selectinload(Document.company)))
            if doc is None:
                problems.add("The document no longer exists in the ledger", _GONE)
                return problems
            self._document(doc, ctx, problems, items_available, s)
        return problems

    def _document(self, doc: Document, ctx: pl.PayloadContext, problems: Findings, items_available: set[int],
                  s: Session) -> None:
        label = f"{DocumentKind(doc.kind).label} {doc.number}"
        if not ctx.options.multicurrency and doc.currency != ctx.base_currency:
            problems.add(f"{label} is in {doc.currency}; MultiCurrency is off, so it is held back", _MULTICURRENCY)
        found = email_problem(doc.company)
        if found:
            problems.add(found, "Correct the email address in the ledger, then upload.")
        longest = min(self.org.document_number_max, QBO_DOC_NUMBER_MAX if self.provider == "quickbooks" else 255)
        if len(doc.number) > longest:
            problems.add(f"{label}: {self.pkg} document numbers have at most {longest} characters; "
                         "shorten the number in the ledger", "Shorten the number in the ledger, then upload.")
        lock = self.org.lock_date
        locked = self.rules.lock(doc.date) if lock is not None and doc.date <= lock else None   # Xero keeps drafts
        if locked is not None:
            problems.refused(locked, f"{label} is dated {doc.date:%d %b %Y}, on or before {possessive(self.pkg)} "
                                     f"{self.org.lock_date_label or 'lock date'} ({lock:%d %b %Y}); {self.pkg} "
                                     "refuses it")
        if not self.org.document_numbers_kept and DocumentKind(doc.kind).is_sales:
            problems.add(f"{label}: {self.pkg} numbers sales documents itself (custom transaction numbers are "
                         f"off), so it would not keep {doc.number}; turn them on in {self.pkg}",
                         f"Turn on custom transaction numbers in {self.pkg} (Account and settings → Sales → "
                         "Custom transaction numbers), then upload.")
        missing = self.rules.currency(doc.currency) if ctx.options.multicurrency else None
        if missing is not None:
            problems.refused(missing, f"{label} is in {doc.currency}, which {self.pkg} does not have: add the "
                                      f"currency in {self.pkg} first")
        sales = DocumentKind(doc.kind).is_sales
        for line in doc.lines:
            what = f"Line {line.line_no}"
            _try(problems, partial(ctx.account, line.nominal_id, sales=sales, what=what))
            _try(problems, partial(ctx.tax, line.tax_code_id, sales=sales, what=what))
            if line.stock_item_id and line.stock_item_id not in items_available:
                code = s.scalar(select(StockItem.code).where(StockItem.id == line.stock_item_id))
                problems.add(f"Stock item {code} is not in {self.pkg} yet and not selected (Upload Data sends it "
                             "first)", f"Select stock item {code} too, or upload it first.")
        if self.provider == "xero":
            self._xero(s, ctx, doc, problems)

    def _xero(self, s: Session, ctx: pl.PayloadContext, doc: Document, problems: Findings) -> None:
        """What the organisation's settings make Xero refuse: a tax rate on an account its class may not
        use, an archived contact, and (for a document nothing else stops) the plan's monthly allowance."""
        kind = DocumentKind(doc.kind)
        link = pl.remote_link(s, self.provider, ItemType.COMPANY, doc.company_id)
        archived = self.rules.archived(doc.company.name, link.remote_id) if link is not None else None
        if archived is not None:
            problems.refused(archived)
        for line in doc.lines:
            try:
                account = ctx.account(line.nominal_id, sales=kind.is_sales, what="")
                tax = ctx.tax(line.tax_code_id, sales=kind.is_sales, what="")
            except pl.PayloadProblem:
                continue   # named above
            refused = self.rules.tax_on_account(account, tax, ctx.nominals[line.nominal_id][0],
                                                _tax_label(ctx, line.tax_code_id), kind.is_sales)
            if refused is not None:
                problems.refused(refused)
        if not problems:
            capped = self.rules.approval(kind.value, doc.date)
            if capped is not None:
                problems.refused(capped)


def _tax_label(ctx: pl.PayloadContext, tax_code_id: int | None) -> str:
    found = ctx.taxes.get(tax_code_id) if tax_code_id is not None else None
    return f"{found[0]} ({found[1]})" if found else ""


def run_precheck(store: Store, item_ids: Iterable[int], provider: str | None = None,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancel: threading.Event | None = None) -> dict[int, str]:
    return PreCheck(store, provider).run(item_ids, progress, cancel)
