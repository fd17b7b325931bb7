"""Which package account each ledger nominal, tax code and bank account goes to.

Qt-free. The window, the ``mapping`` command and the exporter all use MappingService. Stock and
cost-of-sale nominals are never exported: whatever is mapped to them, ``resolve_nominal`` refuses them,
so no payload can ever carry one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select

from ..connectors.base import AccountingPackage
from ..connectors.provider import Provider
from ..models import (
    NEVER_EXPORTED_KINDS,
    AuditEntry,
    BankAccount,
    Mapping,
    NominalCode,
    PackageAccount,
    TaxCode,
    utcnow,
)
from ..store import Store
from . import mapping_rules as rules
from .mapping_rules import NOT_NEEDED_KINDS, account_fits, tax_side
from .mapping_types import (
    Choice,
    FetchSummary,
    InvalidMapping,
    MappingError,
    MappingMissing,
    MappingRow,
    MappingStale,
    NeverExported,
    Problem,
    Suggestion,
)
from .options import OptionsService
from .org_settings import save_settings

log = logging.getLogger(__name__)

NEVER_EXPORTED = "Never exported: stock and cost of sale stay in KCC"

# Mapping categories (Mapping.category). Xero tax types differ for sales and purchases (OUTPUT2/INPUT2),
# so a ledger tax code has one mapping for each direction; QuickBooks' tax codes cover both.
NOMINAL, TAX, TAX_PURCHASE, BANK = "nominal", "tax", "tax_purchase", "bank"
CATEGORIES = (NOMINAL, TAX, TAX_PURCHASE, BANK)
CATEGORY_LABELS = {NOMINAL: "nominal", TAX: "tax code (sales)", TAX_PURCHASE: "tax code (purchases)",
                   BANK: "bank account"}
# Which PackageAccount.category each mapping category picks from.
REMOTE_CATEGORY = {NOMINAL: "account", TAX: "tax_rate", TAX_PURCHASE: "tax_rate", BANK: "bank"}
REMOTE_LABELS = {"account": "account", "tax_rate": "tax rate", "bank": "bank account"}


@dataclass
class _MappingData:
    """The mapping tables as read once: ledger records by category, mappings, the package's accounts."""

    locals: dict[str, dict[int, tuple[str, str, str]]]    # category -> id -> (code, name, kind/rate/currency)
    maps: dict[tuple[str, int], Mapping]                  # (category, local id) -> mapping
    remote: dict[tuple[str, str], PackageAccount]         # (remote category, code) -> package account


class MappingService:
    """Mappings for one provider (the options' provider unless given). Each method is its own unit of work."""

    def __init__(self, store: Store, provider: str | None = None) -> None:
        self.store = store
        self.provider = provider or OptionsService(store).provider
        self._cache: _MappingData | None = None

    @property
    def provider_label(self) -> str:
        return Provider.label_of(self.provider)

    # --- fetching -------------------------------------------------------------------------------------

    def fetch(self, package: AccountingPackage) -> FetchSummary:
        """Get Nominal & Tax Accounts: keeps the package's lists with the time fetched.

        Accounts no longer returned are marked DELETED (kept, so old mappings can be flagged).
        """
        if getattr(package, "provider", "") and package.provider != self.provider:
            raise MappingError(
                f"The connection is to {Provider.label_of(package.provider)}, but these mappings are for "
                f"{self.provider_label}. Reopen the Mapping tab, then fetch again.")
        accounts = package.fetch_accounts()
        rates = package.fetch_tax_rates()
        banks = package.fetch_bank_accounts()
        save_settings(self.store, self.provider, package.organisation_settings())   # for the pre-check
        now = utcnow()
        # category -> (code, remote id, name, type, status, rate)
        incoming: dict[str, list[tuple[str, str, str, str, str, Decimal | None]]] = {
            "account": [(a.code or a.id, a.id, a.name, a.type, a.status or "ACTIVE", None) for a in accounts],
            "tax_rate": [(t.code, "", t.name, tax_side(t.name), t.status or "ACTIVE", t.rate) for t in rates],
            "bank": [(b.code or b.id, b.id, b.name, b.kind, b.status or "ACTIVE", None) for b in banks],
        }
        summary = FetchSummary(self.provider, len(accounts), len(rates), len(banks), fetched_at=now)
        with self.store.transaction() as s:
            for category, rows in incoming.items():
                existing = {p.code: p for p in s.scalars(select(PackageAccount).where(
                    PackageAccount.provider == self.provider, PackageAccount.category == category))}
                seen: set[str] = set()
                for code, remote_id, name, typ, status, rate in rows:
                    if not code or code in seen:
                        continue
                    seen.add(code)
                    status = status.upper()
                    row = existing.get(code)
                    if row is None:
                        s.add(PackageAccount(provider=self.provider, category=category, code=code,
                                             remote_id=remote_id, name=name, type=typ, status=status,
                                             rate=None if rate is None else Decimal(rate).quantize(Decimal("0.0001")),
                                             fetched_at=now))
                        continue
                    if status == "ARCHIVED" and row.status != "ARCHIVED":
                        summary.newly_archived.append(f"{category} {code}")
                    row.remote_id, row.name, row.type, row.status = remote_id, name, typ, status
                    row.rate = None if rate is None else Decimal(rate).quantize(Decimal("0.0001"))
                    row.fetched_at = now
                for code, row in existing.items():
                    if code not in seen and row.status != "DELETED":
                        row.status = "DELETED"
                        row.fetched_at = now
                        summary.newly_deleted.append(f"{category} {code}")
            s.add(AuditEntry(what=f"Fetched accounts from {self.provider_label}",
                             new_value=f"{len(accounts)} accounts, {len(rates)} tax rates, {len(banks)} bank accounts"))
        self._cache = None
        summary.flagged = [p for p in self.problems() if p.state in ("archived", "deleted")]
        log.info("%s", summary.text)
        return summary

    def fetched_at(self) -> datetime | None:
        with self.store.session() as s:
            rows = s.scalars(select(PackageAccount.fetched_at).where(PackageAccount.provider == self.provider)
                             .order_by(PackageAccount.fetched_at.desc()).limit(1)).all()
            return rows[0] if rows else None

    # --- the cache of everything a lookup needs -------------------------------------------------------

    def _data(self) -> _MappingData:
        """One read of the (small) mapping tables; lookups for thousands of lines then cost nothing."""
        if self._cache is None:
            with self.store.session() as s:
                nominals = {n.id: (n.code, n.name, n.kind)
                            for n in s.scalars(select(NominalCode).order_by(NominalCode.code))}
                taxes = {t.id: (t.code, t.name, rules.fmt_rate(t.rate))
                         for t in s.scalars(select(TaxCode).order_by(TaxCode.code))}
                banks = {b.id: (b.code, b.name, b.currency)
                         for b in s.scalars(select(BankAccount).order_by(BankAccount.code))}
                maps = {(m.category, m.local_id): m
                        for m in s.scalars(select(Mapping).where(Mapping.provider == self.provider))}
                remote = {(p.category, p.code): p for p in s.scalars(
                    select(PackageAccount).where(PackageAccount.provider == self.provider).order_by(PackageAccount.id))}
                s.expunge_all()
            self._cache = _MappingData({NOMINAL: nominals, TAX: taxes, TAX_PURCHASE: taxes, BANK: banks}, maps, remote)
        return self._cache

    def refresh(self) -> None:
        """Forget cached lookups (after someone else changed the mapping)."""
        self._cache = None

    def _local(self, category: str, local_id: int) -> tuple[str, str, str]:
        try:
            return self._data().locals[category][local_id]
        except KeyError:
            raise MappingError(f"There is no {CATEGORY_LABELS.get(category, category)} with id {local_id} "
                               "in the ledger.", category) from None

    def _remote(self, category: str, code: str) -> PackageAccount | None:
        return self._data().remote.get((REMOTE_CATEGORY[category], code))

    # --- kinds and choices ----------------------------------------------------------------------------

    def fits(self, category: str, local_id: int, account: PackageAccount | Choice) -> bool:
        """Whether a package account may be chosen for this ledger record."""
        if category == NOMINAL:
            code, _name, kind = self._local(NOMINAL, local_id)
            if kind in NEVER_EXPORTED_KINDS:
                return False
            return account_fits(self.provider, kind, code, account.type, account.name)
        if category in (TAX, TAX_PURCHASE):
            side = account.type  # the side stored at fetch: sales, purchases or both
            return side in ("both", "") or side == ("sales" if category == TAX else "purchases")
        return True

    def choices(self, category: str, local_id: int) -> list[Choice]:
        """The active package accounts that fit, for the combobox ("code — name (type)")."""
        wanted = REMOTE_CATEGORY[category]
        out = []
        for (cat, _code), p in self._data().remote.items():
            if cat == wanted and p.status == "ACTIVE" and self.fits(category, local_id, p):
                out.append(Choice(p.code, p.name, "" if wanted == "tax_rate" else p.type, p.status, p.rate))
        return out

    def local_ids(self, category: str) -> list[int]:
        return list(self._data().locals[category])

    def find_local(self, category: str, local_code: str) -> int:
        for local_id, (code, _name, _kind) in self._data().locals[category].items():
            if code == local_code:
                return local_id
        raise MappingError(f"There is no {CATEGORY_LABELS[category]} {local_code} in the ledger.", category, local_code)

    # --- setting --------------------------------------------------------------------------------------

    def set_mapping(self, category: str, local_id: int, remote_code: str | None, *, set_by: str = "user",
                    reason: str = "") -> None:
        """Maps one ledger record (``remote_code`` None or "" clears it); audited."""
        if category not in CATEGORIES:
            raise MappingError(f"Unknown mapping category {category!r}; use one of {', '.join(CATEGORIES)}.")
        code, name, kind = self._local(category, local_id)
        what = f"Mapping {CATEGORY_LABELS[category]} {code} {name}"
        remote_code = (remote_code or "").strip()
        if category == NOMINAL and kind in NEVER_EXPORTED_KINDS and remote_code:
            raise NeverExported(f"Nominal {code} {name} is a {kind.replace('_', ' ')} nominal. "
                                f"{NEVER_EXPORTED}, so it cannot be mapped.", category, code)
        if remote_code:
            account = self._remote(category, remote_code)
            if account is None:
                raise InvalidMapping(
                    f"{self.provider_label} has no {REMOTE_LABELS[REMOTE_CATEGORY[category]]} with code "
                    f"{remote_code}. Use Get Nominal & Tax Accounts to refresh the list, then choose one from it.",
                    category, code)
            if account.status != "ACTIVE":
                raise InvalidMapping(f"{self.provider_label} account {remote_code} {account.name} is "
                                     f"{account.status.lower()}; choose an active one.", category, code)
            if not self.fits(category, local_id, account):
                raise InvalidMapping(
                    f"{self.provider_label} account {remote_code} {account.name} ({account.type}) does not fit "
                    f"{CATEGORY_LABELS[category]} {code} {name} ({kind}); choose one of the accounts listed for it.",
                    category, code)
        with self.store.transaction() as s:
            row = s.scalar(select(Mapping).where(Mapping.provider == self.provider, Mapping.category == category,
                                                 Mapping.local_id == local_id))
            old = self._label(category, row.remote_code) if row else ""
            new = self._label(category, remote_code) if remote_code else ""
            if row is not None and row.remote_code == remote_code and row.set_by == set_by:
                return
            if not remote_code:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(Mapping(provider=self.provider, category=category, local_id=local_id,
                              remote_code=remote_code, set_by=set_by, reason=reason))
            else:
                row.remote_code, row.set_by, row.reason = remote_code, set_by, reason
            if old != new:
                s.add(AuditEntry(what=what + (" (Apply Default Setup)" if set_by == "auto" else ""),
                                 old_value=old, new_value=new))
                log.info("%s for %s: %s -> %s (%s)", what, self.provider_label, old or "not mapped",
                         new or "not mapped", set_by)
        self._cache = None

    def set_nominal(self, nominal_code: str, remote_code: str | None) -> None:
        """``kcc-desktop mapping set NOMINAL ACCOUNT_CODE``: by the ledger's nominal code."""
        self.set_mapping(NOMINAL, self.find_local(NOMINAL, nominal_code), remote_code)

    def clear_all(self) -> None:
        with self.store.transaction() as s:
            s.execute(delete(Mapping).where(Mapping.provider == self.provider))
            s.add(AuditEntry(what=f"All {self.provider_label} mappings cleared"))
        log.info("All %s mappings cleared", self.provider_label)
        self._cache = None

    def _label(self, category: str, remote_code: str) -> str:
        p = self._remote(category, remote_code)
        if p is None:
            return remote_code
        return Choice(p.code, p.name, "" if p.category == "tax_rate" else p.type, p.status, p.rate).label

    # --- Apply Default Setup --------------------------------------------------------------------------

    def apply_default_setup(self) -> list[Suggestion]:
        """Maps by code, then by name and type; one Suggestion (with its reason) per record looked at.

        Never touches a mapping the user set; re-suggests over its own earlier automatic choices.
        """
        suggestions = []
        for category in CATEGORIES:
            for local_id in self.local_ids(category):
                code, _name, kind = self._local(category, local_id)
                if category == NOMINAL and kind in NEVER_EXPORTED_KINDS:
                    continue
                current = self._data().maps.get((category, local_id))
                if current is not None and current.set_by == "user":
                    continue
                remote, reason = self._suggest(category, local_id)
                suggestions.append(Suggestion(category, local_id, code, remote, reason))
                if remote:
                    self.set_mapping(category, local_id, remote, set_by="auto", reason=reason)
        suggestions = self._propose_clearing(suggestions)
        log.info("Apply Default Setup (%s): %d looked at, %d mapped", self.provider_label, len(suggestions),
                 sum(1 for s in suggestions if s.remote_code))
        return suggestions

    def _propose_clearing(self, suggestions: list[Suggestion]) -> list[Suggestion]:
        """A clearing account (QuickBooks' Undeposited Funds) no ledger bank maps to gets a ledger bank that
        adds nothing where it is: one mapped by default to the same package account as another ledger bank
        (the import sends that account's payments to the other one anyway). Without one, the suggestion says
        what to do."""
        data = self._data()
        mapped = {m.remote_code for (cat, _), m in data.maps.items() if cat == BANK}
        by_target: dict[str, list[int]] = {}
        for (cat, local_id), m in sorted(data.maps.items(), key=lambda kv: kv[0][1]):
            if cat == BANK:
                by_target.setdefault(m.remote_code, []).append(local_id)
        spare = [ids[-1] for ids in by_target.values() if len(ids) > 1
                 and data.maps[(BANK, ids[-1])].set_by == "auto"]
        for (cat, code), p in list(data.remote.items()):
            if cat != "bank" or p.type != rules.CLEARING or p.status != "ACTIVE" or code in mapped:
                continue
            pkg = self.provider_label
            if not spare:
                suggestions.append(Suggestion(BANK, 0, "", "", (
                    f"{pkg} files receipts not yet banked in {p.name}; no ledger bank account is mapped to it, so "
                    "those receipts cannot be imported. Map a ledger bank or clearing account to it on the "
                    "Mapping tab.")))
                continue
            local_id = spare.pop()
            bank_code, bank_name, _currency = self._local(BANK, local_id)
            reason = (f"{pkg} files receipts not yet banked in {p.name}; {bank_code} {bank_name} receives them "
                      f"(its {pkg} account already has another ledger bank). Change it if another should.")
            self.set_mapping(BANK, local_id, code, set_by="auto", reason=reason)
            suggestions = [s for s in suggestions if (s.category, s.local_id) != (BANK, local_id)]
            suggestions.append(Suggestion(BANK, local_id, bank_code, code, reason))
        return suggestions

    def _suggest(self, category: str, local_id: int) -> tuple[str, str]:
        code, name, kind = self._local(category, local_id)
        options = self.choices(category, local_id)
        if category in (TAX, TAX_PURCHASE):
            return rules.suggest_tax(self.provider_label, category == TAX, code, name, self._tax_rate(local_id),
                                     options)
        if category == BANK:
            return rules.suggest_bank(self.provider_label, code, name, options)
        return rules.suggest_account(self.provider_label, False, code, name, kind, options)

    def _tax_rate(self, tax_code_id: int) -> Decimal | None:
        with self.store.session() as s:
            t = s.get(TaxCode, tax_code_id)
            return None if t is None else Decimal(t.rate)

    # --- reading --------------------------------------------------------------------------------------

    def rows(self, category: str | None = None) -> list[MappingRow]:
        """Rows for the grid and ``mapping list``, in ledger code order."""
        rows: list[MappingRow] = []
        for cat in ([category] if category else CATEGORIES):
            rows.extend(self.row(cat, local_id) for local_id in self.local_ids(cat))
        return rows

    def row(self, category: str, local_id: int) -> MappingRow:
        code, name, kind = self._local(category, local_id)
        m = self._data().maps.get((category, local_id))
        remote_code = m.remote_code if m else ""
        label = self._label(category, remote_code) if remote_code else ""
        state, status = self._state(category, local_id)
        return MappingRow(category, local_id, code, name, kind, remote_code, label, state, status,
                          m.set_by if m else "", m.reason if m else "",
                          editable=not (category == NOMINAL and kind in NEVER_EXPORTED_KINDS))

    def _state(self, category: str, local_id: int) -> tuple[str, str]:
        _code, _name, kind = self._local(category, local_id)
        if category == NOMINAL and kind in NEVER_EXPORTED_KINDS:
            return "never_exported", NEVER_EXPORTED
        m = self._data().maps.get((category, local_id))
        pkg = self.provider_label
        if m is None:
            if category == NOMINAL and kind in NOT_NEEDED_KINDS:
                return "not_needed", f"Not needed: {pkg} keeps its own {kind} account"
            return "unmapped", "Not mapped"
        p = self._remote(category, m.remote_code)
        if p is None:
            return "unknown", f"{m.remote_code} is not in the list fetched from {pkg}: use Get Nominal & Tax Accounts"
        if p.status == "ARCHIVED":
            return "archived", f"Archived in {pkg}: choose another account"
        if p.status == "DELETED":
            return "deleted", f"Deleted in {pkg}: choose another account"
        return "ok", "Mapped" + (" by Apply Default Setup" if m.set_by == "auto" else "")

    def problems(self, category: str | None = None, local_ids: list[int] | None = None) -> list[Problem]:
        """For the pre-check: records that are unmapped or mapped to an archived, deleted or unknown account.

        Stock and cost-of-sale nominals and the control accounts the package keeps itself are not problems.
        """
        out = []
        for cat in ([category] if category else CATEGORIES):
            for local_id in (local_ids if local_ids is not None else self.local_ids(cat)):
                state, status = self._state(cat, local_id)
                if state in ("unmapped", "archived", "deleted", "unknown"):
                    code, name, _kind = self._local(cat, local_id)
                    out.append(Problem(cat, local_id, code, state,
                                       f"{CATEGORY_LABELS[cat].capitalize()} {code} {name}: {status}."))
        return out

    # --- resolving, for the exporter ------------------------------------------------------------------

    def _resolve(self, category: str, local_id: int) -> str:
        code, name, kind = self._local(category, local_id)
        what = f"{CATEGORY_LABELS[category].capitalize()} {code} {name}"
        if category == NOMINAL and kind in NEVER_EXPORTED_KINDS:
            raise NeverExported(f"{what} is a {kind.replace('_', ' ')} nominal: {NEVER_EXPORTED}; "
                                "it is never sent to the accounting package.", category, code)
        state, status = self._state(category, local_id)
        if state in ("unmapped", "not_needed"):
            raise MappingMissing(f"{what} is not mapped to a {self.provider_label} account. Map it in the "
                                 f"Mapping tab (or: kcc-desktop mapping set {code} ACCOUNT_CODE), then try again.",
                                 category, code)
        if state != "ok":
            raise MappingStale(f"{what}: {status}.", category, code)
        return self._data().maps[(category, local_id)].remote_code

    def resolve_nominal(self, nominal_id: int) -> str:
        """The package account code for a ledger nominal; raises MappingMissing / MappingStale / NeverExported."""
        return self._resolve(NOMINAL, nominal_id)

    def resolve_tax(self, tax_code_id: int, *, sales: bool = True) -> str:
        """The package tax rate code (Xero TaxType, QBO tax code id) for sales or for purchases."""
        return self._resolve(TAX if sales else TAX_PURCHASE, tax_code_id)

    def resolve_bank(self, bank_account_id: int) -> str:
        """The package bank account code (Xero) or id-as-code (QuickBooks, when it has no number)."""
        return self._resolve(BANK, bank_account_id)

    def bank_remote_id(self, bank_account_id: int) -> str:
        """The package's own id for the mapped bank account ("" when unknown)."""
        p = self._remote(BANK, self.resolve_bank(bank_account_id))
        return p.remote_id if p else ""

    def local_bank_for(self, remote_code: str = "", remote_id: str = "") -> int | None:
        """Which ledger bank account a package bank account (by code or id) is mapped from, if any."""
        data = self._data()
        codes = {remote_code} if remote_code else set()
        if remote_id:
            codes |= {p.code for (cat, _c), p in data.remote.items() if cat == "bank" and p.remote_id == remote_id}
        for (cat, local_id), m in data.maps.items():
            if cat == BANK and m.remote_code in codes:
                return local_id
        return None
