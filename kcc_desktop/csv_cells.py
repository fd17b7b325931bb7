"""Cells a spreadsheet would run as formulas, and CSV / tab-separated text that is safe to open.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or
carriage return can hide such a start), so ``=HYPERLINK(...)`` typed into an order system would run on
the bookkeeper's machine when a grid is exported and opened. Following OWASP's CSV-injection guidance
(https://owasp.org/www-community/attacks/CSV_Injection), every CSV export and every Ctrl+C writes such a
cell with a leading single quote, inside double quotes, so the spreadsheet shows it as text; plain
numbers (``-2.50`` in an amount column) stay numbers. ``import-documents`` refuses such values in text
columns outright (``formula_start``).

Qt-free and dependency-free: the grids, the trial balance and the CSV import all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

# What a spreadsheet may read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, as the grids show amounts: optional sign, digits (thousands commas allowed), decimals.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def is_plain_number(text: str) -> bool:
    return _PLAIN_NUMBER.fullmatch(text) is not None


def formula_start(text: str) -> str:
    """The character that would make a spreadsheet run ``text`` as a formula ("" when it is safe text or a
    plain number). Leading spaces are looked through: ``" =1+1"`` is trimmed to a formula by some."""
    if not text:
        return ""
    first = text[0]
    if first == " ":
        stripped = text.lstrip(" ")
        first = stripped[:1]
        text = stripped
    if first in FORMULA_STARTS and not is_plain_number(text.strip()):
        return first
    return ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def csv_field(value: object) -> str:
    """One CSV field: a formula-like cell as ``"'=1+1"``, a cell with a comma, quote or line break quoted,
    anything else as it is."""
    text = _text(value)
    if formula_start(text):
        return '"\'' + text.replace('"', '""') + '"'
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Iterable[object]) -> str:
    """One CSV record with its line ending (CRLF, as the csv module and spreadsheets write)."""
    return ",".join(csv_field(c) for c in cells) + "\r\n"


def tsv_field(value: object) -> str:
    """One cell of copied tab-separated text: tabs and line breaks inside become spaces (they would split
    the cell), and a formula-like cell gets the same leading quote, quoted, as in a CSV export."""
    text = _text(value)
    if formula_start(text):
        # Flatten only after judging the original: a leading tab or carriage return is itself a danger sign.
        return '"\'' + _flatten(text).replace('"', '""') + '"'
    return _flatten(text)


def _flatten(text: str) -> str:
    return text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def tsv_line(cells: Iterable[object]) -> str:
    """One line of copied text, without its line ending."""
    return "\t".join(tsv_field(c) for c in cells)


class SafeCsvWriter:
    """``csv.writer``'s ``writerow`` for exports, with every formula-like cell written as text."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def writerow(self, cells: Iterable[object]) -> None:
        self.out.write(csv_line(cells))


__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "csv_field", "csv_line", "formula_start", "is_plain_number",
           "tsv_field", "tsv_line"]
