"""Screenshots of every tab at 1280×800, for the README (docs/screenshots/*.png).

The demo company, connected to the Xero sandbox as `kcc-desktop --demo` connects it, used as a bookkeeper
would: some invoices uploaded, one refused (it shows in Error Feedback), a payment recorded in the sandbox
and fetched, then created and allocated. Everything runs in a private data folder; nothing is left behind.

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZE = (1280, 800)


def wait_until(app, condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app, window) -> None:
    """Until no job of the window runs and every grid has loaded."""
    from kcc_desktop.ui.grid import GridView
    from kcc_desktop.ui.worker import running_under

    wait_until(app, lambda: not running_under(window)
               and not any(g.source_model.is_loading for g in window.findChildren(GridView)
                           if hasattr(g.source_model, "is_loading")))
    for _ in range(20):
        app.processEvents()


def upload(app, window, export, type_text: str, rows: int, currency: str = "") -> None:
    """Select the first ``rows`` pending rows of that type (and currency), Upload Data, wait for it."""
    from PySide6.QtCore import QItemSelectionModel

    from kcc_desktop.views.export import PendingCol

    grid = export.pending_grid
    proxy = grid.proxy
    wait_until(app, lambda: proxy.rowCount() > 0)
    settle(app, window)
    grid.clearSelection()
    chosen = 0
    for row in range(proxy.rowCount()):
        if chosen >= rows:
            break
        kind = str(proxy.data(proxy.index(row, PendingCol.TYPE)) or "")
        money = str(proxy.data(proxy.index(row, PendingCol.CURRENCY)) or "")
        if kind == type_text and (not currency or money == currency):
            grid.selectionModel().select(proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                                         | QItemSelectionModel.SelectionFlag.Rows)
            chosen += 1
    app.processEvents()
    if not export.upload_action.isEnabled():
        kinds = {str(proxy.data(proxy.index(r, PendingCol.TYPE))) for r in range(min(proxy.rowCount(), 500))}
        raise RuntimeError(f"Upload Data is not enabled with {grid.selected_count()} rows selected "
                           f"of {proxy.rowCount()} ({sorted(kinds)})")
    export.upload_action.trigger()
    wait_until(app, lambda: not export.busy, timeout=600)
    settle(app, window)
    print("Upload:", export.status_label.text(), flush=True)


def main(out: Path) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    data = Path(tempfile.mkdtemp(prefix="kcc-screens-"))
    os.environ["KCC_DATA_DIR"] = str(data / "data")
    os.environ["KCC_SETTINGS_DIR"] = str(data / "settings")
    os.environ["KCC_LOG_DIR"] = str(data / "logs")

    from PySide6.QtWidgets import QApplication

    from kcc_desktop.app import _show_window
    from kcc_desktop.demo.mode import open_demo
    from kcc_desktop.ui.errors import ErrorReporter
    from kcc_desktop.ui.export_tab import ExportTab
    from kcc_desktop.ui.import_tab import ImportTab
    from kcc_desktop.ui.mapping_tab import MappingTab
    from kcc_desktop.ui.sandbox_menu import SandboxMenu

    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = open_demo(documents=400)
    opened: dict = {}
    window = _show_window(session.ctx, ErrorReporter(), opened, demo_session=session)
    window.resize(*SIZE)
    settle(app, window)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shoot(name: str) -> None:
        settle(app, window)
        path = out / f"{name}.png"
        window.grab().save(str(path))
        shots.append(path)

    export = window.typed_tab("Export", ExportTab)
    assert export is not None
    window.select_tab("Export")
    settle(app, window)
    # A bookkeeper's first upload: thirty sales invoices (their customers and items go with them), then two
    # euro invoices, which MultiCurrency (off) holds back: they show in Error Feedback.
    upload(app, window, export, "Invoice", 30)
    upload(app, window, export, "Invoice", 2, currency="EUR")
    shoot("export")

    menu = next(m for m in window.findChildren(SandboxMenu))
    menu.record_payment("full")
    settle(app, window)
    menu.record_payment("part")
    settle(app, window)
    importer = window.typed_tab("Import", ImportTab)
    assert importer is not None
    window.select_tab("Import")
    settle(app, window)
    importer.on_fetch_triggered()
    settle(app, window)
    importer.grid.selectAll()
    importer.on_create_allocate_triggered()
    settle(app, window)
    shoot("import")

    mapping = window.typed_tab("Mapping", MappingTab)
    assert mapping is not None
    window.select_tab("Mapping")
    for index, name in enumerate(("mapping-nominal", "mapping-tax", "mapping-bank")):
        mapping.tabs.setCurrentIndex(index)
        shoot(name)
    mapping.tabs.setCurrentIndex(0)

    window.select_tab("Documents")
    shoot("documents")
    window.show_trial_balance()
    shoot("trial-balance")

    window.close()
    settle(app, window)
    session.stop()
    for path in shots:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
