"""One sync at a time per company file, across processes: the window's Upload Data, a scheduled run, a
second scheduled run started by hand.

The lock is an operating-system file lock on ``<company file>.sync-lock`` beside the company file (for a
database URL, a file in the data folder named after it). The OS drops it when the holding process ends,
however it ends, so a crash never leaves a stale lock. The holder writes who it is into the file, so a
refused caller can say what is running. Usage, in the window's upload job as in ``scheduled-run``::

    with SyncLock(store, "Upload Data in the window"):
        service.upload(...)          # SyncBusy (plain words) when something else holds it
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

from .. import paths
from ..store import Store

LOCK_SUFFIX = ".sync-lock"
BUSY_EXIT_CODE = 3               # a command refused because another sync holds the company file
_WINDOWS_LOCK_OFFSET = 1 << 30   # Windows locks byte ranges; lock one far past the holder's note, so it stays readable


def lock_path(target: Store | str) -> Path:
    """The lock file for a company file (a Store, or its SQLAlchemy URL)."""
    url = make_url(target.url if isinstance(target, Store) else target)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + LOCK_SUFFIX)
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return paths.data_dir() / f"sync-{digest}{LOCK_SUFFIX}"


@dataclass(frozen=True)
class LockHolder:
    what: str            # "Upload Data in the window", "the scheduled sync"
    pid: int
    host: str
    since: datetime      # UTC

    @property
    def text(self) -> str:
        return f"{self.what}, started at {self.since.astimezone():%H:%M} (process {self.pid} on {self.host})"

    def to_json(self) -> str:
        return json.dumps({"what": self.what, "pid": self.pid, "host": self.host, "since": self.since.isoformat()})

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        try:
            d = json.loads(text)
            return cls(what=str(d["what"]), pid=int(d["pid"]), host=str(d["host"]),
                       since=datetime.fromisoformat(d["since"]))
        except (ValueError, KeyError, TypeError):
            return None   # written by a holder still starting up, or not at all


class SyncBusy(Exception):
    """Another sync holds the company file. ``str()`` says which and that nothing was done."""

    def __init__(self, holder: LockHolder | None) -> None:
        self.holder = holder
        who = holder.text if holder else "another KCC Desktop process"
        super().__init__(f"Another sync is running on this company file: {who}. Nothing was done; "
                         "it can run again when that one has finished.")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # per open file: two in one process clash too
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(path: Path) -> LockHolder | None:
    try:
        return LockHolder.from_json(path.read_text(encoding="utf-8"))
    except OSError:
        return None


class SyncLock:
    """The company file's sync lock. ``acquire`` never waits: it takes the lock or raises SyncBusy."""

    def __init__(self, target: Store | str, what: str) -> None:
        self.path = lock_path(target)
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, note: bool = True) -> None:
        """Takes the lock and (with ``note``) writes who holds it; raises SyncBusy when another holds it."""
        if self._fd is not None:
            raise RuntimeError("this SyncLock is already held")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise SyncBusy(_read_holder(self.path))
        if note:
            holder = LockHolder(self.what, os.getpid(), socket.gethostname(), datetime.now(UTC))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, holder.to_json().encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)     # no stale note for the next reader
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def sync_running(target: Store | str) -> LockHolder | None:
    """Who holds the company file's sync lock right now, or None when it is free (so the window can grey
    out Upload Data and say why). A holder still writing its note shows as "a KCC Desktop process"."""
    probe = SyncLock(target, "")
    try:
        probe.acquire(note=False)
    except SyncBusy as busy:
        return busy.holder or LockHolder("a KCC Desktop process", 0, socket.gethostname(), datetime.now(UTC))
    probe.release()
    return None
