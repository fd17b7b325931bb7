"""Demo mode: the demo company, an in-process sandbox, and a real OAuth connection between them.

A new user sees the whole round trip with no account anywhere: the books live in the data folder's
``demo/`` folder, the sandbox keeps its state beside them (so a second run reopens the same books on
both sides), and the app connects through the same OAuth flow it uses for the real packages, with
a stand-in "browser" that follows the sandbox's instant consent.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from .. import paths
from ..context import AppContext
from ..store import Store, open_store

if TYPE_CHECKING:
    from ..sandbox.http import SandboxServer
    from ..sync.mapping import MappingService

log = logging.getLogger(__name__)

DEMO_DOCUMENTS = 400
DEMO_REDIRECT_URI = "http://127.0.0.1:0/callback"   # any free port: the demo's sandbox has no registration
PROVIDER_KEY = "demo.provider"


def demo_folder() -> Path:
    folder = paths.data_dir() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _SandboxBrowser(webbrowser.BaseBrowser):
    """Plays the user's browser for the sandbox only: follows the consent redirect to our listener."""

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        def follow() -> None:
            try:
                requests.get(url, timeout=15)
            except requests.RequestException as exc:
                log.warning("demo sign-in: could not follow the sandbox consent page: %s", type(exc).__name__)

        threading.Thread(target=follow, name="demo-browser", daemon=True).start()
        return True


def _use_memory_keyring_if_none() -> bool:
    """Sandbox tokens are worthless outside this process; with no OS keyring they stay in memory.

    Real packages' tokens never take this path: demo mode only ever connects to the local sandbox.
    """
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.backends import fail

    if not isinstance(keyring.get_keyring(), fail.Keyring):
        return False

    class MemoryKeyring(KeyringBackend):
        priority = 1
        def __init__(self) -> None:   # (the base only reads backend properties from the environment)
            self._values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._values.pop((service, username), None)

    keyring.set_keyring(MemoryKeyring())
    return True


@dataclass
class DemoSession:
    ctx: AppContext
    provider: str
    server: SandboxServer

    def stop(self) -> None:
        self.server.stop()


def open_demo(provider: str | None = None, documents: int = DEMO_DOCUMENTS,
              status: Callable[[str], None] = lambda _m: None) -> DemoSession:
    """Opens (building the first time) the demo books and connects them to a local sandbox."""
    from ..models import Company
    from ..settings_db import DbSettingsStore
    from ..sync.queue import enqueue_all
    from .company import build_demo

    folder = demo_folder()
    store = open_store(folder / "demo.sqlite")
    with store.session() as s:
        empty = s.query(Company.id).first() is None
    if empty:
        status("Building the demo company…")
        with store.transaction() as s:
            build_demo(s, documents=documents, after=enqueue_all)
    settings = DbSettingsStore(store)
    provider = provider or settings.get(PROVIDER_KEY) or "xero"
    return DemoSession(*connect_sandbox(store, provider, status))


def connect_sandbox(store: Store, provider: str, status: Callable[[str], None] = lambda _m: None,
                    ) -> tuple[AppContext, str, SandboxServer]:
    """Starts the provider's sandbox beside the demo file and connects the company file to it."""
    from ..connectors.connect import ConnectOptions, connect, open_package
    from ..connectors.tokens import TokenStore
    from ..sandbox.runner import start_sandbox
    from ..settings_db import DbSettingsStore
    from ..sync.mapping import MappingService
    from ..sync.options import OptionsService

    if _use_memory_keyring_if_none():
        log.info("No system keyring here: the demo keeps its sandbox sign-in in memory.")
    status(f"Starting the {provider} sandbox…")
    server = start_sandbox(provider, state_file=demo_folder() / f"sandbox-{provider}.json")
    if provider == "quickbooks":
        # Like the demo's Xero organisation, the QuickBooks company has euros added (its multicurrency on),
        # so the demo's EUR customers upload; their invoices are still held back by the MultiCurrency option.
        import requests

        requests.post(server.root + "/_sandbox/company", json={"multicurrency": True, "currencies": {"EUR": "0.86"}},
                      timeout=10).raise_for_status()
    settings = DbSettingsStore(store)
    settings.set(PROVIDER_KEY, provider)
    # The port is new each run, so the connection is made afresh, through the normal flow. The sandbox holds
    # no app registration: any client id, and any free loopback port for the answer, will do.
    webbrowser.register("kcc-sandbox", None, _SandboxBrowser(), preferred=True)
    status("Connecting to the sandbox…")
    tokens = TokenStore()
    options = ConnectOptions(api_root=server.root, client_id="kcc-desktop-demo", redirect_uri=DEMO_REDIRECT_URI)
    connect(provider, settings, tokens, options=options, open_browser=True, timeout=30,
            print_fn=lambda m: log.info("%s", m))
    ctx = AppContext(store, demo=True, sandbox=server)
    package = open_package(settings, tokens)
    status("Fetching the sandbox's accounts…")
    mapping = MappingService(store, provider)
    mapping.fetch(package)
    mapping.apply_default_setup()
    map_what_default_setup_left(mapping)
    OptionsService(store).update(enabled=True)
    return ctx, provider, server


def map_what_default_setup_left(mapping: MappingService) -> None:
    """The demo's own nominals that default setup could not place (electricity, rent, delivery income) go
    to the package's general account of the same class ("General Expenses", "Other Revenue"), so a new
    user's first upload goes through. Never across classes: the choices are only accounts that can hold
    the nominal. A real company maps these by hand: default setup never guesses that far."""
    general = ("general", "other", "sundry", "miscellaneous", "office")
    for problem in mapping.problems("nominal"):
        if problem.state != "unmapped":
            continue
        choices = mapping.choices("nominal", problem.local_id)
        pick = next((c for word in general for c in choices if word in c.name.lower()), None)
        if pick is not None:
            mapping.set_mapping("nominal", problem.local_id, pick.code, set_by="auto",
                                reason=f"Demo only: nothing matched by code or name, so the general account "
                                       f"{pick.label} of the same class was chosen; map it by hand in a real company")
