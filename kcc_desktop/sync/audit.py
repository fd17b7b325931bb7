"""The audit trail's who: the person at the keyboard (the OS user), and one helper that writes an entry."""

from __future__ import annotations

import getpass
import os

from sqlalchemy.orm import Session

from ..models import AuditEntry, utcnow


def os_user() -> str:
    """The signed-in OS user's name ("" only if the system cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):   # no login name and no USER/USERNAME variable
        return os.environ.get("USERNAME", "")


def audit(s: Session, what: str, *, old: str = "", new: str = "", reason: str = "", user: str | None = None) -> None:
    s.add(AuditEntry(at=utcnow(), what=what[:200], old_value=old, new_value=new, reason=reason,
                     user=os_user() if user is None else user))
