"""The connection check a user runs before the first upload (``kcc-desktop check``, Mapping → Check Connection).

It reads the organisation's settings from the package and compares them with what is waiting to be
sent, so what the package would refuse is found now rather than one upload at a time:
- documents dated on or before the organisation's lock date (Xero's period or end-of-year lock date,
  QuickBooks' closing date);
- documents in a currency the organisation has not added, or that the MultiCurrency option holds back;
- more invoices and bills to approve than the plan allows this month;
- document numbers the package would not keep (too long, or the package numbers documents itself);
- scopes the sign-in lacks;
- nominals, tax codes and bank accounts not mapped, or mapped to accounts archived or deleted since;
- QuickBooks: Undeposited Funds not mapped to a ledger bank (its receipts could not be imported), and
  Multicurrency off while documents in other currencies wait.

Provider-specific checks register themselves in ``PROVIDER_CHECKS``. Each problem is a ``CheckProblem``
with a stable ``code``, the message and what to do; ``CheckReport.to_json`` is the command's output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..connectors.base import AccountingPackage, OrganisationSettings
from ..connectors.provider import Provider, possessive
from ..models import (
    Allocation,
    Company,
    Document,
    DocumentKind,
    DocumentLine,
    ExportItem,
    ItemType,
    Mapping,
    NominalCode,
    PackageAccount,
    Payment,
    RemoteLink,
    StockItem,
)
from ..store import Store
from .mapping import BANK, NOMINAL, TAX, TAX_PURCHASE, MappingService
from .mapping_rules import CLEARING
from .mapping_types import MappingError
from .options import IntegrationOptions, OptionsService
from .org_rules import LIMIT_REACHED, OrganisationRules, Refusal
from .org_settings import save_settings
from .queue import prepare_target
from .target import pending_for, read_target

SHOW = 5   # document numbers named in one problem (then "and N more")
_DOC_TYPES = (ItemType.SALES_INVOICE, ItemType.SALES_CREDIT, ItemType.PURCHASE_INVOICE, ItemType.PURCHASE_CREDIT)
_APPROVED = (ItemType.SALES_INVOICE, ItemType.PURCHASE_INVOICE)   # what plan limits count


@dataclass(frozen=True)
class CheckProblem:
    code: str        # stable, for scripts: "lock_date", "currency_not_added", "mapping_unmapped", ...
    message: str
    advice: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "advice": self.advice}


@dataclass
class CheckReport:
    problems: list[CheckProblem] = field(default_factory=list)
    requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": [p.to_json() for p in self.problems], "requests": self.requests}

    @property
    def text(self) -> str:
        if self.ok:
            return "Connection check: nothing found that would stop an upload."
        lines = [f"Connection check: {len(self.problems)} problem(s) would stop uploads."]
        lines += [f"- {p.message} {p.advice}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class CheckContext:
    """What each check reads: the organisation's settings, the options and the pending documents."""

    store: Store
    provider: str
    package_name: str
    settings: OrganisationSettings
    options: IntegrationOptions
    package: AccountingPackage | None = None

    def pending_documents(self, *types: str) -> list[tuple[str, str, date | None, str]]:
        """(item type, number, date, currency) of the documents waiting in Pending Export."""
        with self.store.session() as s:
            rows = s.execute(select(ExportItem.item_type, ExportItem.reference, ExportItem.doc_date,
                                    ExportItem.currency)
                             .where(pending_for(read_target(s)), ExportItem.item_type.in_(types or _DOC_TYPES))
                             .order_by(ExportItem.doc_date, ExportItem.id))
            return [(t, n, d, c) for t, n, d, c in rows]

    def pending_count(self, *types: str) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(ExportItem).where(
                pending_for(read_target(s)), ExportItem.item_type.in_(types))) or 0


Check = Callable[[CheckContext], list[CheckProblem]]
PROVIDER_CHECKS: dict[str, list[Check]] = {}


def _named(numbers: list[str]) -> str:
    shown = ", ".join(numbers[:SHOW])
    return f"{shown} and {len(numbers) - SHOW} more" if len(numbers) > SHOW else shown


def check_lock_date(ctx: CheckContext) -> list[CheckProblem]:
    lock = ctx.settings.lock_date
    if lock is None:
        return []
    locked = [n for _t, n, d, _c in ctx.pending_documents() if d is not None and d <= lock]
    if not locked:
        return []
    label = ctx.settings.lock_date_label or "lock date"
    return [CheckProblem(
        "lock_date", f"{len(locked)} pending document(s) are dated on or before {possessive(ctx.package_name)} {label} "
                     f"({lock:%d %b %Y}): {_named(locked)}. {ctx.package_name} refuses them.",
        f"Ask whoever closed the period whether these belong in it. Either move the {label} back in "
        f"{ctx.package_name}, or Mark as Exported the ones entered there already.")]


def check_currencies(ctx: CheckContext) -> list[CheckProblem]:
    problems: list[CheckProblem] = []
    base = ctx.settings.base_currency
    by_currency: dict[str, list[str]] = {}
    for _t, number, _d, currency in ctx.pending_documents():
        if currency and currency != base:
            by_currency.setdefault(currency, []).append(number)
    for currency, numbers in sorted(by_currency.items()):
        if not ctx.options.multicurrency:
            problems.append(CheckProblem(
                "multicurrency_off", f"{len(numbers)} pending document(s) are in {currency}: {_named(numbers)}. "
                                     "MultiCurrency is off, so they are held back.",
                "Turn MultiCurrency on in the Mapping tab's options to send them."))
        elif currency not in ctx.settings.currencies:
            problems.append(CheckProblem(
                "currency_not_added", f"{len(numbers)} pending document(s) are in {currency}, which "
                                      f"{ctx.package_name} does not have: {_named(numbers)}.",
                f"Add {currency} to the organisation's currencies in {ctx.package_name}, then check again."))
    return problems


def check_plan_limit(ctx: CheckContext) -> list[CheckProblem]:
    left = ctx.settings.approvals_left
    if left is None or not ctx.options.create_authorised:
        return []
    waiting = ctx.pending_count(*_APPROVED)
    if waiting <= left:
        return []
    return [CheckProblem(
        "plan_limit", f"{waiting} invoices and bills are waiting, but {ctx.package_name}'s plan lets this "
                      f"organisation approve only {left} more this month.",
        f"Upgrade the plan in {ctx.package_name}, upload the rest next month, or turn off Create Authorised "
        "Invoices to send them as drafts.")]


def check_numbering(ctx: CheckContext) -> list[CheckProblem]:
    problems: list[CheckProblem] = []
    longest = ctx.settings.document_number_max
    too_long = [n for _t, n, _d, _c in ctx.pending_documents() if len(n) > longest]
    if too_long:
        problems.append(CheckProblem(
            "number_too_long", f"{ctx.package_name} keeps document numbers of at most {longest} characters; "
                               f"{len(too_long)} pending document(s) have longer ones: {_named(too_long)}.",
            "Shorten those numbers in the ledger, then upload."))
    if not ctx.settings.document_numbers_kept:
        problems.append(CheckProblem(
            "numbers_not_kept", f"{ctx.package_name} numbers documents itself, so the ledger's invoice numbers "
                                "would be lost there and customers would see different numbers.",
            f"Turn on custom transaction numbers in {ctx.package_name} (Account and settings → Sales → "
            "Custom transaction numbers), then check again."))
    return problems


def check_scopes(ctx: CheckContext) -> list[CheckProblem]:
    missing = sorted(ctx.settings.missing_scopes)
    if not missing:
        return []
    return [CheckProblem(
        "scopes_missing", f"The sign-in to {ctx.package_name} does not allow {', '.join(missing)}, which KCC needs.",
        "Connect again with the scope setting your app is registered for (see the README, Register your app).")]


def check_mappings(ctx: CheckContext) -> list[CheckProblem]:
    """Mappings that what is waiting would need and that are missing, archived or deleted (a nominal no
    pending document uses is no reason not to upload)."""
    mapping = MappingService(ctx.store, ctx.provider)
    if mapping.fetched_at() is None:
        return [CheckProblem("accounts_not_fetched",
                             f"{possessive(ctx.package_name)} accounts have not been fetched yet.",
                             "Mapping tab → Actions → Get Nominal & Tax Accounts, then Apply Default Setup.")]
    used = _used_by_pending(ctx.store)
    options = OptionsService(ctx.store)
    used[NOMINAL] |= {i for i in (options.default_nominal_id("default_sales_nominal"),
                                  options.default_nominal_id("default_purchase_nominal")) if i is not None}
    return [CheckProblem(f"mapping_{p.state}", p.message, "Map it on the Mapping tab.")
            for category, ids in used.items() if ids
            for p in mapping.problems(category, sorted(ids))]


def _used_by_pending(store: Store) -> dict[str, set[int]]:
    """The ledger records the pending rows map through: lines' nominals and tax codes, items' nominals,
    allocations' bank accounts."""
    used: dict[str, set[int]] = {NOMINAL: set(), TAX: set(), TAX_PURCHASE: set(), BANK: set()}
    with store.session() as s:
        pending = select(ExportItem.object_id).where(pending_for(read_target(s)))
        docs = pending.where(ExportItem.item_type.in_(_DOC_TYPES))
        for kind, nominal_id, tax_id in s.execute(
                select(Document.kind, DocumentLine.nominal_id, DocumentLine.tax_code_id)
                .join(Document, Document.id == DocumentLine.document_id)
                .where(Document.id.in_(docs)).distinct()):
            used[NOMINAL].add(nominal_id)
            if tax_id is not None:
                used[TAX if DocumentKind(kind).is_sales else TAX_PURCHASE].add(tax_id)
        items = pending.where(ExportItem.item_type == ItemType.STOCK_ITEM)
        for sales_id, purchase_id in s.execute(select(StockItem.sales_nominal_id, StockItem.purchase_nominal_id)
                                               .where(StockItem.id.in_(items))):
            used[NOMINAL] |= {sales_id, purchase_id}
        allocs = pending.where(ExportItem.item_type == ItemType.PREPAYMENT_ALLOCATION)
        used[BANK] |= set(s.scalars(select(Payment.bank_account_id)
                                    .join(Allocation, Allocation.payment_id == Payment.id)
                                    .where(Allocation.id.in_(allocs)).distinct()))
    return used


# --- QuickBooks Online ------------------------------------------------------------------------------

def check_qbo_undeposited_funds(ctx: CheckContext) -> list[CheckProblem]:
    """QuickBooks files a receipt in Undeposited Funds when no bank is chosen; the import needs it mapped."""
    with ctx.store.session() as s:
        clearing = list(s.execute(select(PackageAccount.code, PackageAccount.name).where(
            PackageAccount.provider == ctx.provider, PackageAccount.category == "bank",
            PackageAccount.type == CLEARING, PackageAccount.status == "ACTIVE")))
        mapped = set(s.scalars(select(Mapping.remote_code).where(Mapping.provider == ctx.provider,
                                                                 Mapping.category == BANK)))
    return [CheckProblem(
        "undeposited_funds_unmapped", f"No ledger bank account is mapped to {name} ({code}), where "
                                      f"{ctx.package_name} files receipts not yet banked: they cannot be imported.",
        f"On the Mapping tab, map a ledger bank or clearing account to {name} (Apply Default Setup proposes one), "
        "then Fetch Payments again.")
        for code, name in clearing if code not in mapped]


def check_qbo_multicurrency(ctx: CheckContext) -> list[CheckProblem]:
    """With Multicurrency off, QuickBooks refuses any currency but its home one."""
    if getattr(ctx.package, "multicurrency_enabled", True):
        return []
    base = ctx.settings.base_currency
    foreign = [n for _t, n, _d, c in ctx.pending_documents() if c and c != base]
    if not foreign:
        return []
    return [CheckProblem(
        "package_multicurrency_off", f"Multicurrency is off in {ctx.package_name}, so it refuses documents in "
                                     f"any currency but {base}; {len(foreign)} pending: {_named(foreign)}.",
        f"Turn on Multicurrency in {ctx.package_name} (Account and settings → Advanced → Currency; it cannot be "
        "turned off again) and add the currencies, or Mark as Exported the ones entered there by hand.")]


PROVIDER_CHECKS["quickbooks"] = [check_qbo_undeposited_funds, check_qbo_multicurrency]


CHECKS: tuple[Check, ...] = (check_lock_date, check_currencies, check_plan_limit, check_numbering, check_scopes,
                             check_mappings)


# --- Xero: what its organisation settings refuse beyond the checks above (see org_rules.py) ------------------

def _rules(ctx: CheckContext) -> OrganisationRules:
    return OrganisationRules(ctx.settings, ctx.provider, authorised=ctx.options.create_authorised)


def check_xero_tax_on_accounts(ctx: CheckContext) -> list[CheckProblem]:
    """Lines whose mapped account may not carry their mapped tax rate (CanApplyTo* against the class)."""
    rules, mapping = _rules(ctx), MappingService(ctx.store, ctx.provider)
    by_pair: dict[tuple[str, str], tuple[Refusal, list[str]]] = {}
    with ctx.store.session() as s:
        pending = select(ExportItem.object_id).where(pending_for(read_target(s)), ExportItem.item_type.in_(_DOC_TYPES))
        rows = s.execute(select(Document.kind, Document.number, NominalCode.code, DocumentLine.nominal_id,
                                DocumentLine.tax_code_id)
                         .join(Document, Document.id == DocumentLine.document_id)
                         .join(NominalCode, NominalCode.id == DocumentLine.nominal_id)
                         .where(Document.id.in_(pending)).distinct().order_by(Document.number))
        for kind, number, nominal, nominal_id, tax_id in rows:
            sales = DocumentKind(kind).is_sales
            try:
                account, tax = mapping.resolve_nominal(nominal_id), mapping.resolve_tax(tax_id, sales=sales)
            except MappingError:
                continue   # check_mappings names it
            refused = rules.tax_on_account(account, tax, nominal)
            if refused is not None:
                numbers = by_pair.setdefault((account, tax), (refused, []))[1]
                if number not in numbers:
                    numbers.append(number)
    return [CheckProblem("tax_account_mismatch", f"{len(numbers)} pending document(s) have lines {ctx.package_name} "
                                                 f"would refuse ({_named(numbers)}): \u201c{refused.message}\u201d",
                         refused.advice)
            for _pair, (refused, numbers) in sorted(by_pair.items())]


def check_xero_plan_months(ctx: CheckContext) -> list[CheckProblem]:
    """Invoices and bills beyond what the plan approves in their month (by document date)."""
    if not ctx.settings.monthly_caps or not ctx.options.create_authorised:
        return []
    waiting: dict[tuple[str, str], list[str]] = {}
    for item_type, number, when, _c in ctx.pending_documents(*_APPROVED):
        if when is not None and item_type in ctx.settings.monthly_caps:
            waiting.setdefault((item_type, f"{when:%Y-%m}"), []).append(number)
    problems = []
    plan = ctx.settings.plan.title() or "current"
    for (kind, month), numbers in sorted(waiting.items()):
        cap = ctx.settings.monthly_caps[kind]
        used = ctx.settings.approved.get(f"{kind} {month}", 0)
        over = numbers[max(0, cap - used):]
        if over:
            plural = "bills" if kind == ItemType.PURCHASE_INVOICE else "invoices"
            problems.append(CheckProblem(
                "plan_limit", f"{ctx.package_name}'s {plan} plan approves {cap} {plural} a month; {month} has {used} "
                              f"approved and {len(numbers)} waiting, so {len(over)} would be refused "
                              f"({_named(over)}): \u201c{LIMIT_REACHED[kind]}\u201d",
                f"Upgrade the plan in {ctx.package_name}, turn off Create Authorised Invoices to send drafts, or "
                "Mark as Exported those entered there by hand."))
    return problems


def check_xero_archived_contacts(ctx: CheckContext) -> list[CheckProblem]:
    """Pending companies (and the companies of pending documents) whose Xero contact is archived."""
    if not ctx.settings.archived_contacts:
        return []
    rules = _rules(ctx)
    with ctx.store.session() as s:
        target = read_target(s)
        pending = select(ExportItem.object_id).where(pending_for(target))
        ids = set(s.scalars(pending.where(ExportItem.item_type == ItemType.COMPANY)))
        ids |= set(s.scalars(select(Document.company_id).where(
            Document.id.in_(pending.where(ExportItem.item_type.in_(_DOC_TYPES)))).distinct()))
        links = dict(s.execute(select(RemoteLink.object_id, RemoteLink.remote_id).where(
            RemoteLink.provider == ctx.provider, RemoteLink.tenant_id == target.tenant_id,
            RemoteLink.object_type == ItemType.COMPANY, RemoteLink.object_id.in_(ids))).tuples().all())
        companies = list(s.execute(select(Company.id, Company.name, Company.code).where(Company.id.in_(ids))
                                   .order_by(Company.name)))
    problems = []
    for company_id, name, code in companies:
        found = (rules.archived(name, links[company_id]) if company_id in links
                 else rules.archived(name, account_number=code))
        if found is not None:
            problems.append(CheckProblem("contact_archived", f"{name}: {found.message}", found.advice))
    return problems


PROVIDER_CHECKS["xero"] = [check_xero_tax_on_accounts, check_xero_plan_months, check_xero_archived_contacts]


def check_connection(store: Store, package: AccountingPackage) -> CheckReport:
    """Reads the organisation's settings (kept for the pre-check) and runs every check."""
    started = int(getattr(package, "request_count", 0))
    settings = package.organisation_settings()
    save_settings(store, package.provider, settings)
    # the queue made ready for the organisation connected (queue.prepare_target)
    store.retrying(prepare_target, what="make the export queue ready")
    ctx = CheckContext(store, package.provider, Provider.label_of(package.provider, short=True), settings,
                       OptionsService(store).load(), package)
    report = CheckReport()
    for check in (*CHECKS, *PROVIDER_CHECKS.get(package.provider, [])):
        report.problems.extend(check(ctx))
    report.requests = int(getattr(package, "request_count", 0)) - started
    return report
