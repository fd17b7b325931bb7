"""QuickBooks Online faults: the codes, messages and body shapes the real API sends.

Handlers raise ``QboFault``; the provider turns it into ``{"Fault": {...}, "time": ...}`` (HTTP 400
for a whole request, or the ``Fault`` member of a batch item, which arrives inside an HTTP 200).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def qbo_time(dt: datetime | None = None) -> str:
    """QBO writes times with milliseconds and an offset (the company's zone; ours is UTC)."""
    dt = dt or datetime.now(UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


class QboFault(Exception):
    """One QBO error. ``status`` is the HTTP status when it ends a whole request."""

    def __init__(self, code: int | str, message: str, detail: str = "", element: str = "",
                 fault_type: str = "ValidationFault", status: int = 400) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = str(code)
        self.message = message
        self.detail = detail or message
        self.element = element
        self.fault_type = fault_type
        self.status = status

    def fault(self) -> dict[str, Any]:
        return {"Error": [{"Message": self.message, "Detail": self.detail, "code": self.code,
                           "element": self.element}], "type": self.fault_type}

    def body(self, now: datetime | None = None) -> dict[str, Any]:
        return {"Fault": self.fault(), "time": qbo_time(now)}


# --- the faults the sandbox raises, one constructor each so messages stay consistent ---------------

def not_found(entity: str, obj_id: str) -> QboFault:
    return QboFault(610, "Object Not Found",
                    f"Object Not Found : Something you're trying to use has been made inactive. "
                    f"Check the fields with accounts, customers, items, vendors or employees. "
                    f"({entity} Id={obj_id})", fault_type="ValidationFault")


def invalid_reference(element: str, ref: str, kind: str = "Names") -> QboFault:
    return QboFault(2500, "Invalid Reference Id",
                    f"Invalid Reference Id : {kind} element id {ref} not found", element=element)


def required_param(element: str) -> QboFault:
    return QboFault(2020, "Required param missing, need to supply the required value for the API",
                    f"Required parameter {element} is missing in the request", element=element)


def invalid_value(element: str, detail: str) -> QboFault:
    return QboFault(2050, "Invalid String/Number/Date", detail, element=element)


def business(detail: str, element: str = "") -> QboFault:
    return QboFault(6000, "A business validation error has occurred while processing your request",
                    f"Business Validation Error: {detail}", element=element)


def duplicate_name(name: str) -> QboFault:
    return QboFault(6240, "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Another customer, vendor or employee is already "
                    f"using this name ({name}). Please use a different name.")


def duplicate_doc_num(doc: str, txn_type: str, txn_id: str) -> QboFault:
    return QboFault(6140, "Duplicate Document Number Error",
                    f"Duplicate Document Number Error : You must specify a different number. This number has "
                    f"already been used. DocNumber={doc} is assigned to TxnType={txn_type} with TxnId={txn_id}",
                    element="DocNumber")


def stale_object(entity: str, obj_id: str, sent: str, current: str) -> QboFault:
    return QboFault(5010, "Stale Object Error",
                    f"Stale Object Error : You and another user were working on the same thing. "
                    f"Another user finished before you did, so your work was not saved. "
                    f"({entity} Id={obj_id} SyncToken sent={sent}, current={current})", element="SyncToken")


def query_error(detail: str) -> QboFault:
    return QboFault(4000, "Error parsing query", f"QueryParserError: {detail}", fault_type="ValidationFault")


def unsupported(detail: str) -> QboFault:
    return QboFault(500, "Unsupported Operation", detail, fault_type="ValidationFault")


def throttled() -> QboFault:
    return QboFault(3001, "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                    "The request limit was reached.", fault_type="SERVICE", status=429)


def auth_failed(detail: str) -> dict[str, Any]:
    """Intuit's 401 body: note the lower-case keys, unlike every other QBO fault."""
    return {"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                 "detail": detail, "code": "3200"}], "type": "AUTHENTICATION"},
            "time": qbo_time()}
