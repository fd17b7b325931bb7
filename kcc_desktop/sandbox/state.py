"""State files and exact JSON for money.

Saved state is JSON written to a temp file and ``os.replace``d into place, so a crash mid-write never
leaves a half file. Decimals and datetimes are tagged (``{"$decimal": "120.50"}``) so they come back as
the same types; API responses instead write Decimals as bare JSON numbers, digit for digit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def _tag(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {"$decimal": format(obj, "f")}
    if isinstance(obj, datetime):
        return {"$datetime": obj.isoformat()}
    if isinstance(obj, date):
        return {"$date": obj.isoformat()}
    raise TypeError(f"cannot save {type(obj).__name__}")


def _untag(d: dict[str, Any]) -> Any:
    if len(d) == 1:
        (k, v), = d.items()
        if k == "$decimal":
            return Decimal(v)
        if k == "$datetime":
            return datetime.fromisoformat(v)
        if k == "$date":
            return date.fromisoformat(v)
    return d


def token_digest(value: str) -> str:
    """SHA-256 hex of a token or code the sandbox issued. Like a real authorisation server the sandbox
    keeps only these, so its state file (in the user's data folder in demo mode) holds no credential."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


def as_digest(key: str) -> str:
    """``key`` if it is already a digest, else its digest: state files written before tokens were hashed
    held the values themselves; loading one hashes them, so those logins keep working and the next save
    drops the values from disk."""
    return key if _DIGEST_RE.fullmatch(key) else token_digest(key)


def save_state(where: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` atomically: temp file in the same folder, fsync, then ``os.replace``."""
    path = Path(where)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, default=_tag, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def dumps_tagged(data: Any) -> str:
    """The state file's JSON form as a string (what ``GET /_sandbox/state`` answers)."""
    return json.dumps(data, default=_tag)


def load_state(where: str | os.PathLike[str]) -> Any | None:
    """The saved data, or None when there is no file yet."""
    path = Path(where)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return json.load(fh, object_hook=_untag)


# --- exact JSON for API responses ----------------------------------------------------------------

_MARK = "\u0000dec:"
_MARK_RE = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


def _api_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return _MARK + format(obj, "f")
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    return str(obj)


def dumps_exact(obj: Any) -> str:
    """JSON with every Decimal written as a bare number exactly as held (``Decimal("120.50")`` -> 120.50)."""
    text = json.dumps(obj, default=_api_default)
    return _MARK_RE.sub(r"\1", text)
