"""What the organisation's settings make the package refuse, predicted from the kept copy of them
(``org_settings``), in the package's own words and with what to do.

One place for the pre-check (Run Pre-Check, the Pending Export grid's column) and for Upload Data (which
holds such a document back, with its Error Feedback, instead of sending it): lock dates, currencies not
added, tax rates an account may not use, the plan's monthly allowance of approved invoices and bills, and
contacts archived in the package. The wordings are Xero's where Xero refuses them (sources beside the
sandbox's copies in ``sandbox/xero/organisation.py`` and ``masters.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from ..connectors.base import OrganisationSettings, RemoteContact
from ..connectors.provider import Provider

ARCHIVED = ("The contact with the specified contact details has been archived. The contact must be un-archived "
            "before creating new invoices or credit notes.")
LIMIT_REACHED = {"sales_invoice": "You have reached the limit of invoices you can approve.",
                 "purchase_invoice": "You have reached the limit of bills you can approve."}
_KIND_WORDS = {"sales_invoice": ("invoices", "invoice"), "purchase_invoice": ("bills", "bill")}


@dataclass(frozen=True)
class LineCoding:
    """How one line is coded in the package: account and tax rate, and the ledger's names for them."""

    account_code: str
    tax_code: str
    nominal: str = ""
    tax_label: str = ""
    sales: bool = True


@dataclass(frozen=True)
class Refusal:
    message: str          # what the package says (or would say)
    advice: str           # what to do about it
    short: str = ""       # for the pre-check column, where room is short

    @property
    def text(self) -> str:
        return self.short or self.message


class OrganisationRules:
    """The rules of one organisation for one run: ``approvals`` counts what this run lets through, so the
    plan's allowance is shared out in the order the documents are checked."""

    def __init__(self, settings: OrganisationSettings, provider: str, *, authorised: bool = True) -> None:
        self.settings = settings
        self.provider = provider
        self.pkg = Provider.label_of(provider, short=True)
        self.authorised = authorised
        self.approvals: Counter[str] = Counter()

    # --- dates ------------------------------------------------------------------------------------

    def _locks(self, authorised: bool) -> bool:
        # Xero keeps drafts dated in a locked period; only approving them is refused.
        return authorised or self.provider != "xero"

    def lock(self, when: date, what: str = "document", *, authorised: bool | None = None) -> Refusal | None:
        lock = self.settings.lock_date
        if lock is None or when > lock or not self._locks(self.authorised if authorised is None else authorised):
            return None
        label = self.settings.lock_date_label or "lock date"
        message = (f"The {what} date cannot be before the {label}, currently set at {lock:%d-%b-%Y}"
                   if self.provider == "xero" else f"The {what} is dated on or before the {label} ({lock:%d %b %Y}).")
        return Refusal(message, f"It is dated {when:%d %b %Y}. Ask whoever closed the period whether it belongs "
                                f"there: either move the {label} back in {self.pkg}, or enter it there by hand and "
                                "Mark as Exported.",
                       f"dated {when:%d %b %Y}, on or before {self.pkg}'s {label} ({lock:%d %b %Y}); "
                       f"{self.pkg} refuses it")

    # --- currencies -------------------------------------------------------------------------------

    def currency(self, code: str) -> Refusal | None:
        if not code or code == self.settings.base_currency or code in self.settings.currencies:
            return None
        return Refusal(f"The currency '{code}' has not been added to this organisation.",
                       f"Add {code} to the organisation's currencies in {self.pkg} (Settings → Currencies), then "
                       "Get Nominal & Tax Accounts and upload again.",
                       f"in {code}, which {self.pkg} does not have: add the currency in {self.pkg} first")

    # --- tax rates on accounts ----------------------------------------------------------------------

    def tax_on_account(self, account_code: str, tax_code: str, nominal: str = "", tax_label: str = "",
                       sales: bool = True) -> Refusal | None:
        if not self.settings.tax_refused_on(account_code, tax_code):
            return None
        cls = self.settings.account_classes.get(account_code, "").lower() or "other"
        side = "sales" if sales else "purchases"
        where = f", where nominal {nominal} is mapped" if nominal else ""
        return Refusal(f"The TaxType code '{tax_code}' cannot be used with account code '{account_code}'.",
                       f"{self.pkg} does not allow {tax_code} on account {account_code} (class {cls}){where}. "
                       f"Map tax code {tax_label or tax_code} for {side} to a rate that applies to {cls} "
                       "accounts, or map the nominal to a fitting account, in the Mapping tab; then upload again.",
                       f"{self.pkg} refuses tax {tax_code} on account {account_code}"
                       f"{f' (nominal {nominal})' if nominal else ''}")

    # --- the plan's allowance -----------------------------------------------------------------------

    def approval(self, kind: str, when: date) -> Refusal | None:
        """Counts one approval of ``kind`` dated ``when``; a Refusal when the month's allowance is used up."""
        cap = self.settings.monthly_caps.get(kind)
        if cap is None or not self.authorised:
            return None
        key = f"{kind} {when:%Y-%m}"
        used = self.settings.approved.get(key, 0) + self.approvals[key]
        if used >= cap:
            plural, one = _KIND_WORDS.get(kind, ("documents", "document"))
            plan = self.settings.plan.title() or "current"
            return Refusal(LIMIT_REACHED.get(kind, f"You have reached the limit of {plural} you can approve."),
                           f"{self.pkg}'s {plan} plan approves {cap} {plural} a month, counted by the {one}'s date, "
                           f"and {when:%B %Y} has {used}. Upgrade the plan in {self.pkg}, or turn off Create "
                           "Authorised Invoices to send drafts, or send this next month.",
                           f"{when:%B %Y} already has the {cap} {plural} {self.pkg}'s {plan} plan approves a month")
        self.approvals[key] += 1
        return None

    # --- a whole document --------------------------------------------------------------------------------

    def document(self, kind: str, when: date, currency: str, contact_name: str, contact_remote_id: str,
                 lines: list[LineCoding]) -> list[Refusal]:
        """Everything the organisation would refuse about one document; its approval is counted only when
        nothing else stops it (a document held back uses none of the month's allowance)."""
        found = [r for r in (self.archived(contact_name, contact_remote_id) if contact_remote_id else None,
                             self.currency(currency), self.lock(when)) if r is not None]
        seen: set[tuple[str, str]] = set()
        for line in lines:
            if (line.account_code, line.tax_code) in seen:
                continue
            seen.add((line.account_code, line.tax_code))
            refused = self.tax_on_account(line.account_code, line.tax_code, line.nominal, line.tax_label, line.sales)
            if refused is not None:
                found.append(refused)
        if not found and kind in LIMIT_REACHED:
            capped = self.approval(kind, when)
            if capped is not None:
                found.append(capped)
        return found

    # --- contacts ---------------------------------------------------------------------------------------

    def archived(self, name: str, remote_id: str = "", account_number: str = "") -> Refusal | None:
        found = self.settings.archived_contact(remote_id, "" if remote_id else name,
                                               "" if remote_id else account_number)
        return archived_refusal(self.pkg, found) if found is not None else None


def archived_refusal(pkg: str, contact: RemoteContact) -> Refusal:
    return Refusal(ARCHIVED, f"{contact.name} is archived in {pkg}. Restore it there (Contacts → Archived → "
                             "Restore), then Upload Data again; its documents go with it.",
                   f"{contact.name} is archived in {pkg}: restore it there first")
