"""The data API under ``/v3/company/{realm}``: read, create/update/delete, query, batch and cdc.

Every operation returns a plain JSON-ready dict or raises ``QboFault``; the provider decides how a
fault is framed (HTTP 400 for a request, the ``Fault`` member of a 200 inside a batch).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..http import Request
from . import errors, query, queryable
from .errors import QboFault, qbo_time
from .rules import Rules
from .rules_values import ref_id
from .store import KINDS, Books, kind_named, render, render_deleted

MAX_BATCH = 30
CDC_DAYS = 30
CDC_MAX = 1000


class Api:
    """The company's data API over its books; every method answers a JSON-ready dict or raises QboFault."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.rules = Rules(books)

    def _envelope(self, body: dict[str, Any]) -> dict[str, Any]:
        body["time"] = qbo_time(self.books.now())
        return body

    # --- single objects --------------------------------------------------------------------------
    def read(self, entity: str, obj_id: str) -> dict[str, Any]:
        kind = self._kind(entity)
        if kind == "Preferences":
            return self._envelope({kind: render(self.books.get(kind, "1"))})
        obj = self.books.find(kind, obj_id)
        if obj is None:
            raise errors.not_found(kind, obj_id)
        return self._envelope({kind: render(obj)})

    def write(self, entity: str, body: Any, operation: str | None, include: str | None) -> dict[str, Any]:
        """POST to an entity: create, update (Id present), delete or void, as ``operation`` says."""
        kind = self._kind(entity)
        if isinstance(body, dict) and len(body) == 1 and kind in body and isinstance(body[kind], dict):
            body = body[kind]  # some clients wrap the object in its entity name
        if not isinstance(body, dict):
            raise QboFault(2010, "Request has invalid or unsupported property",
                           "The request body must be a JSON object")
        includes = {s.strip().lower() for s in (include or "").split(",") if s.strip()}
        op = (operation or "").lower()
        if kind == "Preferences" and op in ("", "update"):
            return self._envelope({kind: render(self.update_preferences(body))})
        if op == "delete":
            return self._envelope({kind: self.delete(kind, body)})
        if op == "void" or (op == "update" and "void" in includes):
            return self._envelope({kind: render(self.void(kind, body))})
        if op not in ("", "create", "update"):
            raise errors.unsupported(f"Operation {operation} is not supported")
        return self._envelope({kind: render(self.save(kind, body, "allowduplicatedocnum" in includes))})

    def save(self, kind: str, body: dict[str, Any], allow_dup: bool = False) -> dict[str, Any]:
        if KINDS[kind].family == "readonly":
            raise errors.unsupported(f"Operation create/update is not supported for {kind} in this API")
        obj_id = body.get("Id")
        if obj_id in (None, "", 0, "0"):
            obj = self.rules.prepare(kind, body, None, allow_dup)
            stored = self.books.insert(kind, obj)
        else:
            existing = self._current(kind, body)
            if existing.get("TxnDate"):
                self.rules.company.check_open(existing["TxnDate"])
            merged = {**existing, **body} if body.get("sparse") in (True, "true") else body
            obj = self.rules.prepare(kind, merged, existing, allow_dup)
            stored = self.books.replace(kind, existing, obj)
        return stored

    def update_preferences(self, body: dict[str, Any]) -> dict[str, Any]:
        """Preferences take a (sparse) update of their writable fields only; see ``company.py``."""
        existing = self._current("Preferences", body)
        return self.books.replace("Preferences", existing, self.rules.company.update_preferences(body))

    def _current(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """The stored object a write names, checked against the SyncToken it was read with."""
        obj_id = str(body.get("Id"))
        existing = self.books.find(kind, obj_id)
        if existing is None:
            raise errors.not_found(kind, obj_id)
        if body.get("SyncToken") in (None, ""):
            raise errors.required_param("SyncToken")
        if str(body["SyncToken"]) != existing["SyncToken"]:
            raise errors.stale_object(kind, obj_id, str(body["SyncToken"]), existing["SyncToken"])
        return existing

    def delete(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if not KINDS[kind].deletable:
            raise errors.unsupported(f"Operation Delete is not supported for {kind}; make it inactive instead "
                                     f"(sparse update with Active=false)")
        existing = self._current(kind, body)
        if existing.get("TxnDate"):
            self.rules.company.check_open(existing["TxnDate"])
        if existing.get("LinkedTxn"):
            links = ", ".join(f"{lt['TxnType']} {lt['TxnId']}" for lt in existing["LinkedTxn"])
            raise errors.business(f"This transaction is linked to others ({links}); delete those first", "Id")
        self.books.delete(kind, existing["Id"])
        return render_deleted(kind, existing["Id"])

    def void(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Void keeps the record with zero amounts (payments release what they had applied)."""
        if kind not in ("Invoice", "Payment", "BillPayment", "CreditMemo", "Bill"):
            raise errors.unsupported(f"Operation Void is not supported for {kind}")
        existing = self._current(kind, body)
        self.rules.company.check_open(existing["TxnDate"])
        if kind in ("Invoice", "CreditMemo", "Bill") and existing.get("LinkedTxn"):
            raise errors.business("This transaction has payments applied; void or delete them first", "Id")
        voided = {**existing, "PrivateNote": "Voided", "TotalAmt": Decimal("0.00")}
        if kind in ("Payment", "BillPayment"):
            voided["Line"] = []
            if kind == "Payment":
                voided["UnappliedAmt"] = voided["TotalAmt"]
        else:
            voided["Line"] = [{**line, "Amount": voided["TotalAmt"]} for line in existing["Line"]]
            voided["TxnTaxDetail"] = {"TotalTax": voided["TotalAmt"], "TaxLine": []}
        return self.books.replace(kind, existing, voided)

    # --- query -----------------------------------------------------------------------------------
    def query(self, text: str | None) -> dict[str, Any]:
        return self._envelope({"QueryResponse": self.query_response(text)})

    def query_response(self, text: str | None) -> dict[str, Any]:
        if not text or not text.strip():
            raise errors.query_error("The query is empty")
        q = query.parse(text)
        queryable.check(q.entity, [c.field for c in q.where], [f for f, _desc in q.order])
        page, total = query.run(q, self.books.all(q.entity))
        if q.count:
            return {"totalCount": total}
        if not page:
            return {}
        return {q.entity: [query.project(render(o), q.fields) for o in page],
                "startPosition": q.start, "maxResults": len(page)}

    # --- batch -----------------------------------------------------------------------------------
    def batch(self, body: Any) -> dict[str, Any]:
        items = (body or {}).get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise errors.required_param("BatchItemRequest")
        if len(items) > MAX_BATCH:
            # *unconfirmed* code: Intuit documents the 30-item cap but not the exact fault.
            raise QboFault(1040, "Batch request is too large",
                           f"A batch may hold at most {MAX_BATCH} operations; this one has {len(items)}",
                           element="BatchItemRequest")
        return self._envelope({"BatchItemResponse": [self._batch_item(item) for item in items]})

    def _batch_item(self, item: Any) -> dict[str, Any]:
        bid = item.get("bId") if isinstance(item, dict) else None
        out: dict[str, Any] = {"bId": bid}
        try:
            if not isinstance(item, dict) or not bid:
                raise errors.required_param("bId")
            if "Query" in item:
                out["QueryResponse"] = self.query_response(item["Query"])
                return out
            entities = [(key, found) for key in item if key not in ("bId", "operation")
                        and (found := kind_named(key)) is not None]
            if len(entities) != 1:
                raise QboFault(2010, "Request has invalid or unsupported property",
                               "A batch item must carry exactly one entity or a Query")
            key, found = entities[0]
            kind = found.name
            op = (item.get("operation") or "create").lower()
            obj = item[key]
            if op == "delete":
                out[kind] = self.delete(kind, obj)
            elif op in ("create", "update"):
                if op == "create" and obj.get("Id"):
                    raise errors.invalid_value("Id", "A create operation cannot carry an Id")
                if op == "update" and not obj.get("Id"):
                    raise errors.required_param("Id")
                out[kind] = render(self.save(kind, obj))
            else:
                raise errors.unsupported(f"Operation {op} is not supported in a batch")
        except QboFault as fault:
            out.pop("QueryResponse", None)
            out["Fault"] = fault.fault()
        return out

    # --- change data capture ---------------------------------------------------------------------
    def cdc(self, req: Request) -> dict[str, Any]:
        names = [n.strip() for n in (req.arg("entities") or "").split(",") if n.strip()]
        if not names:
            raise errors.required_param("entities")
        since_text = req.arg("changedSince")
        if not since_text:
            raise errors.required_param("changedSince")
        since = query._to_datetime(since_text)
        if since < self.books.now() - timedelta(days=CDC_DAYS):
            raise errors.invalid_value("changedSince", f"changedSince must be within the last {CDC_DAYS} days")
        responses, budget = [], CDC_MAX
        for name in names:
            kind = kind_named(name)
            if kind is None:
                raise errors.invalid_value("entities", f"Unknown entity {name}")
            changed = [(o["MetaData"]["LastUpdatedTime"], render(o)) for o in self.books.all(kind.name)
                       if o["MetaData"]["LastUpdatedTime"] >= since]
            changed += [(when, render_deleted(kind.name, oid, when))
                        for oid, when in self.books.tombstones[kind.name].items() if when >= since]
            changed.sort(key=lambda pair: pair[0])
            page = [obj for _, obj in changed[:budget]]
            budget -= len(page)
            responses.append({kind.name: page, "startPosition": 1, "maxResults": len(page),
                              "totalCount": len(page)} if page else {})
        return self._envelope({"CDCResponse": [{"QueryResponse": responses}]})

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _kind(entity: str) -> str:
        kind = kind_named(entity)
        if kind is None:
            raise errors.unsupported(f"Unsupported entity: {entity}")
        return kind.name


__all__ = ["Api", "ref_id"]
