"""Moving a company from one store to another (an SQLite file into a shared PostgreSQL database, or back).

Everything is copied table by table, dependencies first, ids kept, in one transaction on the target: a
failure leaves the target as empty as it was. Then the copy is checked: every table's row count and the
trial balance must be the same on both sides. The source is only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Integer, Table, func, select, text
from sqlalchemy.exc import DBAPIError

from .ledger.trial_balance import trial_balance
from .models import Base
from .store import Store, StoreError

CHUNK = 2_000


class MigrateError(StoreError):
    """The copy could not be made or does not match; the target was left empty."""


@dataclass
class MigrateReport:
    counts: dict[str, int] = field(default_factory=dict)      # table -> rows copied
    total_debit: str = ""
    total_credit: str = ""

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def text(self, source: str, target: str) -> str:
        return (f"Copied {self.rows:,} rows in {len(self.counts)} tables from {source} to {target}. Every table's "
                f"row count and the trial balance (debit {self.total_debit}, credit {self.total_credit}) match. "
                f"Point every desk at {target} with --db or KCC_DB.")


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {t.name: int(s.scalar(select(func.count()).select_from(t)) or 0) for t in _tables()}


def _holds_anything(store: Store) -> list[str]:
    return [name for name, n in _counts(store).items() if n]


def migrate(source: Store, target: Store, progress: Callable[[str], None] = lambda _t: None) -> MigrateReport:
    """Copies ``source`` into the empty ``target`` and checks the copy; raises ``MigrateError`` in words."""
    busy = _holds_anything(target)
    if busy:
        raise MigrateError(f"{target.label} already holds data (in {', '.join(sorted(busy)[:4])}); KCC Desktop "
                           "copies a company only into an empty store. Choose a new database or file.", "not_empty")
    report = MigrateReport()
    try:
        with source.session() as src, target.transaction() as dst:
            for table in _tables():
                copied = 0
                order = list(table.primary_key.columns)
                result = src.connection().execution_options(yield_per=CHUNK).execute(select(table).order_by(*order))
                for rows in result.partitions(CHUNK):
                    dst.connection().execute(table.insert(), [dict(r._mapping) for r in rows])
                    copied += len(rows)
                report.counts[table.name] = copied
                progress(f"{table.name}: {copied:,} rows")
            if target.is_postgres:
                _advance_sequences(dst.connection())
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise MigrateError(f"The copy into {target.label} failed ({first}); it was left empty and "
                           f"{source.label} was not changed.") from None
    _verify(source, target, report)
    return report


def _advance_sequences(conn: Connection) -> None:
    """Ids were copied as they were: each table's id sequence must start after the highest one."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                              f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))


def _verify(source: Store, target: Store, report: MigrateReport) -> None:
    theirs = _counts(target)
    ours = _counts(source)
    wrong = {t: (ours[t], theirs.get(t, 0)) for t in ours if ours[t] != theirs.get(t, 0)}
    if wrong:
        detail = "; ".join(f"{t}: {a:,} here, {b:,} there" for t, a, b in ((t, *v) for t, v in wrong.items()))
        raise MigrateError(f"The copy in {target.label} does not match ({detail}). Do not use it; report this.")
    with source.session() as s:
        before = trial_balance(s)
    with target.session() as s:
        after = trial_balance(s)
    if before != after:
        raise MigrateError(f"The trial balance of the copy in {target.label} differs from {source.label}'s. Do not "
                           "use it; report this.")
    report.total_debit, report.total_credit = f"{before.total_debit:,.2f}", f"{before.total_credit:,.2f}"
