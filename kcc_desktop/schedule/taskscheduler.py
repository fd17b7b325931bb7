"""Windows: a Task Scheduler task registered from XML with ``schtasks /Create /XML``.

The task runs as the signed-in user only while they are logged on (no password is stored, and Credential
Manager, which holds the tokens, is open then). ``MultipleInstancesPolicy=IgnoreNew`` means Windows never
starts it again while a run is going; ``StartWhenAvailable`` makes up a run missed while the PC was off.
Element names and order follow the Task Scheduler schema (version 1.2, Windows Vista and later).
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from .. import APP_NAME
from .base import Runner, Scheduler, SchedulerError, ScheduleStatus, run_tool, tool_said
from .job import JOB_NAME, Job, job_from_argv

NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


def task_name(name: str = JOB_NAME) -> str:
    return f"\\{APP_NAME}\\Scheduled {name}"


def split_command_line(line: str) -> list[str]:
    """Windows' own rules for splitting a command line (CommandLineToArgvW): the inverse of list2cmdline."""
    args: list[str] = []
    word: list[str] = []
    in_word = quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            n = len(line) - i - len(line[i:].lstrip("\\"))
            if i + n < len(line) and line[i + n] == '"':
                word.append("\\" * (n // 2))
                if n % 2:                         # an escaped quote
                    word.append('"')
                    i += n + 1
                else:
                    i += n
                in_word = True
                continue
            word.append("\\" * n)
            i += n
            in_word = True
            continue
        if ch == '"':
            quoted = not quoted
            in_word = True
        elif ch in " \t" and not quoted:
            if in_word:
                args.append("".join(word))
                word, in_word = [], False
        else:
            word.append(ch)
            in_word = True
        i += 1
    if in_word:
        args.append("".join(word))
    return args


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def task_xml(job: Job, now: datetime) -> ET.Element:
    """The task as the schema has it. ``now`` (local time) anchors the schedule to today's midnight."""
    ET.register_namespace("", NS)
    task = ET.Element(f"{{{NS}}}Task", {"version": "1.2"})
    info = _add(task, "RegistrationInfo")
    _add(info, "Author", APP_NAME)
    _add(info, "Description", job.description)
    _add(info, "URI", task_name(job.name))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
    triggers = _add(task, "Triggers")
    if job.every.minutes % (24 * 60) == 0:
        trigger = _add(triggers, "CalendarTrigger")
        _add(trigger, "Enabled", "true")
        _add(trigger, "StartBoundary", midnight)
        _add(_add(trigger, "ScheduleByDay"), "DaysInterval", str(job.every.minutes // (24 * 60)))
    else:
        # From today's midnight, every `every`, for ever: on the clock when the interval divides a day.
        trigger = _add(triggers, "TimeTrigger")
        _add(trigger, "Enabled", "true")
        _add(trigger, "StartBoundary", midnight)
        repetition = _add(trigger, "Repetition")
        _add(repetition, "Interval", job.every.iso8601())
        _add(repetition, "StopAtDurationEnd", "false")
    principal = _add(_add(task, "Principals"), "Principal", None)
    principal.set("id", "Author")
    _add(principal, "LogonType", "InteractiveToken")
    _add(principal, "RunLevel", "LeastPrivilege")
    settings = _add(task, "Settings")
    for tag, value in (("MultipleInstancesPolicy", "IgnoreNew"), ("DisallowStartIfOnBatteries", "false"),
                       ("StopIfGoingOnBatteries", "false"), ("AllowHardTerminate", "true"),
                       ("StartWhenAvailable", "true"), ("RunOnlyIfNetworkAvailable", "true"),
                       ("AllowStartOnDemand", "true"), ("Enabled", "true"), ("Hidden", "false"),
                       ("RunOnlyIfIdle", "false"), ("WakeToRun", "false"), ("ExecutionTimeLimit", "PT2H"),
                       ("Priority", "7")):
        _add(settings, tag, value)
    actions = _add(task, "Actions")
    actions.set("Context", "Author")
    exec_ = _add(actions, "Exec")
    _add(exec_, "Command", job.program[0])
    _add(exec_, "Arguments", subprocess.list2cmdline([*job.program[1:], *job.run_args]))
    return task


def render_task(job: Job, now: datetime | None = None) -> str:
    """The XML text; schtasks reads it as UTF-16, so the declaration says so (``write_task`` encodes it)."""
    body = ET.tostring(task_xml(job, now or datetime.now()), encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + body + "\n"


def parse_task(text: str) -> ET.Element:
    """A task's XML as schtasks prints it or ``render_task`` writes it (the declaration names an encoding
    the text no longer has once it is a str, so it is dropped before parsing)."""
    return ET.fromstring(re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text))


def _text(root: ET.Element, path: str) -> str | None:
    element = root.find("/".join(f"{{{NS}}}{tag}" for tag in path.split("/")))
    return element.text if element is not None else None


def job_from_task(text: str, name: str = JOB_NAME) -> Job | None:
    root = parse_task(text)
    command = _text(root, "Actions/Exec/Command")
    if not command:
        return None
    return job_from_argv([command, *split_command_line(_text(root, "Actions/Exec/Arguments") or "")], name=name)


class WindowsTaskScheduler(Scheduler):
    label = "Task Scheduler"

    def __init__(self, runner: Runner = run_tool) -> None:
        self.runner = runner

    def definitions(self, job: Job) -> dict[str, str]:
        return {f"{APP_NAME} Scheduled {job.name}.xml": render_task(job)}

    def install(self, job: Job) -> str:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "task.xml"
            path.write_text(render_task(job), encoding="utf-16")   # with a BOM, as schtasks expects
            result = self.runner(["schtasks", "/Create", "/TN", task_name(job.name), "/XML", str(path), "/F"])
        if result.returncode != 0:
            raise SchedulerError(f"The Task Scheduler refused the scheduled sync: {tool_said(result)}.")
        return f"Scheduled sync registered: {job.what} {job.every.words} (Task Scheduler: {task_name(job.name)})."

    def status(self, name: str = JOB_NAME) -> ScheduleStatus:
        where = task_name(name)
        found = self.runner(["schtasks", "/Query", "/TN", where, "/XML"])
        if found.returncode != 0:
            return ScheduleStatus(self.label, installed=False, active=False, where=where)
        job = job_from_task(found.stdout, name)
        listed = self.runner(["schtasks", "/Query", "/TN", where, "/FO", "CSV", "/NH"])
        rows = [r for r in csv.reader(io.StringIO(listed.stdout)) if len(r) >= 3] if listed.returncode == 0 else []
        if not rows:
            return ScheduleStatus(self.label, installed=True, active=False, job=job, where=where,
                                  detail=f"schtasks could not say whether it runs: {tool_said(listed)}.")
        next_run, state = rows[0][1].strip(), rows[0][2].strip()
        enabled = _text(parse_task(found.stdout), "Settings/Enabled") != "false"
        return ScheduleStatus(self.label, installed=True, active=enabled, job=job, where=where, next_run=next_run,
                              detail=f"Task state: {state}." if state else "")

    def remove(self, name: str = JOB_NAME) -> bool:
        where = task_name(name)
        if self.runner(["schtasks", "/Query", "/TN", where]).returncode != 0:
            return False
        result = self.runner(["schtasks", "/Delete", "/TN", where, "/F"])
        if result.returncode != 0:
            raise SchedulerError(f"The Task Scheduler could not remove the scheduled sync: {tool_said(result)}.")
        return True
