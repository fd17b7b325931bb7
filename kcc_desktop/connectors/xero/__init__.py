"""Xero through the official xero-python SDK.

- ``package``: ``XeroPackage``, the ``AccountingPackage`` for Xero (requests, failures, pacing).
- ``mapping``: plain values to and from xero-python's models; no I/O.
"""

from .package import XeroPackage, list_connections

__all__ = ["XeroPackage", "list_connections"]
