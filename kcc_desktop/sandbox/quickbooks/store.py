"""The books of one QBO company: entities by name and Id, tombstones for CDC, and derived balances.

Objects are held as plain dicts with Decimal money and UTC datetimes in ``MetaData`` so they save
through ``state.save_state`` unchanged and render to QBO JSON in one place (``render``).
Callers hold the provider lock; nothing here locks. Indexes (payment links, unique names and
numbers, each party's transactions) are derived, never saved, so a state file stays plain data.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from . import errors
from .seed import seed_objects


@dataclass(frozen=True)
class Kind:
    """An entity the sandbox serves, and how it behaves."""

    name: str
    family: str            # "name" (lists: Customer, Item...), "txn" (transactions), "readonly"
    deletable: bool = False


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("Account", "name"), Kind("Customer", "name"), Kind("Vendor", "name"), Kind("Item", "name"),
    Kind("TaxCode", "readonly"), Kind("TaxRate", "readonly"), Kind("CompanyInfo", "readonly"),
    Kind("Preferences", "readonly"), Kind("CompanyCurrency", "name"),
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
    return dt.astimezone(UTC).isoformat(timespec="seconds")


class Books:
    """One company's objects by entity and Id, with the indexes and balances QBO derives from them."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.tombstones: dict[str, dict[str, datetime]] = {k: {} for k in KINDS}
        # Names get their own Id sequence per entity; transactions share one, as in QBO.
        self.counters: dict[str, int] = {}
        self.seed()

    # --- lifecycle -------------------------------------------------------------------------------
    def seed(self) -> None:
        now = self.now()
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
        self._reindex()

    def to_state(self) -> dict[str, Any]:
        return {"objects": self.objects, "tombstones": self.tombstones, "counters": self.counters}

    def load_state(self, data: dict[str, Any]) -> None:
        self.objects = {k: dict(data["objects"].get(k, {})) for k in KINDS}
        self.tombstones = {k: dict(data["tombstones"].get(k, {})) for k in KINDS}
        self.counters = dict(data["counters"])
        self._reindex()

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
        # QBO keeps whole seconds, so "LastUpdatedTime > last seen" never returns the same row again.
        return self.clock().replace(microsecond=0)

    # --- writes (each keeps the indexes and derived balances in step) -----------------------------
    def insert(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        seq = self._sequence(kind)
        self.counters[seq] = self.counters.get(seq, 0) + 1
        now = self.now()
        obj["Id"] = str(self.counters[seq])
        obj["SyncToken"] = "0"
        obj["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
        self.objects[kind][obj["Id"]] = obj
        self._changed(kind, obj["Id"], None, obj)
        return obj

    def replace(self, kind: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        new["Id"] = old["Id"]
        new["SyncToken"] = str(int(old["SyncToken"]) + 1)
        new["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"], "LastUpdatedTime": self.now()}
        self.objects[kind][old["Id"]] = new
        self._changed(kind, old["Id"], old, new)
        return new

    def delete(self, kind: str, obj_id: str) -> None:
        old = self.objects[kind].pop(obj_id)
        self.tombstones[kind][obj_id] = self.now()
        self._changed(kind, obj_id, old, None)

    def touch(self, obj: dict[str, Any]) -> None:
        """A change QBO makes itself (a payment moving an invoice's Balance) bumps SyncToken too."""
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = self.now()

    # --- indexes: rebuilt on load, kept incrementally so a write costs O(its own links) -------------
    def _reindex(self) -> None:
        self._applied: dict[tuple[str, str], dict[tuple[str, str], Decimal]] = defaultdict(dict)
        # Each transaction's share of its customer's/vendor's Balance, and the running totals.
        self._share: dict[tuple[str, str], tuple[tuple[str, str], Decimal]] = {}
        self._party_total: dict[tuple[str, str], Decimal] = defaultdict(lambda: Decimal("0.00"))
        self._unique: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        self._max_doc: dict[str, int] = defaultdict(lambda: 1000)
        self._stock_moves: dict[str, Decimal] = defaultdict(Decimal)  # item id -> qty moved by documents
        for kind, objs in self.objects.items():
            for obj in objs.values():
                self._index(kind, obj, True)
        for item in self.objects["Item"].values():
            self._refresh_stock(item["Id"])
        for key in list(self._applied):
            self._refresh_doc(key, touch=False)
        for kind in KINDS:
            for obj_id in list(self.objects[kind]):
                self._reshare((kind, obj_id))
        for kind in ("Customer", "Vendor"):
            for obj_id in self.objects[kind]:
                self._refresh_party((kind, obj_id))

    def _index(self, kind: str, obj: dict[str, Any], add: bool) -> None:
        key = (kind, obj["Id"])
        for group, value in _unique_keys(kind, obj):
            (self._unique[(group, value)].add if add else self._unique[(group, value)].discard)(key)
            if add and group.endswith("#doc") and value.isdigit():
                self._max_doc[kind] = max(self._max_doc[kind], int(value))
        for item_id, qty in _stock_lines(kind, obj):
            self._stock_moves[item_id] += qty if add else -qty
        for lt_key, amount in _links(kind, obj):
            if add:
                self._applied[lt_key][key] = self._applied[lt_key].get(key, Decimal("0")) + amount
            else:
                self._applied[lt_key].pop(key, None)

    def _changed(self, kind: str, obj_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        docs: set[tuple[str, str]] = {(kind, obj_id)}
        for obj in (old, new):
            if obj is not None:
                docs |= {k for k, _ in _links(kind, obj)}
        if old is not None:
            self._index(kind, old, False)
        if new is not None:
            self._index(kind, new, True)
        if kind == "Item" and new is not None:
            self._start_stock(old, new)
        for item_id in {i for obj in (old, new) if obj is not None for i, _ in _stock_lines(kind, obj)}:
            self._refresh_stock(item_id)
        parties: set[tuple[str, str]] = set()
        for key in docs:
            if key != (kind, obj_id):
                self._refresh_doc(key, touch=kind in ("Payment", "BillPayment"))
            elif new is not None and kind in OPEN_FIELD:
                self._refresh_doc(key, touch=False)
            parties |= self._reshare(key)
        for party in parties:
            self._refresh_party(party)

    def _start_stock(self, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        """QtyOnHand = opening quantity + what documents moved; a changed QtyOnHand resets the opening."""
        if new.get("Type") != "Inventory":
            return
        moved = self._stock_moves.get(new["Id"], Decimal("0"))
        if old is None or "_start_qty" not in old:
            new["_start_qty"] = new.get("QtyOnHand", Decimal("0"))
        elif new.get("QtyOnHand") is not None and new["QtyOnHand"] != old.get("QtyOnHand"):
            new["_start_qty"] = new["QtyOnHand"] - moved
        else:
            new["_start_qty"] = old["_start_qty"]
        self._refresh_stock(new["Id"])

    def _refresh_stock(self, item_id: str) -> None:
        item = self.find("Item", item_id)
        if item is not None and item.get("Type") == "Inventory":
            item["QtyOnHand"] = item.get("_start_qty", Decimal("0")) + self._stock_moves.get(item_id, Decimal("0"))

    def _reshare(self, key: tuple[str, str]) -> set[tuple[str, str]]:
        """Move one transaction's share of its party's balance to its current value."""
        touched: set[tuple[str, str]] = set()
        old = self._share.pop(key, None)
        if old is not None:
            self._party_total[old[0]] -= old[1]
            touched.add(old[0])
        obj = self.find(*key)
        party = party_of(key[0], obj) if obj is not None else None
        if obj is not None and party is not None:
            kind = key[0]
            amount = (obj["Balance"] if kind in ("Invoice", "Bill")
                      else -obj["Balance"] if kind in ("CreditMemo", "VendorCredit")
                      else -obj.get("UnappliedAmt", Decimal("0")) if kind == "Payment" else Decimal("0"))
            self._share[key] = (party, amount)
            self._party_total[party] += amount
            touched.add(party)
        return touched

    def holders(self, group: str, value: str) -> set[tuple[str, str]]:
        """Which objects hold a unique value: group "name" (customers+vendors), "Item", "Account",
        "Invoice#doc"; values compared case-insensitively."""
        return set(self._unique.get((group, value.strip().casefold()), ()))

    def next_doc_number(self, kind: str) -> str:
        return str(self._max_doc[kind] + 1)

    # --- derived values --------------------------------------------------------------------------
    def applied_to(self, key: tuple[str, str], exclude: tuple[str, str] | None = None) -> Decimal:
        """What payments have applied to a document, optionally leaving one payment out."""
        return sum((amt for pay, amt in self._applied.get(key, {}).items() if pay != exclude), Decimal("0"))

    def _refresh_doc(self, key: tuple[str, str], touch: bool) -> dict[str, Any] | None:
        kind, obj_id = key
        doc = self.find(kind, obj_id) if kind in OPEN_FIELD else None
        if doc is None:
            return None
        pays = self._applied.get(key, {})
        balance = doc["TotalAmt"] - sum(pays.values(), Decimal("0"))
        linked = [{"TxnId": pid, "TxnType": pkind} for pkind, pid in pays]
        changed = doc.get(OPEN_FIELD[kind]) != balance or doc.get("LinkedTxn", []) != linked
        doc[OPEN_FIELD[kind]] = balance
        if kind == "CreditMemo":
            doc["Balance"] = balance
        if linked:
            doc["LinkedTxn"] = linked
        else:
            doc.pop("LinkedTxn", None)
        if changed and touch:
            self.touch(doc)
        return doc

    def _refresh_party(self, party: tuple[str, str]) -> None:
        """Customer.Balance: open invoices less unused credit notes and unapplied payments."""
        obj = self.find(*party)
        if obj is None:
            return
        obj["Balance"] = self._party_total[party]
        if party[0] == "Customer":
            obj["BalanceWithJobs"] = obj["Balance"]


def party_of(kind: str, obj: dict[str, Any]) -> tuple[str, str] | None:
    if kind in ("Invoice", "CreditMemo", "Payment"):
        return ("Customer", obj["CustomerRef"]["value"])
    if kind in ("Bill", "VendorCredit", "BillPayment"):
        return ("Vendor", obj["VendorRef"]["value"])
    return None


def _links(kind: str, obj: dict[str, Any]) -> list[tuple[tuple[str, str], Decimal]]:
    if kind not in ("Payment", "BillPayment"):
        return []
    return [((lt["TxnType"], lt["TxnId"]), line["Amount"])
            for line in obj.get("Line", []) for lt in line.get("LinkedTxn", [])]


_STOCK_SIGN = {"Invoice": -1, "CreditMemo": 1, "Bill": 1, "VendorCredit": -1}


def _stock_lines(kind: str, obj: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """(item id, signed quantity) for each item line: sales take stock out, bills bring it in."""
    sign = _STOCK_SIGN.get(kind)
    if sign is None:
        return []
    out = []
    for line in obj.get("Line", []):
        detail = line.get(line.get("DetailType", ""), {})
        if isinstance(detail, dict) and isinstance(detail.get("ItemRef"), dict) and "Qty" in detail:
            out.append((detail["ItemRef"]["value"], sign * Decimal(str(detail["Qty"]))))
    return out


def _unique_keys(kind: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    if kind in ("Customer", "Vendor"):
        return [("name", str(obj.get("DisplayName", "")).strip().casefold())]
    if kind in ("Item", "Account"):
        return [(kind, str(obj.get("Name", "")).strip().casefold())]
    if kind in ("Invoice", "CreditMemo", "Bill", "VendorCredit") and obj.get("DocNumber"):
        return [(f"{kind}#doc", str(obj["DocNumber"]).strip().casefold())]
    return []


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
