"""The window's responsiveness (issue 17): cold start to first paint against a bare Qt window in the same
run; the Export tab's refresh, sort and filter of ~100,000 pending rows (how long the GUI thread is held,
by a 5 ms heartbeat); the first request of Upload Data on those rows; the worst stall while it runs; and
Create & Allocate of real payments in the Import tab against the same work done as the command does it.

    .venv/bin/python benchmarks/bench_window.py [--documents 100000] [--payments 10000] [--runs 5]
                                                [--skip start grid upload allocate]

Figures go to stdout as JSON lines (medians, and ratios within this one run); copy them into README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_export as bx  # noqa: E402  (sets the private data, log and settings folders first)

ROOT = HERE.parent

# A child process that shows one window and reports the moment its first paint is done, in seconds since
# the parent started it (the parent passes its clock; perf_counter is system-wide on Linux: CLOCK_MONOTONIC).
_CHILD = r"""
import sys, time
started = float(sys.argv[1]); kind = sys.argv[2]; db = sys.argv[3] if len(sys.argv) > 3 else ""
from PySide6.QtCore import QObject, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
if kind == "bare":
    w = QMainWindow(); w.resize(1280, 800)
else:
    import argparse
    from kcc_desktop.app import open_context   # the file opened as the app opens it (kcc-desktop --db FILE)
    from kcc_desktop.ui.main_window import MainWindow
    w = MainWindow(open_context(argparse.Namespace(db=db, demo=False)))
class Painted(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and obj is w:
            QTimer.singleShot(0, lambda: (print(time.perf_counter() - started, flush=True), app.quit()))
            obj.removeEventFilter(self)
        return False
f = Painted(); w.installEventFilter(f); w.show(); app.exec()
if kind != "bare":   # as the app does on quitting: the jobs started after the paint stop first
    from kcc_desktop.ui.worker import wait_for_all
    wait_for_all(60_000)
"""


def med(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def cold_start(dbs: dict[str, str], runs: int) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    # The package's bytecode, as the installed app (PyInstaller) and a pip install have it: an editable
    # install under PYTHONDONTWRITEBYTECODE would compile every module on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "kcc_desktop")], check=True)
    out: dict[str, list[float]] = {"bare_qt": []} | {name: [] for name in dbs}
    for _ in range(runs):   # interleaved, so the machine's load falls on each alike
        for name, db in [("bare_qt", ""), *dbs.items()]:
            argv = [sys.executable, "-c", _CHILD, repr(time.perf_counter()), "bare" if name == "bare_qt" else "app"]
            res = subprocess.run([*argv[:-1], argv[-1], *([db] if db else [])], capture_output=True, text=True,
                                 env=env, cwd=ROOT, timeout=120, check=True)
            out[name].append(float(res.stdout.strip().splitlines()[-1]))
    bare = med(out["bare_qt"])
    return {"bench": "cold_start_to_first_paint", "runs": runs, "median_s": {k: med(v) for k, v in out.items()},
            "ratio_to_bare_qt": {k: round(med(v) / bare, 2) for k, v in out.items() if k != "bare_qt"},
            "per_run_s": {k: [round(x, 3) for x in v] for k, v in out.items()}}


def _export_tab(app, store):
    """The Export tab at 1280x800, its grids loaded."""
    from kcc_desktop.context import AppContext
    from kcc_desktop.ui.export_tab import ExportTab

    tab = ExportTab(AppContext(store))
    tab.resize(1280, 800)
    tab.show()
    _settle(app, tab)
    return tab


def _dispose(app, tab) -> None:
    """Close and really delete ``tab`` now: processEvents() runs no deferred deletes, so a tab left to
    deleteLater() was destroyed (100,000-row models and all) inside the next section's measured run."""
    from PySide6.QtCore import QCoreApplication, QEvent

    tab.close()
    tab.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


def _settle(app, tab) -> float:
    """Until the tab's grids have applied what was asked; returns the seconds it took."""
    t0 = time.perf_counter()
    while any(m.is_loading for m in (tab.pending_model, tab.exported_model, tab.feedback_model)):
        app.processEvents()
        time.sleep(0.001)
    for _ in range(5):
        app.processEvents()
    return time.perf_counter() - t0


def grid_ops(store, runs: int) -> dict:
    """How long the GUI thread is held by the Export tab's refresh, a sort click and a filter."""
    from heartbeat import Heartbeat
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from kcc_desktop.views.export import PendingCol

    app = QApplication.instance() or QApplication([])
    tab = _export_tab(app, store)
    beat = Heartbeat(5)
    rows = tab.pending_model.unfiltered_count()
    held: dict[str, list[int]] = {"refresh": [], "sort": [], "filter": [], "clear_filter": []}

    took: dict[str, list[float]] = {k: [] for k in held}
    grid = tab.pending_grid

    def timed(name: str, action) -> None:
        beat.start()
        action()
        took[name].append(_settle(app, tab))
        beat.stop()
        held[name].append(beat.worst_ms)

    def idle() -> None:   # the noise floor: the same heartbeat with nothing to do for half a second
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    held["idle"], took["idle"] = [], []
    for run in range(runs):
        timed("idle", idle)
        timed("refresh", tab.refresh)
        order = Qt.SortOrder.DescendingOrder if run % 2 else Qt.SortOrder.AscendingOrder
        timed("sort", lambda o=order: grid.sortByColumn(PendingCol.AMOUNT, o))
        grid.filter_edit.setText("catering")
        timed("filter", grid.apply_filter)
        grid.filter_edit.clear()
        timed("clear_filter", grid.apply_filter)
    _dispose(app, tab)
    return {"bench": "export_tab_grid_ops", "pending_rows": rows, "runs": runs,
            "gui_thread_held_ms_median": {k: statistics.median(v) for k, v in held.items()},
            "gui_thread_held_ms_max": {k: max(v) for k, v in held.items()},
            "until_shown_s_median": {k: med(v) for k, v in took.items()}}


def first_request(store, sandbox, runs: int) -> dict:
    """Upload Data on every pending row: seconds from the click to the first request reaching the sandbox,
    and the worst GUI stall (5 ms heartbeat) over the first 10 s; cancelled then (the rest stays pending)."""
    from heartbeat import Heartbeat
    from PySide6.QtWidgets import QApplication

    from kcc_desktop.connectors.warm import warm
    from kcc_desktop.ui.worker import wait_for_all

    app = QApplication.instance() or QApplication([])
    # What the main window does once it is up and connected (connectors/warm.py): the connector and sync
    # modules load while it is idle, not on the first upload's worker. Set KCC_BENCH_NO_WARM=1 to compare.
    loading = None if os.environ.get("KCC_BENCH_NO_WARM") else warm("xero")
    if loading is not None:
        loading.join()
    firsts, stalls = [], []
    rows = 0
    for _ in range(runs):
        tab = _export_tab(app, store)
        beat = Heartbeat(5)
        rows = tab.pending_model.unfiltered_count()
        tab.pending_grid.selectAll()
        app.processEvents()
        before = sandbox.stats()["requests"]
        seen: list[float] = []
        watching = threading.Event()
        watching.set()

        def watch(watching: threading.Event, seen: list[float], before: int, t0: float) -> None:
            # off the GUI thread: a blocking HTTP poll there would be the stall we measure
            while watching.is_set() and not seen:
                if sandbox.stats()["requests"] > before:
                    seen.append(time.perf_counter() - t0)
                time.sleep(0.005)

        beat.start()
        t0 = time.perf_counter()
        tab.upload_action.trigger()
        watcher = threading.Thread(target=watch, args=(watching, seen, before, t0), daemon=True)
        watcher.start()
        while time.perf_counter() - t0 < 10.0 and tab.busy:
            app.processEvents()
            time.sleep(0.002)
        beat.stop()
        watching.clear()
        watcher.join()
        first = seen[0] if seen else None
        firsts.append(first if first is not None else float("inf"))
        stalls.append(beat.worst_ms)
        tab.cancel_action.trigger()
        while tab.busy:
            app.processEvents()
            time.sleep(0.005)
        wait_for_all()
        _dispose(app, tab)
    wait_for_all()   # the grid's reload after the Cancel: a QThread alive at exit aborts the process
    return {"bench": "upload_first_request", "pending_rows": rows, "runs": runs,
            "first_request_s_median": med(firsts), "first_request_s": [round(x, 3) for x in firsts],
            "worst_stall_ms_median": statistics.median(stalls), "worst_stall_ms": stalls}


def create_allocate(n: int, runs: int) -> dict:
    """Create & Allocate of ``n`` real payments (fetched from the Xero sandbox): the Import tab against the
    same service call the ``import`` command makes, each run on its own copy of the same company file,
    interleaved; the worst GUI stall while the tab's worker runs (5 ms heartbeat)."""
    import shutil

    import bench_import as bi
    from heartbeat import Heartbeat
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from kcc_desktop.context import AppContext
    from kcc_desktop.store import open_store
    from kcc_desktop.sync.payments_import import PaymentsImport
    from kcc_desktop.ui.import_tab import ImportTab

    app = QApplication.instance() or QApplication([])
    server, store, package, _times = bi.setup("xero", n, 1.0)
    try:
        PaymentsImport(store, "xero").fetch(package)
        source = Path(store.label)
        store.close()
        cli, window, stalls = [], [], []
        for run in range(runs):
            copies = []
            for way in ("cli", "window"):
                copy = source.with_name(f"{way}{run}.sqlite")
                shutil.copy(source, copy)
                copies.append(copy)
            s1 = open_store(copies[0], create=False)
            svc = PaymentsImport(s1, "xero")
            ids = svc.ready_ids()
            t0 = time.perf_counter()
            made = svc.create_and_allocate(ids)
            cli.append(time.perf_counter() - t0)
            assert made.created == len(ids), made.text
            s1.close()
            s2 = open_store(copies[1], create=False)
            tab = ImportTab(AppContext(s2))
            tab.fetch_on_show = False
            tab.resize(1280, 800)
            tab.show()
            while tab.model.is_loading:
                app.processEvents()
                time.sleep(0.001)
            tab.grid.selectAll()
            app.processEvents()
            beat = Heartbeat(5)
            # Wait in Qt's own event loop, as the app does: a processEvents() loop here would add its own
            # contention for the GIL to what is measured.
            loop = QEventLoop()
            tab.create_finished.connect(lambda _summary, loop=loop: loop.quit())
            beat.start()
            t0 = time.perf_counter()
            tab.create_allocate_action.trigger()
            if tab.busy:
                loop.exec()
            window.append(time.perf_counter() - t0)
            beat.stop()
            stalls.append(beat.worst_ms)
            _dispose(app, tab)
            s2.close()
        return {"bench": "create_and_allocate_window_vs_cli", "payments": n, "runs": runs,
                "cli_s_median": med(cli), "window_s_median": med(window),
                "window_over_cli": round(statistics.median(window) / statistics.median(cli), 2),
                "cli_s": [round(x, 2) for x in cli], "window_s": [round(x, 2) for x in window],
                "worst_stall_ms_median": statistics.median(stalls), "worst_stall_ms": stalls}
    finally:
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--documents", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--payments", type=int, default=10_000, help="payments for Create & Allocate")
    p.add_argument("--skip", nargs="*", default=[], choices=["start", "grid", "upload", "allocate"])
    args = p.parse_args()
    bx._keyring()
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "load_avg": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    sandbox = bx.start()
    try:
        small, _pkg, _ = bx.company(200, sandbox, "small")
        big, _pkg, built = bx.company(args.documents, sandbox, "big")
        print(json.dumps({"bench": "setup", "documents": args.documents, "demo_build_s": round(built, 1)}),
              flush=True)
        if "start" not in args.skip:
            print(json.dumps(cold_start({"small_file": small.label, "big_file": big.label}, args.runs)), flush=True)
        if "grid" not in args.skip:
            print(json.dumps(grid_ops(big, args.runs)), flush=True)
        if "upload" not in args.skip:
            print(json.dumps(first_request(big, sandbox, min(args.runs, 3))), flush=True)
    finally:
        sandbox.server.stop()
    if "allocate" not in args.skip:
        print(json.dumps(create_allocate(args.payments, args.runs)), flush=True)
    print(json.dumps({"load_avg_after": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
