"""The ledger tests' ``digests``: a digest of every table, to prove two files hold the same books (or
that a refused import changed nothing)."""

from __future__ import annotations

import pytest

from tests.helpers.ledger import table_digests


@pytest.fixture
def digests():
    return table_digests
