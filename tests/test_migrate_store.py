"""``kcc-desktop migrate-store FROM TO``: a company file moved into another store (a new file, or a shared
PostgreSQL database) with every row, the same trial balance, ids that go on from where they were, and the
source untouched. A store that already holds a company is refused in words."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.cli import main
from kcc_desktop.ledger import service
from kcc_desktop.migrate_store import _counts
from kcc_desktop.models import Company, StockItem
from kcc_desktop.store import open_store


@pytest.fixture
def source(tmp_path, capsys):
    path = tmp_path / "company.sqlite"
    assert main(["--db", str(path), "demo", "--documents", "30"]) == 0
    capsys.readouterr()
    return path


def _trial_balance(db: str, capsys) -> dict:
    assert main(["--db", db, "trial-balance", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "moved" / "company.sqlite")
    else:
        from tests.helpers.engines import fresh_pg_url

        with fresh_pg_url(migrated=False) as url:
            yield url


def test_a_company_moves_whole_and_goes_on_working_there(source, target, capsys):
    before = source.read_bytes()
    tb = _trial_balance(str(source), capsys)

    assert main(["migrate-store", str(source), target]) == 0
    said = capsys.readouterr().out
    assert "trial balance" in said and "match" in said and "KCC_DB" in said

    assert source.read_bytes() == before                          # only read
    moved, original = open_store(target, create=False), open_store(source, create=False)
    try:
        assert _counts(moved) == _counts(original)
        assert sum(_counts(moved).values()) > 1000
        with moved.transaction() as s:                            # new rows get ids after the copied ones
            customer = s.scalar(select(Company).where(Company.kind == "customer").order_by(Company.id))
            item = s.scalar(select(StockItem).order_by(StockItem.id))
            doc = service.create_document(s, "sales_invoice", customer, "MOVED-1", date(2026, 3, 1),
                                          [service.LineInput(quantity=Decimal(1), unit_price=Decimal("10.00"),
                                                             stock_item_id=item.id)])
            assert doc.id > max(_ids(original, "document"))
    finally:
        moved.close()
        original.close()
    assert _trial_balance(target, capsys)["total_debit"] != tb["total_debit"]   # the new invoice posted


def _ids(store, table: str) -> list[int]:
    from sqlalchemy import text

    with store.session() as s:
        return list(s.scalars(text(f"SELECT id FROM {table}")))


def test_a_store_that_already_holds_a_company_is_refused(source, tmp_path, capsys):
    other = tmp_path / "other.sqlite"
    assert main(["--db", str(other), "demo", "--documents", "2"]) == 0
    capsys.readouterr()
    before = other.read_bytes()

    assert main(["migrate-store", str(source), str(other)]) == 1
    err = capsys.readouterr().err
    assert "already holds data" in err and str(other) in err and "Traceback" not in err
    assert other.read_bytes() == before


def test_a_missing_source_is_refused_and_nothing_is_made(tmp_path, capsys):
    target = tmp_path / "new.sqlite"
    assert main(["migrate-store", str(tmp_path / "mistyped.sqlite"), str(target)]) == 2
    assert "mistyped.sqlite" in capsys.readouterr().err
    assert not target.exists()
