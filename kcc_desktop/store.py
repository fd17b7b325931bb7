"""The company store: an SQLite file, or a PostgreSQL database several desks share, migrated by Alembic
when opened.

- ``--db`` / ``KCC_DB`` take a file path or a URL. ``postgresql://user@host/dbname`` uses psycopg 3 (a
  plain ``postgresql://`` needs no driver suffix); the password comes from ``~/.pgpass`` or the URL.
- A file is looked at before it is opened (``company_file``): only ``create=True`` (demo, File → New, the
  default file on first run) makes a new one; anything unusable is a ``StoreError`` in words, unchanged.
- Waits on locks are bounded: SQLite's busy timeout, PostgreSQL's ``lock_timeout``. ``retrying`` runs a
  whole unit of work again when a lock wait ran out, and after ``BUSY_PATIENCE`` says so in words
  (``StoreBusy``): no command dies with "database is locked".
- Alembic is imported only when a store needs migrating: one already at this version's schema is
  recognised by reading the migration scripts' revision lines (Alembic's imports were a fifth of the
  window's cold start).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

from . import paths
from .company_file import IntegrityCheck, StoreError, check_integrity, damaged, inspect_sqlite, missing

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 15_000          # one wait for SQLite's write lock
PG_LOCK_TIMEOUT = "15s"          # one wait for a PostgreSQL row or table lock
BUSY_PATIENCE = 120.0            # seconds ``retrying`` keeps trying a unit of work before giving up in words
PG_CONNECT_TIMEOUT = 10          # seconds to reach a PostgreSQL server
_MIGRATION_LOCK = 0x4B4343       # PostgreSQL advisory lock: one desk migrates a shared database at a time

T = TypeVar("T")

__all__ = ["BUSY_PATIENCE", "Store", "StoreBusy", "StoreError", "is_busy", "open_store", "resolve_url"]


class StoreBusy(StoreError):
    """Another desk or program kept the store locked for longer than ``BUSY_PATIENCE``."""


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """``--db`` / ``KCC_DB``: a file path or any SQLAlchemy URL; else the file in the data folder.

    A plain ``postgresql://`` (or ``postgres://``) URL means psycopg 3, which the app ships with.
    """
    db = db or os.environ.get("KCC_DB")
    if not db:
        return f"sqlite:///{paths.default_db_path()}"
    text_ = str(db)
    for plain in ("postgresql://", "postgres://"):
        if text_.startswith(plain):
            return "postgresql+psycopg://" + text_[len(plain):]
    if "://" in text_:
        return text_
    return f"sqlite:///{Path(text_).expanduser().resolve()}"


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:" and len(url) > len(prefix):
        return Path(url[len(prefix):])
    return None


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")   # first: the PRAGMAs below may wait for a lock too
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed transaction
    cur.close()


def _on_pg_connect(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET lock_timeout = '{PG_LOCK_TIMEOUT}'")
        cur.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


def is_busy(exc: BaseException) -> bool:
    """A lock wait that ran out (SQLite "database is locked", PostgreSQL lock timeout, serialisation, deadlock)."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("55P03", "40001", "40P01"):
        return True
    words = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and ("database is locked" in words or "database table is locked" in words
                                                  or "busy" in words)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


class Store:
    """An open company store. ``session()`` gives a unit of work that commits or rolls back whole."""

    def __init__(self, engine: Engine, integrity: IntegrityCheck | None = None) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self.integrity = integrity   # the file's quick_check when it was opened without it (``check_later``)

    def require_sound(self) -> None:
        """A ``damaged`` StoreError when SQLite's check finds the file damaged (waiting for a check that was
        put off until after opening; nothing to wait for when it ran at opening)."""
        if self.integrity is not None:
            self.integrity.require()

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def label(self) -> str:
        """The file's path, or the database's URL as a user types it (no driver, no password)."""
        path = _sqlite_file(str(self.engine.url))
        if path:
            return str(path)
        url = self.engine.url
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql")._replace(password=None)   # set() keeps a password given None
        return url.render_as_string(hide_password=True)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._factory() as s, s.begin():
            yield s

    def retrying(self, work: Callable[[Session], T], *, what: str = "save the work",
                 patience: float | None = None) -> T:
        """``work(session)`` in one transaction, run again (a fresh session) while the store is busy.

        ``work`` must be safe to run again: it is only repeated when its transaction was rolled back.
        """
        give_up = time.monotonic() + (BUSY_PATIENCE if patience is None else patience)   # read now: tests shorten it
        pause = 0.05
        while True:
            try:
                with self.transaction() as s:
                    return work(s)
            except DBAPIError as exc:
                if not is_busy(exc):
                    raise
                if time.monotonic() + pause > give_up:
                    raise self.busy(what) from None
            time.sleep(pause * (0.5 + random.random()))   # apart, so two desks do not retry in step
            pause = min(pause * 2, 2.0)

    def busy(self, what: str) -> StoreBusy:
        return StoreBusy(f"Could not {what}: the company file {self.label} stayed locked by another desk or "
                         "program for over two minutes. Nothing was lost; try again when it is free.", "busy")

    def close(self) -> None:
        self.engine.dispose()


def open_store(db: str | os.PathLike[str] | None = None, *, migrate: bool = True, create: bool = True,
               check_later: bool = False) -> Store:
    """The company store at ``db``, migrated. ``create=False`` refuses a file that does not exist (or an empty
    database) instead of starting a new company there: every command but demo opens that way.

    ``check_later`` (the window): an SQLite file's quick_check is not run now but left to ``Store.integrity``
    (the window runs it after its first paint); a file that needs migrating is still checked first."""
    url = resolve_url(db)
    path = _sqlite_file(url)
    revision: str | None = None
    integrity: IntegrityCheck | None = None
    if path is not None:
        revision = inspect_sqlite(path, create=create, check=not check_later)
        if check_later and revision is not None:
            if migrate and revision != _head_from_scripts():
                check_integrity(path)   # before a migration copies and rewrites it
            else:
                integrity = IntegrityCheck(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _on_sqlite_connect)
    else:
        engine = _server_engine(url)
        revision = _server_revision(engine, create=create)
    if revision is None and not create and path is not None and path.exists() and path.stat().st_size:
        engine.dispose()
        raise StoreError(f"{path} holds no company: it is an empty database. Check the --db path; nothing was "
                         "changed.", "not_company")
    if migrate:
        upgrade(engine, revision)
    return Store(engine, integrity)


def _server_engine(url: str) -> Engine:
    parsed = make_url(url)
    args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        args["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT}
    try:
        engine = create_engine(url, pool_pre_ping=True, **args)
    except ImportError as exc:   # the driver is missing from this installation
        raise StoreError(f"Cannot open {parsed.render_as_string(hide_password=True)}: its database driver is not "
                         f"installed ({exc.name or exc}). Install KCC Desktop with its dependencies "
                         "(psycopg[binary] for PostgreSQL); nothing was changed.", "unreachable") from None
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _on_pg_connect)
    return engine


def _server_revision(engine: Engine, *, create: bool) -> str | None:
    """The database's schema revision; unreachable, foreign or (without ``create``) empty ones refused."""
    from alembic.runtime.migration import MigrationContext

    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = MigrationContext.configure(conn).get_current_revision() if tables else None
    except DBAPIError as exc:
        engine.dispose()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise StoreError(f"Cannot open the company database {where}: {first}. Check that the server is running, "
                         "the database exists, and the user's password is in ~/.pgpass (or the URL); nothing was "
                         "changed.", "unreachable") from None
    if tables and "alembic_version" not in tables:
        engine.dispose()
        raise StoreError(f"The database {where} is not a KCC Desktop company database (it holds other tables). "
                         "Check the --db URL; nothing was changed.", "not_company")
    if revision is None and not create:
        engine.dispose()
        raise StoreError(f"The database {where} holds no company yet. Move a company file into it with "
                         "`kcc-desktop migrate-store FILE URL`, or check the --db URL. Nothing was changed.",
                         "missing")
    return revision


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def _head_from_scripts() -> str | None:
    """This version's head revision, read from the scripts' ``revision``/``down_revision`` lines (None
    when there is not exactly one head: then Alembic itself decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        down = _DOWN.search(source)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def upgrade(engine: Engine, current: str | None = None) -> None:
    """Bring the store to this version's schema; refuse a newer one; leave it untouched on failure."""
    if current is not None and current == _head_from_scripts():
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    if current == head:
        return
    if current is not None and not _known(script, current):
        where = _sqlite_file(str(engine.url)) or engine.url.render_as_string(hide_password=True)
        engine.dispose()
        raise StoreError(
            f"The company file {where} was made by a newer version of KCC Desktop "
            f"(schema {current}). Install the newer version to open it; nothing was changed.", "newer")
    path = _sqlite_file(str(engine.url))
    if path is None:
        _upgrade_server(engine, cfg)
        return
    backup = None
    if path.exists() and path.stat().st_size > 0:
        engine.dispose()
        _checkpoint(path)
        backup = path.with_name(path.name + ".pre-migration")
        shutil.copy2(path, backup)
    try:
        command.upgrade(cfg, "head")
    except Exception as exc:
        engine.dispose()
        if backup:
            _restore(path, backup)
        if isinstance(exc, DBAPIError) and is_busy(exc):
            raise StoreError(f"The company file {path} could not be updated to this version: another desk or "
                             "program kept it locked. Close the others, then open it again; nothing was "
                             "changed.", "locked") from exc
        raise StoreError(
            f"Updating the company file {path} failed ({exc}). The file was left as it was; "
            "please report this with the log file.") from exc
    if backup:
        backup.unlink(missing_ok=True)


def _upgrade_server(engine: Engine, cfg: Config) -> None:
    """One desk at a time migrates a shared database; the others wait, then find it done. PostgreSQL's DDL is
    transactional: a failed migration leaves the database as it was."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()
        try:
            current = MigrationContext.configure(conn).get_current_revision()
            if current != ScriptDirectory.from_config(cfg).get_current_head():
                command.upgrade(cfg, "head")
        except Exception as exc:
            raise StoreError(f"Updating the company database failed ({exc}). It was left as it was; please "
                             "report this with the log file.") from exc
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()


def _known(script: ScriptDirectory, rev: str) -> bool:
    try:
        return script.get_revision(rev) is not None
    except Exception:
        return False


def _checkpoint(path: Path) -> None:
    import sqlite3
    from contextlib import closing

    # Only a file left in WAL mode needs folding back; a checkpoint on any other file changes nothing.
    with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_MS / 1000)) as conn:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _restore(path: Path, backup: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(backup, path)


def refuse_missing(db: str | os.PathLike[str] | None) -> None:
    """Raise ``StoreError`` when ``db`` names a file that does not exist (for callers that must not create)."""
    path = _sqlite_file(resolve_url(db))
    if path is not None and not path.exists():
        raise missing(path)


def store_failure(store_label: str, exc: BaseException) -> StoreError | None:
    """A database error met while working (not while opening), in words; None if it is not one we know."""
    if isinstance(exc, DBAPIError):
        words = str(exc.orig).lower()
        if is_busy(exc):
            return StoreBusy(f"The company file {store_label} stayed locked by another desk or program. Nothing "
                             "was lost; try again when it is free.", "busy")
        if "malformed" in words or "not a database" in words:
            return damaged(Path(store_label), str(exc.orig))
        if "readonly" in words or "read-only" in words:
            return StoreError(f"The company file {store_label} is read-only; KCC Desktop must be able to write to "
                              "it. Make it writable, then try again.", "read_only")
    return None
