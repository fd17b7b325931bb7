"""Accounts → Trial Balance: the ledger's figures for a range, totals that balance, journal-by-hand rows, CSV."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from kcc_desktop.context import AppContext
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.ui.main_window import MainWindow
from kcc_desktop.ui.trial_balance import TbCol, TrialBalanceView


def shown(view):
    proxy = view.grid.proxy
    return [tuple(proxy.data(proxy.index(r, c)) for c in TbCol) for r in range(proxy.rowCount())]


def expected_rows(store, date_from, date_to):
    with store.session() as s:
        tb = trial_balance(s, date_from, date_to)
    rows = [(r.code, r.name, f"{r.debit:,.2f}" if r.debit else "", f"{r.credit:,.2f}" if r.credit else "")
            for r in tb.rows]
    return tb, rows


def open_screen(qtbot, store) -> tuple[MainWindow, TrialBalanceView]:
    window = MainWindow(AppContext(store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.trial_balance_action.trigger()   # Accounts → Trial Balance
    view = window.current_tab()
    assert isinstance(view, TrialBalanceView)
    if view.model.rowCount() == 0:
        qtbot.waitSignal(view.loaded, timeout=10_000).wait()
    return window, view


def set_range(qtbot, view, date_from: date, date_to: date):
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.from_edit.setDate(QDate(date_from))
        view.to_edit.setDate(QDate(date_to))


def test_equals_the_ledger_for_a_range_and_balances(qtbot, company):
    store, _ = company
    _window, view = open_screen(qtbot, store)
    whole, rows = expected_rows(store, *view.date_range)
    assert [r[:4] for r in shown(view)[:-1]] == rows
    # A narrower range: February and March only leave out PI-0001 and SI-0001.
    set_range(qtbot, view, date(2025, 2, 1), date(2025, 3, 31))
    part, rows = expected_rows(store, date(2025, 2, 1), date(2025, 3, 31))
    assert part.total_debit != whole.total_debit
    assert [r[:4] for r in shown(view)[:-1]] == rows
    total = shown(view)[-1]
    assert total[:4] == ("", "Total", f"{part.total_debit:,.2f}", f"{part.total_credit:,.2f}")
    assert part.total_debit == part.total_credit
    assert "balanced" in view.status_label.text()
    assert view.model.font(view.model.row_data(0), TbCol.NAME).bold()


def test_stock_and_cost_of_sale_rows_are_marked_journal_by_hand(qtbot, company):
    store, _ = company
    _window, view = open_screen(qtbot, store)
    marked = {r[0]: r[4] for r in shown(view) if r[4]}
    assert marked == {"1001": "Stock: journal by hand", "5100": "Cost of sale: journal by hand"}
    proxy = view.grid.proxy
    for r in range(proxy.rowCount()):
        code = proxy.data(proxy.index(r, TbCol.CODE))
        icon = proxy.data(proxy.index(r, TbCol.CODE), Qt.ItemDataRole.DecorationRole)
        tip = proxy.data(proxy.index(r, TbCol.NAME), Qt.ItemDataRole.ToolTipRole)
        assert (icon is not None and not icon.isNull()) == (code in marked)
        assert bool(tip and "manual journal" in tip) == (code in marked)


def test_sorting_by_debit_keeps_the_total_last(qtbot, company):
    store, _ = company
    _window, view = open_screen(qtbot, store)
    header = view.grid.horizontalHeader()
    x = header.sectionViewportPosition(TbCol.DEBIT) + 10
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))   # descending
    rows = shown(view)
    assert rows[-1][1] == "Total"
    debits = [Decimal(r[2].replace(",", "") or 0) for r in rows[:-1]]
    assert debits == sorted(debits, reverse=True)


def test_export_to_csv_writes_what_is_shown(qtbot, company, tmp_path, monkeypatch):
    store, _ = company
    _window, view = open_screen(qtbot, store)
    target = tmp_path / "tb.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    menu = view.grid.build_context_menu()   # right-click → Export to CSV… (the same action as the button)
    assert view.export_action in menu.actions()
    view.export_action.trigger()
    with open(target, newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    tb = view.balance
    assert lines[0] == ["Nominal code", "Name", "Debit", "Credit", "Journal by hand"]
    assert lines[1:-1] == [[r.code, r.name, f"{r.debit:.2f}", f"{r.credit:.2f}",
                            {"1001": "Stock: journal by hand", "5100": "Cost of sale: journal by hand"}.get(r.code, "")]
                           for r in tb.rows]
    assert lines[-1] == ["", "Total", f"{tb.total_debit:.2f}", f"{tb.total_credit:.2f}", ""]
    assert lines[-1][2] == lines[-1][3]
    assert "Saved tb.csv" in view.status_label.text()


def test_trial_balance_model_passes_the_qt_model_tester(qtbot, qtmodeltester, company):
    store, _ = company
    _window, view = open_screen(qtbot, store)
    qtmodeltester.check(view.model, force_py=True)


def test_the_demo_company_never_shows_negative_stock(qtbot, tmp_path):
    """The walk-through found Stock with a credit balance on the demo's trial balance: it now opens with
    stock on hand (and the capital that paid for it), so selling never takes stock below nothing."""
    from kcc_desktop.demo.company import build_demo
    from kcc_desktop.store import open_store

    store = open_store(tmp_path / "demo.sqlite")
    try:
        with store.transaction() as s:
            build_demo(s, documents=400, seed=11)
        window, view = open_screen(qtbot, store)
        rows = {row[0]: row for row in shown(view)}
        assert rows["1001"][2] and not rows["1001"][3]            # Stock: a debit, never a credit
        assert rows["3000"][3]                                      # the opening capital
        assert view.status_label.text().endswith(": balanced.")
        window.close()
    finally:
        store.close()
