"""The Mapping tab's plain values and errors: what the mapping service returns and raises.

Qt-free and free of I/O, so the window, the commands and the pre-check can share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..connectors.provider import Provider

# --- errors ------------------------------------------------------------------------------------------

class MappingError(Exception):
    """A mapping cannot be used or set; ``str()`` says what happened and what to do.

    ``category`` and ``local_code`` name the ledger record (e.g. "nominal", "4000") so the Error
    Feedback grid can offer to open the Mapping tab on it.
    """

    def __init__(self, message: str, category: str = "", local_code: str = "") -> None:
        super().__init__(message)
        self.category = category
        self.local_code = local_code


class MappingMissing(MappingError):
    """The ledger record has no package account mapped to it."""


class MappingStale(MappingError):
    """The mapped account was archived or deleted in the package (seen at the last fetch)."""


class NeverExported(MappingError):
    """A stock or cost-of-sale nominal: these stay in KCC and never go into a payload."""


class InvalidMapping(MappingError):
    """The chosen package account does not exist, is not active, or does not fit the nominal's kind."""


# --- plain rows --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """One package account offered for a mapping."""

    code: str
    name: str
    type: str
    status: str
    rate: Decimal | None = None

    @property
    def label(self) -> str:
        kind = self.type or (f"{self.rate.normalize():f}%" if self.rate is not None else "")
        return f"{self.code} — {self.name} ({kind})" if kind else f"{self.code} — {self.name}"


@dataclass(frozen=True)
class MappingRow:
    """One ledger record as the Mapping grid and ``mapping list`` show it."""

    category: str
    local_id: int
    local_code: str
    local_name: str
    kind: str            # nominal kind, tax rate ("20%"), or bank currency
    remote_code: str
    remote_label: str
    state: str           # ok, unmapped, archived, deleted, unknown, never_exported, not_needed
    status: str          # the words the user sees
    set_by: str
    reason: str
    editable: bool


@dataclass(frozen=True)
class Problem:
    """Something the pre-check must report before anything is sent."""

    category: str
    local_id: int
    local_code: str
    state: str           # unmapped, archived, deleted, unknown
    message: str


@dataclass(frozen=True)
class Suggestion:
    category: str
    local_id: int
    local_code: str
    remote_code: str     # "" when nothing fitted
    reason: str


@dataclass
class FetchSummary:
    provider: str
    accounts: int = 0
    tax_rates: int = 0
    bank_accounts: int = 0
    newly_archived: list[str] = field(default_factory=list)
    newly_deleted: list[str] = field(default_factory=list)
    flagged: list[Problem] = field(default_factory=list)   # mappings now pointing at archived/deleted accounts
    fetched_at: datetime | None = None

    @property
    def text(self) -> str:
        parts = [f"Fetched {self.accounts} accounts, {self.tax_rates} tax rates and "
                 f"{self.bank_accounts} bank accounts from {Provider.label_of(self.provider)}."]
        if self.flagged:
            parts.append(f"{len(self.flagged)} mapping(s) now point at archived or deleted accounts: "
                         + "; ".join(p.message for p in self.flagged))
        return " ".join(parts)
