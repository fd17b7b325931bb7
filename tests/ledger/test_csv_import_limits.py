"""import-documents is safe with any file: formula-like text is refused with its row, the file's size and
rows are capped (and the caps can be raised), only the first 100 problems are listed (all are counted),
and even a million bad rows stay within bounded memory."""

from __future__ import annotations

import os
import sys

import pytest
from sqlalchemy import func, select

from kcc_desktop.cli import main
from kcc_desktop.ledger import csv_limits
from kcc_desktop.ledger.csv_import import ImportLimits, import_documents
from kcc_desktop.models import Document
from tests.helpers.cli_process import run_cli
from tests.helpers.orders_csv import HEADER, write

GOOD = HEADER + "\nsales_invoice,INV-1,2026-03-02,,ACME01,,,PO 1,PAP001,,3,24.99,5%,,\n"   # about 200 bytes
ROW = "sales_invoice,{number},2026-03-02,,ACME01,{name},,{reference},,{description},1,10,,T1,4000"


def row(number="INV-1", name="", reference="", description="Widget") -> str:
    return ROW.format(number=number, name=name, reference=reference, description=description)


# One row per character a spreadsheet may take as the start of a formula, in a different text column each.
FORMULA_ROWS = [
    (row("INV-A", description='"=HYPERLINK(""http://evil.example"",""Click"")"'), "description", "="),
    (row("INV-B", description="=1+1"), "description", "="),
    (row("INV-C", reference="+SUM(A1:A9)"), "reference", "+"),
    (row("INV-D", reference="-2+3"), "reference", "-"),
    (row("@cmd"), "number", "@"),
    (row("INV-F", description='"\t=1+1"'), "description", "\t"),
    (row("INV-G", reference='"\rcmd"'), "reference", "\r"),
    ("sales_invoice,INV-H,2026-03-02,,=ACME01,,,,,Widget,1,10,,T1,4000", "company_code", "="),
    ("sales_invoice,INV-I,2026-03-02,,NEW01,@Evil Ltd,,,,Widget,1,10,,T1,4000", "company_name", "@"),
]


def test_formula_like_text_is_refused_with_its_row_and_nothing_is_written(ledger, tmp_path, digests):
    before = digests(ledger)
    text = "\n".join([HEADER, row("INV-OK")] + [r for r, _, _ in FORMULA_ROWS]) + "\n"
    report = import_documents(ledger, write(tmp_path, text))
    assert not report.ok and report.imported == 0
    found = {e.row: e.message for e in report.errors}
    assert 2 not in found                                   # the good row is not blamed
    for number, (_, column, first) in enumerate(FORMULA_ROWS, start=3):
        assert f"starts with {first!r}" in found[number] and found[number].startswith(column), (number, found)
    assert report.error_count == len(FORMULA_ROWS)
    assert digests(ledger) == before


def test_plain_numbers_in_text_columns_are_not_formulas(ledger, tmp_path):
    text = "\n".join([HEADER, row("-1001", reference="-2.50"), row("+1002", reference="+44")]) + "\n"
    report = import_documents(ledger, write(tmp_path, text))
    assert report.ok, report.text()
    with ledger.session() as s:
        assert set(s.scalars(select(Document.reference).where(Document.number.in_(["-1001", "+1002"])))) == {
            "-2.50", "+44"}


def test_only_the_first_hundred_problems_are_listed_and_all_are_counted(ledger, tmp_path):
    rows = [row("INV-EXIST")]   # found last (the ledger has it), yet listed first: it is on row 2
    rows += [row(f"INV-{n}", description="=1+1") for n in range(250)]
    report = import_documents(ledger, write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    assert report.error_count == 251 and len(report.errors) == 100
    assert report.errors[0].row == 2 and "already in the ledger" in report.errors[0].message
    assert [e.row for e in report.errors[1:]] == list(range(3, 102))
    text = report.text()
    assert "251 problems found" in text and "… and 151 more (the first 100 are listed)." in text
    assert len(text.splitlines()) == 103


def test_the_size_cap_refuses_a_file_before_reading_it_and_can_be_raised(ledger, tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)
    report = import_documents(ledger, path, ImportLimits(max_mb=0.0001))
    assert [(e.row, "more than the 0.0001 MB one import takes" in e.message) for e in report.errors] == [(0, True)]
    assert "--max-size" in report.text() and "KCC_IMPORT_MAX_MB" in report.text()
    monkeypatch.setenv("KCC_IMPORT_MAX_MB", "0.0001")
    assert not import_documents(ledger, path).ok            # the environment's cap applies to the window too
    monkeypatch.setenv("KCC_IMPORT_MAX_MB", "0")            # 0: no cap
    assert import_documents(ledger, path).ok


def test_the_row_cap_stops_reading_and_can_be_raised(ledger, tmp_db_path, tmp_path, capsys, digests):
    before = digests(ledger)
    path = write(tmp_path, "\n".join([HEADER] + [row(f"INV-{n}") for n in range(5)]) + "\n")
    assert main(["--db", str(tmp_db_path), "import-documents", path, "--max-rows", "3"]) == 1
    err = capsys.readouterr().err
    assert "The file: has more than 3 rows, the most one import takes; it was not read past row 4" in err
    assert "--max-rows" in err
    assert digests(ledger) == before
    assert main(["--db", str(tmp_db_path), "import-documents", path, "--max-rows", "5"]) == 0
    assert "Imported 5 documents" in capsys.readouterr().out


def test_one_document_takes_at_most_the_line_cap_whatever_the_file_caps(ledger, tmp_path, monkeypatch, digests):
    """A document is posted, and its lines held, as a whole: its lines are capped (10,000; 5 here, to be quick)."""
    monkeypatch.setattr(csv_limits, "MAX_DOCUMENT_LINES", 5)
    before = digests(ledger)
    lines = [row("INV-LONG", description=f"Line {n}") for n in range(7)]
    path = write(tmp_path, "\n".join([HEADER, row("INV-SHORT"), *lines]) + "\n")
    report = import_documents(ledger, path, ImportLimits(max_mb=0, max_rows=0))
    assert [(e.row, e.message) for e in report.errors] == [
        (8, "Sales Invoice INV-LONG has 7 lines; one document takes at most 5 (this row is line 6). Split it into "
            "several documents.")]
    assert digests(ledger) == before
    path = write(tmp_path, "\n".join([HEADER, *lines[:5]]) + "\n", "five.csv")
    assert import_documents(ledger, path).ok


@pytest.mark.parametrize("args, env, says", [
    (["--max-rows", "many"], {}, "'many' is not a number"),
    (["--max-size", "-1"], {}, "cannot be negative"),
    ([], {"KCC_IMPORT_MAX_ROWS": "lots"}, "KCC_IMPORT_MAX_ROWS='lots' is not a number"),
])
def test_a_limit_that_is_not_a_number_is_a_wrong_argument(ledger, tmp_db_path, tmp_path, capsys, monkeypatch,
                                                           args, env, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = write(tmp_path, GOOD)
    try:
        code = main(["--db", str(tmp_db_path), "import-documents", path, *args])
    except SystemExit as exc:   # argparse refuses a flag's value itself
        code = exc.code
    assert code == 2
    assert says in capsys.readouterr().err
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="reads the peak memory with the POSIX resource module")
def test_a_million_bad_rows_take_bounded_memory_and_give_a_short_error_list(ledger, tmp_db_path, tmp_path):
    """Run as a user would (a process of its own), caps lifted so every row is read and checked; the peak
    resident memory of that process alone is read back from the OS (``tests.helpers.cli_process``)."""
    path = tmp_path / "million.csv"
    chunk = "".join(f'sales_invoice,BAD-{{0}}{n:04d},2026-03-02,,ACME01,,,,,"=HYPERLINK(""http://x"")",1,10,,T1,4000\n'
                    for n in range(10_000))
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for block in range(100):
            f.write(chunk.replace("{0}", f"{block:03d}"))
    assert path.stat().st_size > 50 * 1024 * 1024   # over the default cap: see below
    try:
        done = run_cli(["--db", str(tmp_db_path), "import-documents", str(path), "--max-size", "0", "--max-rows", "0"],
                       env=dict(os.environ), timeout=600)
        assert done.returncode == 1, done.stderr[-2000:]
        assert done.peak_mb < 200, f"peak resident memory {done.peak_mb:.0f} MB"
        assert "1,000,000 problems found" in done.stderr
        assert "… and 999,900 more (the first 100 are listed)." in done.stderr
        assert len(done.stderr) < 50_000 and done.stderr.count("\n") < 110   # not a million lines
        # With the default caps the same file is refused at once, for its size.
        report = import_documents(ledger, path)
        assert report.error_count == 1 and "more than the 50 MB one import takes" in report.errors[0].message
    finally:
        path.unlink(missing_ok=True)
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1
