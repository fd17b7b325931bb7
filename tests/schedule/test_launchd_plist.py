"""The macOS launchd agent, read back with plistlib and checked against launchd.plist(5)'s keys and types."""

from __future__ import annotations

import plistlib

import pytest

from kcc_desktop.schedule import Interval, make_job
from kcc_desktop.schedule.launchd import LaunchdScheduler

APP = "/Applications/KCC Desktop.app/Contents/MacOS/kcc-desktop"
DB = "/Users/bookkeeper/Library/Application Support/KCCDesktop/kcc.sqlite"

# launchd.plist(5): the keys this agent may use, and their plist types.
DOCUMENTED = {"Label": str, "ProgramArguments": list, "StartInterval": int, "StartCalendarInterval": list,
              "EnvironmentVariables": dict, "ProcessType": str, "LowPriorityIO": bool, "RunAtLoad": bool}
CALENDAR_KEYS = {"Minute": range(60), "Hour": range(24), "Day": range(1, 32), "Weekday": range(8),
                 "Month": range(1, 13)}


def plist(every="30m", environ=None):
    job = make_job(DB, Interval.parse(every), export=True, import_=True, program=[APP], environ=environ or {})
    files = LaunchdScheduler(uid=501).definitions(job)
    assert list(files) == ["uk.co.kcc.desktop.sync.plist"]
    text = files["uk.co.kcc.desktop.sync.plist"]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'
                           '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"')
    data = plistlib.loads(text.encode("utf-8"))
    for key, value in data.items():
        assert key in DOCUMENTED and isinstance(value, DOCUMENTED[key]), key
    for entry in data.get("StartCalendarInterval", []):
        assert entry and all(k in CALENDAR_KEYS and v in CALENDAR_KEYS[k] for k, v in entry.items()), entry
    return data


def test_the_agent_runs_the_installed_app_in_the_background():
    data = plist()
    assert data["Label"] == "uk.co.kcc.desktop.sync"
    assert data["ProgramArguments"] == [APP, "--db", DB, "scheduled-run", "--export", "--import", "--every", "30m"]
    assert data["ProcessType"] == "Background" and data["RunAtLoad"] is False
    assert "EnvironmentVariables" not in data


@pytest.mark.parametrize(("every", "calendar"), [
    ("30m", [{"Minute": 0}, {"Minute": 30}]),
    ("15m", [{"Minute": 0}, {"Minute": 15}, {"Minute": 30}, {"Minute": 45}]),
    ("2h", [{"Hour": h, "Minute": 0} for h in range(0, 24, 2)]),
    ("1d", [{"Hour": 0, "Minute": 0}]),
])
def test_intervals_on_the_clock_use_calendar_times(every, calendar):
    data = plist(every)
    assert data["StartCalendarInterval"] == calendar and "StartInterval" not in data


@pytest.mark.parametrize(("every", "seconds"), [("45m", 2700), ("5h", 18000), ("2d", 172800)])
def test_other_intervals_use_a_start_interval_in_seconds(every, seconds):
    data = plist(every)
    assert data["StartInterval"] == seconds and "StartCalendarInterval" not in data


def test_folders_are_carried_in_the_environment():
    data = plist(environ={"KCC_LOG_DIR": "/Users/x/Logs/KCC", "KCC_QBO_CLIENT_SECRET": "never"})
    assert data["EnvironmentVariables"] == {"KCC_LOG_DIR": "/Users/x/Logs/KCC"}


def test_status_reads_the_registered_agent_back(tmp_path):
    calls = []

    def launchctl(argv):
        import subprocess

        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, "state = not running\n\tlast exit code = 1\n", "")

    scheduler = LaunchdScheduler(runner=launchctl, directory=tmp_path, uid=501)
    job = make_job(DB, Interval.parse("2h"), export=False, import_=True, program=[APP], environ={})
    scheduler.install(job)
    assert ["launchctl", "bootstrap", "gui/501", str(tmp_path / "uk.co.kcc.desktop.sync.plist")] in calls
    status = scheduler.status()
    assert status.installed and status.active and status.job == job
    assert "Last exit code: 1." in status.text
    assert scheduler.remove() and not (tmp_path / "uk.co.kcc.desktop.sync.plist").exists()
    assert calls[-1] == ["launchctl", "bootout", "gui/501/uk.co.kcc.desktop.sync"]
    assert not scheduler.status().installed
