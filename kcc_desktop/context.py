"""What the window and the commands share: the open company file and how to reach the package.

Qt-free: the UI receives one of these and hands it to services; nothing reaches into the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .settings_db import DbSettingsStore
from .store import Store

if TYPE_CHECKING:   # the connectors (and their SDKs) load only when a command needs the package
    from .connectors.base import AccountingPackage
    from .connectors.tokens import TokenStore


@dataclass
class AppContext:
    store: Store
    demo: bool = False
    sandbox: Any = None  # the in-process sandbox server in demo mode
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str, *, new: bool = False) -> AppContext:
        """The company file at ``path`` (a ``StoreError`` in words when it cannot be used). ``new`` is File →
        New: a new company there, with the standard chart (with demo, the only way a file is made). Opened
        for the window: SQLite's check of the file runs after (``Store.integrity``)."""
        from .ledger.chart import seed_standard_chart
        from .store import open_store

        store = open_store(path, create=new, check_later=True)
        if new:
            with store.transaction() as s:
                seed_standard_chart(s)
        return cls(store)

    @property
    def settings(self) -> DbSettingsStore:
        return DbSettingsStore(self.store)

    def token_store(self) -> TokenStore:
        from .connectors.tokens import TokenStore

        return TokenStore()

    def package(self) -> AccountingPackage:
        """The connected accounting package (raises ConnectionRequired when there is none; a ``damaged``
        StoreError when SQLite's check of the company file finds damage: nothing is sent or fetched then)."""
        from .connectors.connect import open_package

        self.store.require_sound()
        from .sync.pacing_budget import share_pacing

        package = open_package(self.settings, self.token_store())
        share_pacing(self.store, package)   # desks on this company pace together, inside the package's limits
        return package
