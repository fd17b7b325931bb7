"""Command line: the window by default, subcommands for headless work (demo, import, export, ...)."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from . import __version__, commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kcc-desktop", description="KCC Desktop accounts integration")
    parser.add_argument("--version", action="version", version=f"kcc-desktop {__version__}")
    parser.add_argument("--db", help="company file path or SQLAlchemy URL (default: KCC_DB or the data folder)")
    parser.add_argument("--demo", action="store_true", help="open the demo company connected to the sandbox")
    parser.add_argument("--smoke-test", action="store_true", help="open every tab offscreen and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .logging_setup import setup_logging
    from .sync.queue import install_queue_listeners

    # Whatever writes to the ledger (window, import-documents, ...) queues what the package must learn.
    install_queue_listeners()
    if args.command is None:
        from .app import run_gui  # Qt is imported only when a window is wanted; it sets up its own log

        return run_gui(args)
    setup_logging()
    return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """A command; a company-file failure met while it works (the file damaged or locked meanwhile) is a
    message and exit code 2, like one met while opening it, never a traceback."""
    from sqlalchemy.exc import DBAPIError

    from .commands import NO_COMPANY_FILE
    from .store import StoreError, resolve_url, store_failure

    try:
        return int(args.run(args) or 0)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return NO_COMPANY_FILE
    except DBAPIError as exc:
        url = resolve_url(getattr(args, "db", None))
        failure = store_failure(url.removeprefix("sqlite:///"), exc)
        if failure is None:
            raise
        logging.getLogger(__name__).warning("%s: %s", args.command, exc)
        print(failure, file=sys.stderr)
        return NO_COMPANY_FILE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
