"""The Windows Task Scheduler task, parsed with ElementTree and checked against the Task Scheduler schema
(element names, the order triggerBaseType prescribes, allowed values), and its command line split back the
way Windows splits it."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcc_desktop.schedule import Interval, make_job
from kcc_desktop.schedule.taskscheduler import (
    NS,
    WindowsTaskScheduler,
    job_from_task,
    render_task,
    split_command_line,
)

EXE = r"C:\Users\Book Keeper\AppData\Local\Programs\KCC Desktop\kcc-desktop.exe"
DB = r"C:\Users\Book Keeper\AppData\Local\KCCDesktop\kcc.sqlite"
NOW = datetime(2026, 3, 14, 15, 9, 26)

# The schema's allowed children (taskType, registrationInfoType, settingsType, principalType, execType are
# xs:all; triggerBaseType and calendarTriggerType are sequences, in this order).
ALLOWED = {
    "Task": {"RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"},
    "RegistrationInfo": {"URI", "SecurityDescriptor", "Source", "Date", "Author", "Version", "Description",
                         "Documentation"},
    "Settings": {"AllowStartOnDemand", "RestartOnFailure", "MultipleInstancesPolicy", "DisallowStartIfOnBatteries",
                 "StopIfGoingOnBatteries", "AllowHardTerminate", "StartWhenAvailable", "NetworkProfileName",
                 "RunOnlyIfNetworkAvailable", "WakeToRun", "Enabled", "Hidden", "DeleteExpiredTaskAfter",
                 "IdleSettings", "NetworkSettings", "ExecutionTimeLimit", "Priority", "RunOnlyIfIdle",
                 "UseUnifiedSchedulingEngine", "DisallowStartOnRemoteAppSession"},
    "Principal": {"UserId", "LogonType", "GroupId", "DisplayName", "RunLevel", "ProcessTokenSidType",
                  "RequiredPrivileges"},
    "Exec": {"Command", "Arguments", "WorkingDirectory"},
    "Repetition": {"Interval", "Duration", "StopAtDurationEnd"},
}
TRIGGER_SEQUENCE = ["Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit", "RandomDelay",
                    "ScheduleByDay", "ScheduleByWeek", "ScheduleByMonth", "ScheduleByMonthDayOfWeek"]


def tag(element):
    assert element.tag.startswith(f"{{{NS}}}"), element.tag
    return element.tag[len(NS) + 2:]


def task(every="30m", export=True, import_=True):
    job = make_job(DB, Interval.parse(every), export=export, import_=import_, program=[EXE], environ={})
    text = render_task(job, NOW)
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    root = ET.fromstring(text.encode("utf-16"))      # as schtasks reads the file: UTF-16 with a BOM
    assert tag(root) == "Task" and root.get("version") == "1.2"
    for element in root.iter():
        name = tag(element)
        if name in ALLOWED:
            assert {tag(c) for c in element} <= ALLOWED[name], name
    for trigger in root.find(f"{{{NS}}}Triggers"):
        order = [TRIGGER_SEQUENCE.index(tag(c)) for c in trigger]
        assert order == sorted(order), f"{tag(trigger)} children out of the schema's order"
    return job, root


def find(root, path):
    return root.find("/".join(f"{{{NS}}}{p}" for p in path.split("/")))


@pytest.mark.parametrize(("every", "interval"), [("30m", "PT30M"), ("2h", "PT2H"), ("45m", "PT45M"),
                                                 ("5h", "PT5H")])
def test_intervals_under_a_day_repeat_from_todays_midnight_for_ever(every, interval):
    _job, root = task(every)
    trigger = find(root, "Triggers/TimeTrigger")
    assert find(trigger, "StartBoundary").text == "2026-03-14T00:00:00"     # local time, no zone: as Windows wants
    assert find(trigger, "Repetition/Interval").text == interval
    assert find(trigger, "Repetition/Duration") is None                      # no duration: indefinitely


@pytest.mark.parametrize(("every", "days"), [("1d", "1"), ("2d", "2")])
def test_whole_days_use_a_daily_calendar_trigger(every, days):
    _job, root = task(every)
    assert find(root, "Triggers/TimeTrigger") is None
    assert find(root, "Triggers/CalendarTrigger/ScheduleByDay/DaysInterval").text == days
    assert find(root, "Triggers/CalendarTrigger/StartBoundary").text == "2026-03-14T00:00:00"


def test_the_task_runs_as_the_user_once_at_a_time_and_catches_up():
    job, root = task("30m", export=True, import_=False)
    assert find(root, "Principals/Principal/LogonType").text == "InteractiveToken"    # no stored password
    assert find(root, "Principals/Principal/RunLevel").text == "LeastPrivilege"
    assert find(root, "Principals/Principal").get("id") == find(root, "Actions").get("Context") == "Author"
    assert find(root, "Settings/MultipleInstancesPolicy").text == "IgnoreNew"
    assert find(root, "Settings/StartWhenAvailable").text == "true"
    assert find(root, "Settings/DisallowStartIfOnBatteries").text == "false"
    assert find(root, "Actions/Exec/Command").text == EXE
    assert split_command_line(find(root, "Actions/Exec/Arguments").text) == job.run_args
    assert find(root, "RegistrationInfo/URI").text == "\\KCC Desktop\\Scheduled sync"
    assert job_from_task(render_task(job, NOW)) == job


@given(st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=0), min_size=1, max_size=5))
def test_any_argument_survives_windows_quoting(args):
    assert split_command_line(subprocess.list2cmdline(args)) == args


@pytest.mark.parametrize(("line", "args"), [   # CommandLineToArgvW's documented examples
    ('"abc" d e', ["abc", "d", "e"]),
    (r'"ab\"c" "\\" d', ['ab"c', "\\", "d"]),
    (r'a\\\b d"e f"g h', [r"a\\\b", "de fg", "h"]),
    (r'a\\\"b c d', [r"a\"b", "c", "d"]),
    (r'a\\\\"b c" d e', [r"a\\b c", "d", "e"]),
])
def test_command_lines_split_as_windows_splits_them(line, args):
    assert split_command_line(line) == args


def test_install_hands_schtasks_a_utf16_file_and_status_reads_the_task_back(tmp_path):
    registered = {}

    def schtasks(argv):
        argv = list(argv)
        if argv[1] == "/Create":
            path = argv[argv.index("/XML") + 1]
            raw = Path(path).read_bytes()
            assert raw.startswith(b"\xff\xfe")              # UTF-16 LE with a BOM
            registered[argv[argv.index("/TN") + 1]] = raw.decode("utf-16")
            return subprocess.CompletedProcess(argv, 0, "SUCCESS", "")
        name = argv[argv.index("/TN") + 1]
        if name not in registered:
            return subprocess.CompletedProcess(argv, 1, "", "ERROR: The system cannot find the file specified.")
        if "/XML" in argv:
            return subprocess.CompletedProcess(argv, 0, registered[name], "")
        if argv[1] == "/Delete":
            del registered[name]
            return subprocess.CompletedProcess(argv, 0, "SUCCESS", "")
        return subprocess.CompletedProcess(argv, 0, f'"{name}","14/03/2026 15:30:00","Ready"\n', "")

    scheduler = WindowsTaskScheduler(runner=schtasks)
    job = make_job(DB, Interval.parse("30m"), export=True, import_=True, program=[EXE], environ={})
    scheduler.install(job)
    status = scheduler.status()
    assert status.installed and status.active and status.job == job
    assert status.next_run == "14/03/2026 15:30:00"
    assert scheduler.remove() and not scheduler.status().installed and not scheduler.remove()
