"""Books and logins survive a restart with --state; reset goes back to the seed company."""

from __future__ import annotations

import json

import pytest
from xero_python.exceptions import HTTPStatusException

from kcc_desktop.sandbox.runner import start_sandbox
from kcc_desktop.sandbox.testing import XeroBookkeeper, sandbox_call, xero_login, xero_sdk_client

from .xero_builders import TODAY, D, contact, create_invoice, line


def test_state_file_survives_restart(tmp_path):
    state = tmp_path / "xero.json"
    with start_sandbox("xero", state_file=state) as server:
        urls = server.urls()
        token = xero_login(urls)
        xero = xero_sdk_client(urls, token)
        inv = create_invoice(xero, contact(xero), lines=[line(unit="100.42")])
        XeroBookkeeper(xero).pay(inv.invoice_id, "20.00", TODAY)
    assert json.loads(state.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["xero.json"]  # no temp files left behind
    with start_sandbox("xero", state_file=state) as server:  # a new port, the same books and login
        xero = xero_sdk_client(server.urls(), token)
        assert sandbox_call(server.urls(), "stats", method="GET")["by_method"] == {"GET": 1}  # fresh stats
        got = xero.accounting.get_invoice(xero.tenant_id, inv.invoice_id).invoices[0]
        assert got.total == D("120.50") and got.amount_due == D("100.50") and got.invoice_number == "INV-0001"
        assert got.updated_date_utc == inv.updated_date_utc or got.updated_date_utc > inv.updated_date_utc
        nxt = create_invoice(xero, got.contact.contact_id)
        assert nxt.invoice_number == "INV-0002"  # numbering carries on


def test_reset_restores_seed_books_and_keeps_login(xero, xero_urls):
    contact(xero, "Gone After Reset")
    sandbox_call(xero_urls, "reset")
    assert xero.accounting.get_contacts(xero.tenant_id).contacts == []
    assert len(xero.accounting.get_accounts(xero.tenant_id).accounts) > 30
    sandbox_call(xero_urls, "reset", {"tokens": True})
    with pytest.raises(HTTPStatusException) as exc:
        xero.accounting.get_contacts(xero.tenant_id)
    assert exc.value.status == 401


def test_write_through_when_persist_delay_is_zero(tmp_path):
    state = tmp_path / "books.json"
    with start_sandbox("xero", state_file=state, persist_delay=0) as server:
        xero = xero_sdk_client(server.urls(), xero_login(server.urls()))
        contact(xero, "Written Through")
        saved = json.loads(state.read_text())  # already on disk, before the server stops
        books = next(iter(saved["tenants"].values()))
        assert [c["Name"] for c in books["contacts"].values()] == ["Written Through"]
