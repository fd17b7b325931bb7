"""The Mapping tab's default-nominal pickers: the ledger's nominal codes of each kind."""

from __future__ import annotations

from sqlalchemy import select

from ..models import NominalCode
from ..store import Store
from ..sync.options import DEFAULT_NOMINAL_KINDS


def default_nominal_choices(store: Store) -> dict[str, list[tuple[str, str]]]:
    """For each default-nominal kind, [(code, "code — name")] in code order."""
    kinds = set(DEFAULT_NOMINAL_KINDS.values())
    choices: dict[str, list[tuple[str, str]]] = {kind: [] for kind in kinds}
    with store.session() as s:
        for code, name, kind in s.execute(select(NominalCode.code, NominalCode.name, NominalCode.kind)
                                          .order_by(NominalCode.code)).tuples():
            if kind in choices:
                choices[kind].append((code, f"{code} — {name}"))
    return choices
