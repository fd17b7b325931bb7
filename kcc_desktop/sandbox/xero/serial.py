"""Xero's wire formats: ``/Date(ms+0000)/`` dates, exact Decimal money, lenient input parsing.

Records are held in Xero's own JSON shape with Python values (``date``, aware ``datetime``, ``Decimal``)
and turned into wire form only on the way out, so rules compare real values, not strings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from ..json_types import JSONObject, JSONValue

CENT = Decimal("0.01")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(*parts: object) -> str:
    """Deterministic ids for the seed company, so a reset gives the same AccountIDs every time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kcc-sandbox-xero:" + ":".join(map(str, parts))))


def money(value: Decimal) -> Decimal:
    """Round half up to cents, as Xero rounds each line's amount and tax."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cut(value: Decimal, places: int) -> Decimal:
    """Unit amounts beyond the allowed places are cut, not rounded (``unitdp``)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        # str() of a float is its shortest repr, so 120.5 becomes Decimal("120.5"), not 120.4999...
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"'{value}' is not a valid number") from exc


# --- dates -------------------------------------------------------------------------------------------

def ms_date(value: date | datetime) -> str:
    """Xero's JSON date: midnight UTC for accounting dates, the instant for timestamps."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    ms = int(value.timestamp() * 1000)
    return f"/Date({ms}+0000)/"


def date_string(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_date(value: Any) -> date | None:
    """Accepts YYYY-MM-DD, an ISO timestamp, or ``/Date(ms)/`` (what xero-python sends)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    m = _MS_DATE.match(s)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).date()
    try:
        return date.fromisoformat(s[:10])
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid date") from exc


def parse_instant(value: str) -> datetime | None:
    """If-Modified-Since: an ISO timestamp (UTC unless given) or an HTTP date."""
    if not value:
        return None
    s = value.strip()
    m = _MS_DATE.match(s)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError):
            return None
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    # Round to the millisecond Xero's dates carry: clients that parse /Date(ms)/ through a float
    # (xero-python does) send back 29.122999 for 29.123 and would otherwise see that record again.
    ms = round(dt.timestamp() * 1000)
    return datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=(ms % 1000) * 1000)


# --- rendering ---------------------------------------------------------------------------------------

# Fields that carry a DateString twin in Xero's responses.
_DATE_STRING_FIELDS = {"Date": "DateString", "DueDate": "DueDateString"}


def render(record: Mapping[str, Any]) -> JSONObject:
    """Internal record -> wire JSON (dates as /Date()/, Decimals kept for the exact encoder)."""
    out: JSONObject = {}
    for k, v in record.items():
        if k.startswith("_") or v is None:
            continue  # private bookkeeping fields and nulls never go out (the SDK chokes on nulls)
        out[k] = _wire(v)
        twin = _DATE_STRING_FIELDS.get(k)
        if twin and isinstance(v, date) and not isinstance(v, datetime):
            out[twin] = date_string(v)
    return out


def _wire(value: Any) -> JSONValue:
    if isinstance(value, dict):
        return render(value)
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, (date, datetime)):
        return ms_date(value)
    return value
