"""What the screen queries share: ids in chunks a SQLite IN list can take, and money matched as shown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Float, Integer, func, literal, type_coerce
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ..models.types import SCALE

CHUNK = 900   # ids per IN (...) list: under SQLite's bound-parameter limit


def chunked(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def like_patterns(text: str) -> list[str]:
    """One case-insensitive LIKE pattern per word: a row must match every word (in any column)."""
    return [f"%{word}%" for word in text.lower().split()]


def has_digit(pattern: str) -> bool:
    return any(ch.isdigit() for ch in pattern)


def amount_text(column: InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """A Money column as the grids show it, to two places ("1234.50"), for matching typed figures.

    Money is stored as an integer count of 1/SCALE (models/types.py); this divides in SQL, so filtering
    100,000 rows by an amount needs no Python per row. SQLite's printf: only for SQLite stores."""
    return func.printf("%.2f", type_coerce(column, Integer) / literal(float(SCALE), Float))
