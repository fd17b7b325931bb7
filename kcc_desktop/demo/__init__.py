"""The demo: a deterministic UK wholesaler's books, an in-process sandbox and its bookkeeper.

Nothing in the ledger or the sync services depends on this package; it only uses them.
- ``company``: builds the demo company (``build_demo``) from a seeded ``plan`` of plain values,
  written in bulk (``bulk``) or through the ledger services; ``data`` is its fixed raw material.
- ``mode``: ``kcc-desktop --demo``: the demo company, a sandbox beside it, and a real OAuth connection.
- ``payments``: the demo's bookkeeper, recording payments in the sandbox through the package's API.
"""
