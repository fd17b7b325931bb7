"""Loads the connected package's connector and the sync modules in the background once the window is up.

The first Upload Data or Fetch of a process would otherwise import some 400 modules on its worker, the
xero-python SDK among them (its accounting_api alone takes 86 ms to import here); a few steps of an import
(a large module's bytecode read in one call) hold the GIL for tens of milliseconds, a stall of the window at
the start of its first job. Done while the window sits idle after its first paint, nobody is waiting on it,
and the cold start is not made longer.
"""

from __future__ import annotations

import importlib
import logging
import threading

from .provider import Provider

log = logging.getLogger(__name__)

# What a first upload, fetch or Create & Allocate imports beyond what the window itself has.
SYNC = ("kcc_desktop.sync.export", "kcc_desktop.sync.payments_import", "kcc_desktop.ledger.bulk_payments")
CONNECTORS = {Provider.XERO.value: ("kcc_desktop.connectors.xero",),
              Provider.QUICKBOOKS.value: ("kcc_desktop.connectors.quickbooks",)}

_lock = threading.Lock()
_started: set[str] = set()


def warm(provider: str) -> threading.Thread | None:
    """Starts loading ``provider``'s modules on a thread (once per process); None if started before."""
    names = CONNECTORS.get(provider)
    with _lock:
        if names is None or provider in _started:
            return None
        _started.add(provider)
    # Not a daemon: an import cut off by the interpreter's exit can crash it; this one ends in well under a second.
    thread = threading.Thread(target=_load, args=(names + SYNC,), name=f"warm-{provider}")
    thread.start()
    return thread


def _load(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:   # the job that needs it imports it again and reports what is wrong there
            log.warning("Could not load %s ahead of the first job", name, exc_info=True)
            return
