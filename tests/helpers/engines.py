"""Company stores on both engines for the tests: an SQLite file, or a fresh PostgreSQL database.

PostgreSQL comes from ``KCC_TEST_PG_URL`` (a role allowed to create databases, e.g.
``postgresql://kcc:kcc@127.0.0.1/postgres``; ``.ci/run`` starts a server and sets it). Each test gets a new
database copied from a template migrated once per worker, and dropped afterwards. Without a reachable
server the PostgreSQL cases skip with the reason, except under ``CI=true``, where they fail: CI must never
quietly test one engine only.

``KCC_TEST_ENGINE=postgresql`` makes the shared ``store`` fixture (and everything built on it) use
PostgreSQL; ``.ci/run`` runs the store, export, import and concurrency tests a second time that way.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ENV = "KCC_TEST_PG_URL"
ENGINE_ENV = "KCC_TEST_ENGINE"
_template: dict[str, str] = {}


def engine_under_test() -> str:
    return os.environ.get(ENGINE_ENV, "sqlite").strip().lower() or "sqlite"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"no PostgreSQL server for the tests: {reason}")


def admin_url() -> str:
    """The server URL from KCC_TEST_PG_URL, with psycopg importable and the server answering (else skip/fail)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        _unavailable(f"{PG_ENV} is not set")
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg (psycopg[binary]) is not installed")
    _pgpass(url)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True):
            pass
    except psycopg.Error as exc:
        _unavailable(f"{url.split('@')[-1]} does not answer ({str(exc).strip().splitlines()[0]})")
    return url


def _pgpass(url: str) -> None:
    """The password in a pgpass file, as a desk keeps it: URLs shown without it (``store.label``) still work,
    in this process and in the commands the tests start."""
    import tempfile

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.password and "PGPASSFILE" not in os.environ:
        path = os.path.join(tempfile.mkdtemp(prefix="kcc-pgpass-"), "pgpass")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{parsed.host or 'localhost'}:{parsed.port or 5432}:*:{parsed.username}:{parsed.password}\n")
        os.chmod(path, 0o600)
        os.environ["PGPASSFILE"] = path


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql)


def _template_for(url: str) -> str:
    """A migrated, empty company database to copy, made once per worker."""
    if url not in _template:
        from kcc_desktop.store import open_store

        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"kcc_tpl_{worker}_{uuid.uuid4().hex[:8]}"
        _execute(url, f'CREATE DATABASE "{name}"')
        open_store(_with_database(url, name)).close()
        _template[url] = name
    return _template[url]


@contextmanager
def fresh_pg_url(*, migrated: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated, or empty), dropped afterwards; yields its URL."""
    url = admin_url()
    name = f"kcc_t_{uuid.uuid4().hex[:12]}"
    source = f' TEMPLATE "{_template_for(url)}"' if migrated else ""
    _execute(url, f'CREATE DATABASE "{name}"{source}')
    try:
        yield _with_database(url, name)
    finally:
        _drop(url, name)


def _drop(url: str, name: str) -> None:
    """Drops a test database. A server process that is not ours may still hold it for a moment (the role
    may not end it): a database left behind is harmless, a test error over it is not."""
    import psycopg

    try:
        _execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.errors.InsufficientPrivilege:
        with contextlib.suppress(psycopg.Error):
            _execute(url, f'DROP DATABASE IF EXISTS "{name}"')


def drop_templates() -> None:
    for url, name in list(_template.items()):
        with contextlib.suppress(Exception):   # the server went away first; its databases went with it
            _execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _template.pop(url, None)
