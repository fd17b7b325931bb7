"""Scheduled sync from the command line:

``kcc-desktop [--db PATH] schedule install --every 30m [--export] [--import] [--dry-run]`` registers a job with
the operating system's scheduler; ``schedule status [--json]`` and ``schedule remove``.

``kcc-desktop [--db PATH] scheduled-run [--export] [--import] [--json]`` is what the job runs: one
unattended export and/or import under the company file's sync lock, recorded for the window. Exit codes:
0 all went through; 1 something failed (the output and the window say what); 2 no company file or bad
arguments; 3 another sync (the window's Upload Data, another run) holds the company file, nothing was done.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..schedule import Scheduler

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("schedule", help="run export/import on a schedule with the operating system's scheduler",
                       description="Register, show or remove a scheduled sync with the operating system's own "
                                   "scheduler (systemd user timer, launchd, Task Scheduler).")
    actions = p.add_subparsers(dest="schedule_action", metavar="ACTION", required=True)
    install = actions.add_parser("install", help="register (or replace) the scheduled sync")
    install.add_argument("--every", required=True, help="how often: 30m, 2h, 1d (5 minutes to 7 days)")
    install.add_argument("--export", action="store_true", help="upload pending changes (Upload Data)")
    install.add_argument("--import", dest="import_", action="store_true",
                         help="fetch payments and create & allocate them (neither flag: both)")
    install.add_argument("--dry-run", action="store_true", help="print what would be registered; change nothing")
    status = actions.add_parser("status", help="show the scheduled sync and its last run")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    actions.add_parser("remove", help="unregister the scheduled sync (nothing else changes)")
    for action in (install, status, actions.choices["remove"]):
        action.add_argument("--name", default=None, help=argparse.SUPPRESS)   # tests: a job beside the real one
    p.set_defaults(run=run_schedule)

    r = sub.add_parser("scheduled-run", help="one unattended sync, as the schedule runs it",
                       description="Export and/or import once, under the company file's sync lock, and record "
                                   "the outcome for the window (neither flag: both).")
    r.add_argument("--export", action="store_true", help="upload everything pending")
    r.add_argument("--import", dest="import_", action="store_true", help="fetch, create and allocate payments")
    r.add_argument("--every", default="", help="the schedule's interval, recorded with the outcome")
    r.add_argument("--json", action="store_true", help="print the run's record as JSON")
    r.set_defaults(run=run_scheduled)


# --- scheduled-run ------------------------------------------------------------------------------------

def run_scheduled(args: argparse.Namespace) -> int:
    from ..schedule import BUSY_EXIT_CODE, Interval, IntervalError, SyncBusy
    from ..schedule.run import scheduled_run
    from . import NO_COMPANY_FILE, open_company_file

    try:
        every = Interval.parse(args.every).text if args.every else ""
    except IntervalError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = open_company_file(args.db, must_exist=True)
    if store is None:
        log.error("scheduled run: the company file could not be opened")
        return NO_COMPANY_FILE
    try:
        record = scheduled_run(store, export=args.export, import_=args.import_, every=every)
    except SyncBusy as busy:
        log.info("scheduled run skipped: %s", busy)
        print(busy, file=sys.stderr)
        return BUSY_EXIT_CODE
    finally:
        store.close()
    print(record.to_json() if args.json else record.summary)
    for note in record.notes:
        print(note, file=sys.stderr)
    return 0 if record.ok else 1


# --- schedule install / status / remove ---------------------------------------------------------------

def run_schedule(args: argparse.Namespace) -> int:
    from ..schedule import JOB_NAME, SchedulerError, scheduler_for_platform

    scheduler = scheduler_for_platform()
    name = args.name or JOB_NAME
    try:
        if args.schedule_action == "install":
            return _install(args, scheduler, name)
        if args.schedule_action == "status":
            return _status(args, scheduler, name)
        print("Scheduled sync removed." if scheduler.remove(name) else "No scheduled sync was registered.")
        return 0
    except SchedulerError as exc:
        print(exc, file=sys.stderr)
        return 1


def _install(args: argparse.Namespace, scheduler: Scheduler, name: str) -> int:
    from sqlalchemy.engine import make_url

    from ..connectors.settings import load_connection
    from ..schedule import Interval, IntervalError, make_job
    from ..settings_db import DbSettingsStore
    from ..store import resolve_url
    from ..sync.options import OptionsService
    from . import NO_COMPANY_FILE, open_company_file

    try:
        every = Interval.parse(args.every)
    except IntervalError as exc:
        print(exc, file=sys.stderr)
        return 2
    url = resolve_url(args.db)
    if make_url(url).password:
        print("The database URL holds a password, which would be written into the schedule's definition. "
              "Give the password another way (for PostgreSQL, a .pgpass file) and a URL without it.", file=sys.stderr)
        return 2
    store = open_company_file(args.db, must_exist=True)
    if store is None:
        return NO_COMPANY_FILE
    try:
        connection = load_connection(DbSettingsStore(store))
        enabled = OptionsService(store).load().enabled
        # The file's absolute path (or the URL): the job must not depend on the folder it starts in.
        db = store.label if url.startswith("sqlite:///") else url
    finally:
        store.close()
    job = make_job(db, every, export=args.export, import_=args.import_, name=name)
    if args.dry_run:
        for file_name, text in scheduler.definitions(job).items():
            print(f"--- {file_name}\n{text}")
        return 0
    print(scheduler.install(job))
    if connection is None or not connection.tenant_id:
        print("This company file is not connected to an accounting package yet: the scheduled runs will fail "
              "until you Connect (Mapping tab).", file=sys.stderr)
    if not enabled:
        print("The integration is off on this company file: the scheduled runs will do nothing until "
              "Integration enabled is ticked (Mapping tab).", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace, scheduler: Scheduler, name: str) -> int:
    from ..schedule import last_run
    from ..store import StoreError, open_store

    status = scheduler.status(name)
    record = None
    db = status.job.db if status.job else ""
    if db and ("://" in db or Path(db).exists()):
        try:
            store = open_store(db, create=False)           # never create an empty company file by looking
        except StoreError as exc:
            print(exc, file=sys.stderr)
        else:
            try:
                record = last_run(store)
            finally:
                store.close()
    if args.json:
        out = status.as_dict()
        out["last_run"] = json.loads(record.to_json()) if record else None
        print(json.dumps(out))
        return 0
    print(status.text)
    if record is not None:
        when = record.finished_at.astimezone()
        print(f"Last run {when:%Y-%m-%d %H:%M}: {'OK' if record.ok else 'FAILED'}. {record.summary}")
    elif status.installed:
        print("It has not run yet.")
    return 0
