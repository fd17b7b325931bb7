"""Linux: a systemd user service and timer in ``~/.config/systemd/user``, driven by ``systemctl --user``.

The service is ``Type=oneshot``, so systemd never starts it again while a run is still going; the timer
is ``OnCalendar=`` with ``Persistent=true`` for intervals on the clock (a run missed while the computer was
off or asleep happens when it is back), and ``OnUnitActiveSec=`` after the previous run otherwise. User
timers run while the user is logged in, which is also when the keyring holding the tokens is unlocked.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from .base import Runner, Scheduler, SchedulerError, ScheduleStatus, run_tool, tool_said
from .interval import Interval
from .job import JOB_NAME, Job, job_from_argv
from .lock import BUSY_EXIT_CODE

HEADER = "# Written by `kcc-desktop schedule install`; `kcc-desktop schedule remove` deletes it.\n"
_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


def unit_stem(name: str = JOB_NAME) -> str:
    return f"kcc-desktop-{name}"


def unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    config = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def quote(arg: str) -> str:
    """One ExecStart=/Environment= word: ``%`` and ``$`` doubled (systemd expands them), quoted if needed."""
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split(value: str) -> list[str]:
    """The inverse of ``quote`` over a whole line of words."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(value)]


def calendar_spec(every: Interval) -> str | None:
    """The ``OnCalendar=`` expression for an interval on the clock, else None."""
    if every.minute_step is not None:
        return f"*-*-* *:00/{every.minute_step}:00"
    if every.hour_step is not None:
        return "*-*-* *:00:00" if every.hour_step == 1 else f"*-*-* 00/{every.hour_step}:00:00"
    if every.minutes == 24 * 60:
        return "*-*-* 00:00:00"
    return None


def render_service(job: Job) -> str:
    lines = [HEADER, "[Unit]", f"Description={job.description}", "", "[Service]", "Type=oneshot",
             "ExecStart=" + " ".join(quote(a) for a in job.argv)]
    if job.env:
        lines.append("Environment=" + " ".join(quote(f"{k}={v}") for k, v in job.env))
    lines += [f"SuccessExitStatus={BUSY_EXIT_CODE}",     # the window was uploading: skipped, not failed
              "TimeoutStartSec=2h",        # a oneshot waits forever by default; a hung run must not block the next
              "Nice=10", ""]
    return "\n".join(lines)


def render_timer(job: Job) -> str:
    lines = [HEADER, "[Unit]", f"Description={job.description} (timer)", "", "[Timer]"]
    spec = calendar_spec(job.every)
    if spec:
        lines += [f"OnCalendar={spec}", "Persistent=true"]
    else:
        # The first run two minutes after the timer starts (at login, or now), then `every` after each run.
        lines += ["OnActiveSec=2min", f"OnUnitActiveSec={job.every.minutes}min"]
    lines += ["AccuracySec=1min", "", "[Install]", "WantedBy=timers.target", ""]
    return "\n".join(lines)


class _UnitParser(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr              # systemd keys are case-sensitive


def parse_unit(text: str) -> configparser.ConfigParser:
    """A unit file as INI (systemd's own syntax is a superset; these units use only the common part)."""
    parser = _UnitParser(interpolation=None, strict=True, delimiters=("=",), comment_prefixes=("#", ";"))
    parser.read_string(text)
    return parser


class SystemdUserScheduler(Scheduler):
    label = "systemd user timer"

    def __init__(self, runner: Runner = run_tool, directory: Path | None = None) -> None:
        self.runner = runner
        self.directory = directory or unit_dir()

    def definitions(self, job: Job) -> dict[str, str]:
        stem = unit_stem(job.name)
        return {f"{stem}.service": render_service(job), f"{stem}.timer": render_timer(job)}

    def _systemctl(self, *args: str) -> None:
        result = self.runner(["systemctl", "--user", *args])
        if result.returncode != 0:
            raise SchedulerError(
                f"systemctl --user {' '.join(args)} failed: {tool_said(result)}. Scheduled sync on Linux needs "
                "the systemd user manager of a desktop login (it is missing in some containers and remote shells).")

    def install(self, job: Job) -> str:
        files = self.definitions(job)
        self.directory.mkdir(parents=True, exist_ok=True)
        before = {n: (self.directory / n).read_text(encoding="utf-8") for n in files if (self.directory / n).exists()}
        for name, text in files.items():
            (self.directory / name).write_text(text, encoding="utf-8")
        timer = f"{unit_stem(job.name)}.timer"
        try:
            self._systemctl("daemon-reload")
            self._systemctl("enable", timer)
            self._systemctl("restart", timer)    # a replaced schedule takes effect now
        except SchedulerError:
            for name in files:                   # leave things as they were, not half-installed
                if name in before:
                    (self.directory / name).write_text(before[name], encoding="utf-8")
                else:
                    (self.directory / name).unlink(missing_ok=True)
            self.runner(["systemctl", "--user", "daemon-reload"])
            raise
        return f"Scheduled sync registered: {job.what} {job.every.words} ({self.directory / timer})."

    def status(self, name: str = JOB_NAME) -> ScheduleStatus:
        stem = unit_stem(name)
        service, timer = self.directory / f"{stem}.service", self.directory / f"{stem}.timer"
        if not service.exists() or not timer.exists():
            return ScheduleStatus(self.label, installed=False, active=False, where=str(timer))
        unit = parse_unit(service.read_text(encoding="utf-8"))["Service"]
        env = dict(word.split("=", 1) for word in split(unit.get("Environment", "")) if "=" in word)
        job = job_from_argv(split(unit.get("ExecStart", "")), env, name)
        result = self.runner(["systemctl", "--user", "show", f"{stem}.timer",
                              "--property=ActiveState,UnitFileState,NextElapseUSecRealtime"])
        if result.returncode != 0:
            return ScheduleStatus(self.label, installed=True, active=False, job=job, where=str(timer),
                                  detail=f"systemctl --user could not say whether it runs: {tool_said(result)}.")
        props = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        active = props.get("ActiveState") == "active" and props.get("UnitFileState") == "enabled"
        return ScheduleStatus(self.label, installed=True, active=active, job=job, where=str(timer),
                              next_run=props.get("NextElapseUSecRealtime", "").strip(),
                              detail="" if active else f"The timer is {props.get('ActiveState', 'unknown')} and "
                                                       f"{props.get('UnitFileState', 'unknown')}.")

    def remove(self, name: str = JOB_NAME) -> bool:
        stem = unit_stem(name)
        files = [self.directory / f"{stem}.timer", self.directory / f"{stem}.service"]
        if not any(f.exists() for f in files):
            return False
        self.runner(["systemctl", "--user", "disable", "--now", f"{stem}.timer"])  # best effort: files go anyway
        for f in files:
            f.unlink(missing_ok=True)
        self.runner(["systemctl", "--user", "daemon-reload"])
        return True
