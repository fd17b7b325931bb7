"""The systemd user service and timer, read as systemd reads them: INI sections, ExecStart words, calendar
expressions (checked by systemd-analyze itself where it is installed)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcc_desktop.schedule import Interval, make_job
from kcc_desktop.schedule.systemd import SystemdUserScheduler, parse_unit, quote, split

DB = "/home/book keeper/KCC files/Acme 100% \"live\".sqlite"


def job(every="30m", export=True, import_=True, **kw):
    return make_job(DB, Interval.parse(every), export=export, import_=import_,
                    program=kw.pop("program", ["/opt/kcc-desktop/kcc-desktop"]), environ=kw.pop("environ", {}), **kw)


def units(j, tmp_path):
    files = SystemdUserScheduler(directory=tmp_path).definitions(j)
    assert sorted(files) == ["kcc-desktop-sync.service", "kcc-desktop-sync.timer"]
    return parse_unit(files["kcc-desktop-sync.service"]), parse_unit(files["kcc-desktop-sync.timer"])


@pytest.mark.parametrize(("every", "calendar"), [
    ("30m", "*-*-* *:00/30:00"), ("2h", "*-*-* 00/2:00:00"), ("1d", "*-*-* 00:00:00"),
    ("1h", "*-*-* *:00:00"), ("15m", "*-*-* *:00/15:00"), ("6h", "*-*-* 00/6:00:00"),
])
def test_intervals_on_the_clock_use_a_persistent_calendar_timer(every, calendar, tmp_path):
    _service, timer = units(job(every), tmp_path)
    assert timer["Timer"]["OnCalendar"] == calendar
    assert timer["Timer"]["Persistent"] == "true"           # a run missed while off happens at the next login
    assert "OnUnitActiveSec" not in timer["Timer"]
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.parametrize(("every", "minutes"), [("45m", 45), ("5h", 300), ("2d", 2880), ("90m", 90)])
def test_other_intervals_count_from_the_previous_run(every, minutes, tmp_path):
    _service, timer = units(job(every), tmp_path)
    assert timer["Timer"]["OnUnitActiveSec"] == f"{minutes}min"
    assert timer["Timer"]["OnActiveSec"] == "2min"          # the first run soon after login or install
    assert "OnCalendar" not in timer["Timer"]


def test_the_service_runs_the_headless_sync_once_per_start(tmp_path):
    service, _timer = units(job("30m", export=True, import_=False), tmp_path)
    s = service["Service"]
    assert s["Type"] == "oneshot"                           # systemd never starts it again while it runs
    assert split(s["ExecStart"]) == ["/opt/kcc-desktop/kcc-desktop", "--db", DB, "scheduled-run", "--export",
                                     "--every", "30m"]
    assert s["SuccessExitStatus"] == "3"                    # skipped while the window uploads: not a failure
    assert "Environment" not in s
    assert service["Unit"]["Description"] == "KCC Desktop scheduled sync: export every 30 minutes"


def test_folders_and_sandbox_roots_are_carried_but_never_a_secret(tmp_path):
    environ = {"KCC_DATA_DIR": "/srv/kcc data", "KCC_XERO_URL": "http://127.0.0.1:8765",
               "KCC_QBO_CLIENT_SECRET": "s3cret-value", "HOME": "/home/x"}
    service, _timer = units(job(environ=environ), tmp_path)
    env = dict(w.split("=", 1) for w in split(service["Service"]["Environment"]))
    assert env == {"KCC_DATA_DIR": "/srv/kcc data", "KCC_XERO_URL": "http://127.0.0.1:8765"}
    assert "s3cret" not in "".join(SystemdUserScheduler(directory=tmp_path).definitions(job(environ=environ)).values())


@given(st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1), min_size=1, max_size=5))
def test_any_argument_survives_systemd_quoting(args):
    assert split(" ".join(quote(a) for a in args)) == args


systemd_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None or sys.platform != "linux",
                                     reason="systemd-analyze is not installed here")


@systemd_analyze
@pytest.mark.parametrize(("every", "spacing_minutes"), [("30m", 30), ("2h", 120), ("1d", 1440)])
def test_systemd_itself_reads_the_calendar_as_every_interval(every, spacing_minutes, tmp_path):
    from datetime import datetime

    _service, timer = units(job(every), tmp_path)
    out = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", timer["Timer"]["OnCalendar"]],
                         capture_output=True, text=True, check=True, env={"TZ": "UTC", "LC_ALL": "C"}).stdout
    stamps = [datetime.strptime(" ".join(line.split()[-3:-1]), "%Y-%m-%d %H:%M:%S") for line in out.splitlines()
              if line.strip().startswith(("Next elapse:", "Iter. #"))]
    assert len(stamps) == 3
    assert {int((b - a).total_seconds()) // 60 for a, b in itertools.pairwise(stamps)} == {spacing_minutes}


@systemd_analyze
@pytest.mark.parametrize("every", ["30m", "45m"])
def test_systemd_verifies_the_units_without_a_complaint(every, tmp_path):
    # The program must exist for verify: this Python, as a development install registers it.
    j = make_job(str(tmp_path / "company file.sqlite"), Interval.parse(every), export=True, import_=True,
                 program=[sys.executable, "-m", "kcc_desktop"], environ={"KCC_LOG_DIR": str(tmp_path / "logs")})
    for name, text in SystemdUserScheduler(directory=tmp_path).definitions(j).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "kcc-desktop-sync.service",
                             "kcc-desktop-sync.timer"], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stderr.strip()) == (0, "")
