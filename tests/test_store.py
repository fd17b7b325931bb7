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


def test_the_same_migrations_build_exactly_the_models_on_postgresql():
    from sqlalchemy import inspect

    from tests.helpers.engines import fresh_pg_url

    with fresh_pg_url(migrated=False) as url:
        st = open_store(url)
        try:
            with st.engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
                pending = [i for i in inspect(conn).get_indexes("export_item")
                           if i["name"] == "uq_export_item_pending_target_object"]
            # One pending entry per object, however many exported ones it has: the index is partial there too.
            assert pending and "pending" in str(pending[0].get("dialect_options", {}).get("postgresql_where"))
            assert st.is_postgres and st.label.startswith("postgresql://") and "+psycopg" not in st.label
        finally:
            st.close()


def test_a_plain_postgresql_url_means_psycopg_3():
    from kcc_desktop.store import resolve_url

    assert resolve_url("postgresql://kcc@db.example/books") == "postgresql+psycopg://kcc@db.example/books"
    assert resolve_url("postgres://kcc@db.example/books") == "postgresql+psycopg://kcc@db.example/books"
    assert resolve_url("postgresql+psycopg2://kcc@db/b") == "postgresql+psycopg2://kcc@db/b"


def test_file_from_a_newer_version_is_refused_and_left_alone(tmp_db_path):
    open_store(tmp_db_path).close()
    with sqlite3.connect(tmp_db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = tmp_db_path.read_bytes()
    with pytest.raises(StoreError, match="newer version of KCC Desktop"):
        open_store(tmp_db_path)
    assert tmp_db_path.read_bytes() == before


def test_failed_migration_restores_the_file(tmp_db_path):
    # A file of the previous version, with the user's data, whose next migration fails half way.
    from alembic import command
    from sqlalchemy import create_engine

    from kcc_desktop.store import _alembic_config

    engine = create_engine(f"sqlite:///{tmp_db_path}")
    command.upgrade(_alembic_config(engine), "0001")
    engine.dispose()
    with sqlite3.connect(tmp_db_path) as conn:
        conn.execute("INSERT INTO app_setting (key, value) VALUES ('keep', 'me')")
        conn.execute("CREATE TABLE pacing_tenant (note TEXT)")   # clashes with the next migration
    before = tmp_db_path.read_bytes()
    with pytest.raises(StoreError, match="left as it was"):
        open_store(tmp_db_path)
    assert tmp_db_path.read_bytes() == before
    with sqlite3.connect(tmp_db_path) as conn:
        assert conn.execute("SELECT value FROM app_setting WHERE key = 'keep'").fetchall() == [("me",)]


def test_db_url_and_env_override(tmp_path, monkeypatch):
    target = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("KCC_DB", str(target))
    st = open_store()
    assert st.label == str(target)
    st.close()
    st = open_store(f"sqlite:///{tmp_path / 'url.sqlite'}")
    assert st.label.endswith("url.sqlite")
    st.close()


def test_two_desks_saving_a_new_setting_at_once_both_succeed_and_the_later_stands(store):
    """Desk B reads a setting that does not exist yet; before its write reaches the store, desk A saves the same
    key and commits (every upload saves the organisation's settings, so three desks starting together do
    this). B's save still succeeds (no unique-key failure) and, being the later, stands; the audit trail
    records both changes."""
    import threading

    from sqlalchemy import event, func, select

    from kcc_desktop.models import AuditEntry
    from kcc_desktop.settings_db import DbSettingsStore

    settings = DbSettingsStore(store)
    a_done: list[bool] = []
    desk_b = threading.get_ident()

    def desk_a() -> None:
        settings.set("package.settings.xero", '{"from": "A"}', audit=True)
        a_done.append(True)

    def just_before_b_writes(conn, cursor, statement, parameters, context, executemany):
        if (statement.lstrip().upper().startswith("INSERT INTO APP_SETTING") and not a_done
                and threading.get_ident() == desk_b):
            a = threading.Thread(target=desk_a)
            a.start()
            a.join()

    event.listen(store.engine, "before_cursor_execute", just_before_b_writes)
    try:
        settings.set("package.settings.xero", '{"from": "B"}', audit=True)
    finally:
        event.remove(store.engine, "before_cursor_execute", just_before_b_writes)
    assert a_done == [True]
    assert settings.get("package.settings.xero") == '{"from": "B"}'
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.what == "Option package.settings.xero")) == 2
