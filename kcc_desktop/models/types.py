"""Column types that keep money exact and time in UTC.

SQLite has no exact decimal type (NUMERIC is stored as a float), so amounts are stored as integers in
ten-thousandths: exact, summable in SQL, and four places cover unit prices (Xero's ``unitdp=4``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = Decimal("10000")


class Money(TypeDecorator[Decimal]):
    """A Decimal with at most four places, stored as an integer count of 1/10,000."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than four decimal places; round it before storing")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / SCALE).quantize(Decimal("0.0001"))


def from_stored(value: Decimal | int | None) -> Decimal:
    """An SQL aggregate of Money columns as a Decimal.

    ``func.sum(Money column)`` already comes back through ``Money`` (a Decimal); a raw integer from
    textual SQL is still in ten-thousandths. ``None`` (no rows) is zero.
    """
    if value is None:
        return Decimal("0.0000")
    if isinstance(value, Decimal):
        return value
    return (Decimal(int(value)) / SCALE).quantize(Decimal("0.0001"))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; naive UTC in the database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
