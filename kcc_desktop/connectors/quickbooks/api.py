"""The calls KCC Desktop makes through python-quickbooks: queries, single saves, batches and cdc.

``QboApi`` holds one SDK ``QuickBooks`` client (``api_url_v3`` pointed at the configured base,
minorversion 75, ``use_decimal=True``: amounts read back as Decimal, sent as exact strings) whose
session is ours (``http.QboSession``). Every call's failure comes out as a ``ConnectorError``.

Writes: one element is a ``save`` with ``requestid``; more go to ``/batch`` (at most 30 operations)
carrying ``requestid`` = the caller's idempotency key, so a resend after a lost answer replays instead
of creating twice. ``BatchManager`` cannot send a requestid, so the batch is built here and sent
through the SDK's ``make_request``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from quickbooks import exceptions as qbx
from quickbooks.client import QuickBooks
from quickbooks.mixins import DecimalEncoder

from ..base import MalformedResponse
from . import mapping as m
from .http import (
    BATCH_REQUEST_ID_MAX,
    REQUEST_ID_MAX,
    THROTTLE_CODE,
    QboSession,
    fault_code,
    fault_text,
    guarded,
    request_id,
    translate,
)
from .mapping import Row
from .remote import fault_codes, fault_messages

T = TypeVar("T")

MINOR_VERSION = 75
MAX_BATCH = 30
MAX_RESULTS = 1000
IN_LIST_CHARS = 12_000   # keeps one look-up's query text reasonable (~1,000 short QBO ids)


@dataclass
class Op:
    """One element of a write: where its Result goes, and what to send."""

    index: int
    entity: str
    operation: str          # "create" | "update"
    obj: Any                # a python-quickbooks object
    name: str = ""          # DisplayName / Name, for duplicate-name linking


@dataclass
class Answer:
    ok: bool
    data: Row = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)


def keyed(key: str, ops: list[Op]) -> str:
    """Updates carry SyncTokens, so their body changes once applied: a resend then needs a fresh
    requestid (an update is safe to repeat; a reused requestid with another body is refused)."""
    tokens = [str(op.obj.SyncToken) for op in ops if op.operation == "update"]
    return f"{key}|{','.join(tokens)}" if tokens else key


class QboApi:
    def __init__(self, realm_id: str, api_url: str, session: QboSession, page_size: int = MAX_RESULTS) -> None:
        self.realm_id = realm_id
        self.session = session
        self.page_size = max(1, min(page_size, MAX_RESULTS))
        self.qb: Any = QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION, use_decimal=True)
        self.qb.sandbox = False  # api_url then returns api_url_v3, which we set per instance
        self.qb.api_url_v3 = api_url
        self.qb.session = session

    def sdk(self, fn: Callable[[], T], what: str) -> T:
        return guarded(fn, self.session, what)

    # --- reading -------------------------------------------------------------------------------------

    def query(self, select: str, what: str) -> list[Row]:
        """One query page: the rows of the entity named in ``select``."""
        data = self.sdk(lambda: self.qb.query(select), what)
        if not isinstance(data, dict) or not isinstance(data.get("QueryResponse"), dict):
            raise MalformedResponse(f"QuickBooks answered {what} in a shape KCC Desktop does not understand.")
        response = data["QueryResponse"]
        rows = next((v for v in response.values() if isinstance(v, list)), [])
        if not all(isinstance(r, dict) for r in rows):
            raise MalformedResponse(f"QuickBooks answered {what} in a shape KCC Desktop does not understand.")
        return rows

    def query_pages(self, entity: str, where: str = "", order: str = "", what: str = "") -> Iterator[list[Row]]:
        """Every matching row, page by page (STARTPOSITION counts from 1; at most 1,000 a page)."""
        start = 1
        while True:
            select = f"SELECT * FROM {entity}"
            if where:
                select += f" WHERE {where}"
            if order:
                select += f" ORDERBY {order}"
            select += f" STARTPOSITION {start} MAXRESULTS {self.page_size}"
            rows = self.query(select, what or f"a {entity} query")
            yield rows
            if len(rows) < self.page_size:
                return
            start += len(rows)

    def query_all(self, entity: str, where: str = "", order: str = "Id", what: str = "") -> list[Row]:
        return [row for page in self.query_pages(entity, where, order, what) for row in page]

    def by_ids(self, entity: str, ids: Iterable[str], what: str) -> dict[str, Row]:
        """Rows by Id (inactive names included): one query per IN-list of up to a page of ids.

        An ``Id IN (...)`` query returns at most one row per id, so a list no longer than the page size
        is always answered in one page: no second request to find out there is no more.
        """
        wanted = sorted({str(i) for i in ids if i})
        out: dict[str, Row] = {}
        for chunk in in_lists(wanted, self.page_size, IN_LIST_CHARS):
            where = f"Id IN ({chunk})"
            if entity in ("Customer", "Vendor", "Item", "Account"):
                where += " AND Active IN (true, false)"
            select = f"SELECT * FROM {entity} WHERE {where} STARTPOSITION 1 MAXRESULTS {self.page_size}"
            for row in self.query(select, what):
                out[str(row.get("Id"))] = row
        return out

    def by_names(self, entity: str, field_name: str, names: Iterable[str], what: str) -> dict[str, Row]:
        """Active rows whose ``field_name`` is one of ``names``, keyed by the name as QBO spells it (casefolded)."""
        wanted = sorted({n for n in names if n})
        out: dict[str, Row] = {}
        for n in range(0, len(wanted), 100):
            chunk = ", ".join(m.quote(x) for x in wanted[n:n + 100])
            for row in self.query_all(entity, f"{field_name} IN ({chunk})", what=what):
                out[str(row.get(field_name, "")).casefold()] = row
        return out

    def changed_since(self, entities: str, changed_since: str, what: str) -> Any:
        """Change data capture (``GET /cdc``): the raw JSON answer."""
        return self.sdk(lambda: self.qb.change_data_capture(entities, changed_since), what)

    # --- writing -------------------------------------------------------------------------------------

    def send(self, ops: list[Op], key: str, what: str) -> dict[int, Answer]:
        """Send ``ops`` in one request: a single ``save`` for one element, else one ``/batch``."""
        if not ops:
            return {}
        if len(ops) > MAX_BATCH:
            raise ValueError(f"QuickBooks takes at most {MAX_BATCH} operations a batch; got {len(ops)}.")
        if len(ops) == 1:
            return {ops[0].index: self._save_one(ops[0], key, what)}
        return self._batch(ops, key, what)

    def _save_one(self, op: Op, key: str, what: str) -> Answer:
        rid = request_id(key, REQUEST_ID_MAX)
        try:
            saved = op.obj.save(qb=self.qb, request_id=rid)
        except qbx.QuickbooksException as exc:
            code = fault_code(exc)
            if isinstance(exc, qbx.AuthorizationException) or code <= 0 or code >= 10000 or code == THROTTLE_CODE:
                raise translate(exc, self.session.last_status, what) from None
            text = fault_text(str(exc.message or "").strip(), str(exc.detail or "").strip())
            return Answer(False, messages=[text], codes=[code])
        except Exception as exc:
            raise translate(exc, self.session.last_status, what) from None
        return Answer(True, data=saved.to_dict() if hasattr(saved, "to_dict") else dict(saved))

    def _batch(self, ops: list[Op], key: str, what: str) -> dict[int, Answer]:
        items = [{"bId": str(i), "operation": op.operation, op.entity: json.loads(op.obj.to_json())}
                 for i, op in enumerate(ops)]
        # Sorted keys and positional bIds: a resend is the very same body under the same requestid.
        body = json.dumps({"BatchItemRequest": items}, cls=DecimalEncoder, sort_keys=True)
        url = f"{self.qb.api_url}/company/{self.realm_id}/batch"
        rid = request_id(key, BATCH_REQUEST_ID_MAX)
        data = self.sdk(lambda: self.qb.make_request("POST", url, body, request_id=rid), what)
        answers = data.get("BatchItemResponse") if isinstance(data, dict) else None
        if not isinstance(answers, list):
            raise MalformedResponse(f"QuickBooks answered {what} without a result for each element.")
        out: dict[int, Answer] = {}
        for answer in answers:
            if not isinstance(answer, dict) or not str(answer.get("bId", "")).isdigit():
                raise MalformedResponse(f"QuickBooks answered {what} with an element KCC Desktop cannot place.")
            pos = int(answer["bId"])
            if pos >= len(ops):
                continue
            op = ops[pos]
            if "Fault" in answer:
                # A Fault inside an HTTP 200 is a failure of that element, never a success.
                out[op.index] = Answer(False, messages=fault_messages(answer["Fault"]),
                                       codes=fault_codes(answer["Fault"]))
            elif isinstance(answer.get(op.entity), dict) and answer[op.entity].get("Id"):
                out[op.index] = Answer(True, data=answer[op.entity])
            else:
                out[op.index] = Answer(False, messages=["QuickBooks answered without the saved record; "
                                                        "check QuickBooks before sending it again."])
        for op in ops:
            out.setdefault(op.index, Answer(False, messages=["QuickBooks did not answer for this element; "
                                                             "send it again (nothing is created twice)."]))
        return out


def in_lists(values: list[str], most: int, chars: int) -> Iterator[str]:
    """``'a', 'b', ...`` IN-list bodies of at most ``most`` values and about ``chars`` characters."""
    chunk: list[str] = []
    size = 0
    for v in values:
        quoted = m.quote(v)
        if chunk and (len(chunk) >= most or size + len(quoted) + 2 > chars):
            yield ", ".join(chunk)
            chunk, size = [], 0
        chunk.append(quoted)
        size += len(quoted) + 2
    if chunk:
        yield ", ".join(chunk)
