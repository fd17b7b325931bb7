"""The company file: migrations from empty, a newer file refused, a failed migration changes nothing."""

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kcc_desktop.models import Base
from kcc_desktop.store import StoreError, open_store


def test_migrations_from_empty_build_exactly_the_models(tmp_db_path):
    st = open_store(tmp_db_path)
    with st.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    with st.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    st.close()


def test_file_from_a_newer_version_is_refused_and_left_alone(tmp_db_path):
    open_store(tmp_db_path).close()
    with sqlite3.connect(tmp_db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = tmp_db_path.read_bytes()
    with pytest.raises(StoreError, match="newer version of KCC Desktop"):
        open_store(tmp_db_path)
    assert tmp_db_path.read_bytes() == before


def test_failed_migration_restores_the_file(tmp_db_path, monkeypatch):
    # An old file (no schema yet, but with the user's own data) whose migration fails half way.
    with sqlite3.connect(tmp_db_path) as conn:
        conn.execute("CREATE TABLE company (id INTEGER PRIMARY KEY, note TEXT)")  # clashes with migration 0001
        conn.execute("INSERT INTO company (note) VALUES ('keep me')")
    before = tmp_db_path.read_bytes()
    with pytest.raises(StoreError, match="left as it was"):
        open_store(tmp_db_path)
    assert tmp_db_path.read_bytes() == before
    with sqlite3.connect(tmp_db_path) as conn:
        assert conn.execute("SELECT note FROM company").fetchall() == [("keep me",)]


def test_db_url_and_env_override(tmp_path, monkeypatch):
    target = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("KCC_DB", str(target))
    st = open_store()
    assert st.label == str(target)
    st.close()
    st = open_store(f"sqlite:///{tmp_path / 'url.sqlite'}")
    assert st.label.endswith("url.sqlite")
    st.close()
