"""Looking at a company file before opening it: is it one, can it be used, and if not, why, in words.

Every check here only reads (SQLite's read-only mode, no PRAGMA that writes), so a file that is refused
is left exactly as it was. Each refusal is a ``StoreError`` whose ``kind`` says which problem it is and
whose message names the file and what to do about it:

- ``missing``      no such file (only demo and File → New create one);
- ``folder``       the path is a folder;
- ``not_company``  not an SQLite database, or an SQLite database of something else, or empty;
- ``damaged``      truncated or corrupt, with the backup to restore where one is beside it;
- ``read_only``    the file (or its folder) cannot be written, or cannot even be read;
- ``locked``       another program holds a lock that keeps even readers out;
- ``newer``        made by a newer version of KCC Desktop (checked by ``store.upgrade``).

SQLite's ``quick_check`` reads the whole file (about 0.2 s per 100 MB, seconds on a loaded machine). The
commands run it when they open the file; the window opens without it (``check=False``) and runs it as an
``IntegrityCheck`` after its first paint, off the GUI thread. Anything that exchanges with the accounting
package waits for that check's verdict and is refused, in words, on a damaged file (``AppContext.package``);
a migration runs it before touching the file (``store.open_store``).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from contextlib import closing
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
OPEN_WAIT = 5.0              # seconds a look waits for a lock another program holds before saying so
QUICK_CHECK_LIMIT = 256 << 20   # files up to this size get SQLite's quick_check when opened (~0.2 s / 100 MB)


class StoreError(Exception):
    """The company file cannot be opened or used; the message says why and what to do."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind


def backups_of(path: Path) -> list[Path]:
    """Copies of the file beside it (``NAME.bak``, ``NAME.pre-migration``, ``NAME backup``...), newest first."""
    try:
        siblings = [p for p in path.parent.iterdir() if p != path and p.name.startswith(path.stem) and p.is_file()
                    and any(w in p.name.lower() for w in ("bak", "backup", "pre-migration", "copy"))]
    except OSError:
        return []
    return sorted(siblings, key=lambda p: p.stat().st_mtime, reverse=True)


def damaged(path: Path, detail: str) -> StoreError:
    found = backups_of(path)
    restore = (f"Restore the backup {found[0]} (copy it over the damaged file, after keeping the damaged one "
               "aside for support)" if found else
               "Restore it from your most recent backup copy (keep the damaged file aside for support)")
    return StoreError(f"The company file {path} is damaged ({detail}). {restore}, then open it again. "
                      "Nothing was changed.", "damaged")


def _not_company(path: Path, why: str) -> StoreError:
    return StoreError(f"{path} is not a KCC Desktop company file ({why}). Check the --db path (or KCC_DB); "
                      "nothing was changed.", "not_company")


def _locked(path: Path) -> StoreError:
    return StoreError(f"The company file {path} is locked by another program, which keeps KCC Desktop from "
                      "reading it. Close that program (a database browser, a backup or sync tool), then try "
                      "again. Nothing was changed.", "locked")


def _read_only(path: Path, why: str) -> StoreError:
    return StoreError(f"The company file {path} is read-only ({why}); KCC Desktop must be able to write to it. "
                      "Make the file and its folder writable (or copy it somewhere you can write), then try "
                      "again. Nothing was changed.", "read_only")


def missing(path: Path) -> StoreError:
    return StoreError(f"There is no company file at {path}. Check the --db path (or KCC_DB); to start a new "
                      "company, use File → New in the window or the demo command. Nothing was created.", "missing")


def _writable(path: Path) -> bool:
    """Writable by this user, and not marked read-only (root may write anything; a file with no write bit
    for anyone was still made read-only on purpose)."""
    mode = path.stat().st_mode
    return os.access(path, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _classify(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return _locked(path)
    if "not a database" in text or "encrypted" in text:
        return _not_company(path, "its contents are not an SQLite database")
    if "malformed" in text or "corrupt" in text or "disk i/o" in text:
        return damaged(path, str(exc))
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return _read_only(path, "it could not be opened for reading")
    return damaged(path, str(exc))


def inspect_sqlite(path: Path, *, create: bool, check: bool = True) -> str | None:
    """Checks the file at ``path`` can be a company file; returns its schema revision (None: new or empty).

    ``create``: a missing or empty file is fine (it will be built); otherwise it is refused.
    ``check``: SQLite's quick_check too (files up to ``QUICK_CHECK_LIMIT``); without it, see ``IntegrityCheck``.
    """
    if not path.exists():
        if create:
            return None
        raise missing(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a company file. Give the path of the company file itself "
                         "(for example …/kcc.sqlite). Nothing was changed.", "folder")
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except PermissionError:
        raise _read_only(path, "this user may not even read it") from None
    except OSError as exc:
        raise damaged(path, f"it cannot be read: {exc.strerror or exc}") from None
    size = path.stat().st_size
    if size == 0:
        if create:
            return None
        raise _not_company(path, "the file is empty")
    if not head.startswith(SQLITE_HEADER):
        raise _not_company(path, "its contents are not an SQLite database")
    if len(head) < 100:
        raise damaged(path, "the file is cut short")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    wal_active = Path(f"{path}-wal").exists()   # a desk is using it: the header may run ahead of a checkpoint
    if page_size and not wal_active and (size % page_size or size < pages * page_size):
        raise damaged(path, f"the file is cut short: {size:,} bytes of the {pages * page_size:,} it should have")
    revision = _read(path, quick_check=check and size <= QUICK_CHECK_LIMIT)
    if not _writable(path):
        raise _read_only(path, "the file cannot be written")
    if not os.access(path.parent, os.W_OK):
        raise _read_only(path, f"its folder {path.parent} cannot be written, and SQLite keeps its journal there")
    return revision


def _read(path: Path, *, quick_check: bool) -> str | None:
    """Reads the schema revision through SQLite itself, read-only: locks, corruption and foreign files show."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=OPEN_WAIT)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if quick_check:
                verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
                if verdict != "ok":
                    raise damaged(path, f"SQLite's check says: {verdict}")
            if not tables:
                return None
            if "alembic_version" not in tables:
                raise _not_company(path, "it is an SQLite database of another program")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return str(row[0]) if row else None
    except sqlite3.Error as exc:
        raise _classify(path, exc) from None


class Cancelled(Exception):
    """The check was stopped before SQLite gave its verdict."""


def check_integrity(path: Path, cancel: threading.Event | None = None) -> None:
    """SQLite's quick_check of the whole file, read-only: a ``damaged`` StoreError when it finds damage.
    ``cancel`` set stops it within a few thousand SQLite steps (``Cancelled``)."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=OPEN_WAIT)) as conn:
            if cancel is not None:
                conn.set_progress_handler(lambda: 1 if cancel.is_set() else 0, 10_000)
            verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.Error as exc:
        if cancel is not None and cancel.is_set() and "interrupt" in str(exc).lower():
            raise Cancelled from None
        raise _classify(path, exc) from None
    if verdict != "ok":
        raise damaged(path, f"SQLite's check says: {verdict}")


class IntegrityCheck:
    """The quick_check of a file opened without it, run once: by the window after its first paint (``run``),
    or by whatever needs the verdict first (``require``), which waits for a check already running."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._done = False
        self._error: StoreError | None = None

    @property
    def done(self) -> bool:
        return self._done

    def run(self, cancel: threading.Event | None = None) -> StoreError | None:
        """The verdict: None when the file is sound, else the StoreError saying what is wrong, in words.
        ``Cancelled`` when ``cancel`` stopped it (the next caller checks again)."""
        with self._lock:
            if not self._done:
                try:
                    if self.path.stat().st_size <= QUICK_CHECK_LIMIT:   # as opening checks: see the limit
                        check_integrity(self.path, cancel)
                except StoreError as exc:
                    self._error = exc
                except OSError as exc:   # gone or unreadable since it was opened
                    self._error = damaged(self.path, f"it cannot be read: {exc.strerror or exc}")
                self._done = True
            return self._error

    def require(self) -> None:
        """Raises the StoreError when the file is damaged (checking it now, or waiting for the check running)."""
        error = self.run()
        if error is not None:
            raise error
