"""Writes an import's checked documents: in bulk (the import), or one by one through the services (the
reference the tests compare it with).

Both create the new companies through the ORM, in the order their first documents come, so they get the
same ids (the bulk path a thousand at a time, letting each chunk go once its ids are noted in the staging
file: 200,000 new companies held at once took over 500 MB); ``write_in_bulk`` then posts every document
with ``bulk_rows`` (the same rounding and postings ``service.create_document`` uses, ids assigned in the
same order), ``write_with_services`` calls ``service.create_document`` for each.
``tests/ledger/test_csv_import_bulk.py`` proves the ledgers equal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from ..models import Company, get_required
from . import service
from .bulk_rows import BulkLine, BulkRows
from .csv_checks import MasterData
from .csv_staging import NewCompany, StagedDocument, StagedLine, Staging
from .errors import LedgerError
from .rounding import line_amounts

ZERO = Decimal(0)
NAMED = 20   # new companies named in the report; the rest are counted


@dataclass
class Written:
    documents: int = 0
    lines: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    companies: list[str] = field(default_factory=list)   # the first NAMED new companies' codes
    company_count: int = 0

    def count(self, doc: StagedDocument, lines: int) -> None:
        self.documents += 1
        self.lines += lines
        self.kinds[doc.kind.value] += 1

    def created(self, company: Company) -> None:
        self.company_count += 1
        if len(self.companies) < NAMED:
            self.companies.append(company.code)


def _new_company(spec: NewCompany) -> Company:
    return Company(code=spec.code, name=spec.name, kind=spec.kind, is_account=True, currency=spec.currency,
                   email=spec.email)


def write_in_bulk(session: Session, staging: Staging, master: MasterData) -> Written:
    """Every staged document, posted as ``service.create_document`` would post it. Raises ``LedgerError``
    when the chart lacks a control account."""
    written = Written()
    controls = service.controls(session)
    for chunk in staging.new_companies():
        made = [(spec.key, _new_company(spec)) for spec in chunk]
        session.add_all(company for _, company in made)
        session.flush()   # one flush a chunk: the export queue's listener queues the chunk at once
        staging.created([(key, company.id) for key, company in made])
        for _, company in made:
            written.created(company)
            session.expunge(company)   # let go: only their ids are needed, and the staging file has them
    writer = BulkRows(session, controls)
    rates, costs = master.tax_rates, master.item_costs
    for doc, lines in staging.documents_with_lines():
        known = master.companies.get(doc.company_code.upper())
        company_id, currency = (known.id, known.currency) if known else (doc.new_company_id, doc.new_company_currency)
        if company_id is None or currency is None:   # cannot happen: the staging checked every company
            raise LedgerError(f"{doc.kind.label} {doc.number}: company {doc.company_code} was not created.")
        rows = []
        for line in lines:
            quantity, price = Decimal(line.quantity), Decimal(line.unit_price)
            discount = Decimal(line.discount) if line.discount else ZERO
            net, tax = line_amounts(quantity, price, discount, rates[line.tax_code_id])
            rows.append(BulkLine(costs[line.item_id] if line.item_id else None, line.description, quantity, price,
                                 discount, line.tax_code_id, line.nominal_id, net, tax))
        writer.document(doc.kind, doc.number, company_id, doc.when, doc.due, currency, doc.reference, rows)
        writer.flush_if_full()
        written.count(doc, len(lines))
    writer.flush()
    return written


def write_with_services(session: Session, staging: Staging, master: MasterData) -> Written:
    """The same documents through ``service.create_document``, one at a time (slow; the tests' reference)."""
    written = Written()
    new = {spec.key: spec for chunk in staging.new_companies() for spec in chunk}
    made: dict[str, Company] = {}
    for doc, lines in staging.documents_with_lines():
        key = doc.company_code.upper()
        known = master.companies.get(key)
        if known is not None:
            company = get_required(session, Company, known.id)
        elif key in made:
            company = made[key]
        else:   # created just before its first document, as someone entering them by hand would
            company = made[key] = _new_company(new[key])
            session.add(company)
            session.flush()
            written.created(company)
        service.create_document(session, doc.kind, company, doc.number, doc.when, [_line_input(x) for x in lines],
                                due_date=doc.due, reference=doc.reference, currency=company.currency)
        written.count(doc, len(lines))
    return written


def _line_input(line: StagedLine) -> service.LineInput:
    return service.LineInput(quantity=Decimal(line.quantity), unit_price=Decimal(line.unit_price),
                             stock_item_id=line.item_id, description=line.description,
                             discount_rate=Decimal(line.discount) if line.discount else ZERO,
                             tax_code_id=line.tax_code_id, nominal_id=line.nominal_id)


__all__ = ["LedgerError", "Written", "write_in_bulk", "write_with_services"]
