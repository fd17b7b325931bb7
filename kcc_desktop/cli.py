"""Command line: the window by default, subcommands for headless work (demo, import, export, ...)."""

from __future__ import annotations

import argparse
import importlib
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
    return int(args.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
