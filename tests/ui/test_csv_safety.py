"""Every grid's CSV export and Ctrl+C write a cell that begins with =, +, -, @, a tab or a carriage return
so that a spreadsheet shows it as text (a leading quote, the field quoted); plain amounts stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import Company, NominalCode
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.books import export_books

from .conftest import idle_after
from .test_import_tab import ON, open_tab
from .test_trial_balance_screen import open_screen

# One value for each character a spreadsheet may take as the start of a formula.
DANGEROUS = ['=HYPERLINK("http://evil.example","Click")', "+SUM(A1:A9)", "-2+3", "@cmd", "\t=1+1", "\r=2+2"]


def as_text(value: str) -> str:
    """What a spreadsheet reads back from a safe cell: the value behind a quote mark (copied text also has
    its tabs and line breaks turned into spaces)."""
    return "'" + value


def copied(qtbot, grid) -> list[list[str]]:
    """Select every row, press Ctrl+C, and read the clipboard as a spreadsheet reads pasted text."""
    grid.setFocus()
    grid.selectAll()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() != "")
    return list(csv.reader(io.StringIO(QGuiApplication.clipboard().text()), delimiter="\t"))


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def flat(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ")


def test_trial_balance_export_and_copy_write_formula_like_names_as_text(qtbot, company, tmp_path, monkeypatch):
    store, _ = company
    with store.transaction() as s:   # names typed into the chart of nominals: the ledger keeps any text
        nominals = {n.code: n for n in s.scalars(select(NominalCode))}
        for code, name in zip(("4000", "2200", "1100", "1001", "5100", "4905"), DANGEROUS, strict=True):
            nominals[code].name = name
    _window, view = open_screen(qtbot, store)
    target = tmp_path / "tb.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    view.export_action.trigger()
    rows = read_csv(target)
    names = {r.code: r.name for r in view.balance.rows}
    shown = [v for v in DANGEROUS if v in names.values()]
    assert len(shown) >= 4, names                      # the nominals with balances appear in the export
    by_code = {row[0]: row for row in rows[1:-1]}
    for code, name in names.items():
        expected = as_text(name) if name in DANGEROUS else name
        assert by_code[code][1] == expected, (code, by_code[code])
        assert by_code[code][2].replace(".", "").isdigit()   # amounts are still plain numbers
    pasted = {row[0]: row for row in copied(qtbot, view.grid)[1:]}
    for code, name in names.items():
        if name in DANGEROUS:
            assert pasted[code][1] == as_text(flat(name)), pasted[code]


@pytest.fixture
def pending_tab(store, qtbot):
    from kcc_desktop.ui.export_tab import ExportTab

    install_queue_listeners()
    with store.transaction() as s:   # each new customer is queued for export, its name in the grid
        s.add_all(Company(code=f"C{i}", name=name, kind="customer") for i, name in enumerate(DANGEROUS))
        s.add(Company(code="PLAIN", name="-2.50", kind="customer"))   # a plain number stays a number
    tab = ExportTab(AppContext(store))
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitUntil(lambda: tab.pending_model.rowCount() == len(DANGEROUS) + 1)
    yield tab
    idle_after(qtbot, tab)


def test_export_tab_csv_and_copy_write_formula_like_names_as_text(qtbot, pending_tab, tmp_path):
    path = pending_tab.on_export_csv_triggered(str(tmp_path / "pending.csv"))
    rows = read_csv(path)
    column = rows[0].index("Company / Description")
    names = sorted(row[column] for row in rows[1:])
    assert names == sorted([as_text(v) for v in DANGEROUS] + ["-2.50"])
    pasted = copied(qtbot, pending_tab.current_grid())
    column = pasted[0].index("Company / Description")
    assert sorted(row[column] for row in pasted[1:]) == sorted([as_text(flat(v)) for v in DANGEROUS] + ["-2.50"])


@pytest.fixture
def books(xero_exporting, xero_bookkeeper):
    store, package = xero_exporting
    return export_books(store, package, "xero"), xero_bookkeeper


def test_import_tab_csv_and_copy_write_a_formula_like_reference_as_text(qtbot, books, tmp_path):
    b, bookkeeper = books
    reference = '=HYPERLINK("http://evil.example","Paid")'
    bookkeeper.pay(b.remote["SI-0001"], b.gross["SI-0001"], ON, reference)   # typed in the package
    tab = open_tab(qtbot, b.store)
    assert tab.grid.proxy.rowCount() == 1
    rows = read_csv(tab.on_export_csv_triggered(str(tmp_path / "payments.csv")))
    assert rows[1][rows[0].index("Reference")] == as_text(reference)
    assert rows[1][rows[0].index("Amount")] == f"{b.gross['SI-0001']:,.2f}"
    pasted = copied(qtbot, tab.grid)
    assert pasted[1][pasted[0].index("Reference")] == as_text(reference)
