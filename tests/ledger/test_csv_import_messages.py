"""What a user reads when their orders CSV cannot be imported: the exact words, the row they name, and
that nothing was written. Through ``import_documents``, the call both ``import-documents`` and the
window's File > Import Documents make (and the command line itself where it adds to the words)."""

from __future__ import annotations

import os
import threading

from kcc_desktop.ledger.csv_import import import_documents
from tests.helpers.orders_csv import HEADER, write

OK_ROW = "sales_invoice,INV-1,2026-03-02,,ACME01,,,,,Widget,1,10,,T1,4000"


def refused(ledger, digests, path, limits=None) -> list[str]:
    """The report's lines when the file is refused and the ledger is left exactly as it was."""
    before = digests(ledger)
    report = import_documents(ledger, path, limits)
    assert not report.ok and report.imported == 0
    assert digests(ledger) == before
    return report.text().splitlines()


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
