"""The accounting packages KCC talks to, and what the window and messages call them."""

from __future__ import annotations

from enum import StrEnum


class Provider(StrEnum):
    XERO = "xero"
    QUICKBOOKS = "quickbooks"

    @property
    def label(self) -> str:
        """The product's full name, for menus and settings: "QuickBooks Online"."""
        return _LABELS[self]

    @property
    def short_label(self) -> str:
        """The name in running text: "Xero has no such account", "not in QuickBooks yet"."""
        return _SHORT[self]

    @classmethod
    def label_of(cls, value: str | None, *, short: bool = False,
                 unknown: str = "the accounting package") -> str:
        """The label of a stored provider value; ``unknown`` for a value that names no provider."""
        if value is None:
            return unknown
        try:
            provider = cls(value)
        except ValueError:
            return unknown
        return provider.short_label if short else provider.label


def possessive(name: str) -> str:
    """ "Xero's", but "QuickBooks'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


_LABELS = {Provider.XERO: "Xero", Provider.QUICKBOOKS: "QuickBooks Online"}
_SHORT = {Provider.XERO: "Xero", Provider.QUICKBOOKS: "QuickBooks"}
