"""Contract: the sandbox's JSON answers validate against Xero's own OpenAPI component schemas.

Every test using the ``xero_server`` fixture is checked at teardown; this file makes sure the check
itself bites, walks the endpoints the app uses once more in one place, and makes sure a missing spec
cannot switch the checks off without a word.
"""

from __future__ import annotations

import json
import re

import pytest

from kcc_desktop.sandbox.testing import XeroBookkeeper
from tests.helpers.xero_builders import TODAY, contact, create_invoice, credit_note, line
from tests.helpers.xero_contract import SPEC_PATH, contract_violations, require_spec


@pytest.fixture
def xero_spec():
    require_spec()


def test_a_missing_spec_fails_under_ci_and_is_named_in_the_skip_elsewhere(tmp_path):
    gone = tmp_path / "contract" / "xero_accounting.yaml"
    with pytest.raises(pytest.fail.Exception, match=re.escape(str(gone))):
        require_spec((SPEC_PATH, gone), {"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match=re.escape(str(gone))):
        require_spec((SPEC_PATH, gone), {"CI": "false"})
    with pytest.raises(pytest.skip.Exception, match=re.escape(str(gone))):
        require_spec((gone,), {})


@pytest.mark.usefixtures("xero_spec")
def test_checker_rejects_off_contract_bodies():
    bad = json.dumps({"Invoices": [{"Type": "NOT-A-TYPE", "Total": "12.00"}]}).encode()
    problems = contract_violations([("/api.xro/2.0/Invoices", 200, bad)])
    assert any("NOT-A-TYPE" in p for p in problems) and any("'12.00'" in p for p in problems)
    assert contract_violations([("/api.xro/2.0/Invoices", 400, b'{"ErrorNumber": "ten"}')])
    assert contract_violations([("/connections", 200, b'[{"tenantId": 5}]')])


@pytest.mark.usefixtures("xero_spec")
def test_every_endpoint_answer_matches_spec(xero, xero_server):
    api, tid = xero.accounting, xero.tenant_id
    keeper = XeroBookkeeper(xero)
    cid = contact(xero, "Contract Ltd", email_address="a@b.co")
    inv = create_invoice(xero, cid, lines=[line(unit="100.00", discount_rate=10)])
    cn = credit_note(xero, cid, amount="10.00")
    keeper.allocate_credit_note(cn.credit_note_id, inv.invoice_id, "10.00", TODAY)
    pid = keeper.pay(inv.invoice_id, "20.00", TODAY)
    keeper.delete_payment(pid)
    op = keeper.receive_overpayment(cid, "5.00", TODAY)
    keeper.allocate_overpayment(op, inv.invoice_id, "5.00", TODAY)
    pp = keeper.receive_prepayment(cid, "12.00", TODAY, tax_type="OUTPUT2")
    keeper.allocate_prepayment(pp, inv.invoice_id, "12.00", TODAY)
    for call in (api.get_organisations, api.get_accounts, api.get_tax_rates, api.get_contacts, api.get_items,
                 api.get_invoices, api.get_credit_notes, api.get_payments, api.get_overpayments,
                 api.get_bank_transactions, api.get_prepayments, api.get_currencies):
        call(tid)
    api.get_contacts(tid, page=1, include_archived=True)
    api.get_invoices(tid, page=1)
    api.get_invoice(tid, inv.invoice_id)
    api.get_credit_note(tid, cn.credit_note_id)
    checked = xero_server.seen.check()
    schemas = {p.split("/")[3] for p, s, _ in xero_server.seen if s == 200 and p.startswith("/api.xro/2.0/")}
    assert checked >= 20 and {"Invoices", "Payments", "CreditNotes", "Overpayments", "Organisation", "Prepayments",
                              "Currencies"} <= schemas
