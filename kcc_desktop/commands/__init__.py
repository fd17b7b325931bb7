"""Headless subcommands. Each module here has ``register(subparsers)`` adding its parser(s), with
``set_defaults(run=callable)`` where ``run(args) -> int``; ``cli.py`` discovers them, so adding a
command never touches a shared file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ..store import Store

# What each command module's ``register`` receives (argparse's own type for it is private).
if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction

# Exit codes, as README "Command line" lists them.
OK = 0                 # everything worked
FAILED = 1             # something failed; the output says what
BAD_ARGUMENTS = 2      # the arguments are wrong (argparse's own errors exit 2 too)
NO_COMPANY_FILE = 2    # the company file could not be opened
NO_SIGN_IN = 2         # no valid sign-in: none, revoked, or made for another address (Connect again)
# 3 (scheduled-run only): another sync holds the company file; see schedule.BUSY_EXIT_CODE.


def open_company_file(db: str | None, *, create: bool = False, must_exist: bool = True) -> Store | None:
    """The migrated company file named by ``--db`` (or KCC_DB, or the default), or None after saying why on
    stderr (the caller exits with ``NO_COMPANY_FILE``). Only ``create`` (the demo command) starts a new file
    where there is none; every other command refuses a path that does not exist, so a mistyped --db never
    reports on a new, empty company. (``must_exist`` is what callers used to ask for; it is now the rule.)"""
    from ..store import StoreError, open_store

    try:
        return open_store(db, create=create)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return None
