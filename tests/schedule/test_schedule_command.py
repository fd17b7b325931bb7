"""``kcc-desktop schedule install|status|remove`` as a user types them, on this machine's own scheduler."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid

import pytest

from kcc_desktop.cli import main
from kcc_desktop.schedule import last_run
from kcc_desktop.schedule.systemd import parse_unit, split


def systemd_user_manager() -> str:
    """Why a real systemd user timer cannot be used here, or "" when it can."""
    if sys.platform != "linux" or shutil.which("systemctl") is None:
        return "not a Linux machine with systemd"
    probe = subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no systemd user manager here (systemctl --user: {probe.stderr.strip() or probe.returncode})"
    return ""


NO_USER_MANAGER = systemd_user_manager()
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the Linux scheduler (systemd) is tested here")


@linux_only
def test_a_dry_run_prints_the_units_for_this_company_file(store, tmp_db_path, capsys):
    assert main(["--db", str(tmp_db_path), "schedule", "install", "--every", "2h", "--import", "--dry-run"]) == 0
    out = capsys.readouterr().out
    service = parse_unit(out.split("--- kcc-desktop-sync.service\n")[1].split("--- ")[0])
    timer = parse_unit(out.split("--- kcc-desktop-sync.timer\n")[1])
    assert split(service["Service"]["ExecStart"]) == [sys.executable, "-m", "kcc_desktop", "--db", str(tmp_db_path),
                                                      "scheduled-run", "--import", "--every", "2h"]
    assert timer["Timer"]["OnCalendar"] == "*-*-* 00/2:00:00"


def test_a_wrong_interval_or_a_missing_company_file_registers_nothing(store, tmp_db_path, tmp_path, capsys):
    assert main(["--db", str(tmp_db_path), "schedule", "install", "--every", "often", "--dry-run"]) == 2
    assert "for example 30m, 2h or 1d" in capsys.readouterr().err
    missing = tmp_path / "nowhere.sqlite"
    assert main(["--db", str(missing), "schedule", "install", "--every", "30m", "--dry-run"]) == 2
    assert "There is no company file at" in capsys.readouterr().err and not missing.exists()


def test_a_database_password_is_never_written_into_a_schedule(capsys):
    code = main(["--db", "postgresql://kcc:hunter2@127.0.0.1:1/books", "schedule", "install", "--every", "30m",
                 "--dry-run"])
    captured = capsys.readouterr()
    assert code == 2 and "hunter2" not in captured.out + captured.err


@linux_only
def test_status_and_remove_with_nothing_registered(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["schedule", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["installed"] is False and status["last_run"] is None
    assert main(["schedule", "remove"]) == 0
    assert capsys.readouterr().out.strip() == "No scheduled sync was registered."


@pytest.mark.skipif(sys.platform != "linux" or not NO_USER_MANAGER,
                    reason="this machine has a systemd user manager: the real timer test covers it")
def test_without_a_systemd_user_manager_install_says_so_and_leaves_nothing(store, tmp_db_path, tmp_path,
                                                                         monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["--db", str(tmp_db_path), "schedule", "install", "--every", "30m"]) == 1
    err = capsys.readouterr().err
    assert "systemctl --user daemon-reload failed" in err and "systemd user manager" in err
    assert list((tmp_path / "config" / "systemd" / "user").iterdir()) == []     # not half-installed
    assert main(["schedule", "status"]) == 0
    assert "No scheduled sync is registered" in capsys.readouterr().out


@pytest.mark.skipif(bool(NO_USER_MANAGER), reason=NO_USER_MANAGER or "-")
def test_a_real_systemd_user_timer_runs_the_scheduled_sync(store, tmp_db_path, capsys):
    """Registers a uniquely named timer with this user's systemd, starts its service once (the timer's own
    first run could be minutes away), and reads the run's record from the company file."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    unit = f"kcc-desktop-{name}"
    assert main(["--db", str(tmp_db_path), "schedule", "install", "--every", "5m", "--name", name]) == 0
    try:
        capsys.readouterr()
        assert main(["schedule", "status", "--json", "--name", name]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["installed"] and status["active"] and status["every"] == "5m" and status["next_run"]
        listed = subprocess.run(["systemctl", "--user", "list-timers", "--all", f"{unit}.timer"],
                                capture_output=True, text=True, check=True).stdout
        assert f"{unit}.timer" in listed
        # A oneshot's start returns when the run is over; the run fails (the file is not connected) but records.
        subprocess.run(["systemctl", "--user", "start", f"{unit}.service"], capture_output=True, timeout=300)
        record = last_run(store)
        assert record is not None and not record.ok and "integration is off" in record.summary
    finally:
        assert main(["schedule", "remove", "--name", name]) == 0
    listed = subprocess.run(["systemctl", "--user", "list-timers", "--all"], capture_output=True, text=True).stdout
    assert unit not in listed
