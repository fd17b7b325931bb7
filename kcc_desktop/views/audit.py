"""View Audit Trail: every mapping and option change and every hand-made export decision, newest first, in the
user's words, with who and why where they were recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from ..models import AuditEntry
from ..store import Store
from ..sync.options import display_value, label_for_key
from .common import chunked


class AuditRow(NamedTuple):
    at: datetime
    what: str
    old: str
    new: str
    user: str = ""     # who (the OS user), where recorded
    reason: str = ""   # why, where one was asked for (Mark as Exported, reconciliation's decisions)


def describe(what: str, old: str, new: str) -> tuple[str, str, str]:
    """An entry in the user's words: option keys become their labels, "1"/"0" become On/Off."""
    if what.startswith("Option "):
        key = what[len("Option "):]
        return f"Option: {label_for_key(key)}", display_value(key, old), display_value(key, new)
    return what, old, new


class AuditTrail:
    def __init__(self, store: Store) -> None:
        self.store = store

    def ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc())))

    def rows(self, ids: Sequence[int]) -> dict[int, AuditRow]:
        out: dict[int, AuditRow] = {}
        q = select(AuditEntry.id, AuditEntry.at, AuditEntry.what, AuditEntry.old_value, AuditEntry.new_value,
                   AuditEntry.user, AuditEntry.reason)
        with self.store.session() as s:
            for chunk in chunked(ids):
                for id_, at, what, old, new, user, reason in s.execute(q.where(AuditEntry.id.in_(chunk))).tuples():
                    out[id_] = AuditRow(at, *describe(what, old, new), user or "", reason or "")
        return out
