"""What the screen queries share: ids in chunks a SQLite IN list can take, and money matched as shown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Float, Integer, String, func, literal, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..models.types import SCALE
from ..sync.gil import yield_gil

CHUNK = 900   # ids per IN (...) list: under SQLite's bound-parameter limit


ID_SLICE = 2000   # ids a fetchmany in read_ids: the window's thread gets the GIL between fetches, not between rows


def read_ids(conn: Connection, query: Executable) -> list[int]:
    """A query's first column as plain ints, read a slice at a time on a worker thread. Between slices
    the window's thread gets the GIL (``sync.gil``): reading 100,000 ids at one go let SQLite's per-row
    release of the GIL starve it (a stall of 100 ms or more while a grid refreshed)."""
    out: list[int] = []
    for part in conn.execute(query).scalars().partitions(ID_SLICE):
        out.extend(part)
        yield_gil()
    return out


def chunked(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def like_patterns(text: str) -> list[str]:
    """One case-insensitive LIKE pattern per word: a row must match every word (in any column)."""
    return [f"%{word}%" for word in text.lower().split()]


def has_digit(pattern: str) -> bool:
    return any(ch.isdigit() for ch in pattern)


class _AmountText(FunctionElement[str]):
    """A Money column as text with two places, in each engine's own SQL."""
    type = String()
    inherit_cache = True
    name = "amount_text"


@compiles(_AmountText)
def _amount_text_sqlite(element: _AmountText, compiler: SQLCompiler, **kw: Any) -> str:
    column = next(iter(element.clauses))
    return compiler.process(func.printf("%.2f", column / literal(float(SCALE), Float)), **kw)


@compiles(_AmountText, "postgresql")
def _amount_text_postgresql(element: _AmountText, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL has no printf (typing a figure into a grid's filter failed on a shared database); numeric
    # rounded to 2 places prints as "1234.50".
    return f"round(CAST({compiler.process(element.clauses, **kw)} AS numeric) / {SCALE}, 2)::text"


def amount_text(column: InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """A Money column as the grids show it, to two places ("1234.50"), for matching typed figures.

    Money is stored as an integer count of 1/SCALE (models/types.py); this divides in SQL, so filtering
    100,000 rows by an amount needs no Python per row."""
    return _AmountText(type_coerce(column, Integer))
