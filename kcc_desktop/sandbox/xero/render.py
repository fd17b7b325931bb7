"""Records -> Xero response JSON: envelopes, and the related documents Xero embeds in each object.

Links between documents are held once (a payment knows its invoice) and expanded here, so an
invoice always shows its current payments and credits without copies to keep in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..json_types import JSONObject, Record
from .books import CreditCollection, XeroBooks
from .documents import credits_of, payments_of
from .serial import iso_utc, ms_date, new_id, render

PROVIDER_NAME = "KCC Desktop Sandbox"


def envelope(key: str, items: list[JSONObject], now: datetime, pagination: JSONObject | None = None,
             warnings: list[JSONObject] | None = None) -> JSONObject:
    body: JSONObject = {"Id": new_id(), "Status": "OK", "ProviderName": PROVIDER_NAME,
                            "DateTimeUTC": ms_date(now)}
    if pagination is not None:
        body["pagination"] = pagination
    if warnings:
        body["Warnings"] = warnings
    body[key] = items
    return body


def _with_utc_string(rec: Record, out: JSONObject) -> JSONObject:
    if rec.get("UpdatedDateUTC") is not None and "UpdatedDateUTCString" not in out:
        out["UpdatedDateUTCString"] = iso_utc(rec["UpdatedDateUTC"]) + "Z"
    return out


def invoice_summary(books: XeroBooks, inv_id: str) -> JSONObject:
    inv = books["invoices"].get(inv_id) or {}
    out: Record = {k: inv[k] for k in ("InvoiceID", "InvoiceNumber", "Type", "Reference", "CurrencyCode",
                                       "IsDiscounted", "HasErrors", "Status") if k in inv}
    if inv.get("Contact"):
        out["Contact"] = {"ContactID": inv["Contact"]["ContactID"], "Name": inv["Contact"]["Name"]}
    out.update({"Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [], "LineItems": []})
    return render(out)


def _doc_summary(books: XeroBooks, coll: CreditCollection, key: str, doc_id: str,
                 fields: tuple[str, ...]) -> JSONObject:
    doc = books[coll].get(doc_id) or {}
    out = {k: doc[k] for k in fields if k in doc}
    if doc.get("Contact"):
        out["Contact"] = {"ContactID": doc["Contact"]["ContactID"], "Name": doc["Contact"]["Name"]}
    out.setdefault(key, doc_id)
    return render(out)


def _payment_brief(p: Record) -> JSONObject:
    return render({"PaymentID": p["PaymentID"], "Date": p["Date"], "Amount": p["Amount"],
                   "Reference": p.get("Reference", ""), "CurrencyRate": p["CurrencyRate"],
                   "HasAccount": True, "HasValidationErrors": False})


def _payments_for(books: XeroBooks, doc: Record, link: str, key: str) -> list[JSONObject]:
    return [_payment_brief(p) for p in payments_of(books, doc, link, key) if p["Status"] == "AUTHORISED"]


def render_invoice(books: XeroBooks, inv: Record, with_lines: bool = True) -> JSONObject:
    out = render({k: v for k, v in inv.items() if with_lines or k != "LineItems"})
    out["Payments"] = _payments_for(books, inv, "Invoice", "InvoiceID")
    out["CreditNotes"], out["Overpayments"], out["Prepayments"] = [], [], []
    for coll, source, a in credits_of(books, inv):
        if coll == "credit_notes":
            out["CreditNotes"].append(render({
                "CreditNoteID": source["CreditNoteID"], "CreditNoteNumber": source.get("CreditNoteNumber", ""),
                "ID": source["CreditNoteID"], "AppliedAmount": a["Amount"], "Date": a["Date"],
                "Total": source["Total"], "Type": source["Type"], "HasErrors": False}))
        elif coll == "overpayments":
            out["Overpayments"].append(render({
                "OverpaymentID": source["OverpaymentID"], "ID": source["OverpaymentID"], "AppliedAmount": a["Amount"],
                "Date": a["Date"], "Total": source["Total"], "Type": source["Type"]}))
        else:
            out["Prepayments"].append(render({
                "PrepaymentID": source["PrepaymentID"], "AppliedAmount": a["Amount"], "Date": a["Date"],
                "Total": source["Total"], "Type": source["Type"], "CurrencyCode": source.get("CurrencyCode")}))
    return _with_utc_string(inv, out)


def render_allocation(books: XeroBooks, alloc: Record, source_coll: CreditCollection, source: Record) -> JSONObject:
    out = render({k: v for k, v in alloc.items() if k != "Invoice"})
    out["Invoice"] = invoice_summary(books, alloc["Invoice"]["InvoiceID"])
    if source_coll == "credit_notes":
        out["CreditNote"] = render({"CreditNoteID": source["CreditNoteID"],
                                    "CreditNoteNumber": source.get("CreditNoteNumber", ""), "Type": source["Type"]})
    elif source_coll == "overpayments":
        out["Overpayment"] = render({"OverpaymentID": source["OverpaymentID"], "Type": source["Type"]})
    else:
        out["Prepayment"] = render({"PrepaymentID": source["PrepaymentID"], "Type": source["Type"]})
    return out


def render_credit_note(books: XeroBooks, cn: Record, with_lines: bool = True) -> JSONObject:
    out = render({k: v for k, v in cn.items() if k != "Allocations" and (with_lines or k != "LineItems")})
    out["Allocations"] = [render_allocation(books, a, "credit_notes", cn) for a in cn.get("Allocations", [])]
    out["Payments"] = _payments_for(books, cn, "CreditNote", "CreditNoteID")
    return _with_utc_string(cn, out)


def render_overpayment(books: XeroBooks, op: Record, with_lines: bool = True) -> JSONObject:
    out = render({k: v for k, v in op.items() if k != "Allocations" and (with_lines or k != "LineItems")})
    out["Allocations"] = [render_allocation(books, a, "overpayments", op) for a in op.get("Allocations", [])]
    out["Payments"] = _payments_for(books, op, "Overpayment", "OverpaymentID")
    return _with_utc_string(op, out)


def render_prepayment(books: XeroBooks, pp: Record, with_lines: bool = True) -> JSONObject:
    out = render({k: v for k, v in pp.items() if k != "Allocations" and (with_lines or k != "LineItems")})
    out["Allocations"] = [render_allocation(books, a, "prepayments", pp) for a in pp.get("Allocations", [])]
    out["Payments"] = _payments_for(books, pp, "Prepayment", "PrepaymentID")
    return _with_utc_string(pp, out)


def render_payment(books: XeroBooks, p: Record, with_lines: bool = True) -> JSONObject:
    out = render({k: v for k, v in p.items()
                  if k not in ("Invoice", "CreditNote", "Overpayment", "Prepayment", "Account")})
    acc = books["accounts"].get(p["Account"]["AccountID"]) or p["Account"]
    out["Account"] = {"AccountID": acc["AccountID"], "Code": acc["Code"], "Name": acc.get("Name", "")}
    if p.get("Invoice"):
        out["Invoice"] = invoice_summary(books, p["Invoice"]["InvoiceID"])
    if p.get("CreditNote"):
        out["CreditNote"] = _doc_summary(books, "credit_notes", "CreditNoteID", p["CreditNote"]["CreditNoteID"],
                                         ("CreditNoteID", "CreditNoteNumber", "Type", "CurrencyCode"))
    if p.get("Overpayment"):
        out["Overpayment"] = _doc_summary(books, "overpayments", "OverpaymentID", p["Overpayment"]["OverpaymentID"],
                                          ("OverpaymentID", "Type", "CurrencyCode"))
    if p.get("Prepayment"):
        out["Prepayment"] = _doc_summary(books, "prepayments", "PrepaymentID", p["Prepayment"]["PrepaymentID"],
                                         ("PrepaymentID", "Type", "CurrencyCode"))
    return _with_utc_string(p, out)


def render_plain(books: XeroBooks, rec: Record, with_lines: bool = True) -> JSONObject:
    return render({k: v for k, v in rec.items() if with_lines or k != "LineItems"})


def error_echo(el: Any, messages: list[str], summarized: bool, flag: str = "HasErrors") -> JSONObject:
    """A failed element as Xero returns it: what was sent, ``flag`` true, and its ValidationErrors. A
    Payment has no HasErrors: a failed one carries HasValidationErrors (spec, Payment)."""
    out = dict(el) if isinstance(el, dict) else {}
    out[flag] = True
    out["ValidationErrors"] = [{"Message": m} for m in messages]
    if not summarized:
        out["StatusAttributeString"] = "ERROR"
    return out


def validation_exception(elements: list[JSONObject]) -> JSONObject:
    return {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
            "Elements": elements}
