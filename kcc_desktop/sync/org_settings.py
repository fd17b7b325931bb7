"""The organisation's settings as last read from the package, kept in the company file.

Get Nominal & Tax Accounts and ``kcc-desktop check`` read them from the package; the pre-check works
from this copy so it can run without a connection.

**Several desks, one read** (``read_shared``): each upload that sends documents reads the settings afresh,
five or more requests on Xero, drawn from the organisation's one budget of 60 a minute that every desk on the
company shares (``pacing_budget.py``). Desks started together would each spend them on the same answer and
finish later than one desk would. So a desk about to read announces it (a lease in the store), and a desk
that began its run before that read began waits for it and takes its copy. A copy read before a run began is
never taken for that run: the user may have changed a lock date in the package since.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..connectors.base import OrganisationSettings
from ..models import AppSetting
from ..settings_db import DbSettingsStore, swap, upsert
from ..store import Store

_KEY = "package.settings.{provider}"
_READ_AT = "package.settings.{provider}.read_at"     # when the read behind the kept copy began
_READING = "package.settings.{provider}.reading"     # a desk reading now: "<began> <lease until>"
LEASE = timedelta(seconds=30)   # a desk that dies mid-read holds the others back at most this long
POLL = 0.2


def save_settings(store: Store, provider: str, settings: OrganisationSettings) -> None:
    DbSettingsStore(store).set(_KEY.format(provider=provider), json.dumps(settings.to_json(), sort_keys=True))


def cached_settings(store: Store, provider: str) -> OrganisationSettings | None:
    """The copy saved at the last fetch or check; None if the package has not been asked yet."""
    return _parse(DbSettingsStore(store).get(_KEY.format(provider=provider)))


def _parse(raw: str | None) -> OrganisationSettings | None:
    if not raw:
        return None
    try:
        return OrganisationSettings.from_json(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        return None   # an unreadable copy is as good as none: the next fetch writes a new one


def read_shared(store: Store, provider: str, read: Callable[[], OrganisationSettings], since: datetime, *,
                clock: Callable[[], datetime], pause: Callable[[float], None] = time.sleep) -> OrganisationSettings:
    """The organisation's settings as read after ``since`` (the run's start): another desk's read that began
    after it is waited for and taken; otherwise this desk reads them, saves them and tells the others.
    ``read``'s errors are raised as they are, after the lease is let go (a waiting desk then reads itself)."""
    while True:
        now = clock()
        copy, reading = store.retrying(partial(_look, provider=provider), what="read the organisation's settings")
        read_at, settings = copy
        if read_at is not None and read_at > since and settings is not None:
            return settings
        began, until = _lease(reading)
        if began is not None and until is not None and until > now:
            if began > since:
                pause(POLL)   # a read this run can use is under way
                continue
            return _read_and_save(store, provider, read, now)   # an older read: this run needs its own
        lease = f"{now.isoformat()} {(now + LEASE).isoformat()}"
        if store.retrying(partial(_claim, old=reading, new=lease, provider=provider, postgres=store.is_postgres),
                          what="announce the read of the organisation's settings"):
            try:
                return _read_and_save(store, provider, read, now)
            finally:
                store.retrying(partial(_claim, old=lease, new="", provider=provider, postgres=store.is_postgres),
                               what="finish the read of the organisation's settings")
        # another desk announced its read in the same moment: look again


def _look(s: Session, *, provider: str) -> tuple[tuple[datetime | None, OrganisationSettings | None], str | None]:
    keys = {k.format(provider=provider): k for k in (_KEY, _READ_AT, _READING)}
    rows = {keys[k]: v for k, v in s.execute(select(AppSetting.key, AppSetting.value).where(AppSetting.key.in_(keys)))}
    settings = _parse(rows.get(_KEY))
    read_at = _when(rows.get(_READ_AT) or "")
    return (read_at, settings), rows.get(_READING)


def _lease(value: str | None) -> tuple[datetime | None, datetime | None]:
    began, _, until = (value or "").partition(" ")
    return _when(began), _when(until)


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None   # unreadable: as if absent


def _claim(s: Session, *, old: str | None, new: str, provider: str, postgres: bool) -> bool:
    return swap(s, postgres, _READING.format(provider=provider), old, new)


def _read_and_save(store: Store, provider: str, read: Callable[[], OrganisationSettings],
                   began: datetime) -> OrganisationSettings:
    settings = read()
    store.retrying(partial(_save, provider=provider, settings=settings, began=began, postgres=store.is_postgres),
                   what="save the organisation's settings")
    return settings


def _save(s: Session, *, provider: str, settings: OrganisationSettings, began: datetime, postgres: bool) -> None:
    upsert(s, postgres, _KEY.format(provider=provider), json.dumps(settings.to_json(), sort_keys=True))
    upsert(s, postgres, _READ_AT.format(provider=provider), began.isoformat())
