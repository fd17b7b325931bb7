"""``kcc-desktop trial-balance``: the JSON shape, amounts as strings, balancing totals, date ranges."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest

from kcc_desktop.cli import main
from kcc_desktop.demo.company import build_demo
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.store import open_store


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tb") / "demo.sqlite"
    store = open_store(path)
    with store.transaction() as s:
        summary = build_demo(s, 80, seed=21)
    store.close()
    return path, summary


def _run_json(capsys, *args) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_json_shape_amounts_as_strings_and_totals_balance(demo_file, capsys):
    path, _ = demo_file
    out = _run_json(capsys, "--db", str(path), "trial-balance", "--json")
    assert set(out) == {"rows", "total_debit", "total_credit"}
    assert out["rows"] and all(set(r) == {"code", "name", "debit", "credit"} for r in out["rows"])
    for r in out["rows"]:
        assert isinstance(r["debit"], str) and isinstance(r["credit"], str)
    assert isinstance(out["total_debit"], str)
    assert D(out["total_debit"]) == D(out["total_credit"]) > 0
    assert sum(D(r["debit"]) for r in out["rows"]) == D(out["total_debit"])
    assert sum(D(r["credit"]) for r in out["rows"]) == D(out["total_credit"])
    codes = [r["code"] for r in out["rows"]]
    assert {"1001", "1100", "2200", "4000", "5100"} <= set(codes) and codes == sorted(codes)


def test_date_range_matches_the_journal_for_that_range(demo_file, capsys):
    path, summary = demo_file
    middle = summary.first_date.replace(day=1)
    start, end = middle.isoformat(), summary.last_date.isoformat()
    out = _run_json(capsys, "--db", str(path), "trial-balance", "--from", start, "--to", end, "--json")
    store = open_store(path)
    try:
        with store.session() as s:
            expected = trial_balance(s, date.fromisoformat(start), date.fromisoformat(end)).to_json()
            whole = trial_balance(s).to_json()
    finally:
        store.close()
    assert out == expected
    assert D(out["total_debit"]) == D(out["total_credit"])
    empty = _run_json(capsys, "--db", str(path), "trial-balance", "--to", "1999-12-31", "--json")
    assert empty == {"rows": [], "total_debit": "0.00", "total_credit": "0.00"}
    assert whole != empty


def test_readable_table_marks_stock_and_cost_of_sale(demo_file, capsys):
    path, _ = demo_file
    assert main(["--db", str(path), "trial-balance"]) == 0
    out = capsys.readouterr().out
    assert "Total" in out and "Debtors Control Account" in out
    stock = next(line for line in out.splitlines() if line.startswith("1001"))
    assert stock.endswith("*")


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
    (["--to", "31/03/2026"], "--to '31/03/2026' is not a date"),
    (["--from", "2026-04-01", "--to", "2026-03-01"], "is after --to"),
])
def test_bad_dates_exit_2_with_a_clear_message(demo_file, capsys, args, message):
    path, _ = demo_file
    assert main(["--db", str(path), "trial-balance", *args, "--json"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
