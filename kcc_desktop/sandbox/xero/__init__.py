"""The Xero sandbox: Xero's identity service and Accounting API 2.0 on one loopback root URL."""

from .provider import XeroProvider

__all__ = ["XeroProvider"]
