"""The checks one CSV row passes on its own, against the company file's master data.

Each problem is added with the row's number; a row that passes becomes a ``CheckedLine``: the document it
belongs to (type, number and the document columns, compared later with the document's other rows) and
the line exactly as ``service.create_document`` would store it (the stock item's defaults applied).
Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return
first) is refused in every text column unless it is a plain number (``csv_cells``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..csv_cells import FORMULA_STARTS, formula_start
from ..models import Company, DocumentKind, NominalCode, NominalKind, StockItem, TaxCode
from .bulk_rows import ItemCosts
from .csv_limits import Problems
from .csv_reader import REQUIRED, column_name

# Repeated on every row of a document; the optional ones may be left blank after the first row.
HEADER_FIELDS = ("date", "company_code", "due_date", "company_name", "company_email", "currency", "reference")
NUMBER_FIELDS = ("quantity", "unit_price", "discount_percent")
TYPE_ALIASES = {"si": "sales_invoice", "sc": "sales_credit", "pi": "purchase_invoice", "pc": "purchase_credit"}
KINDS = frozenset(k.value for k in DocumentKind)
SALES_KINDS = frozenset({"sales_invoice", "sales_credit"})
LINE_KINDS = {
    True: {NominalKind.SALES, NominalKind.DELIVERY, NominalKind.OTHER},
    False: {NominalKind.PURCHASE, NominalKind.DELIVERY, NominalKind.OTHER},
}
LIMITS = {"number": 32, "company_code": 32, "company_name": 200, "company_email": 200, "reference": 100,
          "description": 300}
# Upper bounds keep every line total well inside what the ledger stores exactly.
NUMBER_LIMITS = {"quantity": Decimal(1_000_000), "unit_price": Decimal(100_000_000), "discount_percent": Decimal(100)}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY = re.compile(r"[A-Za-z]{3}")
FOUR_DP = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    description: str
    tax_code_id: int
    sales_nominal_id: int
    purchase_nominal_id: int
    costs: ItemCosts


@dataclass(frozen=True, slots=True)
class Tax:
    id: int
    code: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Nominal:
    id: int
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class KnownCompany:
    id: int
    code: str
    name: str
    kind: str
    currency: str
    both_ways: bool = False     # trades both ways: takes sales and purchase documents


class MasterData:
    """The company file's companies, tax codes, nominals and stock items, by upper-case code (plain values,
    not ORM objects: a big ledger's stock list costs little)."""

    def __init__(self, session: Session) -> None:
        self.companies = {r.code.upper(): KnownCompany(r.id, r.code, r.name, r.kind, r.currency,
                                                       bool(r.trades_both_ways))
                          for r in session.execute(select(Company.id, Company.code, Company.name, Company.kind,
                                                          Company.currency, Company.trades_both_ways))}
        self.taxes = {r.code.upper(): Tax(r.id, r.code, r.rate)
                      for r in session.execute(select(TaxCode.id, TaxCode.code, TaxCode.rate))}
        self.tax_rates = {t.id: t.rate for t in self.taxes.values()}
        self.nominals = {r.code.upper(): Nominal(r.id, r.code, r.name, r.kind) for r in session.execute(
            select(NominalCode.id, NominalCode.code, NominalCode.name, NominalCode.kind))}
        self.items = {r.code.upper(): Item(r.id, r.description, r.tax_code_id, r.sales_nominal_id,
                                           r.purchase_nominal_id,
                                           ItemCosts(r.id, r.stock_nominal_id, r.cost_of_sale_nominal_id, r.cost))
                      for r in session.execute(select(
                          StockItem.id, StockItem.code, StockItem.description, StockItem.tax_code_id,
                          StockItem.sales_nominal_id, StockItem.purchase_nominal_id, StockItem.stock_nominal_id,
                          StockItem.cost_of_sale_nominal_id, StockItem.cost))}
        self.item_costs = {i.id: i.costs for i in self.items.values()}


@dataclass(frozen=True, slots=True)
class CheckedLine:
    kind: str
    number: str
    header: tuple[str, ...]      # the HEADER_FIELDS, in that order
    quantity: str
    unit_price: str
    discount: str                # "" for none
    item_id: int | None
    tax_code_id: int
    nominal_id: int
    description: str


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@functools.lru_cache(maxsize=4096)   # a file's dates repeat thousands of times
def parse_date(text: str) -> date:
    """ISO (2026-03-31) or the UK day-first form a spreadsheet writes (31/03/2026); never month-first.
    ``ValueError`` for anything else, or a day the calendar lacks (2026-02-30)."""
    if m := _ISO_DATE.fullmatch(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _UK_DATE.fullmatch(text):
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(text)


def _parse_number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite():
        raise ValueError
    return value


class RowChecker:
    def __init__(self, master: MasterData, header: list[str], problems: Problems) -> None:
        self.master, self.problems = master, problems
        self.header = header
        # Text columns are checked for formula starts; the number columns are parsed as numbers instead.
        self.text_columns = [(i, name) for i, name in enumerate(header) if name not in NUMBER_FIELDS]

    def check(self, row: int, record: list[str]) -> CheckedLine | None:
        """The row's line, or None after adding each of its problems."""
        add = self.problems.add
        before = self.problems.count
        for i, name in self.text_columns:
            cell = record[i]
            if not cell or (cell[0] not in FORMULA_STARTS and not cell[0].isspace()):
                continue   # the usual case, decided by the first character
            first = formula_start(cell) or formula_start(cell.strip())
            if first:
                add(row, f"{name} {cell.strip()!r} starts with {first!r}, so a spreadsheet would run it as a "
                         "formula when the ledger is exported. Text cannot start with =, +, -, @, a tab or a "
                         "carriage return unless it is a plain number; remove the first character.")
        v = {name: cell.strip() for name, cell in zip(self.header, record, strict=False)}
        # type is a required column, so every row has it (CsvRows refuses a header without it, and a
        # row shorter than the header)
        kind = column_name(v["type"])
        kind = TYPE_ALIASES.get(kind, kind)
        if kind not in KINDS:
            add(row, f"type {v['type']!r} is not one of sales_invoice, sales_credit, purchase_invoice, "
                     "purchase_credit.")
            kind = ""  # unknown: the nominal cannot be judged against it
        for name in REQUIRED:
            if not v.get(name):
                add(row, f"{name} is empty.")
        for name, limit in LIMITS.items():
            if len(v.get(name, "")) > limit:
                add(row, f"{name} is longer than {limit} characters.")
        for name in ("date", "due_date"):
            if v.get(name):
                try:
                    parse_date(v[name])
                except ValueError:
                    add(row, f"{name} {v[name]!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-03-31).")
        if v.get("company_email") and not EMAIL.match(v["company_email"]):
            add(row, f"company_email {v['company_email']!r} is not an email address.")
        if v.get("currency") and not CURRENCY.fullmatch(v["currency"]):
            add(row, f"currency {v['currency']!r} is not a three-letter code such as GBP or EUR.")
        numbers = self.numbers(row, v)
        item = self.line_item(row, v)
        tax = self.line_tax(row, v)
        nominal = self.line_nominal(row, v, kind)
        if not v.get("stock_code") and not v.get("description"):
            add(row, "description is empty; a line without a stock_code needs one.")
        if self.problems.count > before:
            return None
        sales = kind in SALES_KINDS
        # The stock item's defaults, as service.create_document applies them.
        tax_id = tax.id if tax else item.tax_code_id if item else 0
        nominal_id = nominal.id if nominal else (item.sales_nominal_id if sales else item.purchase_nominal_id) \
            if item else 0
        return CheckedLine(kind, v["number"], tuple(v.get(name, "") for name in HEADER_FIELDS), numbers["quantity"],
                           numbers["unit_price"], numbers.get("discount_percent", ""), item.id if item else None,
                           tax_id, nominal_id, v.get("description", "") or (item.description if item else ""))

    def numbers(self, row: int, v: dict[str, str]) -> dict[str, str]:
        """The number columns as the ledger will read them (a discount's "%" dropped)."""
        out = {}
        for name, high in NUMBER_LIMITS.items():
            if not v.get(name):
                continue
            text = v[name].removesuffix("%").strip() if name == "discount_percent" else v[name]
            try:
                value = _parse_number(text)
            except ValueError:
                self.problems.add(row, f"{name} {v[name]!r} is not a number; use digits and a dot, e.g. 12.50.")
                continue
            if name == "quantity" and value <= 0:
                self.problems.add(row, "quantity must be more than zero (a return is a credit note, not a negative "
                                       "line).")
            elif value < 0 or value > high:
                self.problems.add(row, f"{name} {v[name]} must be between 0 and {high:,}.")
            elif value != value.quantize(FOUR_DP):
                self.problems.add(row, f"{name} {v[name]} has more than four decimal places.")
            else:
                out[name] = text
        return out

    def line_item(self, row: int, v: dict[str, str]) -> Item | None:
        code = v.get("stock_code", "")
        if not code:
            return None
        item = self.master.items.get(code.upper())
        if item is None:
            self.problems.add(row, f"stock_code {code!r} is not a stock item in this company file.")
        return item

    def line_tax(self, row: int, v: dict[str, str]) -> Tax | None:
        code = v.get("tax_code", "")
        if not code:
            if not v.get("stock_code"):
                self.problems.add(row, "tax_code is empty; a line without a stock_code needs one (e.g. T1).")
            return None
        tax = self.master.taxes.get(code.upper())
        if tax is None:
            known = ", ".join(sorted(t.code for t in self.master.taxes.values()))
            self.problems.add(row, f"tax_code {code!r} is not set up; the tax codes are {known}.")
        return tax

    def line_nominal(self, row: int, v: dict[str, str], kind: str) -> Nominal | None:
        code = v.get("nominal_code", "")
        if not code:
            if not v.get("stock_code"):
                self.problems.add(row, "nominal_code is empty; a line without a stock_code needs one (e.g. 4000).")
            return None
        nominal = self.master.nominals.get(code.upper())
        if nominal is None:
            self.problems.add(row, f"nominal_code {code!r} is not in the chart of nominals.")
            return None
        sales = kind in SALES_KINDS
        if kind and nominal.kind not in LINE_KINDS[sales]:
            if nominal.kind in (NominalKind.STOCK, NominalKind.COST_OF_SALE):
                why = ("stock and cost of sale are posted by the ledger from a stock item's cost, never typed "
                       "on a line")
            else:
                why = f"a {nominal.kind.replace('_', ' ')} account cannot take {'sales' if sales else 'purchase'} lines"
            allowed = "sales" if sales else "purchase"
            self.problems.add(row, f"nominal_code {nominal.code} ({nominal.name}): {why}. "
                                   f"Use a {allowed}, delivery or other nominal.")
        return nominal
