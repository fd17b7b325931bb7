"""The bulk payment writer leaves exactly the books ``record_payment`` leaves, one payment at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kcc_desktop.ledger import bulk_payments as bulk
from kcc_desktop.ledger import service
from kcc_desktop.ledger.chart import seed_standard_chart
from kcc_desktop.ledger.errors import LedgerError, PaymentGuardError
from kcc_desktop.models import AppSetting
from kcc_desktop.store import open_store
from tests.helpers.ledger import add_company, add_item, bank, table_digests

D = Decimal


def build(path):
    store = open_store(path)
    with store.transaction() as s:
        seed_standard_chart(s)
        acme = add_company(s, "ACME", "Acme Ltd")
        supp = add_company(s, "SUPP", "Supplies plc", kind="supplier")
        item = add_item(s, "W-1", "19.99", "2.50")
        line = service.LineInput
        for n in range(3):
            service.create_document(s, "sales_invoice", acme, f"SI-{n}", date(2026, 1, 5 + n),
                                    [line(quantity=D(3 + n), unit_price=item.price, stock_item_id=item.id)])
        service.create_document(s, "purchase_invoice", supp, "PI-0", date(2026, 1, 4),
                                [line(quantity=D(10), unit_price=D("2.50"), stock_item_id=item.id)])
    return store


def plans(s):
    from sqlalchemy import select

    from kcc_desktop.models import Company, Document

    docs = {d.number: d for d in s.scalars(select(Document))}
    acme, supp = (s.scalar(select(Company).where(Company.code == c)) for c in ("ACME", "SUPP"))
    cur = bank(s)
    return [
        ("receipt", acme, cur, D("71.96"), date(2026, 2, 1), [(docs["SI-0"], D("71.96"))], "BACS 1", "x:1"),
        ("receipt", acme, cur, D("10.00"), date(2026, 2, 2), [(docs["SI-1"], D("10.00"))], "part", "x:2"),
        ("receipt", acme, cur, D("20.00"), date(2026, 2, 2), [(docs["SI-1"], D("5.00"))], "over", "x:3"),
        ("receipt", acme, cur, D("33.33"), date(2026, 2, 3), [], "on account", "x:4"),
        ("receipt", acme, cur, D("50.00"), date(2026, 2, 3), [(docs["SI-1"], D("20.00")), (docs["SI-2"], D("30.00"))],
         "two", "x:5"),
        ("supplier_payment", supp, cur, D("30.00"), date(2026, 2, 4), [(docs["PI-0"], D("30.00"))], "chq", "x:6"),
    ]


def test_bulk_write_equals_record_payment_one_by_one(tmp_path):
    one, many = build(tmp_path / "one.sqlite"), build(tmp_path / "many.sqlite")
    with one.transaction() as s:
        for kind, company, cur, amount, when, allocs, ref, remote in plans(s):
            service.record_payment(s, kind, company, cur, amount, when, allocs, reference=ref, source="xero",
                                   remote_id=remote)
    with many.transaction() as s:
        specs = [bulk.PaymentSpec(k, c, b, a, w, al, reference=r, source="xero", remote_id=x)
                 for k, c, b, a, w, al, r, x in plans(s)]
        due: dict[int, Decimal] = {}
        for spec in specs:
            for doc, _ in spec.allocations:
                due.setdefault(doc.id, service.outstanding(s, doc.id))
            bulk.validate(s, spec, due)
            for doc, part in spec.allocations:
                due[doc.id] -= part
        ids = bulk.write(s, specs)
    assert ids == list(range(1, 7))
    assert table_digests(one) == table_digests(many)
    one.close()
    many.close()


def test_bulk_validate_keeps_record_payments_rules(tmp_path):
    store = build(tmp_path / "rules.sqlite")
    with store.transaction() as s:
        s.add(AppSetting(key=service.INTEGRATION_ENABLED_KEY, value="1"))
        kind, acme, cur, amount, when, allocs, _ref, _ = plans(s)[0]
        due = {allocs[0][0].id: service.outstanding(s, allocs[0][0].id)}
        with pytest.raises(PaymentGuardError):
            bulk.validate(s, bulk.PaymentSpec(kind, acme, cur, amount, when, allocs), due)
        bulk.validate(s, bulk.PaymentSpec(kind, acme, cur, amount, when, allocs, source="xero"), due)
        with pytest.raises(LedgerError, match=r"more than the 71\.96 outstanding"):
            bulk.validate(s, bulk.PaymentSpec(kind, acme, cur, D("80"), when, [(allocs[0][0], D("80"))],
                                              source="xero"), due)
        with pytest.raises(LedgerError, match="more than zero"):
            bulk.validate(s, bulk.PaymentSpec(kind, acme, cur, D("0"), when, [], source="xero"), due)
    store.close()
