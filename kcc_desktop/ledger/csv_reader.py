"""Reads an order system's CSV file a line at a time: the header checked first, then each data row.

Nothing here holds more than one physical line (at most ``LINE_LIMIT``) and one record. Row numbers are
those a spreadsheet shows (the header is row 1; a record with a quoted line break is still one row);
problems with the file as text (not UTF-8, a NUL, broken quotes) name the line and stop the reading.
The size cap is checked before the first byte is read, the row cap as rows arrive.
"""

from __future__ import annotations

import csv
import re
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .csv_limits import MB, ImportLimits, Problems

COLUMNS = ("type", "number", "date", "due_date", "company_code", "company_name", "company_email", "currency",
           "reference", "stock_code", "description", "quantity", "unit_price", "discount_percent", "tax_code",
           "nominal_code")
REQUIRED = ("type", "number", "date", "company_code", "quantity", "unit_price")
LINE_LIMIT = 4 * MB     # no line of a document-lines CSV comes near this; a binary file's "line" may
TOO_LONG = f"is longer than {LINE_LIMIT // MB} MB; this does not look like a CSV file of document lines."
UTF8_BOM = b"\xef\xbb\xbf"
WORKBOOK = b"PK\x03\x04"  # .xlsx / .ods are zip files


def column_name(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


class CsvRows:
    """``open()`` checks the file and its header; iterating gives ``(row, cells)`` for each non-blank data
    row of the header's width. Problems go to ``problems``; ``stopped`` says the reading ended early."""

    def __init__(self, path: Path, limits: ImportLimits, problems: Problems) -> None:
        self.path, self.limits, self.problems = path, limits, problems
        self.header: list[str] = []
        self.has_rows = False    # a data row of the header's width was read
        self.stopped = False
        self._file: BinaryIO | None = None
        self._records: Iterator[list[str]] = iter(())
        self._row = 0            # records read, the header included
        self._line = 0           # physical lines read
        self._bytes = 0

    # --- the file as a whole ----------------------------------------------------------------------------------

    def open(self) -> bool:
        """False (with the reason in ``problems``) when the file cannot be imported at all."""
        try:
            info = self.path.stat()
            # Checked before opening: opening a named pipe waits for a writer, and reading one (or a device
            # such as /dev/zero) may never end. A folder fails to open below, with its own reason.
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                self.problems.add(0, f"{self.path} is not a saved file (a named pipe or a device); save the orders "
                                     "as a .csv file and import that.")
                return False
            size = info.st_size
            self._file = self.path.open("rb")
        except OSError as exc:
            self.problems.add(0, f"cannot be read ({exc.strerror or exc}). Check the path.")
            return False
        cap = self.limits.max_bytes
        if cap and size > cap:
            self.problems.add(0, f"is {size / MB:,.1f} MB, more than the {self.limits.max_mb:g} MB one import takes. "
                                 "Split it into smaller files, or raise the limit with --max-size "
                                 "(or KCC_IMPORT_MAX_MB).")
            return False
        if self._file.read(len(WORKBOOK)) == WORKBOOK:
            self.problems.add(1, "this is a spreadsheet workbook, not a CSV file. In the spreadsheet choose Save "
                                 "As, 'CSV UTF-8', and import that file.")
            return False
        self._file.seek(0)
        self._records = csv.reader(self._lines(), strict=True)
        first = self._next_record()
        if first is None:
            if not self.stopped:
                self.problems.add(1, "the file is empty. It needs a header row and one row per document line.")
            return False
        if not any(cell.strip() for cell in first):
            self.problems.add(1, "the first row is empty. The header row (the column names) must come first, then "
                                 "one row per document line.")
            return False
        if len(first) == 1 and ";" in first[0]:
            self.problems.add(1, "the values are separated by semicolons; save the file as comma-separated "
                                 "'CSV UTF-8' and import it again.")
            return False
        self.header = [column_name(h) for h in first]
        before = self.problems.count
        self._check_header()
        return self.problems.count == before

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _check_header(self) -> None:
        header, add = self.header, self.problems.add
        unknown = [h for h in header if h and h not in COLUMNS]
        if unknown:
            add(1, f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}. "
                   f"The columns are: {', '.join(COLUMNS)}.")
        if "" in header:
            add(1, f"column {header.index('') + 1} has no name in the header.")
        repeated = sorted(h for h, n in Counter(header).items() if n > 1 and h)
        if repeated:
            add(1, f"column {', '.join(repeated)} appears more than once.")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            add(1, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")

    # --- the rows -------------------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width, cap = len(self.header), self.limits.max_rows
        while (record := self._next_record()) is not None:
            row = self._row
            if cap and row - 1 > cap:
                rows = f"{cap:,} row{'s' if cap != 1 else ''}"
                self.problems.add(0, f"has more than {rows}, the most one import takes; it was not read past row "
                                     f"{row - 1:,}. Split it into smaller files, or raise the limit with --max-rows "
                                     "(or KCC_IMPORT_MAX_ROWS).")
                self.stopped = True
                return
            if not any(cell.strip() for cell in record):
                continue  # a blank spreadsheet row
            if len(record) < width or any(cell.strip() for cell in record[width:]):
                self.problems.add(row, f"has {len(record)} values but the header has {width} columns; check for "
                                       "a missing or extra comma.")
                continue
            self.has_rows = True
            yield row, record

    def _next_record(self) -> list[str] | None:
        if self.stopped:
            return None
        try:
            record = next(self._records, None)
        except csv.Error as exc:
            if not self.stopped:  # a stop inside a quoted value ends the text mid-record: already reported
                self.problems.add(self._row + 1, f"is not valid CSV ({_csv_reason(exc)}.")
                self.stopped = True
            return None
        if record is None or self.stopped:
            return None
        self._row += 1
        return record

    def _lines(self) -> Iterator[str]:
        """Decoded physical lines (line endings kept, for quoted line breaks), checked as they come."""
        f = self._file
        assert f is not None
        cap = self.limits.max_bytes
        while raw := f.readline(LINE_LIMIT):
            self._line += 1
            self._bytes += len(raw)
            if cap and self._bytes > cap:   # the file grew since it was measured
                return self._stop(0, f"is more than the {self.limits.max_mb:g} MB one import takes.")
            if _cut(raw):
                return self._stop(self._line, TOO_LONG)
            if self._line == 1:
                raw = raw.removeprefix(UTF8_BOM)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._not_utf8(raw, exc)
                return None
            if "\x00" in text:
                return self._stop(self._line, "contains a NUL character; this does not look like a CSV text file.")
            yield text
        return None

    def _stop(self, line: int, message: str) -> None:
        self.problems.add(line, message)
        self.stopped = True

    def _not_utf8(self, raw: bytes, exc: UnicodeDecodeError) -> None:
        """Names this line and every later one that is not UTF-8 (a file saved in another encoding usually
        has several), then stops."""
        f = self._file
        assert f is not None
        line = self._line
        bad: int | None = raw[exc.start]
        while bad is not None:
            self.problems.add(line, f"is not UTF-8 text (byte 0x{bad:02X} cannot be read). Save the file as "
                                    "'CSV UTF-8' and import it again.")
            bad = None
            while raw := f.readline(LINE_LIMIT):
                line += 1
                if _cut(raw):   # its rest would be read as more lines, and every row named after it misnamed
                    self.problems.add(line, TOO_LONG)
                    break
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as later:
                    bad = raw[later.start]
                    break
        self.stopped = True


def _cut(raw: bytes) -> bool:
    """A physical line longer than ``LINE_LIMIT``: ``readline`` gave only its first part."""
    return len(raw) == LINE_LIMIT and not raw.endswith(b"\n")


def _csv_reason(exc: csv.Error) -> str:
    """Why, in brackets, and what to do (the sentence ends at the caller's full stop)."""
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quoted value is never closed; check the quotes)"
    if "expected after" in text:
        return "text follows a closing quote; put the whole value in quotes and double any quote inside it)"
    if "new-line character seen in unquoted field" in text:
        # a carriage return alone: the line ending of a file saved as 'CSV (Macintosh)', or a stray one
        return ("a line break inside a value that is not in quotes); save the file again as 'CSV UTF-8' (a "
                "file saved as 'CSV (Macintosh)' ends its lines this way)")
    if "field larger than field limit" in text:
        # Python's csv cap on one value; no column of a document line comes near it, but a quote never
        # closed runs its value on over the rows after it.
        return (f"a value is longer than {csv.field_size_limit() // 1024} KB); check for a quote that is never "
                "closed (its value then runs on over the rows after it), or shorten the value")
    return text + ")"
