"""Helpers for the ledger tests: a digest of every table, to prove two files hold the same books (or
that a refused import changed nothing)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from kcc_desktop.models import Base, UTCDateTime


def table_digests(store) -> dict[str, str]:
    """Per table, a hash of every row in primary-key order. Creation timestamps are left out: they record
    when a row was written, not what the books say."""
    out = {}
    with store.session() as s:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.c if not isinstance(c.type, UTCDateTime)]
            rows = s.execute(select(*cols).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


@pytest.fixture
def digests():
    return table_digests
