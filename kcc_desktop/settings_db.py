"""Key/value settings kept in the company file (never secrets: those live in the OS keyring)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import AppSetting, AuditEntry
from .store import Store


class DbSettingsStore:
    """The connectors' ``SettingsStore`` over the ``app_setting`` table; each call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: str | None = None) -> str | None:
        with self.store.session() as s:
            row = s.get(AppSetting, key)
            return row.value if row is not None else default

    def set(self, key: str, value: str, *, audit: bool = False) -> None:
        """Saves one value; with ``audit`` the change is written to the audit trail in the same transaction."""
        with self.store.transaction() as s:
            old = s.scalar(select(AppSetting.value).where(AppSetting.key == key)) or ""
            upsert(s, self.store.is_postgres, key, value)
            if audit and old != value:
                s.add(AuditEntry(what=f"Option {key}", old_value=old, new_value=value))

    def items(self, prefix: str = "") -> dict[str, str]:
        with self.store.session() as s:
            rows = s.scalars(select(AppSetting).where(AppSetting.key.startswith(prefix)))
            return {r.key: r.value for r in rows}


def upsert(s: Session, postgres: bool, key: str, value: str) -> None:
    """Insert or update in one statement: two desks saving a new key at once (the organisation's settings,
    read by every upload) would otherwise both insert and one fail on the unique key."""
    insert = pg_insert if postgres else sqlite_insert
    s.execute(insert(AppSetting).values(key=key, value=value)
              .on_conflict_do_update(index_elements=[AppSetting.key], set_={"value": value}))


def swap(s: Session, postgres: bool, key: str, old: str | None, new: str) -> bool:
    """Compare and set in one statement: ``key`` becomes ``new`` only if it still holds ``old`` (None: absent).
    True when this call made the change, so of two desks swapping the same ``old`` exactly one wins."""
    # Told by the row RETURNING gives back, not by rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT
    # DO NOTHING as SQLAlchemy sends it, so on PostgreSQL both desks "won" and both read the package.
    if old is None:
        insert = pg_insert if postgres else sqlite_insert
        done = s.execute(insert(AppSetting).values(key=key, value=new).on_conflict_do_nothing()
                         .returning(AppSetting.key))
    else:
        done = s.execute(update(AppSetting).where(AppSetting.key == key, AppSetting.value == old).values(value=new)
                         .returning(AppSetting.key))
    return done.first() is not None
