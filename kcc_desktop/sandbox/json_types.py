"""Names for the JSON the sandbox reads, keeps and answers with.

Both packages' objects are held in their own JSON shape as plain dicts, with Python values where JSON
has none (``Decimal`` money, ``date``, aware ``datetime``). Their members vary by entity and by what a
client sent, so they are typed as JSON objects; the fixed shapes the sandbox owns (a Xero
organisation's books, token entries) have TypedDicts beside the code that keeps them.
"""

from __future__ import annotations

from typing import Any, TypeAlias

JSONValue: TypeAlias = Any
"""Any value a JSON document may hold (and, in stored records, Decimal/date/datetime)."""

JSONObject: TypeAlias = dict[str, Any]
"""A JSON object: a request body, a response body, or a part of one."""

Record: TypeAlias = dict[str, Any]
"""One stored object (an invoice, a contact...) in its package's JSON shape, with Python values."""
