"""The Reconcile screen against the Xero sandbox: opened from the Export tab's Actions, a run in the worker
(progress, Cancel), differences first, "Problems only", Goto, Accept with a reason, CSV export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import AuditEntry
from tests.helpers.reconcile import export_ledger

from .conftest import idle_after

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def screen(request, qtbot):
    from kcc_desktop.ui.export_tab import ExportTab

    exported = export_ledger(request, "xero")
    exported.add_invoice("SI-GONE")
    exported.set_status("SI-GONE", "VOIDED")
    exported.edit_amount("SI-0003", Decimal("25.00"))
    tab = ExportTab(AppContext(exported.store))
    qtbot.addWidget(tab)
    action = tab.reconcile_action
    assert action in tab.actions_button.menu().actions()       # Actions → Reconcile…
    action.trigger()
    widget = tab.reconcile_screen
    widget.resize(1400, 560)
    widget.show()
    yield widget, exported
    idle_after(qtbot, widget)


def run(screen, qtbot) -> None:
    screen.date_from.setDate(date(2026, 1, 1))
    screen.date_to.setDate(date(2026, 1, 31))
    screen.run_action.trigger()
    qtbot.waitUntil(lambda: screen.report is not None and not screen.busy, timeout=30_000)


def test_differences_first_problems_only_goto_accept_and_csv(screen, qtbot, qtmodeltester, tmp_path):
    widget, exported = screen
    run(widget, qtbot)
    model = widget.model
    qtmodeltester.check(model)
    shown = [model.row_data(i) for i in model.ids()]
    assert [r.number for r in shown[:2]] == ["SI-0003", "SI-GONE"] or \
        {r.number for r in shown[:2]} == {"SI-0003", "SI-GONE"}
    assert len(shown[:2]) == 2 and all(r.problem for r in shown[:2]) and not any(r.problem for r in shown[2:])
    assert "2 differ" in widget.summary.text() and "requests" in widget.summary.text()
    ARTIFACTS.mkdir(exist_ok=True)
    widget.grab().save(str(ARTIFACTS / "reconcile_screen.png"))
    widget.problems_only.setChecked(True)
    assert model.rowCount() == 2
    # Goto the voided one: the package's own address for it.
    voided = next(i for i in model.ids() if model.row_data(i).number == "SI-GONE")
    widget.grid.select_ids([voided])
    opened = []
    widget.open_url = opened.append
    assert widget.goto_action.isEnabled() and widget.handled_action.isEnabled()
    assert not widget.send_change_action.isEnabled()
    widget.goto_action.trigger()
    assert opened and opened[0].startswith(exported.sandbox.root) and model.row_data(voided).remote_id in opened[0]
    # Accept the edited one: a reason is asked for; an empty one changes nothing.
    edited = next(i for i in model.ids() if model.row_data(i).number == "SI-0003")
    widget.grid.select_ids([edited])
    assert widget.accept_action.isEnabled()
    widget.accept_action.trigger()
    qtbot.waitUntil(lambda: widget.reason_dialog is not None and widget.reason_dialog.isVisible())
    widget.reason_dialog.setTextValue("")
    widget.reason_dialog.accept()
    assert "reason is required" in widget.status_label.text()
    widget.accept_action.trigger()
    qtbot.waitUntil(lambda: widget.reason_dialog.isVisible())
    widget.reason_dialog.setTextValue("agreed discount")
    widget.reason_dialog.accept()
    with exported.store.session() as s:
        assert s.scalar(select(AuditEntry.reason).order_by(AuditEntry.id.desc())) == "agreed discount"
    run(widget, qtbot)
    assert [widget.model.row_data(i).number for i in widget.model.ids()] == ["SI-GONE"]   # still problems only
    path = widget.on_export_csv_triggered(str(tmp_path / "reconcile.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Status,Type,Number") and len(lines) == 2 and "voided" in lines[1]


def test_cancel_stops_the_run(screen, qtbot):
    widget, _exported = screen
    widget.run_action.trigger()
    widget.cancel_action.trigger()
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)
    assert widget.report is None or widget.report.cancelled or widget.report.documents >= 0
