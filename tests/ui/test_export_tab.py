"""The Export tab end to end against the Xero sandbox: select, right-click, Upload Data, see the result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from sqlalchemy import select

from kcc_desktop.context import AppContext
from kcc_desktop.models import Company, ExportItem, NominalCode, utcnow
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import install_queue_listeners
from tests.helpers.connect import connect_store, open_package
from tests.helpers.ledger import build_ledger

from .conftest import idle_after

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def tab(store, xero_sync_sandbox, qtbot):
    from kcc_desktop.ui.export_tab import ExportTab

    install_queue_listeners()
    connect_store(store)
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=3)
    widget = ExportTab(AppContext(store))
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    yield widget
    idle_after(qtbot, widget)


def right_click(grid, qtbot, text):
    """Open the grid's context menu as a user would and trigger the named action."""
    rect = grid.visualRect(grid.proxy.index(grid.selected_proxy_rows()[0], 1)) if grid.selected_proxy_rows() else None
    pos = rect.center() if rect is not None else grid.viewport().rect().center()
    grid.customContextMenuRequested.emit(pos)
    menu = grid._menu
    assert menu is not None and menu.isVisible()
    action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
    assert action.isEnabled(), f"{text} is disabled"
    menu.close()
    action.trigger()


def select_refs(grid, *refs):
    model = grid.source_model
    wanted = [i for i in model.ids() if model.row_data(i).reference in refs]
    grid.select_ids(wanted)
    return wanted


def remote_numbers(xero, store):
    package = open_package(store)
    token = package.tokens.access_token()
    return [d["InvoiceNumber"] for d in xero.api("Invoices?page=1", package.tenant_id, token)["Invoices"]]


def test_upload_from_the_context_menu_moves_rows_and_shows_ticks(tab, xero_sync_sandbox, qtbot, store):
    assert not tab.upload_action.isEnabled()                      # nothing selected yet
    select_refs(tab.pending_grid, "SI-0001", "SI-0002")
    assert tab.upload_action.isEnabled()
    with qtbot.waitSignal(tab.upload_finished, timeout=20000) as done:
        right_click(tab.pending_grid, qtbot, "Upload Data")
        assert tab.busy and tab.progress.isVisible() and tab.cancel_action.isEnabled()
    summary = done.args[0]
    assert (summary.exported, summary.failed) == (6, 0)          # 2 invoices + their 2 customers and 2 items
    qtbot.waitUntil(lambda: not tab.busy)
    pending = {tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()}
    assert pending == {"SUPP", "SI-0003", "SC-0001", "PI-0001"}
    exported = tab.exported_model
    rows = {exported.row_data(i).reference: exported.row_data(i) for i in exported.ids()}
    assert set(rows) == {"SI-0001", "SI-0002", "ACME", "BLOGGS", "W-100", "CHILD-1"}
    r = exported.row_of(next(i for i in exported.ids() if exported.row_data(i).reference == "SI-0001"))
    from PySide6.QtCore import Qt
    assert not exported.data(exported.index(r, 0), Qt.ItemDataRole.DecorationRole).isNull()   # the green tick
    assert sorted(remote_numbers(xero_sync_sandbox, store)) == ["SI-0001", "SI-0002"]
    assert tab.pages.tabText(1).startswith("Exported Successfully (6)")
    tab.pages.setCurrentIndex(1)
    ARTIFACTS.mkdir(exist_ok=True)
    tab.grab().save(str(ARTIFACTS / "export_tab.png"))


def test_cancel_mid_upload_stops_after_the_batch_in_flight(store, xero_sync_sandbox, qtbot):
    from kcc_desktop.ledger import service
    from kcc_desktop.ui.export_tab import ExportTab

    install_queue_listeners()
    connect_store(store)
    package = open_package(store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    build_ledger(store, invoices=0)
    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
        from kcc_desktop.models import TaxCode
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        for k in range(400):
            service.create_document(s, "sales_invoice", acme, f"BULK-{k:04d}", date(2026, 2, 1),
                                    [service.LineInput(Decimal(1), Decimal("10"), description="x",
                                                       nominal_id=sales, tax_code_id=t1)])
    xero_sync_sandbox.faults(latency=0.15)
    tab = ExportTab(AppContext(store))
    qtbot.addWidget(tab)
    tab.show()
    tab.pending_grid.selectAll()
    total = tab.pending_model.rowCount()
    cancelled = []

    def on_progress(done, total, text):
        if done >= 55 and not cancelled:
            cancelled.append(done)
            tab.cancel_action.trigger()
    with qtbot.waitSignal(tab.upload_finished, timeout=30000) as done:
        tab.upload_action.trigger()
        tab.worker.progress.connect(on_progress)
    summary = done.args[0]
    assert summary.cancelled and summary.failed == 0
    assert 55 <= summary.exported < total and summary.pending == total - summary.exported
    qtbot.waitUntil(lambda: not tab.busy)
    assert tab.pending_model.rowCount() == summary.pending
    with store.session() as s:
        assert not s.scalars(select(ExportItem).where(ExportItem.status == "pending",
                                                      ExportItem.attempt_key.is_not(None))).all()
    assert len(set(remote_numbers(xero_sync_sandbox, store))) == len(remote_numbers(xero_sync_sandbox, store))


def test_a_missing_mapping_shows_a_feedback_row_that_opens_the_mapping_tab(tab, store, qtbot):
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    MappingService(store, "xero").set_mapping(NOMINAL, sales, None)
    select_refs(tab.pending_grid, "SI-0003")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000):
        right_click(tab.pending_grid, qtbot, "Upload Data")
    qtbot.waitUntil(lambda: not tab.busy)
    tab.pages.setCurrentIndex(2)
    fb = tab.feedback_model
    rows = [fb.row_data(i) for i in fb.ids()]
    mapping_rows = [r for r in rows if r.nominal_code == "4000"]
    assert mapping_rows and "Mapping tab" in mapping_rows[0].advice
    assert "SI-0003" in {tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()}
    tab.feedback_grid.select_ids([mapping_rows[0].id])
    with qtbot.waitSignal(tab.open_mapping_requested) as opened:
        right_click(tab.feedback_grid, qtbot, "Open Mapping tab")
    assert opened.args == ["4000"]
    tab.grab().save(str(ARTIFACTS / "export_tab_feedback.png"))


def test_mark_as_exported_then_not_exported(tab, qtbot):
    select_refs(tab.pending_grid, "PI-0001")
    right_click(tab.pending_grid, qtbot, "Mark as Exported")
    qtbot.waitUntil(lambda: tab.mark_reason_dialog is not None and tab.mark_reason_dialog.isVisible())
    tab.mark_reason_dialog.setTextValue("   ")                      # a reason is required
    tab.mark_reason_dialog.accept()
    assert "reason" in tab.status_label.text() and tab.exported_model.rowCount() == 0
    right_click(tab.pending_grid, qtbot, "Mark as Exported")
    qtbot.waitUntil(lambda: tab.mark_reason_dialog.isVisible())
    tab.mark_reason_dialog.setTextValue("Entered in Xero by hand")
    tab.mark_reason_dialog.accept()
    exported = tab.exported_model
    [row] = [exported.row_data(i) for i in exported.ids()]
    assert row.reference == "PI-0001" and row.manual and not row.confirmed
    tab.pages.setCurrentIndex(1)
    tab.exported_grid.select_ids([row.id])
    assert not tab.goto_action.isEnabled()                         # never sent: nothing to open
    right_click(tab.exported_grid, qtbot, "Mark as Not Exported")
    assert exported.rowCount() == 0
    assert "PI-0001" in {tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()}


def test_pending_grid_exports_to_csv(tab, tmp_path):
    path = tab.on_export_csv_triggered(str(tmp_path / "pending.csv"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Type,Reference,Company / Description") and len(lines) == 11


# --- what the user sees, and every action by every route (issue 20) ---------------------------------------

def give_reason(qtbot, tab, reason="Entered in the package by hand"):
    """Mark as Exported asks why (audited): answer its dialog as the user does."""
    qtbot.waitUntil(lambda: tab.mark_reason_dialog is not None and tab.mark_reason_dialog.isVisible())
    tab.mark_reason_dialog.setTextValue(reason)
    tab.mark_reason_dialog.accept()


def _roles(model, ref, column):
    """What the grid draws in ``column`` for the row ``ref``: text, icon, colour, tooltip."""
    from PySide6.QtCore import Qt

    row = model.row_of(next(i for i in model.ids() if model.row_data(i).reference == ref))
    index = model.index(row, column)
    role = Qt.ItemDataRole
    return (model.data(index, role.DisplayRole), model.data(index, role.DecorationRole),
            model.data(index, role.ForegroundRole), model.data(index, role.ToolTipRole))


def test_the_green_tick_is_drawn_on_confirmed_rows_only(tab, qtbot):
    from PySide6.QtGui import QColor

    from kcc_desktop.ui.export_models import GREEN, ExportedCol

    select_refs(tab.pending_grid, "PI-0001")
    right_click(tab.pending_grid, qtbot, "Mark as Exported")            # by hand: never sent
    give_reason(qtbot, tab)
    select_refs(tab.pending_grid, "SI-0001")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000):
        right_click(tab.pending_grid, qtbot, "Upload Data")            # sent: the package confirms it
    qtbot.waitUntil(lambda: not tab.busy)
    model = tab.exported_model
    text, icon, colour, tip = _roles(model, "SI-0001", ExportedCol.CONFIRMED)
    assert text == "Yes" and icon is not None and not icon.isNull()
    assert QColor(colour) == QColor(GREEN) and tip == "Confirmed by the accounting package"
    text, icon, colour, tip = _roles(model, "PI-0001", ExportedCol.CONFIRMED)
    assert text == "" and icon is None and colour is None
    assert tip.startswith("Marked as exported by hand: not confirmed")
    assert _roles(model, "PI-0001", ExportedCol.HOW)[0] == "Marked by hand"
    assert _roles(model, "SI-0001", ExportedCol.HOW)[0] == "Sent"
    # nothing but the Confirmed column carries an icon
    assert all(_roles(model, ref, c)[1] is None for ref in ("SI-0001", "PI-0001") for c in ExportedCol
               if c != ExportedCol.CONFIRMED)


SEED_MESSAGE = "A validation exception occurred Account code or ID must be specified"


def test_the_packages_account_code_message_shows_its_advice_and_link(tab, store, qtbot):
    """The seed's message as Xero words it, recorded by the upload's own bookkeeping, as the user reads
    it in Error Feedback: the message kept as it came, the advice naming the nominal, in link blue, and
    Open Mapping tab taking them to that nominal."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from kcc_desktop.sync.export.outcomes import Outcomes
    from kcc_desktop.ui.export_models import FeedbackCol

    with store.transaction() as s:
        item = s.scalars(select(ExportItem).where(ExportItem.reference == "SI-0001")).one()
        nominals = {n.id: (n.code, n.name, n.kind) for n in s.scalars(select(NominalCode))}
        Outcomes("xero", "Xero", utcnow, {}, nominals, lambda _n: None).fail(s, item.id, [SEED_MESSAGE])
    tab.refresh()
    tab.pages.setCurrentIndex(2)
    fb = tab.feedback_model
    qtbot.waitUntil(lambda: fb.rowCount() == 1)
    index = fb.index(0, FeedbackCol.ADVICE)
    advice = fb.data(index, Qt.ItemDataRole.DisplayRole)
    assert advice == ("Nominal 4000 Sales - Products has no Xero account to post to. Map it in the Mapping "
                      "tab (Open Mapping tab), then Upload Data again.")
    assert fb.data(index, Qt.ItemDataRole.ToolTipRole) == advice
    assert QColor(fb.data(index, Qt.ItemDataRole.ForegroundRole)) == QColor("#1565c0")   # the link's blue
    assert fb.data(fb.index(0, FeedbackCol.MESSAGE), Qt.ItemDataRole.DisplayRole) == SEED_MESSAGE
    assert fb.data(fb.index(0, FeedbackCol.ITEM), Qt.ItemDataRole.DisplayRole) == "Invoice SI-0001"
    tab.feedback_grid.select_ids([fb.ids()[0]])
    with qtbot.waitSignal(tab.open_mapping_requested) as opened:
        right_click(tab.feedback_grid, qtbot, "Open Mapping tab")
    assert opened.args == ["4000"]


@pytest.mark.parametrize("route", ["Actions button", "right-click menu"])
def test_every_action_works_from_the_actions_button_and_the_right_click_menu(tab, store, qtbot, tmp_path, route):
    from PySide6.QtGui import QDesktopServices

    from tests.helpers.menus import choose_from_button, choose_from_context_menu

    def choose(grid, text):
        if route == "Actions button":
            choose_from_button(qtbot, tab.actions_button, text)
        else:
            choose_from_context_menu(qtbot, grid, text)

    def pending_refs():
        return {tab.pending_model.row_data(i).reference for i in tab.pending_model.ids()}

    # Pending Export: Run Pre-Check, Mark as Exported, Upload Data
    select_refs(tab.pending_grid, "SI-0003")
    with qtbot.waitSignal(tab.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        choose(tab.pending_grid, "Run Pre-Check")
    assert tab.status_label.text().startswith("Pre-check: 1 checked")
    select_refs(tab.pending_grid, "PI-0001")
    choose(tab.pending_grid, "Mark as Exported")
    give_reason(qtbot, tab)
    assert "PI-0001" not in pending_refs()
    select_refs(tab.pending_grid, "SI-0001")
    with qtbot.waitSignal(tab.upload_finished, timeout=20000) as done:
        choose(tab.pending_grid, "Upload Data")
    assert done.args[0].exported >= 1 and "SI-0001" not in pending_refs()
    qtbot.waitUntil(lambda: not tab.busy)

    # Exported Successfully: Goto Document, Verify, Mark as Not Exported
    tab.pages.setCurrentIndex(1)
    exported = tab.exported_model
    select_refs(tab.exported_grid, "SI-0001")
    opened = []

    class Browser(QObject):
        @Slot(QUrl)
        def open(self, url):
            opened.append(url.toString())

    browser = Browser()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, browser, "open")
    try:
        choose(tab.exported_grid, "Goto Document")
    finally:
        for scheme in ("http", "https"):
            QDesktopServices.unsetUrlHandler(scheme)
    with store.session() as s:
        remote = s.scalars(select(ExportItem.remote_id).where(ExportItem.reference == "SI-0001",
                                                              ExportItem.item_type == "sales_invoice")).one()
    assert len(opened) == 1 and remote in opened[0]
    with qtbot.waitSignal(tab.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        choose(tab.exported_grid, "Verify")
    assert tab.status_label.text() == "Verify: 1 found in the package and ticked."
    select_refs(tab.exported_grid, "PI-0001")
    choose(tab.exported_grid, "Mark as Not Exported")
    assert "PI-0001" in pending_refs()
    assert "PI-0001" not in {exported.row_data(i).reference for i in exported.ids()}

    # Error Feedback: Open Mapping tab
    with store.session() as s:
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
    MappingService(store, "xero").set_mapping(NOMINAL, sales, None)
    select_refs(tab.pending_grid, "SI-0002")
    tab.pages.setCurrentIndex(0)
    with qtbot.waitSignal(tab.upload_finished, timeout=20000):
        choose(tab.pending_grid, "Upload Data")
    qtbot.waitUntil(lambda: not tab.busy)
    tab.pages.setCurrentIndex(2)
    fb = tab.feedback_model
    tab.feedback_grid.select_ids([i for i in fb.ids() if fb.row_data(i).nominal_code == "4000"][:1])
    with qtbot.waitSignal(tab.open_mapping_requested) as asked:
        choose(tab.feedback_grid, "Open Mapping tab")
    assert asked.args == ["4000"]


def test_grid_actions_copy_export_and_refresh(tab, store, qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QFileDialog

    from tests.helpers.menus import choose_from_button

    select_refs(tab.pending_grid, "SI-0002")
    QGuiApplication.clipboard().clear()
    choose_from_button(qtbot, tab.grid_actions_button, "Copy selected rows")
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0].startswith("Type\tReference") and len(copied) == 2 and "SI-0002" in copied[1]

    target = tmp_path / "pending.csv"
    answered = []

    def answer_the_dialog():
        # the file dialog on screen (another test's dialog may still be the active modal widget)
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()]
        if not shown:
            QTimer.singleShot(20, answer_the_dialog)
            return
        dialog = shown[0]
        dialog.selectFile(str(target))
        dialog.accept()
        answered.append(dialog)

    QTimer.singleShot(0, answer_the_dialog)
    choose_from_button(qtbot, tab.grid_actions_button, "Export grid to CSV…")
    qtbot.waitUntil(lambda: tab.status_label.text().startswith("Saved "), timeout=20_000)
    saved = Path(tab.status_label.text().split(" rows to ", 1)[1][:-1])   # "Saved N rows to PATH."
    # the name typed in, or the dialog's own suggestion where it kept its name field (platform dialogs differ)
    assert saved.name in (target.name, "pending-export.csv"), tab.status_label.text()
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert answered and len(lines) == tab.pending_model.rowCount() + 1 and lines[0].startswith("Type,Reference")

    before = tab.pending_model.rowCount()
    build_ledger_more(store)
    assert tab.pending_model.rowCount() == before                     # not re-read by itself
    choose_from_button(qtbot, tab.grid_actions_button, "Refresh")
    qtbot.waitUntil(lambda: tab.pending_model.rowCount() == before + 1, timeout=20_000)


def build_ledger_more(store):
    """One more invoice, written as another desk would (straight into the company file)."""
    from kcc_desktop.ledger import service
    from kcc_desktop.models import TaxCode

    with store.transaction() as s:
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        sales = s.scalar(select(NominalCode.id).where(NominalCode.code == "4000"))
        t1 = s.scalar(select(TaxCode.id).where(TaxCode.code == "T1"))
        service.create_document(s, "sales_invoice", acme, "SI-LATE", date(2026, 2, 1),
                                [service.LineInput(Decimal(1), Decimal("10"), description="x",
                                                   nominal_id=sales, tax_code_id=t1)])


def test_a_matched_existing_contact_is_shown_so_and_undo_match_puts_it_back(tab, qtbot, xero_bookkeeper):
    from kcc_desktop.models import MatchState
    from kcc_desktop.sync.export import ExportService
    from kcc_desktop.ui.export_models import ExportedCol

    xero_bookkeeper.add_contact("Acme Tools Ltd", account_number="ACME")
    acme = next(i for i in tab.pending_model.ids() if tab.pending_model.row_data(i).reference == "ACME")
    assert ExportService(tab.ctx.store).upload([acme], open_package(tab.ctx.store)).ok
    tab.refresh()
    exported = tab.exported_model
    [row] = [exported.row_data(i) for i in exported.ids()]
    assert row.reference == "ACME" and row.matched
    assert exported.index(exported.row_of(row.id), ExportedCol.HOW).data() == "Matched existing"
    tab.pages.setCurrentIndex(1)
    tab.exported_grid.select_ids([row.id])

    right_click(tab.exported_grid, qtbot, "Undo Match")

    assert exported.rowCount() == 0 and "1 back in Pending Export" in tab.status_label.text()
    with tab.ctx.store.session() as s:
        item = s.get(ExportItem, row.id)
        assert (item.status, item.match_state) == ("pending", MatchState.CREATE)
