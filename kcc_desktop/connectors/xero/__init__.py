"""Xero through the official xero-python SDK.

- ``package``: ``XeroPackage``, the ``AccountingPackage`` for Xero: batches, look-ups, payments back.
- ``http``: the wire under the SDK (the shared transport: tokens, pacing, the retry policy) and
  Xero's failures turned into ours; ``XeroClient.call`` runs one SDK method.
- ``auth``: what the SDK needs to know about tokens, and the organisations a sign-in reaches.
- ``mapping``: plain values to and from xero-python's models; no I/O.
"""

from .auth import list_connections
from .package import XeroPackage

__all__ = ["XeroPackage", "list_connections"]
