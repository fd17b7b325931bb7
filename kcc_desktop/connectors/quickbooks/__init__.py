"""QuickBooks Online through python-quickbooks (the API) and intuit-oauth (the sign-in).

- ``package``: ``QuickBooksPackage``, the ``AccountingPackage`` for QuickBooks Online.
- ``http``: the session below the SDK: tokens, pacing, timeouts, failures turned into ours.
- ``auth``: intuit-oauth's ``AuthClient``, its failures and the app's credentials.
- ``mapping``: plain values to and from python-quickbooks objects; no I/O.
"""

from .package import QuickBooksPackage, complete_connect

__all__ = ["QuickBooksPackage", "complete_connect"]
