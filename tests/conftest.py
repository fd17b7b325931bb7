"""Test-wide setup: offscreen Qt, private data/log folders, a keyring in a temporary folder, a company file,
and the shared fixtures of tests/helpers (registered here as plugins)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Shared code is the package tests.helpers; its asserts report like a test's.
pytest.register_assert_rewrite("tests.helpers")
# Shared fixtures: pytest allows plugins to be named only here, in the top-level conftest.
pytest_plugins = [
    "tests.helpers.hangs",
    "tests.helpers.qbo_connector_fixtures",
    "tests.helpers.qbo_sandbox_fixtures",
    "tests.helpers.qbo_sync_fixtures",
    "tests.helpers.xero_sync_fixtures",
]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never the developer's own folders or keyring: everything a test writes goes under one temp folder.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="kcc-tests-"))
os.environ["KCC_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["KCC_LOG_DIR"] = str(_SESSION_DIR / "logs")
os.environ.pop("KCC_DB", None)
os.environ.pop("KCC_XERO_URL", None)
os.environ.pop("KCC_QBO_URL", None)
# Sign-ins against unregistered sandboxes take any free loopback port (tests run in parallel); the tests of
# registered sandboxes set their own fixed, registered address.
os.environ["KCC_OAUTH_REDIRECT_URI"] = "http://127.0.0.1:0/callback"
for _name in ("KCC_XERO_CLIENT_ID", "KCC_QBO_CLIENT_ID", "KCC_QBO_CLIENT_SECRET", "KCC_OAUTH_REDIRECT_PORT"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _temporary_keyring(tmp_path_factory):
    """A plaintext keyring file in a temp folder: fine for tests, never used for users' secrets."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path_factory.mktemp("keyring") / "keyring.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def tmp_db_path(tmp_path) -> Path:
    return tmp_path / "company.sqlite"


@pytest.fixture
def company_db(tmp_db_path):
    """What ``--db`` names for the ``store`` fixture's company: the file's path, or (with
    KCC_TEST_ENGINE=postgresql) a fresh PostgreSQL database's URL. See tests/helpers/engines.py."""
    from tests.helpers.engines import engine_under_test, fresh_pg_url

    if engine_under_test() == "postgresql":
        with fresh_pg_url() as url:
            yield url
    else:
        yield str(tmp_db_path)


@pytest.fixture
def store(company_db):
    """A migrated company file with the standard UK chart, tax codes and bank accounts."""
    from kcc_desktop.ledger.chart import seed_standard_chart
    from kcc_desktop.store import open_store

    st = open_store(company_db)
    with st.transaction() as s:
        seed_standard_chart(s)
    yield st
    st.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_templates():
    yield
    from tests.helpers.engines import drop_templates

    drop_templates()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``posix_signals`` kill or stop a child process with SIGKILL or SIGTERM and read its exit
    code: Windows has neither (os.kill there only terminates), so they are skipped there, saying why."""
    import sys

    if sys.platform != "win32":
        return
    skip = pytest.mark.skip(reason="needs POSIX signals (SIGKILL, the exit code on SIGTERM): not on Windows")
    for item in items:
        if item.get_closest_marker("posix_signals"):
            item.add_marker(skip)
