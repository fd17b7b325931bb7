"""What was sent: a document's amount, lines, date, company and currency when it went to the package, kept
so a ledger edit made after export is seen, and said in words ("total 120.00 → 132.00")."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Document, ExportSnapshot, utcnow

FIELDS = ("number", "date", "company", "currency", "total")   # the ledger's side, in the fingerprint with lines


def document_snapshot(doc: Document) -> dict[str, Any]:
    """The ledger's document as plain JSON values (amounts as strings, to the penny)."""
    return {
        "number": doc.number, "date": doc.date.isoformat(), "company": f"{doc.company.code} {doc.company.name}",
        "currency": doc.currency, "net": str(doc.net_total), "tax": str(doc.tax_total), "total": str(doc.gross_total),
        "lines": [[line.description, str(line.quantity), str(line.unit_price), str(line.discount_rate),
                   line.nominal.code, line.tax_code.code, str(line.net), str(line.tax)] for line in doc.lines],
    }


def fingerprint(snap: dict[str, Any]) -> str:
    body = {k: snap.get(k) for k in (*FIELDS, "net", "tax", "lines")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between what was sent (``old``) and the ledger now (``new``), in words."""
    out: list[str] = []
    if old.get("total") != new.get("total"):
        out.append(f"amount {old.get('total')} → {new.get('total')}")
    if old.get("date") != new.get("date"):
        out.append(f"date {old.get('date')} → {new.get('date')}")
    if old.get("company") != new.get("company"):
        out.append(f"company {old.get('company')} → {new.get('company')}")
    if old.get("currency") != new.get("currency"):
        out.append(f"currency {old.get('currency')} → {new.get('currency')}")
    if old.get("number") != new.get("number"):
        out.append(f"number {old.get('number')} → {new.get('number')}")
    before, after = old.get("lines") or [], new.get("lines") or []
    if len(before) != len(after):
        out.append(f"lines {len(before)} → {len(after)}")
    else:
        changed = [str(n) for n, (a, b) in enumerate(zip(before, after, strict=True), start=1) if a != b]
        if changed:
            out.append(f"line{'s' if len(changed) > 1 else ''} {', '.join(changed)} changed")
    if not out and old.get("net") != new.get("net"):
        out.append(f"net {old.get('net')} → {new.get('net')}")
    return out or ["the document was edited"]


@dataclass(frozen=True)
class Sent:
    """A stored snapshot, read back."""

    item_type: str
    object_id: int
    fingerprint: str
    data: dict[str, Any]
    source: str                 # sent, accepted, changed
    taken_at: datetime

    @property
    def package_total(self) -> Decimal | None:
        """The total the package should show: what it answered when sent (or when the difference was accepted)."""
        value = self.data.get("package_total")
        return Decimal(str(value)) if value not in (None, "") else None

    @property
    def reason(self) -> str:
        return str(self.data.get("reason") or "")


def record(s: Session, provider: str, item_type: str, doc: Document, *, package_total: Decimal | None,
           source: str = "sent", reason: str = "", reissues: int = 0) -> None:
    """Keep (or replace) what the package now holds for ``doc``."""
    snap = document_snapshot(doc)
    if reissues:
        snap["reissues"] = reissues
    snap["package_total"] = str(package_total) if package_total is not None else str(doc.gross_total)
    if reason:
        snap["reason"] = reason
    row = s.scalar(select(ExportSnapshot).where(ExportSnapshot.provider == provider,
                                                ExportSnapshot.item_type == item_type,
                                                ExportSnapshot.object_id == doc.id))
    if row is None:
        row = ExportSnapshot(provider=provider, item_type=item_type, object_id=doc.id)
        s.add(row)
    row.fingerprint, row.snapshot, row.source, row.taken_at = fingerprint(snap), json.dumps(snap), source, utcnow()


def load(s: Session, provider: str, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Sent]:
    """Snapshots by (item type, object id)."""
    out: dict[tuple[str, int], Sent] = {}
    ids = sorted({o for _, o in keys})
    for n in range(0, len(ids), 500):
        rows = s.scalars(select(ExportSnapshot).where(ExportSnapshot.provider == provider,
                                                      ExportSnapshot.object_id.in_(ids[n:n + 500])))
        for r in rows:
            out[(r.item_type, r.object_id)] = Sent(r.item_type, r.object_id, r.fingerprint, json.loads(r.snapshot),
                                                   r.source, r.taken_at)
    return out
