"""The local store: an SQLite file (or any SQLAlchemy URL), migrated by Alembic when opened.

Alembic is imported only when a file needs migrating: a file already at this version's schema is
recognised by reading the migration scripts' revision lines (Alembic's imports were a fifth of the
window's cold start).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

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
    from alembic.config import Config

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


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def _head_from_scripts() -> str | None:
    """This version's head revision, read from the scripts' ``revision``/``down_revision`` lines (None
    when there is not exactly one head: then Alembic itself decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        down = _DOWN.search(text)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revision(engine: Engine) -> str | None:
    path = _sqlite_file(str(engine.url))
    if path is None:
        from alembic.runtime.migration import MigrationContext

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
    current = _current_revision(engine)
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
