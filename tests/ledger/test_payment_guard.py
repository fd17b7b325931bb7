"""The payment guard for account customers and suppliers, at the service layer (whatever calls it)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kcc_desktop.ledger import service
from kcc_desktop.ledger.errors import PaymentGuardError
from kcc_desktop.models import Payment
from kcc_desktop.sync.guard import payment_refusal
from kcc_desktop.sync.options import OptionsService
from tests.helpers.ledger import add_company, bank

RULE = "account customer. While the accounts integration is on, payments from account customers are recorded"


@pytest.fixture
def parties(store):
    with store.transaction() as s:
        acme = add_company(s, "ACME", "Acme Tools Ltd", is_account=True)
        cash = add_company(s, "CASH", "Bloggs Hardware", is_account=False)
        supp = add_company(s, "SUPP", "Widget Supplies plc", kind="supplier")
        return {"acme": acme.id, "cash": cash.id, "supp": supp.id}


def pay(store, company_id, kind, source="ledger", remote_id=None):
    with store.transaction() as s:
        company = s.get(service.Company, company_id)
        return service.record_payment(s, kind, company, bank(s), Decimal("50.00"), date(2025, 4, 1),
                                      source=source, remote_id=remote_id).id


def payments(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count(Payment.id)))


def test_refused_for_an_account_customer_with_integration_on(store, parties):
    OptionsService(store).set("enabled", True)
    for kind in ("receipt", "prepayment"):
        with pytest.raises(PaymentGuardError) as err:
            pay(store, parties["acme"], kind)
        assert str(err.value).startswith("Acme Tools Ltd is an " + RULE)
        assert "Create & Allocate Payments" in str(err.value)
    assert payments(store) == 0
    assert payment_refusal(store, parties["acme"]).startswith("Acme Tools Ltd is an account customer")


def test_prepayments_from_non_account_customers_are_allowed(store, parties):
    OptionsService(store).set("enabled", True)
    pay(store, parties["cash"], "prepayment")
    assert payments(store) == 1
    assert payment_refusal(store, parties["cash"]) is None


def test_supplier_payments_are_refused_with_integration_on(store, parties):
    """Seed rule 1: no payments on account for suppliers either; they come from the package."""
    OptionsService(store).set("enabled", True)
    with pytest.raises(PaymentGuardError) as err:
        pay(store, parties["supp"], "supplier_payment")
    assert str(err.value).startswith("Widget Supplies plc is a supplier. While the accounts integration is on")
    assert payments(store) == 0
    assert payment_refusal(store, parties["supp"]).startswith("Widget Supplies plc is a supplier")
    pay(store, parties["supp"], "supplier_payment", source="xero", remote_id="P-2")   # imported: allowed
    OptionsService(store).set("enabled", False)
    pay(store, parties["supp"], "supplier_payment")                                   # integration off: allowed
    assert payments(store) == 2


def test_payments_imported_from_the_package_are_not_blocked(store, parties):
    OptionsService(store).set("enabled", True)
    pay(store, parties["acme"], "receipt", source="xero", remote_id="P-1")
    assert payments(store) == 1


def test_disabling_the_integration_lifts_the_guard(store, parties):
    svc = OptionsService(store)
    svc.set("enabled", True)
    with pytest.raises(PaymentGuardError):
        pay(store, parties["acme"], "receipt")
    svc.set("enabled", False)
    pay(store, parties["acme"], "receipt")
    assert payments(store) == 1 and payment_refusal(store, parties["acme"]) is None


def test_the_kind_a_window_enters_follows_the_company(store, parties):
    from kcc_desktop.models import Company, PaymentKind
    from kcc_desktop.sync.guard import payment_kind_for

    with store.session() as s:
        kinds = {k: payment_kind_for(s.get(Company, i)) for k, i in parties.items()}
    assert kinds == {"acme": PaymentKind.RECEIPT, "cash": PaymentKind.PREPAYMENT,
                     "supp": PaymentKind.SUPPLIER_PAYMENT}


def test_the_window_asks_with_the_kind_it_will_enter(store, parties):
    OptionsService(store).set("enabled", True)
    assert payment_refusal(store, parties["acme"], "receipt").startswith("Acme Tools Ltd is an account customer")
    # money paid out to a customer (a refund keyed as a supplier payment) is on account too, and says so
    assert payment_refusal(store, parties["acme"], "supplier_payment").startswith("Acme Tools Ltd is a customer")
    assert payment_refusal(store, parties["supp"], "supplier_payment").startswith("Widget Supplies plc is a supplier")
    assert payment_refusal(store, 10_000) == "Choose a customer or supplier first."
