"""The QuickBooks Online sandbox: OAuth, the v3 accounting API, query, batch and cdc on loopback."""

from .provider import DEFAULT_REALM, QuickBooksProvider

__all__ = ["DEFAULT_REALM", "QuickBooksProvider"]
