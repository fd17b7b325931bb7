"""Importing documents from an order system's CSV: a good file posts every document; a bad file reports
every bad row with its spreadsheet row number and writes nothing at all."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kcc_desktop.cli import main
from kcc_desktop.ledger import service as L
from kcc_desktop.ledger.csv_import import import_documents
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.models import Company, Document
from tests.helpers.orders_csv import HEADER, write

GOOD = "\n".join([
    HEADER,
    "sales_invoice,INV-1001,2026-03-02,2026-04-01,ACME01,,,PO 4471,PAP001,,3,24.99,5%,,",
    "sales_invoice,INV-1001,2026-03-02,,ACME01,,,,,Carriage - next day,1,9.95,,T1,4905",
    # per-line rounding: three lines of 0.99 at 20% are 0.20 tax each (0.60), not 20% of 2.97 (0.59)
    "sales_invoice,INV-1002,02/03/2026,,ACME01,,GBP,,,Sample sachet,1,0.99,,T1,4000",
    "sales_invoice,INV-1002,02/03/2026,,ACME01,,,,,Sample sachet,1,0.99,,T1,4000",
    "sales_invoice,INV-1002,02/03/2026,,ACME01,,,,,Sample sachet,1,0.99,,T1,4000",
    "sales_credit,CRN-1,2026-03-09,,ACME01,,,INV-1001,PAP001,Returned ream,1,24.99,5,,",
    ",,,,,,,,,,,,,,",
    'purchase_invoice,PI-77,2026-03-03,2026-04-02,HARBOUR01,"Harbour Property Management, Ltd",,R-2231,,'
    'Warehouse rent March,1,2750.00,,T2,7500',
    "purchase_invoice,PI-78,2026-03-04,,PAPER01,,,NP-1,TEA001,,10,17.60,,,",
]) + "\n"


def test_good_file_posts_every_document_with_per_line_rounding(ledger, tmp_path):
    report = import_documents(ledger, write(tmp_path, GOOD))
    assert report.ok, report.text()
    assert report.imported == 5 and report.kinds == {"sales_invoice": 2, "sales_credit": 1, "purchase_invoice": 2}
    assert report.companies_created == ["HARBOUR01"]
    assert "Imported 5 documents (8 lines)" in report.text()
    with ledger.session() as s:
        docs = {d.number: d for d in s.scalars(select(Document).order_by(Document.id))}
        # written in the order each document's first row comes, after the one already in the ledger
        assert list(docs) == ["INV-EXIST", "INV-1001", "INV-1002", "CRN-1", "PI-77", "PI-78"]
        inv = docs["INV-1001"]
        # 3 × 24.99 less 5% = 71.22 (71.2215), VAT 14.24; carriage 9.95 + 1.99
        assert (inv.net_total, inv.tax_total, inv.gross_total) == (D("81.17"), D("16.23"), D("97.40"))
        assert inv.due_date == date(2026, 4, 1) and inv.reference == "PO 4471"
        assert [ln.description for ln in inv.lines] == ["Item PAP001", "Carriage - next day"]
        assert (docs["INV-1002"].tax_total, docs["INV-1002"].gross_total) == (D("0.60"), D("3.57"))
        assert docs["INV-1002"].date == date(2026, 3, 2)
        assert docs["CRN-1"].gross_total == D("28.49") and docs["CRN-1"].kind == "sales_credit"
        rent = docs["PI-77"]
        assert (rent.kind, rent.gross_total, rent.tax_total) == ("purchase_invoice", D("2750.00"), D("0.00"))
        harbour = s.scalars(select(Company).where(Company.code == "HARBOUR01")).one()
        assert (harbour.kind, harbour.name, harbour.currency) == ("supplier", "Harbour Property Management, Ltd",
                                                                  "GBP")
        assert L.outstanding(s, rent.id) == D("2750.00")
        assert L.outstanding(s, inv.id) == D("97.40")
        tb = trial_balance(s)
        assert tb.total_debit == tb.total_credit
        rows = {r.code: r for r in tb.rows}
        # stock: tea bought in (10 × 17.60), three reams sold at cost 18.40, one ream returned
        assert rows["1001"].debit == D("176.00") - D("55.20") + D("18.40")
        assert rows["5100"].debit == D("55.20") - D("18.40")
        assert rows["2100"].credit == D("2750.00") + D("176.00")


BAD_ROWS = [
    ("sales_invoice,INV-A,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,4000", None),
    ("sales_invoice,INV-A,2026-03-03,,ACME01,,,,,Widget,1,10,,T1,4000", "date '2026-03-03' differs"),
    ("sales_invoice,INV-B,2026-02-30,,ACME01,,,,,Widget,1,10,,T1,4000", "is not a date"),
    ("sales_invoice,INV-C,2026-03-02,,ACME01,,,,,Widget,ten,10,,T1,4000", "quantity 'ten' is not a number"),
    ("sales_invoice,INV-D,2026-03-02,,ACME01,,,,,Widget,1,10,,T9,4000", "tax_code 'T9' is not set up"),
    ("sales_invoice,INV-E,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,9999", "nominal_code '9999' is not in the chart"),
    ("sales_invoice,INV-F,2026-03-02,,ACME01,,,,NOPE,,1,10,,,", "stock_code 'NOPE' is not a stock item"),
    ("sales_invoice,INV-EXIST,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,4000", "is already in the ledger"),
    ("sales_invoice,INV-G,2026-03-02,,ACME01,,,,,Stock,1,10,,T1,1001", "stock and cost of sale are posted"),
    ("sales_invoice,INV-H,2026-03-02,,NEWCO,,,,,Widget,1,10,,T1,4000", "add its company_name"),
    ("invoice,INV-I,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,4000", "type 'invoice' is not one of"),
    ("sales_invoice,INV-J,2026-03-02,,ACME01,,,,,Widget,1,10,,T1", "has 14 values but the header has 15"),
    ("purchase_invoice,PI-K,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,5000", "needs a supplier"),
    ("sales_invoice,INV-L,2026-03-02,,ACME01,,,,,,1,10,,T1,4000", "description is empty"),
    ("sales_invoice,INV-M,2026-03-02,,ACME01,,,,,Widget,0,10,,T1,4000", "quantity must be more than zero"),
    ("sales_invoice,INV-N,2026-03-02,,ACME01,,,,,Widget,1,10.12345,,T1,4000", "more than four decimal places"),
    ("sales_invoice,INV-O,2026-03-02,,ACME01,,,,,Widget,1,10,150,T1,4000", "discount_percent 150 must be between"),
    ("sales_invoice,INV-S,2026-03-02,,ACME01,,,,,Widget,1e30,10,,T1,4000", "quantity 1e30 must be between 0 and"),
    ("sales_invoice,INV-P,2026-03-02,,ACME01,,EUR,,,Widget,1,10,,T1,4000", "currency EUR differs"),
    ("sales_invoice,INV-Q,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,2100", "creditors account cannot take sales"),
    ("purchase_invoice,PI-R,2026-03-05,2026-03-01,PAPER01,,,,,Paper,1,10,,T1,5000", "is before the document date"),
]


def test_bad_file_reports_each_row_and_reason_and_writes_nothing(ledger, tmp_path, digests):
    before = digests(ledger)
    text = "\n".join([HEADER] + [row for row, _ in BAD_ROWS]) + "\n"
    report = import_documents(ledger, write(tmp_path, text))
    assert not report.ok and report.imported == 0
    found = [(e.row, e.message) for e in report.errors]
    for number, (_, reason) in enumerate(BAD_ROWS, start=2):
        if reason is None:
            assert not [m for r, m in found if r == number], found
        else:
            assert any(r == number and reason in m for r, m in found), (number, reason, found)
    assert digests(ledger) == before
    assert report.text().startswith("Nothing was imported")
    assert "Row 4: date '2026-02-30' is not a date" in report.text()


@pytest.mark.parametrize("content, row, reason", [
    (b"", 1, "the file is empty"),
    (HEADER.encode() + b"\n", 1, "header but no rows"),
    (b"type,number,date,company_code,quantity\n", 1, "missing column: unit_price"),
    ((HEADER + ",discount").encode() + b"\n", 1, "unknown column 'discount'"),
    ((HEADER + "\nsales_invoice,INV-1,2026-03-02,,ACME01,,,,,Ok,1,1,,T1,4000\n"
      "sales_invoice,INV-2,2026-03-02,,ACME01,,,,,Bad \xa3 sign,1,1,,T1,4000\n").encode("cp1252"),
     3, "is not UTF-8 text (byte 0xA3"),
    ((HEADER + "\nsales_invoice,INV-1,2026-03-02,,ACME01,,,,,Ok,1,1,,T1,4000\n"
      'sales_invoice,INV-2,2026-03-02,,ACME01,,,,,"Unclosed,1,1,,T1,4000\n').encode(),
     3, "quoted value is never closed"),
    ((HEADER + "\nsales_invoice,INV-1,2026-03-02,,ACME01,,,,,Ok\x00,1,1,,T1,4000\n").encode(), 2, "NUL"),
    (GOOD.replace(",", ";").encode(), 1, "separated by semicolons"),
    (b"PK\x03\x04\x14\x00\x06\x00", 1, "spreadsheet workbook, not a CSV file"),
])
def test_unreadable_files_are_refused_with_the_row(ledger, tmp_path, digests, content, row, reason):
    before = digests(ledger)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    report = import_documents(ledger, path)
    assert not report.ok
    assert any(e.row == row and reason in e.message for e in report.errors), report.errors
    assert digests(ledger) == before


def test_excel_style_file_with_bom_and_crlf_imports_and_a_second_import_is_refused(ledger, tmp_path, digests):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert import_documents(ledger, path).ok
    after_first = digests(ledger)
    again = import_documents(ledger, path)
    assert [e.row for e in again.errors] == [2, 4, 7, 9, 10]
    assert again.errors and all("already in the ledger" in e.message for e in again.errors)
    assert digests(ledger) == after_first


def test_new_company_described_two_ways_is_refused(ledger, tmp_path, digests):
    before = digests(ledger)
    text = "\n".join([
        HEADER,
        "sales_invoice,INV-1,2026-03-02,,NEW01,New Customer Ltd,,,,Thing,1,5,,T1,4000",
        "purchase_invoice,PI-1,2026-03-02,,NEW01,New Customer Ltd,,,,Thing,1,5,,T1,5000",
    ])
    report = import_documents(ledger, write(tmp_path, text))
    assert [(e.row, "a customer and a supplier" in e.message) for e in report.errors] == [(3, True)]
    assert digests(ledger) == before


def test_a_company_trading_both_ways_takes_documents_of_either_side(ledger, tmp_path):
    text = "\n".join([HEADER, "purchase_invoice,PI-BOTH,2026-03-02,,ACME01,,,,,Returned pallets,1,5,,T1,5000"])
    refused = import_documents(ledger, write(tmp_path, text))
    assert [e.message for e in refused.errors] == [
        "ACME01 (Acme Trading Ltd) is a customer, but a purchase invoice needs a supplier."]
    with ledger.transaction() as s:
        s.scalar(select(Company).where(Company.code == "ACME01")).trades_both_ways = True
    assert import_documents(ledger, write(tmp_path, text)).ok


def test_command_line_exit_codes_and_messages(ledger, tmp_db_path, tmp_path, capsys):
    bad = write(tmp_path, HEADER + "\nsales_invoice,INV-9,2026-03-02,,ACME01,,,,,Thing,1,5,,T7,4000\n", "bad.csv")
    assert main(["--db", str(tmp_db_path), "import-documents", bad]) == 1
    err = capsys.readouterr().err
    assert "Row 2: tax_code 'T7' is not set up" in err and "Nothing was imported" in err
    assert main(["--db", str(tmp_db_path), "import-documents", write(tmp_path, GOOD)]) == 0
    assert "Imported 5 documents" in capsys.readouterr().out
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 6
    # No company file there: refused (exit 2) rather than creating an empty one.
    assert main(["--db", str(tmp_path / "missing.sqlite"), "import-documents", bad]) == 2
    assert "There is no company file" in capsys.readouterr().err
    assert main(["--db", str(tmp_db_path), "import-documents", str(tmp_path / "nowhere.csv")]) == 2
    assert "there is no file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes in the file system are POSIX's")
def test_the_command_names_a_named_pipe_as_no_saved_file(ledger, tmp_db_path, tmp_path, capsys):
    """The file is there but is no saved file: the command says so, not "there is no file"."""
    fifo = tmp_path / "orders-pipe.csv"
    os.mkfifo(fifo)
    assert main(["--db", str(tmp_db_path), "import-documents", str(fifo)]) == 1
    err = capsys.readouterr().err
    assert "is not a saved file (a named pipe or a device)" in err and "there is no file" not in err


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "services"])
def test_a_write_that_fails_half_way_is_rolled_back_whole(ledger, tmp_path, digests, bulk):
    """The last line of defence: the rows all pass their checks, but posting fails once the writing has
    begun (here the chart has lost its prepayment control account, which only posting asks for). The new
    company written just before goes too; the user is told why and that nothing was imported."""
    from kcc_desktop.models import NominalCode, NominalKind

    with ledger.transaction() as s:
        s.scalars(select(NominalCode).where(NominalCode.code == "2300")).one().kind = NominalKind.OTHER
    before = digests(ledger)
    text = "\n".join([HEADER, "sales_invoice,INV-1,2026-03-02,,NEW01,New Customer Ltd,,,,Thing,1,5,,T1,4000"])
    report = import_documents(ledger, write(tmp_path, text), bulk=bulk)
    assert not report.ok and report.imported == 0
    assert "No prepayment nominal code is set up" in report.text()
    assert report.text().startswith("Nothing was imported")
    assert digests(ledger) == before
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Company).where(Company.code == "NEW01")) == 0
