"""Ledger objects -> the connector's plain payloads (ContactIn, ItemIn, DocumentIn, PaymentIn).

Two rules live here and nowhere else:
- **No payload ever carries a stock or cost-of-sale nominal**, whatever is mapped. A line coded to
  one (a user's slip) goes to the default sales/purchase nominal instead; an item's accounts are its
  sales and purchase nominals, never its stock or cost-of-sale ones (and a stock-item purchase line
  carries its purchase nominal, although the ledger posts the net to stock).
- **Totals equal the ledger's to the penny.** Lines carry quantity, unit price and discount, from which
  the package rounds per line exactly as the ledger did (see ledger/rounding.py). With "Use Rollup
  Transactions" lines with the same account and tax rate become one line (one line per tax rate for
  a usual invoice); where the package's one rounding of the summed net would differ from the
  ledger's sum of per-line taxes, that group is sent unrolled instead of changing the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..connectors.base import ContactIn, DocKind, DocumentIn, ItemIn, LineIn, PaymentIn
from ..ledger.rounding import line_tax
from ..models import (
    NEVER_EXPORTED_KINDS,
    Allocation,
    Company,
    Document,
    DocumentKind,
    NominalCode,
    NominalKind,
    RemoteLink,
    StockItem,
    TaxCode,
)
from ..store import Store
from .mapping import MappingService
from .mapping_types import MappingError
from .options import IntegrationOptions, OptionsService
from .org_rules import LineCoding, OrganisationRules


class PayloadProblem(Exception):
    """An object cannot be sent as it stands. ``advice`` says what to do; ``nominal_code`` names the
    ledger nominal to map when that is the fix (the Error Feedback grid opens the Mapping tab on it)."""

    def __init__(self, message: str, advice: str = "", nominal_code: str = "", category: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice
        self.nominal_code = nominal_code
        self.category = category

    def __str__(self) -> str:
        return self.message


def link_type(item_type: str) -> str:
    """RemoteLink.object_type for an export item type: documents are linked by their kind."""
    return item_type


@dataclass
class PayloadContext:
    """What building payloads needs, read once per upload (thousands of documents then cost no lookups)."""

    provider: str
    options: IntegrationOptions
    mapping: MappingService
    nominals: dict[int, tuple[str, str, str]]          # id -> (code, name, kind)
    taxes: dict[int, tuple[str, str, Decimal]]         # id -> (code, name, rate)
    default_sales_id: int | None
    default_purchase_id: int | None
    base_currency: str = "GBP"
    # What the organisation's settings refuse (lock dates, currencies, tax rates on accounts, plan limits,
    # archived contacts); set by the run that sends, None where nothing is predicted.
    rules: OrganisationRules | None = None

    @classmethod
    def load(cls, store: Store, provider: str, base_currency: str = "GBP") -> PayloadContext:
        options_service = OptionsService(store)
        options = options_service.load()
        mapping = MappingService(store, provider)
        with store.session() as s:
            nominals = {n.id: (n.code, n.name, n.kind) for n in s.scalars(select(NominalCode))}
            taxes = {t.id: (t.code, t.name, t.rate) for t in s.scalars(select(TaxCode))}
        return cls(provider=provider, options=options, mapping=mapping, nominals=nominals, taxes=taxes,
                   default_sales_id=options_service.default_nominal_id("default_sales_nominal"),
                   default_purchase_id=options_service.default_nominal_id("default_purchase_nominal"),
                   base_currency=base_currency)

    # --- resolving, with the bookkeeper's advice ------------------------------------------------------

    def account(self, nominal_id: int, *, sales: bool, what: str) -> str:
        """The package account for a nominal; a stock/cost-of-sale nominal falls back to the default."""
        if self.nominals[nominal_id][2] in NEVER_EXPORTED_KINDS:
            fallback = self.default_sales_id if sales else self.default_purchase_id
            if fallback is None:
                kind = "sales" if sales else "purchase"
                raise PayloadProblem(
                    f"{what} is coded to {self._nominal_label(nominal_id)}, which is never exported, and there "
                    f"is no default {kind} nominal to use instead.",
                    f"Set the Default {kind.title()} nominal in the Mapping tab, or recode the line.")
            nominal_id = fallback
        try:
            code = self.mapping.resolve_nominal(nominal_id)
        except MappingError as exc:
            nominal = self.nominals[nominal_id][0]
            raise PayloadProblem(f"{what}: {exc}", mapping_advice(nominal, self.nominals[nominal_id][1]),
                                 nominal_code=nominal, category=exc.category) from None
        return code

    def tax(self, tax_id: int, *, sales: bool, what: str) -> str:
        try:
            return self.mapping.resolve_tax(tax_id, sales=sales)
        except MappingError as exc:
            code, name, _rate = self.taxes[tax_id]
            side = "sales" if sales else "purchases"
            raise PayloadProblem(f"{what}: {exc}",
                                 f"Map tax code {code} ({name}) for {side} in the Mapping tab, then upload again.",
                                 category=exc.category) from None

    def _nominal_label(self, nominal_id: int) -> str:
        code, name, _kind = self.nominals[nominal_id]
        return f"nominal {code} {name}"


def mapping_advice(nominal_code: str, name: str = "") -> str:
    label = f"{nominal_code} {name}".strip()
    return f"Map nominal {label} to an account in the Mapping tab, then upload again."


def remote_link(session: Session, provider: str, object_type: str, object_id: int,
                tenant_id: str | None = None) -> RemoteLink | None:
    """The object's link in ``provider`` (and, given ``tenant_id``, in that organisation only)."""
    q = select(RemoteLink).where(RemoteLink.provider == provider, RemoteLink.object_type == object_type,
                                 RemoteLink.object_id == object_id)
    if tenant_id is not None:
        q = q.where(RemoteLink.tenant_id == tenant_id)
    return session.scalars(q.order_by(RemoteLink.id.desc())).first()


# --- contacts and items ------------------------------------------------------------------------------

def contact_payload(ctx: PayloadContext, company: Company, key: str, remote_id: str | None = None) -> ContactIn:
    """``other_side``: the company trades both ways, so a package that keeps customers and suppliers apart
    (QuickBooks) gets a record for each side."""
    return ContactIn(key=key, name=company.name, email=company.email or "", is_customer=company.kind == "customer",
                     is_supplier=company.kind == "supplier", currency=company.currency or ctx.base_currency,
                     account_number=company.code, remote_id=remote_id or None,
                     other_side=bool(company.trades_both_ways))


def item_payload(ctx: PayloadContext, item: StockItem, key: str, remote_id: str | None = None) -> ItemIn:
    what = f"Stock item {item.code}"
    # The item's sales and purchase nominals only: its stock and cost-of-sale nominals stay in KCC.
    return ItemIn(key=key, code=item.code, description=item.description, sales_price=item.price,
                  purchase_cost=item.cost, sales_account=ctx.account(item.sales_nominal_id, sales=True, what=what),
                  purchase_account=ctx.account(item.purchase_nominal_id, sales=False, what=what),
                  remote_id=remote_id or None)


# --- documents ---------------------------------------------------------------------------------------

def document_payload(ctx: PayloadContext, doc: Document, key: str, contact_remote_id: str,
                     item_codes: dict[int, str] | None = None) -> DocumentIn:
    """``item_codes``: stock item id -> code for items the package has (lines of others carry no ItemCode)."""
    kind = DocumentKind(doc.kind)
    if not ctx.options.multicurrency and doc.currency != ctx.base_currency:
        raise PayloadProblem(
            f"{kind.label} {doc.number} is in {doc.currency}, and MultiCurrency is off (documents are sent in "
            f"{ctx.base_currency} only).",
            "Turn MultiCurrency on in the Mapping tab's options if the package has that currency, "
            "or Mark as Exported and enter it by hand.")
    sales = kind.is_sales
    item_codes = item_codes or {}
    lines: list[LineIn] = []
    for line in doc.lines:
        what = f"{kind.label} {doc.number} line {line.line_no}"
        lines.append(LineIn(
            description=line.description or what, quantity=line.quantity, unit_amount=line.unit_price,
            account_code=ctx.account(line.nominal_id, sales=sales, what=what),
            tax_code=ctx.tax(line.tax_code_id, sales=sales, what=what), discount_rate=line.discount_rate,
            item_code=item_codes.get(line.stock_item_id, "") if line.stock_item_id else "",
            line_amount=line.net, tax_amount=line.tax))
    if ctx.rules is not None:
        codings = [LineCoding(sent.account_code, sent.tax_code, ctx.nominals[line.nominal_id][0],
                              f"{ctx.taxes[line.tax_code_id][0]} ({ctx.taxes[line.tax_code_id][1]})", sales)
                   for sent, line in zip(lines, doc.lines, strict=True)]
        refused = ctx.rules.document(kind.value, doc.date, doc.currency, doc.company.name, contact_remote_id, codings)
        if refused:
            raise PayloadProblem("; ".join(r.message for r in refused), " ".join(r.advice for r in refused))
    if ctx.options.use_rollup_transactions:
        rates = {line.tax_code_id: ctx.taxes[line.tax_code_id] for line in doc.lines}
        lines = rollup(lines, [rates[line.tax_code_id] for line in doc.lines])
    return DocumentIn(key=key, kind=DocKind(kind.value), number=doc.number, contact_remote_id=contact_remote_id,
                      contact_name=doc.company.name, date=doc.date, due_date=doc.due_date, currency=doc.currency,
                      lines=lines, reference=doc.reference or "", authorised=ctx.options.create_authorised,
                      total=doc.gross_total,
                      # a purchase from a customer or a sale to a supplier: the company's other side
                      contact_other_side=sales != (doc.company.kind == "customer"),
                      contact_email=doc.company.email or "", contact_code=doc.company.code)


def rollup(lines: list[LineIn], taxes: list[tuple[str, str, Decimal]]) -> list[LineIn]:
    """One line per (account, tax rate); a group whose one-off tax rounding would move the total stays unrolled."""
    groups: dict[tuple[str, str], list[tuple[LineIn, tuple[str, str, Decimal]]]] = {}
    for line, rate_of_line in zip(lines, taxes, strict=True):
        groups.setdefault((line.account_code, line.tax_code), []).append((line, rate_of_line))
    out: list[LineIn] = []
    for (account, tax_code), members in groups.items():
        net = sum((member.line_amount for member, _ in members), Decimal("0"))
        tax = sum((member.tax_amount for member, _ in members), Decimal("0"))
        _code, name, rate = members[0][1]
        if len(members) == 1 or line_tax(net, rate) != tax:
            out.extend(member for member, _ in members)
            continue
        out.append(LineIn(description=f"Goods at {name}", quantity=Decimal("1"), unit_amount=net,
                          account_code=account, tax_code=tax_code, line_amount=net, tax_amount=tax))
    return out


# --- prepayment allocations --------------------------------------------------------------------------

def allocation_payload(ctx: PayloadContext, alloc: Allocation, key: str, invoice_remote_id: str,
                       stamp: str = "") -> PaymentIn:
    """``stamp``: KCC's mark (``connectors.base.make_stamp``), kept by the package on the payment, by which the
    import and the upload's recovery know KCC's own upload whatever happened to its answer."""
    payment = alloc.payment
    what = f"Prepayment allocation to {alloc.document.number}"
    if payment is None:   # only a prepayment's allocations are queued; a credit note's never sync
        raise PayloadProblem(f"{what} is not a payment's allocation; it stays in KCC.",
                             "Mark as Exported to clear it from the queue.")
    try:
        bank_code = ctx.mapping.resolve_bank(payment.bank_account_id)
        bank_id = ctx.mapping.bank_remote_id(payment.bank_account_id)
    except MappingError as exc:
        raise PayloadProblem(f"{what}: {exc}", "Map the bank account in the Mapping tab, then upload again.",
                             category=exc.category) from None
    locked = ctx.rules.lock(alloc.date, "payment", authorised=True) if ctx.rules is not None else None
    if locked is not None:
        raise PayloadProblem(locked.message, locked.advice)
    return PaymentIn(key=key, document_kind=DocKind.SALES_INVOICE, document_remote_id=invoice_remote_id,
                     amount=alloc.amount, date=alloc.date, bank_account_code=bank_code, bank_account_id=bank_id,
                     reference=payment.reference or f"Prepayment {payment.id}", stamp=stamp)


def stock_and_cos_codes(ctx: PayloadContext) -> set[str]:
    """Ledger codes of the never-exported nominals (for tests and the pre-check)."""
    return {code for code, _n, kind in ctx.nominals.values() if kind in (NominalKind.STOCK, NominalKind.COST_OF_SALE)}
