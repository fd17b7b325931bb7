"""The services write what they did to the log (the error dialog asks users to send it to support):
counts and document numbers, never a token."""

from __future__ import annotations

import logging

from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from kcc_desktop.sync.options import OptionsService
from tests.helpers.ledger import build_ledger


def test_an_upload_logs_each_batch_with_its_numbers_and_the_outcome(xero_exporting, caplog):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    caplog.set_level(logging.INFO, logger="kcc_desktop")
    summary = ExportService(store).upload(ExportService(store).pending_ids(), package)
    assert summary.exported > 0
    text = caplog.text
    assert "Upload Data to Xero:" in text and "Upload Data to Xero finished: " in text
    assert f"{summary.exported} exported" in text
    assert "SI-0001" in text and "SI-0002" in text and "ACME" in text     # the batches name what they carried
    assert package.tokens.access_token() not in text


def test_mapping_and_option_changes_are_logged(xero_exporting, caplog):
    store, _package = xero_exporting
    caplog.set_level(logging.INFO, logger="kcc_desktop")
    mapping = MappingService(store, "xero")
    nominal = mapping.find_local(NOMINAL, "4000")
    mapping.set_mapping(NOMINAL, nominal, None)
    OptionsService(store).set("create_authorised", False)
    assert "Mapping nominal 4000 Sales - Products for Xero: 200" in caplog.text
    assert "-> not mapped (user)" in caplog.text
    assert "Option Create Authorised Invoices changed from True to False" in caplog.text
