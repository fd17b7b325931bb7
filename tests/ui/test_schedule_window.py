"""The scheduled sync in the window, as a user meets it: the Mapping tab's on/off option (this machine's
own scheduler, a systemd user timer, in a private config folder), and the status bar's last scheduled run
with its failure notified once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kcc_desktop.context import AppContext
from kcc_desktop.schedule import Interval, make_job
from kcc_desktop.schedule.record import RunRecord, save_run
from kcc_desktop.schedule.systemd import SystemdUserScheduler, unit_dir
from kcc_desktop.ui.mapping_tab import MappingTab
from tests.helpers.window import open_window
from tests.schedule.test_schedule_command import NO_USER_MANAGER

linux_only = pytest.mark.skipif(NO_USER_MANAGER == "not a Linux machine with systemd",
                                reason="the Linux scheduler (systemd) is tested here")


@pytest.fixture
def units(tmp_path, monkeypatch):
    """The systemd user unit folder, private to the test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return unit_dir()


def mapping_tab(qtbot, store, *, demo: bool = False) -> MappingTab:
    tab = MappingTab(AppContext(store, demo=demo))
    tab.open_browser = False
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def settled(qtbot, tab: MappingTab) -> None:
    """Until the panel has heard back from the scheduler."""
    qtbot.waitUntil(lambda: tab.schedule_panel.worker is None and tab.schedule_panel.check.isEnabled(), timeout=20_000)


@linux_only
@pytest.mark.skipif(NO_USER_MANAGER == "", reason="with a systemd user manager the timer really is registered")
def test_turning_the_schedule_on_without_a_user_manager_says_why_and_leaves_nothing(qtbot, store, units):
    tab = mapping_tab(qtbot, store)
    panel = tab.schedule_panel
    settled(qtbot, tab)
    assert not panel.check.isChecked()
    assert panel.state_label.text() == "Off: nothing is registered with the systemd user timer."

    qtbot.mouseClick(panel.check, Qt.MouseButton.LeftButton)
    settled(qtbot, tab)
    assert not panel.check.isChecked()                           # back to what is really registered
    assert "systemctl --user daemon-reload failed" in panel.state_label.text()
    assert "Scheduled sync: systemctl --user" in tab.messages.toPlainText()
    assert not any(units.glob("kcc-desktop-sync.*"))             # not half-installed


@linux_only
def test_a_registered_schedule_shows_ticked_and_unticking_removes_it(qtbot, store, units):
    # As `kcc-desktop schedule install --every 30m --export --import` leaves it for this company file.
    job = make_job(store.label, Interval.parse("30m"), export=True, import_=True)
    units.mkdir(parents=True)
    for name, text in SystemdUserScheduler(directory=units).definitions(job).items():
        (units / name).write_text(text, encoding="utf-8")
    tab = mapping_tab(qtbot, store)
    panel = tab.schedule_panel
    settled(qtbot, tab)
    assert panel.check.isChecked()
    if NO_USER_MANAGER:
        assert panel.state_label.text().startswith("Registered but not running: systemctl --user could not say")

    qtbot.mouseClick(panel.check, Qt.MouseButton.LeftButton)   # off
    settled(qtbot, tab)
    assert not panel.check.isChecked()
    assert panel.state_label.text() == "Off: nothing is registered with the systemd user timer."
    assert not any(units.glob("kcc-desktop-sync.*"))


def test_the_demo_offers_no_schedule(qtbot, store, units):
    tab = mapping_tab(qtbot, store, demo=True)
    panel = tab.schedule_panel
    assert not panel.check.isEnabled() and panel.worker is None
    assert "Not available in the demo" in panel.state_label.text()


def run_record(*, ok: bool, minutes_ago: int = 5) -> RunRecord:
    finished = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return RunRecord(started_at=finished - timedelta(seconds=40), finished_at=finished, export=True, import_=True,
                     every="30m", exported=12, pending=0 if ok else 30, fetched=3, created=3,
                     problems=() if ok else ("Xero refused the sign-in: it expired. Connect again on the Mapping "
                                             "tab.",))


def test_a_failed_scheduled_run_is_notified_once_and_stays_in_the_status_bar(qtbot, store):
    record = run_record(ok=False)
    save_run(store, record)
    window = open_window(qtbot, store)
    qtbot.waitUntil(lambda: window.sync_status.notice is not None and window.sync_status.notice.isVisible())
    box = window.sync_status.notice
    assert box.icon() == QMessageBox.Icon.Warning and "did not finish its work" in box.text()
    assert "sign-in: it expired" in box.informativeText() and "still pending" in box.informativeText()
    label = window.sync_status.schedule_label
    assert label.isVisible() and label.full_text.endswith("failed")
    assert "Exported 12, 30 still pending" in label.toolTip() and "expired" in label.toolTip()
    assert window.last_sync_label.full_text != "Last sync: never"   # the run reached the package
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.sync_status.notice is None)

    window.sync_status.refresh()   # the minute's re-read, or the window opened again: not a second time
    assert window.sync_status.notice is None
    window.close()
    again = open_window(qtbot, store)
    again.sync_status.refresh()
    assert again.sync_status.notice is None and again.sync_status.schedule_label.full_text.endswith("failed")


def test_a_good_run_shows_a_tick_and_no_notice(qtbot, store):
    save_run(store, run_record(ok=True))
    window = open_window(qtbot, store)
    qtbot.waitUntil(lambda: window.sync_status.schedule_label.isVisible())
    assert window.sync_status.schedule_label.full_text.endswith("✓")
    assert window.sync_status.notice is None
    assert window.last_sync_label.full_text.startswith("Last sync: ")
    assert window.last_sync_label.full_text != "Last sync: never"
