"""What the last scheduled run did, kept in the company file's settings, for the window to show.

The window reads ``last_run(store)`` when it opens (and whenever it likes) to say when the last scheduled
run was, what it did and whether anything failed; ``unseen_failure``/``mark_seen`` let it raise a
notification once per failed run rather than every time it opens.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..settings_db import DbSettingsStore
from ..store import Store

LAST_RUN_KEY = "schedule.last_run"
SEEN_KEY = "schedule.last_run_seen"      # finished_at of the last run whose failure the window has shown


@dataclass(frozen=True)
class RunRecord:
    started_at: datetime                  # UTC
    finished_at: datetime                 # UTC
    export: bool                          # what was asked
    import_: bool
    every: str = ""                       # "30m" when run by the schedule
    reached: bool = True                  # False when it could not start (no connection, integration off)
    exported: int = 0
    export_failed: int = 0                # failed or held back (see Error Feedback)
    pending: int = 0                      # still waiting in Pending Export afterwards
    fetched: int = 0
    created: int = 0
    import_failed: int = 0                # fetched but not created (see the Import tab's Status)
    problems: tuple[str, ...] = ()        # plain words: why something failed or stopped
    notes: tuple[str, ...] = ()           # worth knowing, not failures

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        """One line: what it did, then what went wrong, in plain words."""
        parts = []
        if self.export:
            if self.reached:
                text = f"exported {self.exported:,}"
                if self.export_failed:
                    text += f", {self.export_failed:,} with problems (see Error Feedback)"
                parts.append(text + f", {self.pending:,} still pending")
            else:
                parts.append(f"{self.pending:,} still pending export")
        if self.import_ and self.reached:
            parts.append(f"fetched {self.fetched:,} payment{'s' if self.fetched != 1 else ''}")
        if self.import_ and (self.reached or self.created or self.import_failed):
            text = f"created and allocated {self.created:,} payment{'s' if self.created != 1 else ''}"
            if self.import_failed:
                text += f", {self.import_failed:,} not created (see Status on the Import tab)"
            parts.append(text)
        line = "; ".join(parts)
        return " ".join(x for x in [line[:1].upper() + line[1:] + "." if line else "", *self.problems] if x)

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["import"] = data.pop("import_")
        data["ok"] = self.ok
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        d = json.loads(text)
        return cls(started_at=datetime.fromisoformat(d["started_at"]),
                   finished_at=datetime.fromisoformat(d["finished_at"]),
                   export=bool(d["export"]), import_=bool(d["import"]), every=str(d.get("every", "")),
                   reached=bool(d.get("reached", True)),
                   exported=int(d.get("exported", 0)), export_failed=int(d.get("export_failed", 0)),
                   pending=int(d.get("pending", 0)), fetched=int(d.get("fetched", 0)),
                   created=int(d.get("created", 0)), import_failed=int(d.get("import_failed", 0)),
                   problems=tuple(d.get("problems", ())), notes=tuple(d.get("notes", ())))


def save_run(store: Store, record: RunRecord) -> None:
    DbSettingsStore(store).set(LAST_RUN_KEY, record.to_json())


def last_run(store: Store) -> RunRecord | None:
    """The last scheduled run's record, or None when the schedule has never run on this company file."""
    raw = DbSettingsStore(store).get(LAST_RUN_KEY)
    if not raw:
        return None
    try:
        return RunRecord.from_json(raw)
    except (ValueError, KeyError, TypeError):
        return None


def unseen_failure(store: Store) -> RunRecord | None:
    """The last run, when it failed and the window has not yet shown that failure."""
    record = last_run(store)
    if record is None or record.ok:
        return None
    return None if DbSettingsStore(store).get(SEEN_KEY) == record.finished_at.isoformat() else record


def mark_seen(store: Store, record: RunRecord) -> None:
    """The window has shown ``record``'s failure; ``unseen_failure`` stays quiet until the next failure."""
    DbSettingsStore(store).set(SEEN_KEY, record.finished_at.isoformat())
