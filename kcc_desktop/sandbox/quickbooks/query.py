"""The practical subset of QBO's query language that clients use.

    SELECT * | COUNT(*) | a, b FROM Entity
      [WHERE cond AND cond ...]        cond: f = | != | < | <= | > | >= value, f IN (v, ...), f LIKE '%x%'
      [ORDERBY | ORDER BY f [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS m]

Like QBO: no OR, keywords and field names case-insensitive, MAXRESULTS capped at 1000 (default 100),
STARTPOSITION counts from 1, lists (Customer, Item...) show only active rows unless Active is filtered.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from . import errors
from .store import KINDS, kind_named

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^'\\]|\\.|'')*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<num>-?\d+(?:\.\d+)?)(?![\w.])
  | (?P<word>[A-Za-z_][\w.]*)
)""", re.X)


@dataclass
class Cond:
    field: str
    op: str           # =, !=, <, <=, >, >=, in, like
    values: list[Any]

    @cached_property
    def in_sets(self) -> tuple[frozenset[int], frozenset[str]]:
        """The IN-list as _coerce would compare it with a stored string, built once per query: digit
        strings as numbers (matched by a digit-string), every other value as casefolded text."""
        digits = frozenset(int(str(v)) for v in self.values if not isinstance(v, bool) and str(v).isdigit())
        text = frozenset(str(v).casefold() for v in self.values if isinstance(v, bool) or not str(v).isdigit())
        return digits, text


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] | None = None           # None = all
    where: list[Cond] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)   # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos or m.lastgroup is None:
            raise errors.query_error(f"Encountered unexpected text {text[pos:pos + 20]!r} at position {pos}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = val[1:-1].replace("''", "'").replace("\\'", "'")
        out.append((kind, val))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise errors.query_error("Unexpected end of query")
        self.i += 1
        return tok

    def kw(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].upper() in words:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            tok = self.peek()
            raise errors.query_error(f"Expected {word} near {tok[1] if tok else 'end of query'!r}")

    def expect(self, kind: str, value: str | None = None) -> str:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise errors.query_error(f"Encountered {tok[1]!r} where {value or kind} was expected")
        return tok[1]

    def value(self) -> Any:
        kind, val = self.take()
        if kind == "str":
            return val
        if kind == "num":
            return Decimal(val)
        if kind == "word" and val.lower() in ("true", "false"):
            return val.lower() == "true"
        raise errors.query_error(f"Encountered {val!r} where a value was expected")

    def parse(self) -> Query:
        self.expect_kw("SELECT")
        count, fields = False, []
        while True:
            if self.kw("COUNT"):
                for symbol in "(*)":
                    self.expect("punct", symbol)
                count = True
            elif self.peek() == ("punct", "*"):
                self.take()
                fields.append("*")
            else:
                fields.append(self.expect("word"))
            if self.peek() == ("punct", ","):
                self.take()
                continue
            break
        self.expect_kw("FROM")
        name = self.expect("word")
        kind = kind_named(name)
        if kind is None:
            raise errors.query_error(f"Invalid context declaration : {name}")
        q = Query(kind.name, count=count, fields=None if "*" in fields or count else fields)
        if self.kw("WHERE"):
            while True:
                q.where.append(self.cond())
                if self.kw("AND"):
                    continue
                if self.kw("OR"):
                    raise errors.query_error("OR is not supported in QuickBooks queries")
                break
        while (tok := self.peek()) is not None:
            if self.kw("ORDER"):   # the SDK writes "ORDER BY"; Intuit's docs write "ORDERBY"
                self.expect_kw("BY")
                self._order(q)
            elif self.kw("ORDERBY"):
                self._order(q)
            elif self.kw("STARTPOSITION"):
                q.start = int(self.expect("num"))
            elif self.kw("MAXRESULTS"):
                q.max_results = int(self.expect("num"))
            else:
                raise errors.query_error(f"Encountered {tok[1]!r} where ORDERBY, STARTPOSITION or "
                                         f"MAXRESULTS was expected")
        if q.start < 1 or q.max_results < 0:
            raise errors.query_error("STARTPOSITION must be at least 1 and MAXRESULTS at least 0")
        q.max_results = min(q.max_results, MAX_RESULTS)
        return q

    def _order(self, q: Query) -> None:
        while True:
            f = self.expect("word")
            desc = self.kw("DESC")
            if not desc:
                self.kw("ASC")
            q.order.append((f, desc))
            if self.peek() != ("punct", ","):
                return
            self.take()

    def cond(self) -> Cond:
        f = self.expect("word")
        if self.kw("IN"):
            self.expect("punct", "(")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            self.expect("punct", ")")
            return Cond(f, "in", values)
        if self.kw("LIKE"):
            return Cond(f, "like", [self.value()])
        op = self.expect("op")
        return Cond(f, "!=" if op == "<>" else op, [self.value()])


def parse(text: str) -> Query:
    return _Parser(text).parse()


# --- evaluation --------------------------------------------------------------------------------

def lookup(obj: dict[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        key = next((k for k in cur if k.lower() == part.lower()), None)
        if key is None:
            return None
        cur = cur[key]
    if isinstance(cur, dict) and "value" in cur:
        return cur["value"]  # CustomerRef = '5' compares the reference's value
    return cur


def _to_datetime(value: Any) -> datetime:
    text = str(value).strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise errors.query_error(f"{value!r} is not a date-time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _coerce(stored: Any, value: Any) -> tuple[Any, Any]:
    """Bring a stored value and a query literal to one comparable type."""
    if isinstance(stored, datetime):
        return stored, _to_datetime(value)
    if isinstance(stored, bool):
        return stored, value if isinstance(value, bool) else str(value).lower() == "true"
    if isinstance(stored, (int, float, Decimal)):
        try:
            return Decimal(str(stored)), Decimal(str(value))
        except InvalidOperation:
            raise errors.query_error(f"{value!r} is not a number") from None
    if isinstance(stored, str) and stored.isdigit() and str(value).isdigit():
        return int(stored), int(str(value))  # Ids are strings of digits: '9' < '10'
    return str(stored).casefold(), str(value).casefold()


def _match(obj: dict[str, Any], cond: Cond) -> bool:
    stored = lookup(obj, cond.field)
    if stored is None:
        return False
    if cond.op == "in":
        if isinstance(stored, str):   # the common case (Id IN (...)): set look-ups, same answers as _coerce
            digits, text = cond.in_sets
            return (stored.isdigit() and int(stored) in digits) or stored.casefold() in text
        return any(a == b for a, b in (_coerce(stored, v) for v in cond.values))
    if cond.op == "like":
        pattern = re.escape(str(cond.values[0]).casefold()).replace("%", ".*").replace("_", ".")
        return re.fullmatch(pattern, str(stored).casefold()) is not None
    a, b = _coerce(stored, cond.values[0])
    return bool(_COMPARISONS[cond.op](a, b))


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(str(value)))
    if isinstance(value, datetime):
        return (0, value)
    if isinstance(value, str) and value.isdigit():
        return (0, Decimal(value))  # Ids sort as numbers
    return (0, str(value).casefold())


def run(q: Query, objects: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The page of matching objects (in order) and the total number that matched."""
    rows = [o for o in objects if all(_match(o, c) for c in q.where)]
    if KINDS[q.entity].family == "name" and not any(c.field.lower() == "active" for c in q.where):
        rows = [o for o in rows if o.get("Active", True)]
    rows.sort(key=lambda o: _sort_key(o.get("Id")))
    for f, desc in reversed(q.order):
        present = [o for o in rows if lookup(o, f) is not None]
        missing = [o for o in rows if lookup(o, f) is None]
        present.sort(key=lambda o: _sort_key(lookup(o, f)), reverse=desc)
        rows = present + missing
    return rows[q.start - 1:q.start - 1 + q.max_results], len(rows)


def project(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return obj
    keep = {f.split(".")[0].lower() for f in fields} | {"id", "synctoken", "domain", "sparse"}
    return {k: v for k, v in obj.items() if k.lower() in keep}
