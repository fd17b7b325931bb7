"""`kcc-desktop mapping fetch|auto|list|set` against the Xero sandbox."""

from __future__ import annotations

import json

from kcc_desktop.cli import main


def run(capsys, db, *args):
    code = main(["--db", str(db), "mapping", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fetch_auto_list_and_set_without_the_window(xero_connected_store, company_db, capsys):
    code, out, _ = run(capsys, company_db, "fetch", "--json")
    assert code == 0 and json.loads(out)["accounts"] > 30

    code, out, _ = run(capsys, company_db, "auto", "--json")
    auto = {(s["category"], s["local_code"]): s for s in json.loads(out)}
    assert code == 0 and auto["nominal", "5000"]["remote_code"] == "300"

    code, out, err = run(capsys, company_db, "set", "4905", "300")
    assert code == 1 and "does not fit nominal 4905 Carriage and Delivery" in err
    code, out, _ = run(capsys, company_db, "set", "4905", "260")
    assert code == 0 and out.strip() == "4905 Carriage and Delivery -> 260 — Other Revenue (REVENUE)"

    code, out, _ = run(capsys, company_db, "list", "--category", "nominal", "--json")
    rows = {r["local_code"]: r for r in json.loads(out)}
    assert rows["4905"]["set_by"] == "user" and rows["1001"]["status"].startswith("Never exported")
    code, out, _ = run(capsys, company_db, "list")
    assert "Never exported: stock and cost of sale stay in KCC" in out


def test_fetch_without_a_connection_says_what_to_do(store, company_db, capsys):
    code, _, err = run(capsys, company_db, "fetch")
    assert code == 2 and "Valid Connection Required" in err     # no valid sign-in: 2, as for export
