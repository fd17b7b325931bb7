"""A ledger company that is both customer and supplier, in QuickBooks Online.

QuickBooks keeps customers and vendors apart, and a name is unique across customers, vendors and
employees (error 6240, Intuit's error list). So such a company is two QuickBooks records, both the one
ledger company's: the record of its own kind (the customer, for a customer) keeps the plain name and is
the one the ledger links to; the other side is named by a rule the user sees in QuickBooks:
"Name (Supplier)" for the vendor of a customer, "Name (Customer)" for the customer of a supplier.

``OtherSide.record`` finds that second record by its name, or creates it; the answer is kept for the
run, so each company costs one look-up however many documents it has.
"""

from __future__ import annotations

import threading

from ..base import ContactIn
from . import mapping as m
from .api import Op, QboApi

SUPPLIER = "Vendor"
CUSTOMER = "Customer"


def other_entity(entity: str) -> str:
    return CUSTOMER if entity == SUPPLIER else SUPPLIER


def side_name(name: str, entity: str) -> str:
    """The name rule: what the record of ``entity`` is called when the plain name is the other side's."""
    return m.kind_name(name, entity)


class OtherSide:
    def __init__(self, api: QboApi) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str] = {}   # (entity, ledger name casefolded) -> QuickBooks id

    def record(self, entity: str, name: str, key: str, email: str = "", currency: str = "",
               account_number: str = "") -> tuple[str, str]:
        """(id, "") of the ``entity`` record of the company called ``name``, created under the name rule if
        QuickBooks has none; ("", why) when it cannot be had."""
        cache_key = (entity, name.strip().casefold())
        with self._lock:
            if cache_key in self._known:
                return self._known[cache_key], ""
            wanted = side_name(name, entity)
            found = self.api.by_names(entity, "DisplayName", [wanted], "the other-side lookup")
            row = found.get(wanted.casefold())
            if row is None:
                contact = ContactIn(key=key, name=wanted, email=email, is_customer=entity == CUSTOMER,
                                      is_supplier=entity == SUPPLIER, currency=currency,
                                      account_number=account_number)
                obj = m.build_contact(contact)
                op = Op(0, entity, "create", obj, wanted)
                answer = self.api.send([op], f"{key}~{entity}", "the contact upload")[0]
                if not answer.ok:
                    return "", (f"QuickBooks would not add {wanted!r} as the {_label(entity)} side of {name}: "
                                + " ".join(answer.messages))
                row = answer.data
            self._known[cache_key] = str(row.get("Id"))
            return self._known[cache_key], ""


def _label(entity: str) -> str:
    return "supplier" if entity == SUPPLIER else "customer"


def side_note(name: str, entity: str) -> str:
    """What the user is told about the second record."""
    return (f"{name} is also a {_label(entity)}: QuickBooks keeps that side as the {_label(entity)} "
            f"\u201c{side_name(name, entity)}\u201d (names are unique across customers and suppliers).")
