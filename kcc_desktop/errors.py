"""The one base for expected refusals that have no other home: ``str()`` is plain words, safe to show.

The window shows such a failure as it is (what happened, what to do), never as "something went wrong":
see ``ui.worker.plain_message``, which also knows the services' own refusals (ledger, connector, mapping,
options, sync lock, OS scheduler).
"""

from __future__ import annotations


class PlainError(Exception):
    """An expected refusal; its message says what happened and what to do."""
