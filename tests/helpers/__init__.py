"""Code the tests share: imported as ``tests.helpers.<module>``, never through sys.path.

Plain helpers (ledger builders and factories, sandbox handles, SDK builders, the Xero contract check,
the connect flow played as a user) are imported by the tests that use them. The ``*_fixtures`` modules
hold shared fixtures; they are pytest plugins, registered once in ``tests/conftest.py``, so tests ask
for those fixtures by name and never import them.
"""
