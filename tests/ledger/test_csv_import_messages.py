"""What a user reads when their orders CSV cannot be imported: the exact words, the row they name, and
that nothing was written. Through ``import_documents``, the call both ``import-documents`` and the
window's File > Import Documents make (and the command line itself where it adds to the words)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from kcc_desktop.ledger.csv_import import COLUMNS, ImportLimits, import_documents
from kcc_desktop.ledger.csv_limits import Problems
from kcc_desktop.models import Document, DocumentLine, NominalCode, StockItem, TaxCode
from tests.helpers.orders_csv import HEADER, write

OK_ROW = "sales_invoice,INV-1,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,4000"


def refused(ledger, digests, path, limits=None) -> list[str]:
    """The report's lines when the file is refused and the ledger is left exactly as it was."""
    before = digests(ledger)
    report = import_documents(ledger, path, limits)
    assert not report.ok and report.imported == 0
    assert digests(ledger) == before
    return report.text().splitlines()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes in the file system are POSIX's")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(ledger, tmp_path, digests):
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    # A writer with a good file, so that an import that does open the pipe imports it rather than hang.
    writer = threading.Thread(target=lambda: fifo.write_text(f"{HEADER}\n{OK_ROW}\n"))
    writer.start()
    try:
        lines = refused(ledger, digests, fifo)
    finally:
        unblock = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # lets the writer's open return
        writer.join()
        os.close(unblock)
    assert lines[1:-1] == [f"  The file: {fifo} is not a saved file (a named pipe or a device); save the orders "
                           "as a .csv file and import that."]


def test_a_device_is_refused(ledger, digests):
    assert refused(ledger, digests, "/dev/null")[1] == (
        "  The file: /dev/null is not a saved file (a named pipe or a device); save the orders as a .csv file "
        "and import that.")


def test_a_folder_cannot_be_read(ledger, tmp_path, digests):
    assert refused(ledger, digests, tmp_path)[1] == "  The file: cannot be read (Is a directory). Check the path."


def test_a_value_over_pythons_field_limit_is_named_in_kccs_words(ledger, tmp_path, digests):
    long = "x" * (128 * 1024 + 1)
    text = f"{HEADER}\n{OK_ROW}\nsales_invoice,INV-2,2026-03-02,,ACME01,,,,,{long},1,10,,T1,4000\n{OK_ROW}\n"
    assert refused(ledger, digests, write(tmp_path, text))[1:-1] == [
        "  Row 3: is not valid CSV (a value is longer than 128 KB); check for a quote that is never closed (its "
        "value then runs on over the rows after it), or shorten the value."]


def test_a_value_of_exactly_128_kb_is_read(ledger, tmp_path, digests):
    text = f"{HEADER}\nsales_invoice,INV-2,2026-03-02,,ACME01,,,,,{'x' * 128 * 1024},1,10,,T1,4000\n"
    # Read, and then refused for the description's own limit: the row's checks ran.
    assert refused(ledger, digests, write(tmp_path, text))[1:-1] == [
        "  Row 2: description is longer than 300 characters."]


# --- the file as a whole --------------------------------------------------------------------------------------

FULL = ",".join(COLUMNS)   # every column, company_email included
NOTHING = "Correct these rows and import the file again; nothing is written until every row is right."


def listed(ledger, digests, text: str, limits: ImportLimits | None = None, tmp_path=None) -> list[str]:
    """The problems a refused file's report lists (its first and last lines checked on the way)."""
    path = write(tmp_path, text) if isinstance(text, str) else text
    lines = refused(ledger, digests, path, limits)
    assert lines[-1] == NOTHING
    return lines[1:-1]


def test_a_missing_file_cannot_be_read(ledger, tmp_path, digests):
    path = tmp_path / "gone.csv"
    assert refused(ledger, digests, path) == [
        f"Nothing was imported from {path}: 1 problem found.",
        "  The file: cannot be read (No such file or directory). Check the path.",
        NOTHING]


@pytest.mark.parametrize("content, says", [
    (b"", "Row 1: the file is empty. It needs a header row and one row per document line."),
    (b"PK\x03\x04rest of a zip", "Row 1: this is a spreadsheet workbook, not a CSV file. In the spreadsheet choose "
                                 "Save As, 'CSV UTF-8', and import that file."),
    (b" , ,\n" + OK_ROW.encode(), "Row 1: the first row is empty. The header row (the column names) must come "
                                  "first, then one row per document line."),
    (f"{HEADER}\n{OK_ROW}\n".replace(",", ";").encode(),   # a data row too: only the header is named
     "Row 1: the values are separated by semicolons; save the file as comma-separated 'CSV UTF-8' and import it "
     "again."),
    (f"{HEADER}\n,,,\n\n".encode(), "Row 1: the file has a header but no rows to import."),
    (f"{HEADER}\n{OK_ROW}\n".replace("Widget", "Caf\xe9").encode("cp1252"),
     "Row 2: is not UTF-8 text (byte 0xE9 cannot be read). Save the file as 'CSV UTF-8' and import it again."),
    (f"{HEADER}\n{OK_ROW}\x00\n".encode(), "Row 2: contains a NUL character; this does not look like a CSV text "
                                          "file."),
    (f'{HEADER}\n{OK_ROW}\nsales_invoice,"INV-2"x,2026-03-02\n'.encode(),
     "Row 3: is not valid CSV (text follows a closing quote; put the whole value in quotes and double any quote "
     "inside it)."),
    (f'{HEADER}\n{OK_ROW}\nsales_invoice,"INV-2,2026-03-02\n{OK_ROW}\n'.encode(),
     "Row 3: is not valid CSV (a quoted value is never closed; check the quotes)."),
])
def test_a_file_that_cannot_be_read_as_csv_says_why_on_its_row(ledger, tmp_path, digests, content, says):
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    assert refused(ledger, digests, path) == [f"Nothing was imported from {path}: 1 problem found.", f"  {says}",
                                              NOTHING]


def test_a_file_with_old_mac_line_endings_is_named_in_kccs_words(ledger, tmp_path, digests):
    text = f"{HEADER}\r{OK_ROW}\r"
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 1: is not valid CSV (a line break inside a value that is not in quotes); save the file again as "
        "'CSV UTF-8' (a file saved as 'CSV (Macintosh)' ends its lines this way)."]


def test_a_header_that_is_not_utf8_is_named_once(ledger, tmp_path, digests):
    path = tmp_path / "cp1252.csv"
    path.write_bytes((HEADER.replace("number", "num\xe9ro") + f"\n{OK_ROW}\n").encode("cp1252"))
    assert listed(ledger, digests, path) == [
        "  Row 1: is not UTF-8 text (byte 0xE9 cannot be read). Save the file as 'CSV UTF-8' and import it again."]


def test_a_header_that_is_not_utf8_then_a_line_over_4_mb_is_not_called_empty(ledger, tmp_path, digests):
    path = tmp_path / "cp1252.csv"
    long_line = "x" * (4 * 1024 * 1024 + 1)
    path.write_bytes((HEADER.replace("number", "num\xe9ro") + f"\n{long_line}\n").encode("cp1252"))
    assert listed(ledger, digests, path) == [
        "  Row 1: is not UTF-8 text (byte 0xE9 cannot be read). Save the file as 'CSV UTF-8' and import it again.",
        "  Row 2: is longer than 4 MB; this does not look like a CSV file of document lines."]


def test_a_bom_is_taken_off_the_first_line_only(ledger, tmp_path, digests):
    text = f"\ufeff{HEADER}\n\ufeff{OK_ROW}\n"
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 2: type '\\ufeffsales_invoice' is not one of sales_invoice, sales_credit, purchase_invoice, "
        "purchase_credit."]


def test_every_line_that_is_not_utf8_is_named_then_the_reading_stops(ledger, tmp_path, digests):
    rows = [OK_ROW.replace("Widget", w) for w in ("Caf\xe9", "Plain", "\xa3 sign", "Plain", "Na\xefve")]
    path = tmp_path / "cp1252.csv"
    path.write_bytes("\n".join([HEADER, *rows, "type,no,such"]).encode("cp1252"))
    assert listed(ledger, digests, path) == [
        "  Row 2: is not UTF-8 text (byte 0xE9 cannot be read). Save the file as 'CSV UTF-8' and import it again.",
        "  Row 4: is not UTF-8 text (byte 0xA3 cannot be read). Save the file as 'CSV UTF-8' and import it again.",
        "  Row 6: is not UTF-8 text (byte 0xEF cannot be read). Save the file as 'CSV UTF-8' and import it again."]


def test_a_line_over_4_mb_after_one_that_is_not_utf8_ends_the_list_at_its_own_row(ledger, tmp_path, digests):
    """Read in 4 MB parts, its rest was counted as another line: the rows named after it were one too far."""
    rows = [OK_ROW.replace("Widget", "Caf\xe9"), OK_ROW, "x" * (4 * 1024 * 1024 + 10), OK_ROW,
            OK_ROW.replace("Widget", "\xa3 sign")]
    path = tmp_path / "cp1252.csv"
    path.write_bytes("\n".join([HEADER, *rows]).encode("cp1252"))
    assert listed(ledger, digests, path) == [
        "  Row 2: is not UTF-8 text (byte 0xE9 cannot be read). Save the file as 'CSV UTF-8' and import it again.",
        "  Row 4: is longer than 4 MB; this does not look like a CSV file of document lines."]


def test_a_nul_inside_an_open_quote_is_named_once(ledger, tmp_path, digests):
    text = f'{HEADER}\n{OK_ROW}\nsales_invoice,"INV-2\nstill quoted\x00\n'
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 4: contains a NUL character; this does not look like a CSV text file."]


def test_a_line_over_4_mb_is_not_read(ledger, tmp_path, digests):
    text = f"{HEADER}\n{OK_ROW}\n{'x' * 4 * 1024 * 1024}\n{OK_ROW}\n"
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 3: is longer than 4 MB; this does not look like a CSV file of document lines."]


def test_a_line_of_exactly_4_mb_with_its_line_break_is_read_as_a_row(ledger, tmp_path, digests):
    """4 MB is the longest line taken whole: read as CSV (its one value is then too long for a cell), not
    refused as a line 'longer than 4 MB'."""
    text = f"{HEADER}\n{OK_ROW}\n{'x' * (4 * 1024 * 1024 - 1)}\n"
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 3: is not valid CSV (a value is longer than 128 KB); check for a quote that is never closed (its "
        "value then runs on over the rows after it), or shorten the value."]


def test_the_header_names_every_column_problem(ledger, tmp_path, digests):
    header = "Type,Number,Item Code,date,,Quantity,quantity,Colour,unit_price,unit-price,"
    assert listed(ledger, digests, f"{header}\n{OK_ROW}\n", tmp_path=tmp_path) == [
        "  Row 1: unknown columns 'item_code', 'colour'. The columns are: " + ", ".join(COLUMNS) + ".",
        "  Row 1: column 5 has no name in the header.",
        "  Row 1: column quantity, unit_price appears more than once.",
        "  Row 1: missing column: company_code."]


def test_a_header_of_one_column_is_not_taken_for_semicolons(ledger, tmp_path, digests):
    assert listed(ledger, digests, "type\nsales_invoice\n", tmp_path=tmp_path) == [
        "  Row 1: missing columns: number, date, company_code, quantity, unit_price."]


def test_a_file_of_only_bad_rows_is_not_also_called_empty(ledger, tmp_path, digests):
    assert listed(ledger, digests, f"{HEADER}\nsales_invoice,INV-3\n", tmp_path=tmp_path) == [
        "  Row 2: has 2 values but the header has 15 columns; check for a missing or extra comma."]


def test_rows_before_a_stop_are_not_checked_against_the_ledger(ledger, tmp_path, digests):
    text = f"{HEADER}\n{OK_ROW.replace('INV-1', 'INV-EXIST')}\n{OK_ROW}\x00\n"
    assert listed(ledger, digests, text, tmp_path=tmp_path) == [
        "  Row 3: contains a NUL character; this does not look like a CSV text file."]


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs Linux's /proc")
def test_a_file_longer_than_its_size_said_is_stopped_at_the_cap(ledger, digests):
    # /proc files say they hold 0 bytes: the file as read outgrows the size measured before reading
    assert refused(ledger, digests, "/proc/self/environ", ImportLimits(max_mb=0.000001))[1:-1] == [
        "  The file: is more than the 1e-06 MB one import takes."]


def test_two_missing_columns_are_columns(ledger, tmp_path, digests):
    assert listed(ledger, digests, "type,number,date,company_code\n", tmp_path=tmp_path) == [
        "  Row 1: missing columns: quantity, unit_price."]


def test_a_posting_that_fails_while_writing_is_named_for_the_file(ledger, tmp_path, digests):
    with ledger.transaction() as s:   # posting, not the row checks, needs the prepayment control account
        s.scalars(select(NominalCode).where(NominalCode.code == "2300")).one().kind = "other"
    lines = listed(ledger, digests, f"{HEADER}\n{OK_ROW}\n", tmp_path=tmp_path)
    assert len(lines) == 1 and lines[0].startswith("  The file: No prepayment nominal code is set up"), lines


def test_one_unknown_column_and_several_missing(ledger, tmp_path, digests):
    assert listed(ledger, digests, "type,number,colour\n", tmp_path=tmp_path) == [
        "  Row 1: unknown column 'colour'. The columns are: " + ", ".join(COLUMNS) + ".",
        "  Row 1: missing columns: date, company_code, quantity, unit_price."]


def test_a_row_of_the_wrong_width_names_its_count(ledger, tmp_path, digests):
    rows = [OK_ROW + ",,", OK_ROW.replace("INV-1", "INV-2") + ",x", "sales_invoice,INV-3,2026-03-02",
            "\n".join([OK_ROW.replace("INV-1", 'INV-4,"two'), 'lines"']), "a,b"]   # rows are records, not lines
    assert listed(ledger, digests, "\n".join([HEADER, *rows]) + "\n", tmp_path=tmp_path) == [
        "  Row 3: has 16 values but the header has 15 columns; check for a missing or extra comma.",
        "  Row 4: has 3 values but the header has 15 columns; check for a missing or extra comma.",
        "  Row 5: has 3 values but the header has 15 columns; check for a missing or extra comma.",
        "  Row 6: has 2 values but the header has 15 columns; check for a missing or extra comma."]


def test_the_size_cap_counts_bytes_and_is_named_in_mb(ledger, tmp_path, digests):
    limits = ImportLimits(max_mb=0.001)        # 1,048 bytes
    text = f"{HEADER}\n{OK_ROW}\n"
    text += "\n" * (1048 - len(text))          # blank lines: read and skipped
    assert import_documents(ledger, write(tmp_path, text, "exact.csv"), limits).ok
    assert listed(ledger, digests, text.replace("INV-1", "INV-22"), limits, tmp_path) == [
        "  The file: is 0.0 MB, more than the 0.001 MB one import takes. Split it into smaller files, or raise the "
        "limit with --max-size (or KCC_IMPORT_MAX_MB)."]
    big = f"{HEADER}\n{OK_ROW.replace('INV-1', 'INV-3')}\n" + (" " * 999 + "\n") * 1300   # 1.24 MB
    assert listed(ledger, digests, big, ImportLimits(max_mb=0.5), tmp_path) == [
        "  The file: is 1.2 MB, more than the 0.5 MB one import takes. Split it into smaller files, or raise the "
        "limit with --max-size (or KCC_IMPORT_MAX_MB)."]
    assert import_documents(ledger, write(tmp_path, big), ImportLimits(max_mb=0)).ok


def test_the_row_cap_names_the_cap_and_the_last_row_read(ledger, tmp_path, digests):
    rows = [OK_ROW.replace("INV-1", f"INV-{n}") for n in range(1001)]
    text = "\n".join([HEADER, *rows]) + "\n"
    assert listed(ledger, digests, text, ImportLimits(max_rows=1000), tmp_path) == [
        "  The file: has more than 1,000 rows, the most one import takes; it was not read past row 1,001. Split it "
        "into smaller files, or raise the limit with --max-rows (or KCC_IMPORT_MAX_ROWS)."]
    report = import_documents(ledger, write(tmp_path, text), ImportLimits(max_rows=1001))
    assert report.text() == (f"Imported 1,001 documents (1,001 lines) from {tmp_path / 'docs.csv'}: "
                             "1,001 Sales Invoices.")


# --- one row's checks -----------------------------------------------------------------------------------------

CELLS = dict(zip(COLUMNS, ["sales_invoice", "INV-1", "2026-03-02", "", "ACME01", "", "", "", "", "", "Widget", "1",
                           "10", "", "T1", "4000"], strict=True))


def full(**cells: str) -> str:
    """A row under the FULL header: CELLS with ``cells`` in their place."""
    values = {**CELLS, **cells}
    return ",".join(f'"{v}"' if "," in v or "\n" in v else v for v in (values[c] for c in COLUMNS))


def test_each_cell_problem_is_named_with_its_row_and_column(ledger, tmp_path, digests):
    rows = [
        full(number="INV-OK", type="SI", quantity="1000000", unit_price="100000000", discount_percent="100%"),
        full(type="bill"),
        full(type="", number="", date="", company_code="", quantity="", unit_price="", description="", tax_code=""),
        full(date="31/02/2026", due_date="03/31/2026"),
        full(number="N" * 33, company_name="C" * 201, company_email="bad@mail", currency="eu1"),
        full(number="N" * 32, company_code="ACME01", reference="R" * 101, description="D" * 301),
        full(quantity="-1", unit_price="100000001", discount_percent="-0.5%"),
        full(quantity="1.00001", unit_price="NaN", discount_percent="abc"),
        full(quantity="1000001", unit_price="1e2", discount_percent="100.00001"),
        full(quantity="0", unit_price="Infinity"),
        full(description="", tax_code="", nominal_code=""),
        full(type="purchase_invoice", company_code="PAPER01"),
        full(nominal_code="5100"),
        full(nominal_code="1200"),
        full(nominal_code="2200", tax_code="T7"),
        full(nominal_code="9999", stock_code="NOPE"),
        full(company_email="x@y", currency="EURO", company_code="C" * 33),
        full(quantity="", unit_price="10%"),
    ]
    sales = "Use a sales, delivery or other nominal."
    assert listed(ledger, digests, "\n".join([FULL, *rows]) + "\n", tmp_path=tmp_path) == [
        "  Row 3: type 'bill' is not one of sales_invoice, sales_credit, purchase_invoice, purchase_credit.",
        "  Row 4: type '' is not one of sales_invoice, sales_credit, purchase_invoice, purchase_credit.",
        "  Row 4: type is empty.",
        "  Row 4: number is empty.",
        "  Row 4: date is empty.",
        "  Row 4: company_code is empty.",
        "  Row 4: quantity is empty.",
        "  Row 4: unit_price is empty.",
        "  Row 4: tax_code is empty; a line without a stock_code needs one (e.g. T1).",
        "  Row 4: description is empty; a line without a stock_code needs one.",
        "  Row 5: date '31/02/2026' is not a date; write it as YYYY-MM-DD (e.g. 2026-03-31).",
        "  Row 5: due_date '03/31/2026' is not a date; write it as YYYY-MM-DD (e.g. 2026-03-31).",
        "  Row 6: number is longer than 32 characters.",
        "  Row 6: company_name is longer than 200 characters.",
        "  Row 6: company_email 'bad@mail' is not an email address.",
        "  Row 6: currency 'eu1' is not a three-letter code such as GBP or EUR.",
        "  Row 7: reference is longer than 100 characters.",
        "  Row 7: description is longer than 300 characters.",
        "  Row 8: quantity must be more than zero (a return is a credit note, not a negative line).",
        "  Row 8: unit_price 100000001 must be between 0 and 100,000,000.",
        "  Row 8: discount_percent -0.5% must be between 0 and 100.",
        "  Row 9: quantity 1.00001 has more than four decimal places.",
        "  Row 9: unit_price 'NaN' is not a number; use digits and a dot, e.g. 12.50.",
        "  Row 9: discount_percent 'abc' is not a number; use digits and a dot, e.g. 12.50.",
        "  Row 10: quantity 1000001 must be between 0 and 1,000,000.",
        "  Row 10: discount_percent 100.00001 must be between 0 and 100.",
        "  Row 11: quantity must be more than zero (a return is a credit note, not a negative line).",
        "  Row 11: unit_price 'Infinity' is not a number; use digits and a dot, e.g. 12.50.",
        "  Row 12: tax_code is empty; a line without a stock_code needs one (e.g. T1).",
        "  Row 12: nominal_code is empty; a line without a stock_code needs one (e.g. 4000).",
        "  Row 12: description is empty; a line without a stock_code needs one.",
        "  Row 13: nominal_code 4000 (Sales - Products): a sales account cannot take purchase lines. Use a "
        "purchase, delivery or other nominal.",
        "  Row 14: nominal_code 5100 (Cost of Sales): stock and cost of sale are posted by the ledger from a stock "
        f"item's cost, never typed on a line. {sales}",
        f"  Row 15: nominal_code 1200 (Bank Current Account): a bank account cannot take sales lines. {sales}",
        "  Row 16: tax_code 'T7' is not set up; the tax codes are T0, T1, T2, T5.",
        f"  Row 16: nominal_code 2200 (VAT Liability): a tax account cannot take sales lines. {sales}",
        "  Row 17: stock_code 'NOPE' is not a stock item in this company file.",
        "  Row 17: nominal_code '9999' is not in the chart of nominals.",
        "  Row 18: company_code is longer than 32 characters.",
        "  Row 18: company_email 'x@y' is not an email address.",
        "  Row 18: currency 'EURO' is not a three-letter code such as GBP or EUR.",
        "  Row 19: quantity is empty.",
        "  Row 19: unit_price '10%' is not a number; use digits and a dot, e.g. 12.50.",
    ]


def test_formula_like_text_is_named_with_its_column_and_first_character(ledger, tmp_path, digests):
    rows = [full(number="INV-OK", reference="-2.50", description=" plain"), full(description=" =1+1"),
            full(reference="@SUM(A1)"), full(description="\n=1+1"), full(reference="\xa0+44 (0)1234")]
    advice = ("so a spreadsheet would run it as a formula when the ledger is exported. Text cannot start with =, "
              "+, -, @, a tab or a carriage return unless it is a plain number; remove the first character.")
    assert listed(ledger, digests, "\n".join([FULL, *rows]) + "\n", tmp_path=tmp_path) == [
        f"  Row 3: description '=1+1' starts with '=', {advice}",
        f"  Row 4: reference '@SUM(A1)' starts with '@', {advice}",
        f"  Row 5: description '=1+1' starts with '=', {advice}",          # other white space looked through
        f"  Row 6: reference '+44 (0)1234' starts with '+', {advice}"]


# --- the report ------------------------------------------------------------------------------------------------

def test_an_import_reports_its_documents_lines_kinds_and_new_companies(ledger, tmp_path, caplog):
    rows = [full(number="INV-1"), full(number="INV-1", description="Second line"), full(number="INV-2"),
            full(type="sales_credit", number="CRN-1"),
            full(type="purchase_invoice", number="PI-1", company_code="PAPER01", nominal_code="5000")]
    rows += [full(number=f"NEW-{n}", company_code=f"NEW{n:02d}", company_name=f"New {n} Ltd") for n in range(21)]
    path = write(tmp_path, "\n".join([FULL, *rows]) + "\n")
    with caplog.at_level("INFO", logger="kcc_desktop.ledger.csv_import"):
        report = import_documents(ledger, path)
    new = ", ".join(f"NEW{n:02d}" for n in range(20))
    assert report.text() == (
        f"Imported 25 documents (26 lines) from {path}: 23 Sales Invoices, 1 Sales Credit Note, 1 Purchase Invoice."
        f"\nNew companies created: {new} and 1 more.")
    assert caplog.messages == [f"import-documents {path}: 25 documents and 21 new companies imported"]


def test_one_new_company_is_named_and_no_more_is_said(ledger, tmp_path):
    path = write(tmp_path, f"{FULL}\n{full(company_code='NEW01', company_name='New Ltd')}\n")
    assert import_documents(ledger, path).text() == (
        f"Imported 1 documents (1 lines) from {path}: 1 Sales Invoice.\nNew companies created: NEW01.")


def test_a_refusal_counts_every_problem_and_lists_the_first_in_row_order(ledger, tmp_path, digests, caplog):
    rows = [full(number="INV-EXIST")]                         # found last, when documents are checked
    rows += [full(number=f"INV-{n}", quantity="x") for n in range(4)]
    rows += [full(number="INV-9", quantity="0", unit_price="y")]
    before = digests(ledger)
    path = write(tmp_path, "\n".join([FULL, *rows]) + "\n")
    with caplog.at_level("INFO", logger="kcc_desktop.ledger.csv_import"):
        report = import_documents(ledger, path, ImportLimits(max_mb=0, max_rows=0, listed=4))
    assert report.text().splitlines() == [
        f"Nothing was imported from {path}: 7 problems found.",
        "  Row 2: Sales Invoice INV-EXIST is already in the ledger; a document number can only be imported once.",
        "  Row 3: quantity 'x' is not a number; use digits and a dot, e.g. 12.50.",
        "  Row 4: quantity 'x' is not a number; use digits and a dot, e.g. 12.50.",
        "  Row 5: quantity 'x' is not a number; use digits and a dot, e.g. 12.50.",
        "  … and 3 more (the first 4 are listed).",
        NOTHING]
    assert [str(e) for e in report.errors] == [line.strip() for line in report.text().splitlines()[1:5]]
    assert report.error_count == 7 and len(report.errors) == 4
    assert caplog.messages == [f"import-documents {path}: nothing imported, 7 problems"]
    assert digests(ledger) == before


def test_problems_keep_the_earliest_rows_and_on_one_row_the_first_found(ledger):
    problems = Problems(listed=3)
    for row, message in [(5, "e"), (0, "file"), (7, "late"), (2, "b1"), (2, "b2"), (9, "last"), (1, "a")]:
        problems.add(row, message)
    assert problems.count == 7 and bool(problems)
    assert [str(e) for e in problems.first()] == ["The file: file", "Row 1: a", "Row 2: b1"]
    assert not Problems()


# --- the limits from the environment -----------------------------------------------------------------------------

def test_limits_come_from_the_defaults_then_the_environment_then_the_flags():
    assert ImportLimits.from_env({}) == ImportLimits(max_mb=50, max_rows=200_000, listed=100)
    assert ImportLimits.from_env({"KCC_IMPORT_MAX_MB": " ", "KCC_IMPORT_MAX_ROWS": ""}) == ImportLimits()
    env = {"KCC_IMPORT_MAX_MB": "2.5", "KCC_IMPORT_MAX_ROWS": " 7 "}
    assert ImportLimits.from_env(env) == ImportLimits(max_mb=2.5, max_rows=7)
    assert ImportLimits.from_env(env, max_mb=0, max_rows=0) == ImportLimits(max_mb=0, max_rows=0)
    assert ImportLimits(max_mb=2.5).max_bytes == 2_621_440


@pytest.mark.parametrize("env, says", [
    ({"KCC_IMPORT_MAX_MB": "big"}, "KCC_IMPORT_MAX_MB='big' is not a number; set it to a number (0 for no limit) "
                                   "or unset it."),
    ({"KCC_IMPORT_MAX_ROWS": "2.5"}, "KCC_IMPORT_MAX_ROWS='2.5' is not a number; set it to a number (0 for no "
                                     "limit) or unset it."),
    ({"KCC_IMPORT_MAX_ROWS": "-1"}, "KCC_IMPORT_MAX_ROWS='-1' cannot be negative (0 means no limit)."),
    ({"KCC_IMPORT_MAX_MB": "-0.5"}, "KCC_IMPORT_MAX_MB='-0.5' cannot be negative (0 means no limit)."),
])
def test_a_limit_in_the_environment_that_is_not_a_count_says_how_to_set_it(env, says):
    with pytest.raises(ValueError) as caught:
        ImportLimits.from_env(env)
    assert str(caught.value) == says


def test_rows_before_the_row_cap_are_not_checked_against_the_ledger(ledger, tmp_path, digests):
    text = "\n".join([HEADER, OK_ROW.replace("INV-1", "INV-EXIST"), OK_ROW]) + "\n"
    assert listed(ledger, digests, text, ImportLimits(max_rows=1), tmp_path) == [
        "  The file: has more than 1 row, the most one import takes; it was not read past row 2. Split it into "
        "smaller files, or raise the limit with --max-rows (or KCC_IMPORT_MAX_ROWS)."]


def test_the_environment_is_read_when_no_limits_are_given(ledger, tmp_path, digests, monkeypatch):
    monkeypatch.setenv("KCC_IMPORT_MAX_ROWS", "1")
    text = "\n".join([HEADER, OK_ROW, OK_ROW.replace("INV-1", "INV-2")]) + "\n"
    assert listed(ledger, digests, text, tmp_path=tmp_path)[0].startswith("  The file: has more than 1 row")


# --- what a good file posts -------------------------------------------------------------------------------------

def test_a_file_of_only_the_needed_columns_imports(ledger, tmp_path):
    text = ("type,number,date,company_code,quantity,unit_price,description,tax_code,nominal_code\n"
            "sales_invoice,INV-MIN,2026-03-02,ACME01,2,10,Widget,T1,4000\n")
    path = write(tmp_path, text)
    assert import_documents(ledger, path).text() == f"Imported 1 documents (1 lines) from {path}: 1 Sales Invoice."
    # stock lines only: no description, tax_code or nominal_code columns; the item gives all three
    path = write(tmp_path, "type,number,date,company_code,stock_code,quantity,unit_price\n"
                           "sales_invoice,INV-STOCK,2026-03-02,ACME01,PAP001,1,24.99\n", "stock.csv")
    assert import_documents(ledger, path).ok
    with ledger.session() as s:
        line = s.execute(select(DocumentLine.description, NominalCode.code, TaxCode.code)
                         .join(Document, DocumentLine.document_id == Document.id)
                         .join(NominalCode, NominalCode.id == DocumentLine.nominal_id)
                         .join(TaxCode, TaxCode.id == DocumentLine.tax_code_id)
                         .where(Document.number == "INV-STOCK")).one()
        item = s.scalar(select(StockItem.description).where(StockItem.code == "PAP001"))
    assert tuple(line) == (item, "4000", "T1")


def test_a_stock_line_without_codes_takes_the_items_nominal_for_its_side_and_its_tax_code(ledger, tmp_path):
    rows = [full(number="INV-S", stock_code="PAP001", description="", tax_code="", nominal_code=""),
            full(type="purchase_invoice", number="PI-S", company_code="PAPER01", stock_code="TEA001",
                 description="", tax_code="", nominal_code=""),
            full(type="purchase_invoice", number="PI-T", company_code="PAPER01", stock_code="TEA001",
                 description="", tax_code="T1", nominal_code="7500")]
    assert import_documents(ledger, write(tmp_path, "\n".join([FULL, *rows]) + "\n")).ok
    with ledger.session() as s:
        lines = s.execute(select(Document.number, NominalCode.code, TaxCode.code)
                          .join(DocumentLine, DocumentLine.document_id == Document.id)
                          .join(NominalCode, NominalCode.id == DocumentLine.nominal_id)
                          .join(TaxCode, TaxCode.id == DocumentLine.tax_code_id)
                          .where(Document.number.in_(["INV-S", "PI-S", "PI-T"])).order_by(Document.number)).all()
    assert [tuple(r) for r in lines] == [("INV-S", "4000", "T1"), ("PI-S", "5000", "T0"), ("PI-T", "7500", "T1")]


def test_codes_are_matched_whatever_their_case(ledger, tmp_path):
    with ledger.transaction() as s:
        s.add(NominalCode(code="WEB1", name="Web Sales", kind="sales"))
    row = full(number="INV-CASE", company_code="acme01", tax_code="t1", nominal_code="web1")
    assert import_documents(ledger, write(tmp_path, f"{FULL}\n{row}\n")).ok
    with ledger.session() as s:
        assert s.execute(select(NominalCode.code, TaxCode.code)
                         .join(DocumentLine, NominalCode.id == DocumentLine.nominal_id)
                         .join(TaxCode, TaxCode.id == DocumentLine.tax_code_id)
                         .join(Document, Document.id == DocumentLine.document_id)
                         .where(Document.number == "INV-CASE")).one() == ("WEB1", "T1")


def test_a_free_line_and_a_discount_of_nothing_import_as_written(ledger, tmp_path):
    """0 is inside every range but quantity's: a sample given away at a price of 0, a 0 % discount."""
    text = (f"{HEADER}\n{OK_ROW.replace('Widget,1,10,,', 'Widget,2,10,0,')}\n"
            f"{OK_ROW.replace('Widget,1,10,,', 'Free sample,1,0,,')}\n")
    report = import_documents(ledger, write(tmp_path, text))
    assert report.ok and report.imported == 1, report.text()
    with ledger.session() as s:
        lines = s.execute(select(DocumentLine.description, DocumentLine.net).order_by(DocumentLine.id)).all()
    assert [(d, f"{n:.2f}") for d, n in lines][-2:] == [("Widget", "20.00"), ("Free sample", "0.00")]



def test_a_file_that_grew_after_it_was_measured_is_stopped_at_the_cap_counting_every_line(tmp_path):
    """Measured at 1 row, under the cap; 20 more rows (each far under it, together over it) are added before
    the rows are read: the reading stops at the cap, which counts every line read, not the longest."""
    from kcc_desktop.ledger.csv_reader import CsvRows

    path = Path(write(tmp_path, f"{HEADER}\n{OK_ROW}\n"))
    limits = ImportLimits(max_mb=0.001)   # 1,048 bytes
    problems = Problems(limits.listed)
    reader = CsvRows(path, limits, problems)
    assert reader.open() and path.stat().st_size < limits.max_bytes
    with path.open("a") as more:
        more.writelines(OK_ROW.replace("INV-1", f"INV-{n + 2}") + "\n" for n in range(20))
    assert path.stat().st_size > limits.max_bytes
    read = list(reader)
    reader.close()
    assert [(e.row, e.message) for e in problems.first()] == [(0, "is more than the 0.001 MB one import takes.")]
    assert 1 <= len(read) < 21
