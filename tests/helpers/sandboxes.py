"""Handles on the sandboxes the sync and UI tests export to: the URLs plus the ``/_sandbox/*`` controls
(``SandboxHandle``) and these tests' shorthands."""

from __future__ import annotations

import requests

from kcc_desktop.sandbox.testing import SandboxHandle


class XeroSyncSandbox(SandboxHandle):
    """The Xero sandbox with the sync tests' shorthands."""

    def count(self, method: str, path: str) -> int:
        return self.requests_to(method, path)

    def api(self, path: str, tenant: str, token: str) -> dict:
        resp = requests.get(f"{self.root}/api.xro/2.0/{path}", timeout=10,
                            headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant,
                                     "Accept": "application/json"})
        resp.raise_for_status()
        return resp.json()


class QboSyncSandbox(SandboxHandle):
    """The QuickBooks sandbox, counting writes by endpoint."""

    def writes(self) -> dict[str, int]:
        """POSTs to the data API other than queries, by endpoint (batch, invoice, payment...)."""
        out: dict[str, int] = {}
        for k, n in self.stats()["by_endpoint"].items():
            method, path = k.split(" ", 1)
            if method == "POST" and path.startswith("/v3/") and not path.endswith("/query"):
                out[path.rsplit("/", 1)[1]] = out.get(path.rsplit("/", 1)[1], 0) + n
        return out
