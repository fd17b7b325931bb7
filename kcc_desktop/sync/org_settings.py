"""The organisation's settings as last read from the package, kept in the company file.

Get Nominal & Tax Accounts and ``kcc-desktop check`` read them from the package; the pre-check works
from this copy so it can run without a connection.
"""

from __future__ import annotations

import json

from ..connectors.base import OrganisationSettings
from ..settings_db import DbSettingsStore
from ..store import Store

_KEY = "package.settings.{provider}"


def save_settings(store: Store, provider: str, settings: OrganisationSettings) -> None:
    DbSettingsStore(store).set(_KEY.format(provider=provider), json.dumps(settings.to_json(), sort_keys=True))


def cached_settings(store: Store, provider: str) -> OrganisationSettings | None:
    """The copy saved at the last fetch or check; None if the package has not been asked yet."""
    raw = DbSettingsStore(store).get(_KEY.format(provider=provider))
    if not raw:
        return None
    try:
        return OrganisationSettings.from_json(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        return None   # an unreadable copy is as good as none: the next fetch writes a new one
