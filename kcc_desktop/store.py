"""The local store: an SQLite file (or any SQLAlchemy URL), migrated by Alembic when opened."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from . import paths

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The company file cannot be opened; the message says why and what to do."""


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """``--db`` / ``KCC_DB``: a file path or any SQLAlchemy URL; else the file in the data folder."""
    db = db or os.environ.get("KCC_DB")
    if not db:
        return f"sqlite:///{paths.default_db_path()}"
    text = str(db)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:" and len(url) > len(prefix):
        return Path(url[len(prefix):])
    return None


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed transaction
    cur.execute("PRAGMA busy_timeout=10000")  # the GUI and the worker thread share the file
    cur.close()


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


class Store:
    """An open company file. ``session()`` gives a unit of work that commits or rolls back whole."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def label(self) -> str:
        path = _sqlite_file(str(self.engine.url))
        return str(path) if path else self.url

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._factory() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()


def open_store(db: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    url = resolve_url(db)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_connect)
    if migrate:
        upgrade(engine)
    return Store(engine)


def _current_revision(engine: Engine) -> str | None:
    path = _sqlite_file(str(engine.url))
    if path is None:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    if not path.exists() or path.stat().st_size == 0:
        return None
    import sqlite3

    # Read-only, so that merely looking (e.g. at a newer file we then refuse) changes no byte of it.
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None


def upgrade(engine: Engine) -> None:
    """Bring the file to this version's schema; refuse a newer one; leave it untouched on failure."""
    cfg = _alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    current = _current_revision(engine)
    if current == head:
        return
    if current is not None and not _known(script, current):
        engine.dispose()
        raise StoreError(
            "This company file was made by a newer version of KCC Desktop "
            f"(schema {current}). Install the newer version to open it; nothing was changed."
        )
    path = _sqlite_file(str(engine.url))
    backup = None
    if path and path.exists() and path.stat().st_size > 0:
        engine.dispose()
        _checkpoint(path)
        backup = path.with_name(path.name + ".pre-migration")
        shutil.copy2(path, backup)
    try:
        command.upgrade(cfg, "head")
    except Exception as exc:
        engine.dispose()
        if path and backup:
            _restore(path, backup)
        raise StoreError(
            f"Updating the company file failed ({exc}). The file was left as it was; "
            "please report this with the log file."
        ) from exc
    if backup:
        backup.unlink(missing_ok=True)


def _known(script: ScriptDirectory, rev: str) -> bool:
    try:
        return script.get_revision(rev) is not None
    except Exception:
        return False


def _checkpoint(path: Path) -> None:
    import sqlite3

    # Only a file left in WAL mode needs folding back; a checkpoint on any other file changes nothing.
    with closing(sqlite3.connect(path)) as conn:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _restore(path: Path, backup: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(backup, path)
