"""Upload Data: pending export items to the accounting package, exactly once.

Exactly once, however the run ends:
1. Before a batch goes out, each item's ``attempt_key`` (the request's idempotency key) and
   ``attempt_at`` are stored and **committed**.
2. A transient failure (timeout, dropped connection, 5xx) is retried with the same key, so the package
   answers with its first response instead of creating again.
3. An item still pending with an attempt key is one whose outcome we never saved (a crash, a kill, a
   retry that never got through). The next run replays the same batch with the same key while the
   package still remembers it (about 5 minutes); after that, or if the replay is refused, it looks the
   object up (document by number, contact by name, item by code) and only creates what is not there.
4. Results are saved per batch in one transaction: exported + confirmed + RemoteLink, or Error Feedback.

Dependencies go first without being asked (an invoice's company and stock items, an allocation's
invoice); a dependency that fails holds back what needs it, with that reason. Batches go out with up
to ``PIPELINE`` requests in flight. Qt-free: the window runs ``upload`` in a worker thread and hears
``progress(done, total, text)``; ``cancel`` stops after the batches in flight (their results are saved).

The package, by file:
- ``rules``: what goes in which phase and batch, the replay window, the run's ``Summary``.
- ``planning``: the selection plus its dependencies, in phases.
- ``sending``: one batch on the wire and the call that sends it.
- ``outcomes``: exported rows, links, Error Feedback and held-back items.
- ``lookup``: finding what the package already has.
- ``run``: one Upload Data run (``UploadRun``); ``service``: ``ExportService``, what the window calls.
"""

from .rules import Summary
from .service import ExportService

__all__ = ["ExportService", "Summary"]
