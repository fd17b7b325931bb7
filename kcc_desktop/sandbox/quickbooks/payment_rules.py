"""Customer receipts (Payment) and supplier payments (BillPayment), as QuickBooks Online checks them.

Sources: Intuit API reference, Payment ("Line: ... the amount applied to the linked transaction"; what is
not applied stays on the payment as ``UnappliedAmt``) and BillPayment. QuickBooks refuses a line that
applies more than its transaction has open, and a line against a transaction with nothing open (a fully
paid invoice): it neither caps the line nor moves the rest to ``UnappliedAmt`` (the wording of the fault is
*unconfirmed*; the refusal is what the issue recorded from a real company). An overpayment is a payment
whose ``TotalAmt`` exceeds what its lines apply; the difference is its ``UnappliedAmt``.

The deposit account may be a bank or Undeposited Funds (QuickBooks' default when none is named), never
another kind of account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from ..json_types import Record
from . import errors
from .company import CompanySettings
from .rules_values import ZERO, dec, money, parse_date
from .store import Books


class Rules(Protocol):
    """What these checks use of ``rules.Rules``: the books, the company's settings, reference checks."""

    books: Books
    company: CompanySettings

    def ref(self, kind: str, obj: dict[str, Any], key: str, element: str, required: bool = False,
            name_field: str | None = "Name") -> dict[str, Any] | None: ...

UNDEPOSITED = {"value": "9", "name": "Undeposited Funds"}
DEPOSIT_TYPES = {"Bank", "Other Current Asset"}


def apply_lines(rules: Rules, kind: str, obj: Record, existing: Record | None, party_key: str,
                doc_kinds: dict[str, int]) -> tuple[list[Record], Decimal]:
    """Check LinkedTxn lines; returns (lines, net applied). ``doc_kinds`` maps a linkable TxnType to +1
    (a debt the payment settles) or -1 (a credit used)."""
    me = (kind, existing["Id"]) if existing else None
    left: dict[tuple[str, str], Decimal] = {}
    out, net = [], ZERO
    for n, line in enumerate(obj.get("Line") or [], start=1):
        amount = money(dec(line.get("Amount", 0), "Line.Amount"))
        linked = line.get("LinkedTxn") or []
        if len(linked) != 1:
            raise errors.business(f"Line {n}: a payment line must link exactly one transaction", "Line.LinkedTxn")
        txn_type, txn_id = linked[0].get("TxnType"), str(linked[0].get("TxnId", ""))
        if txn_type not in doc_kinds:
            raise errors.business(f"Line {n}: cannot link a {txn_type} here; use one of {sorted(doc_kinds)}",
                                  "Line.LinkedTxn.TxnType")
        doc = rules.books.find(txn_type, txn_id)
        if doc is None:
            raise errors.invalid_reference("Line.LinkedTxn.TxnId", txn_id, "Transaction")
        if doc[party_key]["value"] != obj[party_key]["value"]:
            raise errors.business(f"Line {n}: {txn_type} {txn_id} belongs to someone else", "Line.LinkedTxn")
        key = (txn_type, txn_id)
        if key not in left:
            left[key] = doc["TotalAmt"] - rules.books.applied_to(key, exclude=me)
        if amount < 0:
            raise errors.business(f"Line {n}: the amount cannot be negative", "Line.Amount")
        if amount > left[key]:
            what = "is already paid in full" if left[key] <= 0 else f"has only {left[key]} open"
            raise errors.business(f"Line {n}: the amount applied ({amount}) is more than {txn_type} "
                                  f"{doc.get('DocNumber') or txn_id} has open: it {what}", "Line.Amount")
        left[key] -= amount
        out.append({"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]})
        net += amount * doc_kinds[txn_type]
    return out, net


def _deposit_account(rules: Rules, obj: Record) -> dict[str, Any]:
    found = rules.ref("Account", obj, "DepositToAccountRef", "DepositToAccountRef")
    if found is None:
        return dict(UNDEPOSITED)
    account = rules.books.get("Account", found["value"])
    kind = account.get("AccountType")
    undeposited = account.get("AccountSubType") == "UndepositedFunds"
    if kind not in DEPOSIT_TYPES or (kind == "Other Current Asset" and not undeposited):
        raise errors.business(f"A payment can be deposited to a bank account or Undeposited Funds, not to "
                              f"{account.get('Name')}", "DepositToAccountRef")
    return found


def prepare_payment(rules: Rules, obj: Record, existing: Record | None) -> Record:
    obj["CustomerRef"] = rules.ref("Customer", obj, "CustomerRef", "CustomerRef", required=True,
                                   name_field="DisplayName")
    if "TotalAmt" not in obj:
        raise errors.required_param("TotalAmt")
    total = money(dec(obj["TotalAmt"], "TotalAmt"))
    if total < 0:
        raise errors.business("The payment amount cannot be negative", "TotalAmt")
    obj["TxnDate"] = parse_date(obj.get("TxnDate", rules.books.now().date().isoformat()), "TxnDate")
    rules.company.check_open(obj["TxnDate"])
    lines, net = apply_lines(rules, "Payment", obj, existing, "CustomerRef", {"Invoice": 1, "CreditMemo": -1})
    if net < 0:
        raise errors.business("More credit is applied than the invoices it is applied to", "Line")
    if net > total:
        raise errors.business(f"The amount applied ({net}) is more than the payment amount ({total})", "TotalAmt")
    obj["Line"] = lines
    obj["TotalAmt"] = total
    obj["UnappliedAmt"] = total - net
    obj["DepositToAccountRef"] = _deposit_account(rules, obj)
    obj["ARAccountRef"] = rules.ref("Account", obj, "ARAccountRef", "ARAccountRef") or {
        "value": "7", "name": "Accounts Receivable (Debtors)"}
    party = rules.books.get("Customer", obj["CustomerRef"]["value"])
    obj["CurrencyRef"], obj["ExchangeRate"] = rules.company.currency(obj, party)
    obj.setdefault("ProcessPayment", False)
    return obj


def prepare_billpayment(rules: Rules, obj: Record, existing: Record | None) -> Record:
    obj["VendorRef"] = rules.ref("Vendor", obj, "VendorRef", "VendorRef", required=True, name_field="DisplayName")
    pay_type = obj.get("PayType")
    if pay_type not in ("Check", "CreditCard"):
        raise errors.required_param("PayType") if not pay_type else errors.invalid_value(
            "PayType", f"PayType {pay_type!r} must be Check or CreditCard")
    if pay_type == "Check":
        cp = obj.get("CheckPayment") or {}
        cp["BankAccountRef"] = rules.ref("Account", cp, "BankAccountRef", "CheckPayment.BankAccountRef", required=True)
        cp.setdefault("PrintStatus", "NotSet")
        obj["CheckPayment"] = cp
        obj.pop("CreditCardPayment", None)
    else:
        cc = obj.get("CreditCardPayment") or {}
        cc["CCAccountRef"] = rules.ref("Account", cc, "CCAccountRef", "CreditCardPayment.CCAccountRef", required=True)
        obj["CreditCardPayment"] = cc
        obj.pop("CheckPayment", None)
    if "TotalAmt" not in obj:
        raise errors.required_param("TotalAmt")
    total = money(dec(obj["TotalAmt"], "TotalAmt"))
    obj["TxnDate"] = parse_date(obj.get("TxnDate", rules.books.now().date().isoformat()), "TxnDate")
    rules.company.check_open(obj["TxnDate"])
    lines, net = apply_lines(rules, "BillPayment", obj, existing, "VendorRef", {"Bill": 1, "VendorCredit": -1})
    if net > total or net < 0:
        raise errors.business(f"The amount applied ({net}) does not fit the payment amount ({total})", "TotalAmt")
    obj["Line"] = lines
    obj["TotalAmt"] = total
    obj["APAccountRef"] = rules.ref("Account", obj, "APAccountRef", "APAccountRef") or {
        "value": "10", "name": "Accounts Payable (Creditors)"}
    party = rules.books.get("Vendor", obj["VendorRef"]["value"])
    obj["CurrencyRef"], obj["ExchangeRate"] = rules.company.currency(obj, party)
    return obj
