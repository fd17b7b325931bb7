"""The books of one QBO company: entities by name and Id, tombstones for CDC, and derived balances.

Objects are held as plain dicts with Decimal money and UTC datetimes in ``MetaData`` so they save
through ``state.save_state`` unchanged and render to QBO JSON in one place (``render``).
Callers hold the provider lock; nothing here locks.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

from . import errors
from .seed import seed_objects


@dataclass(frozen=True)
class Kind:
    name: str
    family: str            # "name" (lists: Customer, Item...), "txn" (transactions), "readonly"
    deletable: bool = False


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("Account", "name"), Kind("Customer", "name"), Kind("Vendor", "name"), Kind("Item", "name"),
    Kind("TaxCode", "readonly"), Kind("TaxRate", "readonly"), Kind("CompanyInfo", "readonly"),
    Kind("Preferences", "readonly"),
    Kind("Invoice", "txn", True), Kind("CreditMemo", "txn", True), Kind("Bill", "txn", True),
    Kind("VendorCredit", "txn", True), Kind("Payment", "txn", True), Kind("BillPayment", "txn", True),
]}
# URL segments are lower case (/invoice, /creditmemo); queries are case-insensitive too.
BY_LOWER = {k.lower(): k for k in KINDS}

# Which payment entity can link which document, and the field holding what is left open on it.
OPEN_FIELD = {"Invoice": "Balance", "Bill": "Balance", "CreditMemo": "RemainingCredit", "VendorCredit": "Balance"}


def kind_named(name: str) -> Kind | None:
    key = BY_LOWER.get(name.lower())
    return KINDS[key] if key else None


def iso(dt: datetime) -> str:
    """MetaData times: seconds and an explicit offset, as QBO writes them."""
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


class Books:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.tombstones: dict[str, dict[str, datetime]] = {k: {} for k in KINDS}
        # Names get their own Id sequence per entity; transactions share one, as in QBO.
        self.counters: dict[str, int] = {}
        self.seed()

    # --- lifecycle -------------------------------------------------------------------------------
    def seed(self) -> None:
        now = self.clock()
        self.objects = {k: {} for k in KINDS}
        self.tombstones = {k: {} for k in KINDS}
        self.counters = {}
        for name, objs in seed_objects().items():
            for obj in objs:
                obj.setdefault("SyncToken", "0")
                obj["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
                self.objects[name][obj["Id"]] = obj
                seq = self._sequence(name)
                self.counters[seq] = max(self.counters.get(seq, 0), int(obj["Id"]))
        self.recompute()

    def to_state(self) -> dict[str, Any]:
        return {"objects": self.objects, "tombstones": self.tombstones, "counters": self.counters}

    def load_state(self, data: dict[str, Any]) -> None:
        self.objects = {k: dict(data["objects"].get(k, {})) for k in KINDS}
        self.tombstones = {k: dict(data["tombstones"].get(k, {})) for k in KINDS}
        self.counters = dict(data["counters"])

    # --- access ----------------------------------------------------------------------------------
    @staticmethod
    def _sequence(kind: str) -> str:
        return "txn" if KINDS[kind].family == "txn" else kind

    def all(self, kind: str) -> Iterable[dict[str, Any]]:
        return self.objects[kind].values()

    def find(self, kind: str, obj_id: Any) -> dict[str, Any] | None:
        return self.objects[kind].get(str(obj_id))

    def get(self, kind: str, obj_id: Any) -> dict[str, Any]:
        obj = self.find(kind, obj_id)
        if obj is None:
            raise errors.not_found(kind, str(obj_id))
        return obj

    def now(self) -> datetime:
        return self.clock()

    # --- writes ----------------------------------------------------------------------------------
    def insert(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        seq = self._sequence(kind)
        self.counters[seq] = self.counters.get(seq, 0) + 1
        now = self.now()
        obj["Id"] = str(self.counters[seq])
        obj["SyncToken"] = "0"
        obj["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
        self.objects[kind][obj["Id"]] = obj
        return obj

    def replace(self, kind: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        new["Id"] = old["Id"]
        new["SyncToken"] = str(int(old["SyncToken"]) + 1)
        new["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"], "LastUpdatedTime": self.now()}
        self.objects[kind][old["Id"]] = new
        return new

    def touch(self, obj: dict[str, Any]) -> None:
        """A change QBO makes itself (a payment moving an invoice's Balance) bumps SyncToken too."""
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = self.now()

    def delete(self, kind: str, obj_id: str) -> None:
        del self.objects[kind][obj_id]
        self.tombstones[kind][obj_id] = self.now()

    # --- derived values --------------------------------------------------------------------------
    def applied(self, exclude: tuple[str, str] | None = None) -> dict[tuple[str, str], Decimal]:
        """Amount applied to each (TxnType, TxnId) by payments, optionally leaving one payment out."""
        out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for pay_kind in ("Payment", "BillPayment"):
            for p in self.objects[pay_kind].values():
                if exclude == (pay_kind, p["Id"]):
                    continue
                for line in p.get("Line", []):
                    for lt in line.get("LinkedTxn", []):
                        out[(lt["TxnType"], lt["TxnId"])] += line["Amount"]
        return out

    def open_amount(self, kind: str, obj_id: str, exclude: tuple[str, str] | None = None) -> Decimal:
        doc = self.get(kind, obj_id)
        return doc["TotalAmt"] - self.applied(exclude).get((kind, obj_id), Decimal("0"))

    def recompute(self) -> None:
        """Re-derive balances and payment links after any transaction write (cheap at sandbox sizes)."""
        applied = self.applied()
        links: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for pay_kind in ("Payment", "BillPayment"):
            for p in self.objects[pay_kind].values():
                for line in p.get("Line", []):
                    for lt in line.get("LinkedTxn", []):
                        link = {"TxnId": p["Id"], "TxnType": pay_kind}
                        if link not in links[(lt["TxnType"], lt["TxnId"])]:
                            links[(lt["TxnType"], lt["TxnId"])].append(link)
        for kind, field in OPEN_FIELD.items():
            for doc in self.objects[kind].values():
                key = (kind, doc["Id"])
                balance = doc["TotalAmt"] - applied.get(key, Decimal("0"))
                linked = links.get(key, [])
                changed = doc.get(field) != balance or doc.get("LinkedTxn", []) != linked
                doc[field] = balance
                if kind == "CreditMemo":
                    doc["Balance"] = balance
                if linked:
                    doc["LinkedTxn"] = linked
                else:
                    doc.pop("LinkedTxn", None)
                if changed and "MetaData" in doc and doc.get("_settled"):
                    self.touch(doc)
                doc["_settled"] = True
        zero = Decimal("0.00")
        for c in self.objects["Customer"].values():
            cid = c["Id"]
            c["Balance"] = (sum((i["Balance"] for i in self.objects["Invoice"].values()
                                 if i["CustomerRef"]["value"] == cid), zero)
                            - sum((m["RemainingCredit"] for m in self.objects["CreditMemo"].values()
                                   if m["CustomerRef"]["value"] == cid), zero)
                            - sum((p["UnappliedAmt"] for p in self.objects["Payment"].values()
                                   if p["CustomerRef"]["value"] == cid), zero))
            c["BalanceWithJobs"] = c["Balance"]
        for v in self.objects["Vendor"].values():
            vid = v["Id"]
            v["Balance"] = (sum((b["Balance"] for b in self.objects["Bill"].values()
                                 if b["VendorRef"]["value"] == vid), zero)
                            - sum((b["Balance"] for b in self.objects["VendorCredit"].values()
                                   if b["VendorRef"]["value"] == vid), zero))


def render(obj: dict[str, Any]) -> dict[str, Any]:
    """Stored dict -> QBO JSON (Decimals stay Decimal: the response writer prints them exactly)."""
    out = copy.deepcopy({k: v for k, v in obj.items() if not k.startswith("_")})
    meta = out.get("MetaData")
    if meta:
        out["MetaData"] = {k: iso(v) if isinstance(v, datetime) else v for k, v in meta.items()}
    out["domain"] = "QBO"
    out["sparse"] = False
    return out


def render_deleted(kind: str, obj_id: str, when: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": obj_id, "status": "Deleted", "domain": "QBO"}
    if when is not None:
        out["MetaData"] = {"LastUpdatedTime": iso(when)}
    return out
