"""QApplication bootstrap: the only Qt outside ``kcc_desktop.ui``.

``run_gui(args)`` opens the main window on ``--db`` / ``KCC_DB`` / the default file; ``--demo`` opens
the demo books connected to an in-process sandbox (kcc_desktop.demo.mode), building them the first
time. ``--smoke-test`` opens the window offscreen on a temporary demo company, shows every tab, and
exits 0, or 1 with the reason on stderr: CI runs it against the built bundle. Before the process ends,
every background job has stopped (``ui.worker.wait_for_all``): a thread still running then would
abort it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import APP_ID, APP_NAME, __version__
from .context import AppContext
from .logging_setup import setup_logging
from .store import Store

if TYPE_CHECKING:   # Qt is imported when the window is wanted, never for the headless commands
    from PySide6.QtWidgets import QApplication

    from .demo.mode import DemoSession
    from .ui.errors import ErrorReporter
    from .ui.main_window import MainWindow

log = logging.getLogger(__name__)

SMOKE_DOCUMENTS = 300


def _application() -> QApplication:
    from PySide6.QtWidgets import QApplication

    from .ui import icons
    from .ui.settings import ORGANISATION

    existing = QApplication.instance()
    if existing is not None and not isinstance(existing, QApplication):
        raise RuntimeError("A non-GUI Qt application is already running in this process.")
    app = existing or QApplication([sys.argv[0] if sys.argv else "kcc-desktop"])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANISATION)
    app.setOrganizationDomain(APP_ID)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(icons.app_icon())
    return app


def open_context(args: argparse.Namespace) -> AppContext:
    """The AppContext for ``--db`` / ``KCC_DB`` / the default file (``--demo`` without --db: demo.mode).

    Only the default file is made on first run: a named file that does not exist (a typo) is refused. SQLite's
    check of the file runs after the window's first paint (``Store.integrity``, ``MainWindow``)."""
    from .store import open_store

    named = getattr(args, "db", None) or os.environ.get("KCC_DB")
    return AppContext(open_store(named, create=not named, check_later=True),
                      demo=bool(getattr(args, "demo", False)))


def build_demo_company(store: Store, documents: int = SMOKE_DOCUMENTS, seed: int = 1) -> None:
    from .commands.demo import build_demo_file  # the same as `demo`: queued for export too

    build_demo_file(store, documents, seed)


def run_gui(args: argparse.Namespace) -> int:
    if getattr(args, "smoke_test", False):
        return smoke_test(args)
    log_path = setup_logging()
    log.info("starting %s %s (log: %s)", APP_NAME, __version__, log_path)
    from PySide6.QtWidgets import QMessageBox

    from .store import StoreError
    from .ui.errors import ErrorReporter
    from .ui.worker import wait_for_all

    app = _application()
    reporter = ErrorReporter().install()
    opened: dict[str, Any] = {}
    if getattr(args, "demo", False) and not getattr(args, "db", None):
        _start_demo(reporter, opened)   # builds and connects in the background, then shows the window
    else:
        try:
            ctx = open_context(args)
        except StoreError as exc:
            log.error("cannot open the company file: %s", exc)
            QMessageBox.critical(None, APP_NAME, str(exc))
            return 2
        opened["ctx"] = ctx
        _show_window(ctx, reporter, opened)
    code = app.exec()
    if not wait_for_all():   # the window waited for its own jobs; this is for any started without one
        log.error("a background job was still running when the app quit")
    reporter.uninstall()
    if opened.get("demo") is not None:
        opened["demo"].stop()
    if opened.get("ctx") is not None:
        opened["ctx"].store.close()
    return code if not opened.get("failed") else 1


def _show_window(ctx: AppContext, reporter: ErrorReporter, opened: dict[str, Any],
                 demo_session: DemoSession | None = None) -> MainWindow:
    from .ui.main_window import MainWindow

    window = MainWindow(ctx)
    reporter.parent_widget = window
    if demo_session is not None:
        from .connectors.provider import Provider
        from .ui.sandbox_menu import SandboxMenu

        window.add_menu(SandboxMenu(window, demo_session))
        window.set_connection_status(f"{Provider(demo_session.provider).label} "
                                     "sandbox — connected", True)
    window.show()
    opened["window"] = window
    return window


def _start_demo(reporter: ErrorReporter, opened: dict[str, Any]) -> None:
    """``--demo``: a busy dialog while demo.mode.open_demo builds the books, starts the sandbox and connects."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

    from .demo.mode import open_demo
    from .ui.worker import ProgressFn, Worker

    progress = QProgressDialog("Starting the demo…", "", 0, 0)
    progress.setWindowTitle(APP_NAME)
    progress.setCancelButton(None)
    progress.setWindowModality(Qt.WindowModality.ApplicationModal)
    progress.setMinimumDuration(0)
    progress.show()

    def job(report: ProgressFn, _cancel: threading.Event) -> DemoSession:
        return open_demo(status=lambda text: report(0, 0, text))

    def on_finished(session: DemoSession) -> None:
        progress.close()
        opened["demo"], opened["ctx"] = session, session.ctx
        _show_window(session.ctx, reporter, opened, demo_session=session)

    def on_failed(message: str) -> None:
        progress.close()
        opened["failed"] = message
        log.error("the demo could not start: %s", message)
        QMessageBox.critical(None, APP_NAME, f"The demo could not start: {message}")
        app = QApplication.instance()
        if app is not None:
            app.quit()

    worker = Worker(job)   # no owner: it runs before there is a window
    worker.progress.connect(lambda _d, _t, text: progress.setLabelText(text))
    worker.finished.connect(on_finished)
    worker.failed.connect(on_failed)
    opened["demo_worker"] = worker.start()


def _quiet_offscreen_messages(_kind: object, _context: object, message: str) -> None:
    """The offscreen platform's note that it cannot resize windows to hints is noise; the rest is kept."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def smoke_test(args: argparse.Namespace) -> int:
    """Open the window offscreen on a temporary demo company and visit every tab; 0 when all is well."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="kcc-smoke-"))
    # Nothing of the user's: settings, data and logs go to the temporary folder.
    os.environ["KCC_SETTINGS_DIR"] = str(work / "settings")
    os.environ.setdefault("KCC_LOG_DIR", str(work / "logs"))
    setup_logging()
    failures: list[str] = []
    started = time.monotonic()
    titles: list[str] = []
    try:
        from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer, qInstallMessageHandler

        from .store import open_store
        from .ui.main_window import MainWindow
        from .ui.worker import wait_for_all

        qInstallMessageHandler(_quiet_offscreen_messages)
        app = _application()
        original_hook = sys.excepthook
        sys.excepthook = lambda t, v, tb: failures.append(f"{t.__name__}: {v}")   # errors in slots
        store = open_store(Path(args.db) if getattr(args, "db", None) else work / "demo.sqlite")
        if not getattr(args, "db", None):
            build_demo_company(store)
        window = MainWindow(AppContext(store))
        window.show()
        tb = window.show_trial_balance()
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            refresh = getattr(window.tabs.widget(index), "refresh", None)
            if callable(refresh):
                refresh()
            app.processEvents()
        if tb.model.rowCount() == 0:   # still adding up in its worker thread: wait for it, at most a minute
            loop = QEventLoop()
            tb.loaded.connect(loop.quit)
            QTimer.singleShot(60_000, loop.quit)
            loop.exec()
        if tb.model.rowCount() == 0:
            failures.append("the trial balance did not load")
        elif tb.balance.total_debit != tb.balance.total_credit:
            failures.append("the trial balance does not balance")
        titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        window.close()   # with a job still running (the Import tab fetches when shown), after it stops
        if not wait_for_all(60_000):
            failures.append("a background job did not stop")
        QCoreApplication.processEvents()   # the jobs' ends reach the window, which then closes
        if window.isVisible():
            failures.append("the window did not close")
        sys.excepthook = original_hook
        store.close()
    except Exception as exc:
        log.exception("smoke test failed")
        failures.append(f"{type(exc).__name__}: {exc}")
    if failures:
        print("smoke test FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print(f"smoke test ok: {APP_NAME} {__version__}, tabs {', '.join(titles)} "
          f"in {time.monotonic() - started:.1f}s")
    return 0
