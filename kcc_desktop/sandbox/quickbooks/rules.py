"""Validation and derived amounts for each writable entity, as QBO applies them.

``prepare`` turns a request body into the stored form: read-only fields dropped, references checked
(2500), names and document numbers kept unique (6240/6140), lines priced, tax worked out per rate
(``tax.py``), totals recomputed, the company's settings applied (``company.py``: closing date, custom
transaction numbers, currencies). Payments are checked in ``payment_rules.py``. Balances that payments
move are derived by ``Books`` as it stores the write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeAlias

from ..json_types import Record
from . import errors, payment_rules
from .company import CompanySettings
from .errors import QboFault
from .rules_values import (
    ACCOUNT_TYPES,
    GBP,
    ITEM_TYPES,
    PAYMENT_INPUT,
    READ_ONLY,
    ZERO,
    clean,
    dec,
    money,
    parse_date,
    ref_id,
)
from .store import Books
from .tax import TaxWork, tax_detail

Preparer: TypeAlias = Callable[[Record, Record | None], Record]
"""(submitted object, stored object it replaces or None) -> the object to store."""

DOC_NUMBER_MAX = 21
# Which DocNumbers must be unique, and among what: sales forms across their own type, bills and supplier
# credits per vendor (QuickBooks' "warn if duplicate bill number" default); include=allowduplicatedocnum
# lets a duplicate through. *unconfirmed* beyond Invoice, where Intuit documents 6140 and the include.
DUPLICATE_SCOPE = {"Invoice": "type", "CreditMemo": "type", "Bill": "vendor", "VendorCredit": "vendor"}


class Rules:
    """QBO's checks and derived fields for each writable entity, over one company's books."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.company = CompanySettings(books)
        self._preparers: dict[str, Preparer] = {
            "Customer": self._prepare_customer, "Vendor": self._prepare_vendor, "Item": self._prepare_item,
            "Account": self._prepare_account,
            "Payment": lambda obj, existing: payment_rules.prepare_payment(self, obj, existing),
            "BillPayment": lambda obj, existing: payment_rules.prepare_billpayment(self, obj, existing),
        }

    # --- references ------------------------------------------------------------------------------
    def ref(self, kind: str, obj: dict[str, Any], key: str, element: str, required: bool = False,
            name_field: str | None = "Name") -> dict[str, Any] | None:
        """Check a reference and return its stored ``{value, name}`` form (QBO fills in names)."""
        rid = ref_id(obj, key)
        if rid is None:
            if required:
                raise errors.required_param(element)
            return None
        target = self.books.find(kind, rid)
        if target is None or (target.get("Active") is False and kind != "Account"):
            raise errors.invalid_reference(element, rid, "Names" if kind in ("Customer", "Vendor") else kind)
        out = {"value": rid}
        if name_field and target.get(name_field):
            out["name"] = target[name_field]
        return out

    # --- entry point -----------------------------------------------------------------------------
    def prepare(self, kind: str, data: dict[str, Any], existing: dict[str, Any] | None = None,
                allow_duplicate_docnum: bool = False) -> dict[str, Any]:
        readonly = READ_ONLY - PAYMENT_INPUT if kind in ("Payment", "BillPayment") else READ_ONLY
        obj: Record = clean({k: copy.deepcopy(v) for k, v in data.items() if k not in readonly})
        obj.pop("LinkedTxn", None)
        if kind in DUPLICATE_SCOPE:
            return self._prepare_document(kind, obj, existing, allow_duplicate_docnum, data.get("TxnTaxDetail"))
        prepare = self._preparers.get(kind)
        if prepare is None:
            raise errors.unsupported(f"Operation create/update is not supported for {kind}")
        return prepare(obj, existing)

    # --- names -----------------------------------------------------------------------------------
    def _unique_name(self, group: str, name: str, existing: Record | None, own_kind: str) -> None:
        holders = self.books.holders(group, name)
        if existing is not None:
            holders.discard((own_kind, existing["Id"]))
        if holders:
            raise errors.duplicate_name(name)

    def _party(self, kind: str, obj: Record, existing: Record | None) -> Record:
        display = obj.get("DisplayName") or obj.get("CompanyName") or " ".join(
            str(obj[p]) for p in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix") if obj.get(p))
        if not display:
            raise errors.required_param("DisplayName")
        if ":" in display:
            raise errors.invalid_value("DisplayName", "DisplayName cannot contain a colon (:)")
        # DisplayName is unique across customers and vendors (and employees, which we don't serve).
        self._unique_name("name", display, existing, kind)
        obj["DisplayName"] = display
        obj.setdefault("PrintOnCheckName", obj.get("CompanyName") or display)
        obj.setdefault("Active", True)
        obj["CurrencyRef"] = self._party_currency(obj, existing)
        obj["Balance"] = existing.get("Balance", ZERO) if existing else ZERO
        if kind == "Customer":
            obj["FullyQualifiedName"] = display
        return obj

    def _prepare_customer(self, obj: Record, existing: Record | None) -> Record:
        return self._party("Customer", obj, existing)

    def _prepare_vendor(self, obj: Record, existing: Record | None) -> Record:
        return self._party("Vendor", obj, existing)

    def _prepare_item(self, obj: Record, existing: Record | None) -> Record:
        name = obj.get("Name")
        if not name:
            raise errors.required_param("Name")
        self._unique_name("Item", name, existing, "Item")
        obj["FullyQualifiedName"] = name
        obj["Type"] = obj.get("Type") or "Service"
        if obj["Type"] not in ITEM_TYPES:
            raise errors.invalid_value("Type", f"Type {obj['Type']!r} is not one of {sorted(ITEM_TYPES)}")
        for key in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
            r = self.ref("Account", obj, key, key, required=obj["Type"] == "Inventory")
            if r:
                obj[key] = r
            else:
                obj.pop(key, None)
        if obj["Type"] == "Inventory":
            obj["TrackQtyOnHand"] = True
            obj["QtyOnHand"] = dec(obj.get("QtyOnHand", 0), "QtyOnHand")
            if "InvStartDate" not in obj:
                raise errors.required_param("InvStartDate")
            obj["InvStartDate"] = parse_date(obj["InvStartDate"], "InvStartDate")
        elif obj["Type"] == "Service" and "IncomeAccountRef" not in obj and "ExpenseAccountRef" not in obj:
            raise errors.business("An item must have an income or expense account", "IncomeAccountRef")
        for key in ("SalesTaxCodeRef", "PurchaseTaxCodeRef"):
            r = self.ref("TaxCode", obj, key, key)
            if r:
                obj[key] = r
        for key in ("UnitPrice", "PurchaseCost"):
            if key in obj:
                obj[key] = dec(obj[key], key)
        obj.setdefault("Active", True)
        return obj

    def _prepare_account(self, obj: Record, existing: Record | None) -> Record:
        name = obj.get("Name")
        if not name:
            raise errors.required_param("Name")
        self._unique_name("Account", name, existing, "Account")
        if obj.get("AccountType") not in ACCOUNT_TYPES:
            if not obj.get("AccountType"):
                raise errors.required_param("AccountType")
            raise errors.invalid_value("AccountType", f"AccountType {obj['AccountType']!r} is not valid")
        obj["FullyQualifiedName"] = name
        obj.setdefault("Active", True)
        obj.setdefault("SubAccount", False)
        obj["CurrentBalance"] = existing.get("CurrentBalance", ZERO) if existing else ZERO
        obj["CurrencyRef"] = GBP
        return obj

    # --- documents -------------------------------------------------------------------------------
    def _tax_rate(self, code_ref: dict[str, Any], sales: bool) -> tuple[str, Decimal] | None:
        code = self.books.get("TaxCode", code_ref["value"])
        lst = code.get("SalesTaxRateList" if sales else "PurchaseTaxRateList") or {}
        details = lst.get("TaxRateDetail") or []
        if not details:
            return None
        rate_id = details[0]["TaxRateRef"]["value"]
        return rate_id, self.books.get("TaxRate", rate_id)["RateValue"]

    def _lines(self, obj: dict[str, Any], sales: bool, sent_tax: Any) -> None:
        """Price and number the lines; set TotalAmt and TxnTaxDetail (tax per rate, see ``tax.py``)."""
        lines = obj.get("Line")
        if not lines:
            raise errors.required_param("Line")
        mode = obj.get("GlobalTaxCalculation") or "TaxExcluded"
        if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise errors.invalid_value("GlobalTaxCalculation", f"GlobalTaxCalculation {mode!r} is not valid")
        obj["GlobalTaxCalculation"] = mode
        out: list[Record] = []
        net_total = ZERO
        work = TaxWork()
        for n, line in enumerate(lines, start=1):
            dt = line.get("DetailType")
            if dt in ("SubTotalLineDetail", "SubtotalLineDetail"):
                continue  # QBO writes its own subtotal line
            if dt == "DescriptionOnly":
                out.append({"Description": line.get("Description", ""), "DetailType": dt,
                            "DescriptionLineDetail": line.get("DescriptionLineDetail", {})})
                continue
            allowed = (("SalesItemLineDetail",) if sales
                       else ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"))
            if dt not in allowed:
                raise errors.business(f"Line {n}: DetailType {dt!r} is not supported here; use one of {allowed}",
                                      "Line.DetailType")
            detail = dict(line.get(dt) or {})
            el = f"Line.{dt}"
            if dt == "AccountBasedExpenseLineDetail":
                if not ref_id(detail, "AccountRef"):
                    raise errors.business(f"Line {n}: every line needs an account", f"{el}.AccountRef")
                detail["AccountRef"] = self.ref("Account", detail, "AccountRef", f"{el}.AccountRef")
            else:
                if not ref_id(detail, "ItemRef"):
                    raise errors.business(f"Line {n}: every line needs a product or service", f"{el}.ItemRef")
                detail["ItemRef"] = self.ref("Item", detail, "ItemRef", f"{el}.ItemRef")
            amount = dec(line.get("Amount", 0), "Line.Amount")
            if dt != "AccountBasedExpenseLineDetail":
                amount = self._priced(detail, amount, el)
            amount = money(amount)
            if mode != "NotApplicable":
                code_ref = self.ref("TaxCode", detail, "TaxCodeRef", f"{el}.TaxCodeRef")
                if code_ref is None:
                    raise errors.business("Make sure all your transactions have a VAT rate before you save.",
                                          f"{el}.TaxCodeRef")
                detail["TaxCodeRef"] = {"value": code_ref["value"]}
                rate = self._tax_rate(code_ref, sales)
                if rate is not None:
                    rate_id, pct = rate
                    inclusive_tax = ZERO
                    if mode == "TaxInclusive":  # *unconfirmed*: Amount sent gross, stored net
                        gross = amount
                        inclusive_tax = money(gross * pct / (100 + pct))
                        amount = gross - inclusive_tax
                        detail["TaxInclusiveAmt"] = gross
                    work.add(rate_id, pct, amount, inclusive_tax)
            if mode != "TaxInclusive":
                detail.pop("TaxInclusiveAmt", None)  # the SDK sends 0 by default
            out.append({"Id": str(len(out) + 1), "LineNum": len(out) + 1, "Description": line.get("Description"),
                        "Amount": amount, "DetailType": dt, dt: clean(detail)})
            net_total += amount
        for i, line in enumerate(out, start=1):
            line.setdefault("Id", str(i))
            if line.get("Description") is None:
                line.pop("Description", None)
        if sales:
            out.append({"Amount": net_total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        obj["Line"] = out
        obj["TxnTaxDetail"], total_tax = tax_detail(work, sent_tax, mode == "TaxInclusive", dec)
        obj["TotalAmt"] = net_total + total_tax

    @staticmethod
    def _priced(detail: dict[str, Any], amount: Decimal, el: str) -> Decimal:
        """Amount must be Qty x UnitPrice rounded to the penny (error 6070 otherwise).

        QuickBooks multiplies in binary floating point before it rounds (our reading of the recorded case
        23 x 1.755, exactly 40.365 but 40.364999... in a double: QuickBooks wants 40.36 and refuses 40.37);
        so does the sandbox. The fault is 6070, "Amount is not equal to UnitPrice * Qty" (as integrators quote it;
        Intuit's error list names the code only).
        """
        qty = dec(detail.get("Qty", 0), f"{el}.Qty")
        price = dec(detail.get("UnitPrice", 0), f"{el}.UnitPrice")
        if qty and price:
            priced = Decimal(repr(float(qty) * float(price))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if amount and money(amount) != priced:
                raise QboFault(6070, "Amount is not equal to UnitPrice * Qty",
                               f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                               element="Line.Amount")
            amount = priced
        if "Qty" in detail:
            detail["Qty"] = qty
        if "UnitPrice" in detail:
            detail["UnitPrice"] = price
        return amount

    def _dates(self, obj: dict[str, Any], due_days: int | None) -> None:
        today = self.books.now().date()
        obj["TxnDate"] = parse_date(obj.get("TxnDate", today.isoformat()), "TxnDate")
        if due_days is not None:
            due = obj.get("DueDate") or (date.fromisoformat(obj["TxnDate"]) + timedelta(days=due_days)).isoformat()
            obj["DueDate"] = parse_date(due, "DueDate")
        self.company.check_open(obj["TxnDate"])

    def _prepare_document(self, kind: str, obj: Record, existing: Record | None, allow_dup: bool,
                          sent_tax: Any) -> Record:
        """Invoice, CreditMemo, Bill or VendorCredit; ``sent_tax`` is the TxnTaxDetail the request carried."""
        sales = kind in ("Invoice", "CreditMemo")
        party_kind, party_key = ("Customer", "CustomerRef") if sales else ("Vendor", "VendorRef")
        obj[party_key] = self.ref(party_kind, obj, party_key, party_key, required=True, name_field="DisplayName")
        if not sales:
            obj["APAccountRef"] = self.ref("Account", obj, "APAccountRef", "APAccountRef") or {
                "value": "10", "name": "Accounts Payable (Creditors)"}
        self._dates(obj, 30 if kind in ("Invoice", "Bill") else None)
        self._lines(obj, sales=sales, sent_tax=sent_tax)
        self._doc_number(kind, obj, existing, allow_dup, party_key)
        party = self.books.get(party_kind, obj[party_key]["value"])
        obj["CurrencyRef"], obj["ExchangeRate"] = self.company.currency(obj, party)
        return obj

    def _doc_number(self, kind: str, obj: Record, existing: Record | None, allow_dup: bool, party_key: str) -> None:
        """Sales forms are numbered by QuickBooks when custom transaction numbers are off (what was sent is
        ignored); DocNumber holds at most 21 characters; duplicates as ``DUPLICATE_SCOPE`` says."""
        sales = kind in ("Invoice", "CreditMemo")
        if sales and not self.company.custom_numbers():
            doc = (existing or {}).get("DocNumber") or self.books.next_doc_number(kind)
        elif sales:
            doc = obj.get("DocNumber") or (existing or {}).get("DocNumber") or self.books.next_doc_number(kind)
        else:
            doc = obj.get("DocNumber") or ""
        if len(str(doc)) > DOC_NUMBER_MAX:
            raise errors.invalid_value("DocNumber", f"DocNumber is longer than {DOC_NUMBER_MAX} characters")
        if not doc:
            obj.pop("DocNumber", None)
            return
        obj["DocNumber"] = str(doc)
        if allow_dup:
            return
        holders = self.books.holders(f"{kind}#doc", obj["DocNumber"])
        holders.discard((kind, existing["Id"]) if existing else ("", ""))
        if DUPLICATE_SCOPE[kind] == "vendor":
            holders = {h for h in holders
                       if (self.books.find(*h) or {}).get(party_key, {}).get("value") == obj[party_key]["value"]}
        if holders:
            raise errors.duplicate_doc_num(obj["DocNumber"], kind, min(h[1] for h in holders))

    def _party_currency(self, obj: Record, existing: Record | None) -> dict[str, Any]:
        """A customer's or vendor's currency: set when it is created, never changed afterwards."""
        if existing is not None:
            return dict(existing.get("CurrencyRef") or GBP)
        home = self.company.home_currency()
        sent = obj.get("CurrencyRef")
        code = str((sent.get("value") if isinstance(sent, dict) else sent) or home)
        if code != home and not self.company.multicurrency():
            raise errors.business(f"Multicurrency is not enabled for this company; {code} cannot be used",
                                  "CurrencyRef")
        if code not in self.company.active_currencies():
            raise errors.invalid_reference("CurrencyRef", code, "Currency")
        return {"value": code, "name": GBP["name"] if code == "GBP" else code}
