"""QuickBooks Online through python-quickbooks (the API) and intuit-oauth (the sign-in).

- ``package``: ``QuickBooksPackage``, the ``AccountingPackage`` for QuickBooks Online.
- ``payments``: payments read back for the import (receipts, supplier payments, deletions).
- ``api``: the calls made through the SDK (queries, saves, batches, cdc), failures in our terms.
- ``http``: the session below the SDK: the shared transport (tokens, pacing, the retry policy),
  timeouts, and QuickBooks' failures turned into ours.
- ``auth``: intuit-oauth's ``AuthClient``, its failures, the app's credentials, the code exchange.
- ``mapping``: plain values to python-quickbooks objects; ``remote``: QuickBooks' JSON to plain values.
  Neither does I/O.
"""

from .auth import finish_connect
from .package import QuickBooksPackage

__all__ = ["QuickBooksPackage", "finish_connect"]
