"""Contacts, items and accounts: the reference data documents point at.

Each ``save_*`` takes the books, one submitted element and a ``Ctx``, and returns the stored record
or the list of validation messages; nothing is changed unless the list is empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..json_types import JSONObject, Record
from .books import Collection, XeroBooks
from .seed import ACCOUNT_CLASS
from .serial import new_id, render, to_decimal, utcnow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Ctx:
    """Per-request options a save needs."""
    create_only: bool = False       # PUT: never update an existing record
    path_id: str | None = None      # POST /Things/{id}
    unitdp: int = 2
    now: datetime = field(default_factory=utcnow)


def find(coll: Mapping[str, Record], value: str | None, *keys: str, active_only: bool = False) -> Record | None:
    """Look a record up by id, or by any of ``keys`` (case-insensitive), as Xero resolves references."""
    if not value:
        return None
    rec = coll.get(value)
    if rec is None:
        low = str(value).lower()
        rec = next((r for r in coll.values() if any(str(r.get(k, "")).lower() == low for k in keys)
                    and (not active_only or r.get("Status", r.get("ContactStatus")) != "ARCHIVED")), None)
    return rec


def unknown_tax_type(tax_type: str) -> str:
    return f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."


# --- contacts -----------------------------------------------------------------------------------

_CONTACT_REF_FIELDS = ("ContactID", "Name", "ContactStatus", "EmailAddress", "FirstName", "LastName", "AccountNumber",
                       "IsSupplier", "IsCustomer", "UpdatedDateUTC")


def contact_ref(contact: Record) -> Record:
    """The contact as it is embedded in documents."""
    ref: Record = {k: contact[k] for k in _CONTACT_REF_FIELDS if k in contact}
    ref.update({"Addresses": contact.get("Addresses", []), "Phones": contact.get("Phones", []),
                "ContactGroups": [], "ContactPersons": [], "HasValidationErrors": False})
    return ref


# Expedo's list of Xero errors quotes it; merged contacts are archived too (MergedToContactID names where to).
ARCHIVED = ("The contact with the specified contact details has been archived. The contact must be un-archived "
            "before creating new invoices or credit notes.")


def _usable(c: Record) -> tuple[Record | None, list[str]]:
    return (c, []) if c.get("ContactStatus", "ACTIVE") == "ACTIVE" else (None, [ARCHIVED])


def resolve_contact(books: XeroBooks, el: JSONObject | None, ctx: Ctx) -> tuple[Record | None, list[str]]:
    """A document's Contact: by ContactID (must exist), else by Name (created if new, as Xero does).
    An archived (or merged) contact is refused, however it is named."""
    el = el or {}
    cid, name = el.get("ContactID"), (el.get("Name") or "").strip()
    if cid:
        c = books["contacts"].get(cid)
        return _usable(c) if c else (None, ["Contact could not be found"])  # sic: real wording varies
    if el.get("ContactNumber"):
        c = find(books["contacts"], el["ContactNumber"], "ContactNumber")
        if c:
            return _usable(c)
    if name:
        c = find(books["contacts"], name, "Name", active_only=True) or find(books["contacts"], name, "Name")
        if c:
            return _usable(c)
        c, errors = save_contact(books, {"Name": name}, Ctx(create_only=True, now=ctx.now))
        return c, errors
    return None, ["A Contact must be specified for this type of transaction"]


def save_contact(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    contacts = books["contacts"]
    cid = ctx.path_id or el.get("ContactID")
    existing = None
    if cid and not ctx.create_only:
        existing = contacts.get(cid)
        if existing is None:
            return None, ["Contact could not be found"]
    errors: list[str] = []
    name = (el.get("Name") if "Name" in el else (existing or {}).get("Name")) or ""
    name = name.strip()
    status_after = el.get("ContactStatus", (existing or {}).get("ContactStatus", "ACTIVE"))
    if not name:
        errors.append("The contact name must be specified.")
    elif len(name) > 255:
        errors.append("The contact name must not exceed 255 characters.")
    elif status_after == "ACTIVE":
        clash = next((c for c in contacts.values() if c["Name"].lower() == name.lower()
                      and c["ContactStatus"] == "ACTIVE" and c is not existing), None)
        if clash:
            errors.append(f"The contact name {name} is already assigned to another contact. "
                          "The contact name must be unique across all active contacts.")
    account_number = str((el.get("AccountNumber") if "AccountNumber" in el else (existing or {}).get("AccountNumber"))
                         or "").strip()
    if account_number and any(str(c.get("AccountNumber") or "").lower() == account_number.lower()
                              and c is not existing for c in contacts.values()):
        # Xero keeps AccountNumber unique (xero-php issue #880 quotes the message).
        errors.append("The Account Number already exists. Please enter a different Account Number.")
    email = el.get("EmailAddress")
    if email and not _EMAIL.match(email):
        errors.append("Email address must be valid.")
    status = el.get("ContactStatus", (existing or {}).get("ContactStatus", "ACTIVE"))
    if status not in ("ACTIVE", "ARCHIVED"):
        errors.append(f"ContactStatus '{status}' is not valid.")
    if existing is not None and existing.get("MergedToContactID") and status == "ACTIVE":
        errors.append("A merged contact cannot be restored.")
    if errors:
        return None, errors
    rec: Record = existing if existing is not None else {
        "ContactID": new_id(), "ContactStatus": "ACTIVE", "IsSupplier": False, "IsCustomer": False,
        "Addresses": [], "Phones": [], "ContactGroups": [], "ContactPersons": [], "HasAttachments": False,
        "HasValidationErrors": False,
    }
    for key in ("FirstName", "LastName", "EmailAddress", "AccountNumber", "ContactNumber", "TaxNumber",
                "CompanyNumber", "Addresses", "Phones", "DefaultCurrency", "Website"):
        if key in el:
            rec[key] = el[key]
    rec["Name"], rec["ContactStatus"], rec["UpdatedDateUTC"] = name, status, ctx.now
    contacts[rec["ContactID"]] = rec
    return rec, []


def merge_contacts(books: XeroBooks, from_id: str, to_id: str, now: datetime) -> list[str]:
    """What Xero's Merge does (in its web app only; the API cannot): every transaction of ``from_id`` moves
    to ``to_id``, and ``from_id`` is archived, keeping ``MergedToContactID`` (spec, Contact)."""
    contacts = books["contacts"]
    source, target = contacts.get(from_id), contacts.get(to_id)
    if source is None or target is None or source is target:
        return ["Both contacts must exist and differ"]
    if target.get("ContactStatus") != "ACTIVE":
        return ["The contact merged into must be active"]
    ref = contact_ref(target)
    moving: tuple[Collection, ...] = ("invoices", "credit_notes", "overpayments", "prepayments", "bank_transactions")
    for coll in moving:
        for doc in books[coll].values():
            if doc.get("Contact", {}).get("ContactID") == from_id:
                doc["Contact"], doc["UpdatedDateUTC"] = ref, now
    for pay in books["payments"].values():
        for link in ("Invoice", "CreditNote", "Overpayment", "Prepayment"):
            if (pay.get(link) or {}).get("Contact", {}).get("ContactID") == from_id:
                pay[link]["Contact"] = {"ContactID": to_id, "Name": target["Name"]}
    for flag in ("IsCustomer", "IsSupplier"):
        target[flag] = bool(target.get(flag) or source.get(flag))
    source.update({"ContactStatus": "ARCHIVED", "MergedToContactID": to_id, "UpdatedDateUTC": now})
    target["UpdatedDateUTC"] = now
    return []


def render_contact(books: XeroBooks, rec: Record, detailed: bool = True) -> JSONObject:
    """MergedToContactID is "only returned when using paging or when fetching a contact by ContactId or
    ContactNumber" (spec, Contact): ``detailed`` is that case."""
    return render({k: v for k, v in rec.items() if detailed or k != "MergedToContactID"})


# --- items --------------------------------------------------------------------------------------

def _details(books: XeroBooks, el: JSONObject | None, errors: list[str], label: str) -> JSONObject | None:
    if not el:
        return None
    out: JSONObject = {}
    try:
        if el.get("UnitPrice") is not None:
            out["UnitPrice"] = to_decimal(el["UnitPrice"])
    except ValueError as exc:
        errors.append(str(exc))
    for key in ("AccountCode", "COGSAccountCode"):
        code = el.get(key)
        if code:
            acc = find(books["accounts"], code, "Code")
            if acc is None:
                errors.append(f"Account code '{code}' is not a valid code for {label}.")
            out[key] = code
    if el.get("TaxType"):
        if el["TaxType"] not in books["tax_rates"]:
            errors.append(unknown_tax_type(el["TaxType"]))
        out["TaxType"] = el["TaxType"]
    return out


def save_item(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    items = books["items"]
    iid = ctx.path_id or el.get("ItemID")
    existing = None
    if iid and not ctx.create_only:
        existing = items.get(iid) or find(items, iid, "Code")
        if existing is None:
            return None, ["Item could not be found"]
    elif el.get("Code") and not ctx.create_only:
        existing = find(items, el["Code"], "Code")  # POST /Items matches on Code, as Xero does
    errors: list[str] = []
    code = (el.get("Code") or (existing or {}).get("Code") or "").strip()
    if not code:
        errors.append("Item Code must be specified.")
    elif len(code) > 30:
        errors.append("Item Code must not exceed 30 characters.")
    elif any(i["Code"].lower() == code.lower() and i is not existing for i in items.values()):
        errors.append(f"Item code '{code}' already exists")
    sales = _details(books, el.get("SalesDetails"), errors, "sales")
    purchase = _details(books, el.get("PurchaseDetails"), errors, "purchases")
    tracked = bool(el.get("IsTrackedAsInventory") or el.get("InventoryAssetAccountCode")
                   or (existing or {}).get("IsTrackedAsInventory"))
    if tracked and el.get("InventoryAssetAccountCode"):
        acc = find(books["accounts"], el["InventoryAssetAccountCode"], "Code")
        if acc is None or acc["Type"] != "INVENTORY":
            errors.append("The inventory asset account must be an account of type Inventory.")
    if errors:
        return None, errors
    rec: Record = existing if existing is not None else {
        "ItemID": new_id(), "IsSold": True, "IsPurchased": True, "IsTrackedAsInventory": False,
        "SalesDetails": {}, "PurchaseDetails": {}, "ValidationErrors": [],
    }
    for key in ("Name", "Description", "PurchaseDescription", "IsSold", "IsPurchased", "InventoryAssetAccountCode"):
        if key in el:
            rec[key] = el[key]
    if sales is not None:
        rec["SalesDetails"] = sales
    if purchase is not None:
        rec["PurchaseDetails"] = purchase
    rec["Code"], rec["IsTrackedAsInventory"], rec["UpdatedDateUTC"] = code, tracked, ctx.now
    rec.setdefault("Name", code)
    if tracked:
        rec.setdefault("QuantityOnHand", to_decimal("0"))
        rec.setdefault("TotalCostPool", to_decimal("0"))
    items[rec["ItemID"]] = rec
    return rec, []


# --- accounts -----------------------------------------------------------------------------------

def save_account(books: XeroBooks, el: JSONObject, ctx: Ctx) -> tuple[Record | None, list[str]]:
    accounts = books["accounts"]
    aid = ctx.path_id or el.get("AccountID")
    existing = accounts.get(aid) if aid and not ctx.create_only else None
    if aid and not ctx.create_only and existing is None:
        return None, ["Account could not be found"]
    errors: list[str] = []
    code = (el.get("Code") if "Code" in el else (existing or {}).get("Code")) or ""
    typ = el.get("Type") or (existing or {}).get("Type")
    if typ not in ACCOUNT_CLASS:
        errors.append("Account Type is not valid.")
    if code and any(a["Code"] == code and a is not existing for a in accounts.values()):
        errors.append("Please enter a unique Code.")
    if not (el.get("Name") or (existing or {}).get("Name")):
        errors.append("Please enter a Name.")
    if el.get("TaxType") and el["TaxType"] not in books["tax_rates"]:
        errors.append(unknown_tax_type(el["TaxType"]))
    status = el.get("Status", (existing or {}).get("Status", "ACTIVE"))
    if status not in ("ACTIVE", "ARCHIVED"):
        errors.append(f"Status '{status}' is not valid for an account.")
    if existing and existing.get("SystemAccount") and status == "ARCHIVED":
        errors.append("System accounts cannot be archived.")
    if errors:
        return None, errors
    rec: Record = existing if existing is not None else {
        "AccountID": new_id(), "Status": "ACTIVE", "TaxType": "NONE", "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": False, "HasAttachments": False, "AddToWatchlist": False, "ReportingCode": "",
    }
    for key in ("Code", "Name", "Type", "TaxType", "Description", "BankAccountNumber", "EnablePaymentsToAccount",
                "ShowInExpenseClaims", "CurrencyCode"):
        if key in el:
            rec[key] = el[key]
    rec["Status"], rec["Class"], rec["UpdatedDateUTC"] = status, ACCOUNT_CLASS[rec["Type"]], ctx.now
    if rec["Type"] == "BANK":
        rec["EnablePaymentsToAccount"] = True
        rec.setdefault("BankAccountType", "BANK")
        rec.setdefault("CurrencyCode", "GBP")
    accounts[rec["AccountID"]] = rec
    return rec, []
