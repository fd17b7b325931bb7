"""What to do about a package's message, in a bookkeeper's words.

The package's own message is always kept as it came (Error Feedback shows both); this only adds the
"what to do" column and, where mapping a nominal is the fix, which nominal, so the window can open the
Mapping tab on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    text: str
    nominal_code: str = ""


def advice_for(message: str, *, package: str = "the accounting package", item_label: str = "",
               line_nominals: list[tuple[str, str]] | None = None) -> Advice:
    """``line_nominals``: (code, name) of the ledger nominals on the item's lines, first line first."""
    low = message.lower()
    nominal = (line_nominals or [("", "")])[0]
    found = _organisation_advice(low, package)
    if found is not None:
        return found
    if "account code or id must be specified" in low or ("accountcode" in low and "specified" in low):
        code, name = nominal
        if code:
            return Advice(f"Nominal {code} {name} has no {package} account to post to. Map it in the Mapping "
                          "tab (Open Mapping tab), then Upload Data again.", code)
        return Advice(f"A line has no {package} account. Map its nominal in the Mapping tab, then upload again.")
    if ("account code" in low or "account" in low) and ("archived" in low or "not valid" in low
                                                       or "does not exist" in low or "cannot be used" in low):
        code, name = nominal
        return Advice(f"The {package} account mapped to nominal {code} {name} is archived or unknown there. "
                      "Use Get Nominal & Tax Accounts, map the nominal to an active account, then upload again.",
                      code)
    if "taxtype" in low or "tax type" in low or "tax rate" in low or "taxcode" in low:
        return Advice(f"The tax code's mapping is not valid in {package}. Map the tax code to an active "
                      "tax rate in the Mapping tab, then upload again.")
    if "must be unique" in low or "duplicate" in low:
        return Advice(f"{package} already has a document with this number. If it is this one, use Verify "
                      "(or Mark as Exported); if not, give the ledger document a new number.")
    if "email" in low:
        return Advice("Correct the company's email address in the ledger (name@example.co.uk), then upload again.")
    if "item code" in low or "itemcode" in low or "item with code" in low:
        return Advice("The stock item is not in the package. Upload the stock item (it normally goes first "
                      "on its own), then upload this document again.")
    if "exceeds the amount outstanding" in low or "amount outstanding" in low:
        return Advice(f"The invoice has less outstanding in {package} than this allocation (a payment may "
                      f"have been recorded there). Check the invoice in {package}; if it is already paid, "
                      "Mark as Exported.")
    if "currency" in low:
        return Advice(f"Add the currency in {package} (or turn MultiCurrency off to hold such documents back).")
    if "contact" in low and ("archived" in low or "not found" in low):
        return Advice(f"The company's contact in {package} is archived or missing. Restore it there, or "
                      "Upload Data for the company again.")
    return Advice("Correct the details in the ledger (or in the package), then Upload Data again.")


def _organisation_advice(low: str, package: str) -> Advice | None:
    """What an organisation with settings and data of its own refuses (the pre-check predicts these; the
    advice is for when the package refused first), matched before the general rules below."""
    if "cannot be used with account code" in low:
        return Advice(f"{package} does not allow that tax rate on that account (a sales rate on a purchase "
                      "account, or the reverse). Map the line's tax code to a rate that fits the account, or the "
                      "nominal to a fitting account, in the Mapping tab; then upload again.")
    if "lock date" in low:
        return Advice(f"The date is on or before {package}'s lock date. Ask whoever closed the period: move the "
                      f"lock date back in {package}, or enter the document there by hand and Mark as Exported.")
    if "reached the limit of" in low:
        return Advice(f"{package}'s plan approves only so many invoices and bills a month (by document date). "
                      "Upgrade the plan, send drafts (turn off Create Authorised Invoices), or send it next month.")
    if "account number already exists" in low:
        return Advice(f"Another contact in {package} has this company's code as its account number. Change the "
                      f"code in the ledger or that contact's account number in {package}, then upload again.")
    if "already assigned to another contact" in low or "contact name already exists" in low:
        return Advice(f"Another active contact in {package} has this name. Rename the company in the ledger (or "
                      f"the contact in {package}), then upload again.")
    if "item code" in low and "already exists" in low:
        return Advice(f"{package} already has an item with this code. Give the stock item a new code in the "
                      f"ledger (or change the item's code in {package}), then upload again.")
    if "has been archived" in low and "contact" in low:
        return Advice(f"The company's contact is archived in {package}. Restore it there (Contacts → Archived → "
                      "Restore), then Upload Data again.")
    return None
