"""What one CSV import may take, and how its problems are kept: the first hundred in row order, and a count.

A file of a million bad rows must not hold a million messages (it once printed 80 MB of them), so
``Problems`` keeps only the ``listed`` earliest rows' problems, whatever order they are found in, and
counts the rest. ``ImportLimits`` caps the file's size and rows; both caps can be raised on the command
line (``--max-size``, ``--max-rows``) or in the environment (``KCC_IMPORT_MAX_MB``,
``KCC_IMPORT_MAX_ROWS``), and 0 means no cap. One document's lines are capped at ``MAX_DOCUMENT_LINES``
whatever the file caps are.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Mapping
from dataclasses import dataclass

MB = 1024 * 1024
DEFAULT_MAX_MB = 50
DEFAULT_MAX_ROWS = 200_000
LISTED = 100
# Lines one document may have: a document is posted (and its lines held) as a whole, and 200,000 lines of
# one invoice took 425 MB. No order system's invoice comes near it; the file caps cannot be raised past it.
MAX_DOCUMENT_LINES = 10_000
ENV_MAX_MB = "KCC_IMPORT_MAX_MB"
ENV_MAX_ROWS = "KCC_IMPORT_MAX_ROWS"


@dataclass(frozen=True)
class RowError:
    row: int          # as a spreadsheet numbers it: the header is row 1; 0 is the file as a whole
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row else f"The file: {self.message}"


@dataclass(frozen=True)
class ImportLimits:
    """Caps on one file (0: none). The defaults keep an import well under 200 MB of memory and a minute."""

    max_mb: float = DEFAULT_MAX_MB
    max_rows: int = DEFAULT_MAX_ROWS
    listed: int = LISTED

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * MB)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, max_mb: float | None = None,
                 max_rows: int | None = None) -> ImportLimits:
        """The defaults, then the environment's, then the arguments' (the command line's flags)."""
        env = os.environ if environ is None else environ
        mb = max_mb if max_mb is not None else _number(env, ENV_MAX_MB, DEFAULT_MAX_MB, float)
        rows = max_rows if max_rows is not None else int(_number(env, ENV_MAX_ROWS, DEFAULT_MAX_ROWS, int))
        return cls(max_mb=mb, max_rows=rows)


def _number(env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float]) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number; set it to a number (0 for no limit) or unset it.") \
            from None
    if value < 0:
        raise ValueError(f"{name}={text!r} cannot be negative (0 means no limit).")
    return value


class Problems:
    """Every problem is counted; the ``listed`` with the lowest rows are kept (same row: first found first)."""

    def __init__(self, listed: int = LISTED) -> None:
        self.listed = listed
        self.count = 0
        self._seq = 0
        self._kept: list[tuple[int, int, str]] = []   # (-row, -seq, message): a max-heap of the kept ones

    def add(self, row: int, message: str) -> None:
        self.count += 1
        self._seq += 1
        item = (-row, -self._seq, message)
        if len(self._kept) < self.listed:
            heapq.heappush(self._kept, item)
        elif item > self._kept[0]:     # earlier than the latest kept one: it takes that one's place
            heapq.heapreplace(self._kept, item)

    def __bool__(self) -> bool:
        return self.count > 0

    def first(self) -> list[RowError]:
        return [RowError(-row, message) for row, _, message in sorted(self._kept, reverse=True)]
