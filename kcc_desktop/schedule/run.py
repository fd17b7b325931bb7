"""The scheduled run: the ``export`` and ``import`` commands' work, under the company file's sync lock,
with its outcome recorded for the window.

Qt-free and headless. A failure (sign-in expired, package down, daily limit) stops nothing that is not
already stopped by the services: what was not sent stays pending, and the record says why in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ..connectors.base import AccountingPackage, ConnectorError
from ..context import AppContext
from ..logging_setup import redact
from ..models import utcnow
from ..store import Store
from ..sync.export import ExportService
from ..sync.options import OptionsService
from ..sync.payments_import import PaymentsImport
from .lock import SyncLock
from .record import RunRecord, save_run

log = logging.getLogger(__name__)

LOCK_HOLDER = "a scheduled sync"


def scheduled_run(store: Store, *, export: bool = True, import_: bool = True, every: str = "",
                  package: Callable[[], AccountingPackage] | None = None,
                  clock: Callable[[], datetime] = utcnow) -> RunRecord:
    """Runs and records one scheduled sync. Raises ``SyncBusy`` (and records nothing) when another sync
    holds the company file. ``package`` opens the connection (default: the company file's own)."""
    if not export and not import_:
        export = import_ = True
    with SyncLock(store, LOCK_HOLDER):
        log.info("scheduled run on %s: %s", store.label, " and ".join(
            w for w, on in (("export", export), ("import", import_)) if on))
        run = _Run(store, export, import_, every, clock)
        try:
            run.execute(package or _package_of(store))
        except Exception as exc:   # whatever it was, the window must hear of it next time it opens
            log.exception("scheduled run stopped")
            run.problems.append(f"The run stopped on an unexpected error: {redact(str(exc)) or type(exc).__name__} "
                                "(the log has the details).")
        record = run.record()
        save_run(store, record)
        log.log(logging.INFO if record.ok else logging.WARNING, "scheduled run finished: %s", record.summary)
        return record


def _package_of(store: Store) -> Callable[[], AccountingPackage]:
    return AppContext(store).package


class _Run:
    def __init__(self, store: Store, export: bool, import_: bool, every: str, clock: Callable[[], datetime]) -> None:
        self.store, self.export, self.import_, self.every, self.clock = store, export, import_, every, clock
        self.started = clock()
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.reached = False

    def record(self) -> RunRecord:
        return RunRecord(started_at=self.started, finished_at=self.clock(), export=self.export,
                         import_=self.import_, every=self.every, reached=self.reached, problems=tuple(self.problems),
                         notes=tuple(self.notes), **self.counts)

    def execute(self, open_package: Callable[[], AccountingPackage]) -> None:
        options = OptionsService(self.store)
        if self.export:   # what is pending is counted even when nothing can be sent
            self.counts["pending"] = len(ExportService(self.store).pending_ids())
        if not options.load().enabled:
            self.problems.append("Nothing was sent or fetched: the integration is off (Mapping tab → "
                                 "Integration enabled).")
            return
        try:
            package = open_package()
        except ConnectorError as exc:
            self.problems.append(f"Nothing was sent or fetched: {exc}")
            if self.import_:
                self._create_and_allocate()   # payments fetched earlier need no connection
            return
        self.reached = True
        stopped = self._export(package) if self.export else False
        if self.import_:
            if not stopped:
                self._fetch(package)
            self._create_and_allocate()

    def _export(self, package: AccountingPackage) -> bool:
        """Upload Data for everything pending; True when the run was stopped (connection, daily limit)."""
        service = ExportService(self.store)
        summary = service.upload(service.pending_ids(), package)
        self.counts.update(exported=summary.exported, export_failed=summary.failed + summary.held,
                           pending=summary.pending)
        if summary.stopped:
            self.problems.append(f"Upload Data stopped: {summary.stopped} What was not sent is still pending.")
        elif summary.failed or summary.held:
            self.problems.append(f"{summary.failed + summary.held:,} item(s) could not be exported; Error Feedback "
                                 "on the Export tab says why for each.")
        return bool(summary.stopped)

    def _fetch(self, package: AccountingPackage) -> None:
        try:
            summary = PaymentsImport(self.store, OptionsService(self.store).provider).fetch(package)
        except ConnectorError as exc:
            self.problems.append(f"Fetch Payments failed: {exc}")
            return
        self.counts["fetched"] = summary.fetched

    def _create_and_allocate(self) -> None:
        service = PaymentsImport(self.store, OptionsService(self.store).provider)
        made = service.create_and_allocate(service.ready_ids())
        self.counts.update(created=made.created, import_failed=made.failed)
        if made.failed:
            self.problems.append(f"{made.failed:,} payment(s) could not be created; the Status column on the "
                                 "Import tab says why for each.")
        deleted = service.deleted_imported_ids()
        if deleted:
            self.notes.append(f"{len(deleted):,} imported payment(s) were deleted in {service.pkg}; use Reverse "
                              "Deleted Payments on the Import tab.")
