"""Validation and derived amounts for each writable entity, as QBO applies them.

``prepare`` turns a request body into the stored form: read-only fields dropped, references checked
(2500), names and document numbers kept unique (6240/6140), lines priced and taxed per line, totals
recomputed. Balances that payments move are derived by ``Books`` as it stores the write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeAlias

from ..json_types import Record
from . import errors
from .store import Books

Preparer: TypeAlias = Callable[[Record, Record | None], Record]
"""(submitted object, stored object it replaces or None) -> the object to store."""

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
READ_ONLY = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status", "Balance", "BalanceWithJobs",
             "TotalAmt", "HomeTotalAmt", "HomeBalance", "RemainingCredit", "UnappliedAmt", "LinkedTxn",
             "TxnTaxDetail", "FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"}
# Payments carry TotalAmt as input; documents have it computed.
PAYMENT_INPUT = {"TotalAmt", "LinkedTxn"}
ITEM_TYPES = {"Inventory", "Service", "NonInventory"}
ACCOUNT_TYPES = {"Bank", "Other Current Asset", "Fixed Asset", "Other Asset", "Accounts Receivable", "Equity",
                 "Expense", "Other Expense", "Cost of Goods Sold", "Accounts Payable", "Credit Card",
                 "Long Term Liability", "Other Current Liabilities", "Income", "Other Income"}
GBP = {"value": "GBP", "name": "British Pound Sterling"}


def money(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any, element: str) -> Decimal:
    """Accept what python-quickbooks sends (strings) and what others send (JSON numbers)."""
    if isinstance(value, bool) or value is None:
        raise errors.invalid_value(element, f"{element}: a number is required")
    try:
        d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise errors.invalid_value(element, f"{element}: {value!r} is not a number") from None
    if not d.is_finite():
        raise errors.invalid_value(element, f"{element}: {value!r} is not a number")
    return d


def clean(value: Any) -> Any:
    """Drop None and "" members: the SDK sends every unset attribute as a default ("" or None)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items() if v is not None and v != ""}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def ref_id(obj: dict[str, Any] | None, key: str) -> str | None:
    ref = (obj or {}).get(key)
    if isinstance(ref, dict):
        ref = ref.get("value")
    return None if ref in (None, "") else str(ref)


def parse_date(value: Any, element: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise errors.invalid_value(element, f"{element}: {value!r} is not a date (YYYY-MM-DD)") from None


class Rules:
    """QBO's checks and derived fields for each writable entity, over one company's books."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self._preparers: dict[str, Preparer] = {
            "Customer": self._prepare_customer, "Vendor": self._prepare_vendor, "Item": self._prepare_item,
            "Account": self._prepare_account, "CreditMemo": self._prepare_creditmemo, "Bill": self._prepare_bill,
            "VendorCredit": self._prepare_vendorcredit, "Payment": self._prepare_payment,
            "BillPayment": self._prepare_billpayment,
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
        if kind == "Invoice":
            return self._prepare_invoice(obj, existing, allow_duplicate_docnum)
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
        obj["CurrencyRef"] = GBP
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

    def _lines(self, obj: dict[str, Any], sales: bool) -> None:
        """Price, tax and number the lines; set TotalAmt and TxnTaxDetail (tax rounded per line)."""
        lines = obj.get("Line")
        if not lines:
            raise errors.required_param("Line")
        mode = obj.get("GlobalTaxCalculation") or "TaxExcluded"
        if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise errors.invalid_value("GlobalTaxCalculation", f"GlobalTaxCalculation {mode!r} is not valid")
        obj["GlobalTaxCalculation"] = mode
        out: list[Record] = []
        net_total = ZERO
        taxes: dict[str, list[Decimal]] = {}  # tax rate id -> [percent, tax, net amount taxed]
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
                qty = dec(detail.get("Qty", 0), f"{el}.Qty")
                price = dec(detail.get("UnitPrice", 0), f"{el}.UnitPrice")
                if qty and price:
                    priced = money(qty * price)
                    if amount and money(amount) != priced:
                        raise errors.business(f"Amount calculation incorrect in the request: Amount is not equal "
                                              f"to UnitPrice * Qty. Supplied value:{amount}", "Line.Amount")
                    amount = priced
                if "Qty" in detail:
                    detail["Qty"] = qty
                if "UnitPrice" in detail:
                    detail["UnitPrice"] = price
            amount = money(amount)
            tax = ZERO
            if mode != "NotApplicable":
                code_ref = self.ref("TaxCode", detail, "TaxCodeRef", f"{el}.TaxCodeRef")
                if code_ref is None:
                    raise errors.business("Make sure all your transactions have a VAT rate before you save.",
                                          f"{el}.TaxCodeRef")
                detail["TaxCodeRef"] = {"value": code_ref["value"]}
                rate = self._tax_rate(code_ref, sales)
                if rate is not None:
                    rate_id, pct = rate
                    if mode == "TaxInclusive":  # *unconfirmed*: Amount sent gross, stored net
                        gross = amount
                        tax = money(gross * pct / (100 + pct))
                        amount = gross - tax
                        detail["TaxInclusiveAmt"] = gross
                    else:
                        tax = money(amount * pct / 100)
                    bucket = taxes.setdefault(rate_id, [pct, ZERO, ZERO])
                    bucket[1] += tax
                    bucket[2] += amount
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
        total_tax = sum((b[1] for b in taxes.values()), ZERO)
        obj["Line"] = out
        obj["TxnTaxDetail"] = {"TotalTax": total_tax, "TaxLine": [
            {"Amount": t, "DetailType": "TaxLineDetail",
             "TaxLineDetail": {"TaxRateRef": {"value": rid}, "PercentBased": True, "TaxPercent": pct,
                               "NetAmountTaxable": net}}
            for rid, (pct, t, net) in taxes.items()]}
        obj["TotalAmt"] = net_total + total_tax

    def _dates(self, obj: dict[str, Any], due_days: int | None) -> None:
        today = self.books.now().date()
        obj["TxnDate"] = parse_date(obj.get("TxnDate", today.isoformat()), "TxnDate")
        if due_days is not None:
            due = obj.get("DueDate") or (date.fromisoformat(obj["TxnDate"]) + timedelta(days=due_days)).isoformat()
            obj["DueDate"] = parse_date(due, "DueDate")

    def _sales_doc(self, kind: str, obj: Record, existing: Record | None, check_docnum: bool) -> Record:
        obj["CustomerRef"] = self.ref("Customer", obj, "CustomerRef", "CustomerRef", required=True,
                                      name_field="DisplayName")
        self._dates(obj, 30 if kind == "Invoice" else None)
        self._lines(obj, sales=True)
        doc = obj.get("DocNumber") or (existing or {}).get("DocNumber") or self.books.next_doc_number(kind)
        if len(str(doc)) > 21:
            raise errors.invalid_value("DocNumber", "DocNumber is longer than 21 characters")
        obj["DocNumber"] = str(doc)
        if check_docnum:
            holders = self.books.holders(f"{kind}#doc", obj["DocNumber"])
            holders.discard((kind, existing["Id"]) if existing else None)
            if holders:
                raise errors.duplicate_doc_num(obj["DocNumber"], kind, min(h[1] for h in holders))
        obj["CurrencyRef"] = GBP
        obj["ExchangeRate"] = Decimal("1")
        return obj

    def _prepare_invoice(self, obj: Record, existing: Record | None, allow_duplicate_docnum: bool = False) -> Record:
        return self._sales_doc("Invoice", obj, existing, not allow_duplicate_docnum)

    def _prepare_creditmemo(self, obj: Record, existing: Record | None) -> Record:
        return self._sales_doc("CreditMemo", obj, existing, False)

    def _purchase_doc(self, kind: str, obj: Record, existing: Record | None) -> Record:
        obj["VendorRef"] = self.ref("Vendor", obj, "VendorRef", "VendorRef", required=True, name_field="DisplayName")
        ap = self.ref("Account", obj, "APAccountRef", "APAccountRef") or {"value": "10",
                                                                          "name": "Accounts Payable (Creditors)"}
        obj["APAccountRef"] = ap
        self._dates(obj, 30 if kind == "Bill" else None)
        self._lines(obj, sales=False)
        obj["CurrencyRef"] = GBP
        obj["ExchangeRate"] = Decimal("1")
        return obj

    def _prepare_bill(self, obj: Record, existing: Record | None) -> Record:
        return self._purchase_doc("Bill", obj, existing)

    def _prepare_vendorcredit(self, obj: Record, existing: Record | None) -> Record:
        return self._purchase_doc("VendorCredit", obj, existing)

    # --- payments --------------------------------------------------------------------------------
    def _apply_lines(self, kind: str, obj: Record, existing: Record | None, party_key: str,
                     doc_kinds: dict[str, int]) -> tuple[list[Record], Decimal, Decimal]:
        """Check LinkedTxn lines; returns (lines, net applied, excess beyond document balances).

        ``doc_kinds`` maps a linkable TxnType to +1 (a debt the payment settles) or -1 (a credit used).
        """
        me = (kind, existing["Id"]) if existing else None
        left: dict[tuple[str, str], Decimal] = {}
        out, net, excess = [], ZERO, ZERO
        for n, line in enumerate(obj.get("Line") or [], start=1):
            amount = money(dec(line.get("Amount", 0), "Line.Amount"))
            linked = line.get("LinkedTxn") or []
            if len(linked) != 1:
                raise errors.business(f"Line {n}: a payment line must link exactly one transaction",
                                      "Line.LinkedTxn")
            txn_type, txn_id = linked[0].get("TxnType"), str(linked[0].get("TxnId", ""))
            if txn_type not in doc_kinds:
                raise errors.business(f"Line {n}: cannot link a {txn_type} here; use one of {sorted(doc_kinds)}",
                                      "Line.LinkedTxn.TxnType")
            doc = self.books.find(txn_type, txn_id)
            if doc is None:
                raise errors.invalid_reference("Line.LinkedTxn.TxnId", txn_id, "Transaction")
            if doc[party_key]["value"] != obj[party_key]["value"]:
                raise errors.business(f"Line {n}: {txn_type} {txn_id} belongs to someone else", "Line.LinkedTxn")
            key = (txn_type, txn_id)
            if key not in left:
                left[key] = doc["TotalAmt"] - self.books.applied_to(key, exclude=me)
            if amount < 0:
                raise errors.business(f"Line {n}: the amount cannot be negative", "Line.Amount")
            if amount > left[key]:
                if doc_kinds[txn_type] > 0 and kind == "Payment":
                    # QBO keeps an over-application as credit on the payment (UnappliedAmt).
                    excess += amount - left[key]
                    amount = left[key]
                else:
                    raise errors.business(f"Line {n}: {txn_type} {txn_id} has only {left[key]} open", "Line.Amount")
            left[key] -= amount
            if amount == 0 and excess:
                continue
            out.append({"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]})
            net += amount * doc_kinds[txn_type]
        return out, net, excess

    def _prepare_payment(self, obj: Record, existing: Record | None) -> Record:
        obj["CustomerRef"] = self.ref("Customer", obj, "CustomerRef", "CustomerRef", required=True,
                                      name_field="DisplayName")
        if "TotalAmt" not in obj:
            raise errors.required_param("TotalAmt")
        total = money(dec(obj["TotalAmt"], "TotalAmt"))
        if total < 0:
            raise errors.business("The payment amount cannot be negative", "TotalAmt")
        lines, net, _excess = self._apply_lines("Payment", obj, existing, "CustomerRef",
                                                {"Invoice": 1, "CreditMemo": -1})
        if net < 0:
            raise errors.business("More credit is applied than the invoices it is applied to", "Line")
        if net > total:
            raise errors.business(f"The amount applied ({net}) is more than the payment amount ({total})", "TotalAmt")
        obj["Line"] = lines
        obj["TotalAmt"] = total
        obj["UnappliedAmt"] = total - net
        obj["DepositToAccountRef"] = self.ref("Account", obj, "DepositToAccountRef", "DepositToAccountRef") or {
            "value": "9", "name": "Undeposited Funds"}
        obj["ARAccountRef"] = self.ref("Account", obj, "ARAccountRef", "ARAccountRef") or {
            "value": "7", "name": "Accounts Receivable (Debtors)"}
        obj["TxnDate"] = parse_date(obj.get("TxnDate", self.books.now().date().isoformat()), "TxnDate")
        obj["CurrencyRef"] = GBP
        obj["ExchangeRate"] = Decimal("1")
        obj.setdefault("ProcessPayment", False)
        return obj

    def _prepare_billpayment(self, obj: Record, existing: Record | None) -> Record:
        obj["VendorRef"] = self.ref("Vendor", obj, "VendorRef", "VendorRef", required=True, name_field="DisplayName")
        pay_type = obj.get("PayType")
        if pay_type not in ("Check", "CreditCard"):
            raise errors.required_param("PayType") if not pay_type else errors.invalid_value(
                "PayType", f"PayType {pay_type!r} must be Check or CreditCard")
        if pay_type == "Check":
            cp = obj.get("CheckPayment") or {}
            cp["BankAccountRef"] = self.ref("Account", cp, "BankAccountRef", "CheckPayment.BankAccountRef",
                                            required=True)
            cp.setdefault("PrintStatus", "NotSet")
            obj["CheckPayment"] = cp
            obj.pop("CreditCardPayment", None)
        else:
            cc = obj.get("CreditCardPayment") or {}
            cc["CCAccountRef"] = self.ref("Account", cc, "CCAccountRef", "CreditCardPayment.CCAccountRef",
                                          required=True)
            obj["CreditCardPayment"] = cc
            obj.pop("CheckPayment", None)
        if "TotalAmt" not in obj:
            raise errors.required_param("TotalAmt")
        total = money(dec(obj["TotalAmt"], "TotalAmt"))
        lines, net, _ = self._apply_lines("BillPayment", obj, existing, "VendorRef", {"Bill": 1, "VendorCredit": -1})
        if net > total or net < 0:
            raise errors.business(f"The amount applied ({net}) does not fit the payment amount ({total})", "TotalAmt")
        obj["Line"] = lines
        obj["TotalAmt"] = total
        obj["APAccountRef"] = self.ref("Account", obj, "APAccountRef", "APAccountRef") or {
            "value": "10", "name": "Accounts Payable (Creditors)"}
        obj["TxnDate"] = parse_date(obj.get("TxnDate", self.books.now().date().isoformat()), "TxnDate")
        obj["CurrencyRef"] = GBP
        return obj
