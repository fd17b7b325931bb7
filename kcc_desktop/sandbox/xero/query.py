"""GET list options: ``where`` filters, ``order``, ``page``/``pageSize``, ``IDs``-style lists.

Xero's ``where`` is a C#-like expression; the sandbox supports the forms integrations use:
``Field=="X"``, ``Field!="X"``, ``Field>=DateTime(2024,01,31)``, ``Contact.ContactID==Guid("...")``,
``AmountDue>0``, ``Name.StartsWith("A")`` / ``Contains`` / ``EndsWith``, joined by AND / OR
(AND binds tighter). String comparisons ignore case, as Xero's do.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from ..json_types import JSONObject, Record

Test: TypeAlias = Callable[[Record], bool]

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_COMPARE = re.compile(r'^\s*([A-Za-z][\w.]*)\s*(==|!=|>=|<=|>|<|=)\s*(.+?)\s*$', re.S)
_METHOD = re.compile(r'^\s*([A-Za-z][\w.]*)\.(StartsWith|EndsWith|Contains)\(\s*"(.*)"\s*\)\s*$', re.S)
_DATETIME = re.compile(r'^DateTime\(\s*(\d{4})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})'
                       r'(?:\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2}))?\s*\)$', re.I)
_GUID = re.compile(r'^Guid\(\s*"([^"]*)"\s*\)$', re.I)


class WhereError(ValueError):
    """A ``where``, ``order`` or paging parameter the sandbox cannot read (Xero answers 400)."""


def _split(expr: str, words: tuple[str, ...]) -> list[str]:
    """Split on any of ``words`` outside double quotes."""
    parts: list[str] = []
    buf: list[str] = []
    i, quoted = 0, False
    upper = expr.upper()
    while i < len(expr):
        ch = expr[i]
        if ch == '"':
            quoted = not quoted
        if not quoted:
            hit = next((w for w in words if upper.startswith(w, i)), None)
            if hit:
                parts.append("".join(buf))
                buf, i = [], i + len(hit)
                continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _literal(text: str) -> Any:
    t = text.strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return t[1:-1]
    m = _GUID.match(t)
    if m:
        return m.group(1)
    m = _DATETIME.match(t)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() == "null":
        return None
    try:
        return Decimal(t)
    except ArithmeticError:
        raise WhereError(f"cannot read value {t!r} in where clause") from None


def _field(record: Record, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        # Field names are matched case-insensitively, like Xero.
        key = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    return value


def _norm(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(b, datetime):
        if isinstance(a, datetime):
            return a, b
        if isinstance(a, date):
            return datetime(a.year, a.month, a.day, tzinfo=UTC), b
        return None, b
    if isinstance(b, Decimal) and not isinstance(a, bool) and isinstance(a, (int, Decimal)):
        return Decimal(a), b
    if isinstance(b, str):
        return (str(a).lower() if a is not None else None), b.lower()
    return a, b


_ORDERING: dict[str, Callable[[Any, Any], Any]] = {">": operator.gt, "<": operator.lt, ">=": operator.ge,
                                                   "<=": operator.le}


def _clause(text: str) -> Test:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    m = _METHOD.match(text)
    if m:
        path, method, arg = m.group(1), m.group(2), m.group(3).lower()

        def test(rec: Record) -> bool:
            v = _field(rec, path)
            v = "" if v is None else str(v).lower()
            return {"StartsWith": v.startswith, "EndsWith": v.endswith, "Contains": v.__contains__}[method](arg)
        return test
    m = _COMPARE.match(text)
    if not m:
        raise WhereError(f"cannot read where clause {text!r}")
    path, op, raw = m.group(1), m.group(2), m.group(3)
    value = _literal(raw)

    def compare(rec: Record) -> bool:
        a, b = _norm(_field(rec, path), value)
        if op in ("==", "="):
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if a is None or b is None:
            return False
        try:
            return bool(_ORDERING[op](a, b))
        except TypeError:
            return False
    return compare


def compile_where(expr: str | None) -> Test:
    if not expr or not expr.strip():
        return lambda rec: True
    groups = [[_clause(c) for c in _split(g, (" AND ", "&&"))] for g in _split(expr, (" OR ", "||"))]
    return lambda rec: any(all(t(rec) for t in group) for group in groups)


def _sort_key(path: str) -> Callable[[Record], tuple[int, Any]]:
    """Sort on one field: missing values first, text ignoring case, dates in time order."""
    def key(rec: Record) -> tuple[int, Any]:
        v = _field(rec, path)
        if v is None:
            return (0, "")
        if isinstance(v, str):
            return (1, v.lower())
        if isinstance(v, datetime):
            return (1, v.timestamp())
        if isinstance(v, date):
            return (1, v.toordinal())
        return (1, v)
    return key


def order_by(records: list[Record], order: str | None, default: str | None = None) -> list[Record]:
    """``order=Date DESC`` / ``InvoiceNumber ASC``; several keys comma separated."""
    spec = order or default
    if not spec:
        return records
    out = list(records)
    for part in reversed([p.strip() for p in spec.split(",") if p.strip()]):
        bits = part.split()
        desc = len(bits) > 1 and bits[1].upper() == "DESC"
        out.sort(key=_sort_key(bits[0]), reverse=desc)
    return out


def id_list(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


def paginate(records: list[Record], page: str | None,
             page_size: str | None) -> tuple[list[Record], JSONObject | None]:
    """Without ``page`` Xero returns everything; with it, ``pageSize`` (default 100, at most 1000)."""
    if page is None:
        return records, None
    try:
        p = max(1, int(page))
        size = min(MAX_PAGE_SIZE, max(1, int(page_size))) if page_size else PAGE_SIZE
    except ValueError:
        raise WhereError("page and pageSize must be whole numbers") from None
    item_count = len(records)
    pagination = {"page": p, "pageSize": size, "pageCount": -(-item_count // size), "itemCount": item_count}
    return records[(p - 1) * size: p * size], pagination


def _as_shown(when: datetime) -> datetime:
    """A timestamp at the precision Xero shows it (/Date(ms)/): a client can only echo back what it saw."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def select(records: Iterable[Record], where: str | None = None, modified_since: datetime | None = None,
           filters: dict[str, list[str]] | None = None) -> list[Record]:
    """Filter records: where clause, If-Modified-Since, and list params like {"InvoiceNumber": [...]}."""
    test = compile_where(where)
    out = []
    for rec in records:
        if modified_since and rec.get("UpdatedDateUTC") and _as_shown(rec["UpdatedDateUTC"]) <= modified_since:
            continue
        if filters and not all(str(_field(rec, f) or "").lower() in {v.lower() for v in vals}
                               for f, vals in filters.items() if vals):
            continue
        if test(rec):
            out.append(rec)
    return out
