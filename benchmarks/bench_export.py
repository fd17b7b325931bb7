"""Export benchmarks: requests per document, time-scaled throughput against Xero's limits, and the
Export tab on 100,000 pending rows (open, Select All, start Upload Data, GUI stalls while uploading).

    .venv/bin/python benchmarks/bench_export.py [--requests 500] [--throughput 10000 --minute 6]
                                                [--gui 100000] [--stall 2000] [--runs 5] [--skip ...]

Everything runs against the in-process Xero sandbox over HTTP, through the app's real connect flow,
mapping, queue and ExportService. Figures go to stdout as JSON lines; copy them into README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="kcc-bench-export-"))
os.environ["KCC_DATA_DIR"] = str(_TMP / "data")
os.environ["KCC_LOG_DIR"] = str(_TMP / "logs")
os.environ["KCC_SETTINGS_DIR"] = str(_TMP / "ui")


def _keyring() -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(_TMP / "keyring.cfg")   # a benchmark's throwaway tokens, never a user's
    keyring.set_keyring(ring)


class _ProcessServer:
    """The sandbox in its own process (as the real package is elsewhere): client and server don't share a GIL."""

    def __init__(self, time_scale: float = 1.0) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kcc_desktop.sandbox.runner", "--provider", "xero", "--port", "0",
             "--time-scale", str(time_scale)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.info = json.loads(self.proc.stdout.readline())

    def urls(self) -> dict:
        return dict(self.info["urls"], root=self.info["root"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start(time_scale: float = 1.0):
    from tests.helpers.sandboxes import XeroSyncSandbox

    return XeroSyncSandbox(_ProcessServer(time_scale))


def company(documents: int, sandbox, name: str):
    """A demo company of ``documents`` documents, connected to ``sandbox``, mapped, everything queued."""
    from sqlalchemy import select

    from kcc_desktop.demo.company import build_demo
    from kcc_desktop.models import NominalCode, NominalKind
    from kcc_desktop.store import open_store
    from kcc_desktop.sync import queue
    from kcc_desktop.sync.mapping import NOMINAL, MappingService
    from kcc_desktop.sync.options import OptionsService
    from tests.helpers.connect import connect_store, open_package

    os.environ["KCC_XERO_URL"] = sandbox.root
    store = open_store(_TMP / f"{name}.sqlite")
    t0 = time.perf_counter()
    with store.transaction() as s:
        s.info[queue.SKIP_QUEUE] = True
        build_demo(s, documents, after=queue.enqueue_all)
    built = time.perf_counter() - t0
    queue.install_queue_listeners()
    connect_store(store)
    package = open_package(store)
    OptionsService(store).update(enabled=True, multicurrency=True)
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.apply_default_setup()
    # What default setup left goes to the general account of the nominal's own class (as the demo does).
    from kcc_desktop.demo.mode import map_what_default_setup_left

    map_what_default_setup_left(mapping)
    fallback = {NominalKind.SALES: "200", NominalKind.DELIVERY: "260", NominalKind.PURCHASE: "300"}
    with store.session() as s:
        kinds = {n.id: n.kind for n in s.scalars(select(NominalCode))}
    for p in mapping.problems(NOMINAL):
        if kinds[p.local_id] in fallback:
            mapping.set_mapping(NOMINAL, p.local_id, fallback[kinds[p.local_id]])
    return store, package, built


def bench_requests(n: int) -> dict:
    from kcc_desktop.sync.export import ExportService

    sb = start()
    try:
        store, package, _ = company(n, sb, "requests")
        svc = ExportService(store)
        ids = svc.pending_ids()
        t0 = time.perf_counter()
        summary = svc.upload(ids, package)
        elapsed = time.perf_counter() - t0
        by = sb.stats()["by_endpoint"]
        puts = {k: v for k, v in by.items() if k.startswith(("PUT", "POST")) and "/api.xro/" in k}
        docs_requests = sum(v for k, v in puts.items() if k.endswith(("/Invoices", "/CreditNotes")))
        dep_requests = sum(v for k, v in puts.items() if k.endswith(("/Contacts", "/Items")))
        with store.session() as s:
            from sqlalchemy import func, select

            from kcc_desktop.models import ExportItem
            counts = dict(s.execute(select(ExportItem.item_type, func.count()).group_by(ExportItem.item_type)).all())
        documents = sum(v for k, v in counts.items() if k in ("sales_invoice", "sales_credit", "purchase_invoice",
                                                            "purchase_credit"))
        return {"bench": "requests_per_document", "documents": documents, "document_requests": docs_requests,
                "documents_per_request": round(documents / max(docs_requests, 1), 1),
                "dependency_requests": dep_requests, "write_requests": puts, "exported": summary.exported,
                "failed": summary.failed + summary.held, "seconds": round(elapsed, 2)}
    finally:
        sb.server.stop()


def bench_throughput(n: int, minute_seconds: float, pipeline: int | None = None) -> dict:
    from kcc_desktop.connectors import connect as connect_mod
    from kcc_desktop.connectors.pacing import reset_pacers
    from kcc_desktop.connectors.tokens import TokenStore
    from kcc_desktop.settings_db import DbSettingsStore
    from kcc_desktop.sync.export import ExportService

    scale = minute_seconds / 60.0
    sb = start(scale)
    try:
        store, _pkg, built = company(n, sb, "throughput")
        reset_pacers()
        package = connect_mod.open_package(DbSettingsStore(store), TokenStore(), time_scale=scale)
        if pipeline:
            package.pipeline = pipeline
        before = sb.stats()
        svc = ExportService(store)
        ids = svc.pending_ids()
        t0 = time.perf_counter()
        summary = svc.upload(ids, package)
        elapsed = time.perf_counter() - t0
        after = sb.stats()
        def api(st: dict) -> int:
            return sum(v for k, v in st["by_endpoint"].items() if "/api.xro/" in k)

        requests_made = api(after) - api(before)
        floor = requests_made / 60.0 * minute_seconds
        return {"bench": "throughput_time_scaled", "pipeline": getattr(package, "pipeline", 3), "items": len(ids),
                "exported": summary.exported,
                "failed": summary.failed + summary.held, "requests": requests_made,
                "minute_is_seconds": minute_seconds, "elapsed_s": round(elapsed, 2),
                "rate_limit_floor_s": round(floor, 2), "elapsed_over_floor": round(elapsed / floor, 3),
                "http_429": after.get("by_status", {}).get("429", 0), "rate_limited": after.get("rate_limited"),
                "demo_build_s": round(built, 1)}
    finally:
        sb.server.stop()


def bench_gui(n: int, runs: int, minute_seconds: float) -> dict:
    from heartbeat import Heartbeat  # beside this script
    from PySide6.QtWidgets import QApplication

    from kcc_desktop.context import AppContext
    from kcc_desktop.ui.export_tab import ExportTab

    app = QApplication.instance() or QApplication([])
    sb = start(minute_seconds / 60.0)
    os.environ["KCC_PACING_TIME_SCALE"] = str(minute_seconds / 60.0)
    try:
        store, _pkg, _ = company(n, sb, "gui")
        ctx = AppContext(store)
        opened, selected, started = [], [], []
        stalls = []
        for _ in range(runs):
            t0 = time.perf_counter()
            tab = ExportTab(ctx)
            tab.resize(1280, 800)
            tab.show()
            app.processEvents()
            opened.append(time.perf_counter() - t0)
            rows = tab.pending_model.rowCount()
            t0 = time.perf_counter()
            tab.pending_grid.selectAll()
            app.processEvents()
            selected.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            tab.upload_action.trigger()
            app.processEvents()
            started.append(time.perf_counter() - t0)
            # Heartbeat: a 10 ms timer; the longest gap between ticks is the worst GUI stall.
            beat = Heartbeat(10)
            beat.start()
            end = time.perf_counter() + 15.0   # planning 100k rows, then sending
            while time.perf_counter() < end and tab.busy:
                app.processEvents()
                time.sleep(0.001)
            beat.stop()
            stalls.append(beat.worst_ms)
            tab.cancel_action.trigger()
            while tab.busy:
                app.processEvents()
                time.sleep(0.005)
            tab.close()
            tab.deleteLater()
            app.processEvents()
        def med(xs: list[float]) -> float:
            return round(statistics.median(xs), 3)

        return {"bench": "export_tab_gui", "pending_rows": rows, "runs": runs, "open_tab_s": med(opened),
                "select_all_s": med(selected), "start_upload_s": med(started),
                "max_gui_stall_ms_while_uploading": max(stalls), "stall_per_run_ms": stalls}
    finally:
        sb.server.stop()


def bench_stall(n: int, runs: int, minute_seconds: float) -> dict:
    """Worst GUI stall over a whole Upload Data of ``n`` documents (a fresh company each run), the
    tab's refresh at the end included: a 10 ms QTimer heartbeat, its longest gap."""
    from heartbeat import Heartbeat  # beside this script
    from PySide6.QtWidgets import QApplication

    from kcc_desktop.connectors.pacing import reset_pacers
    from kcc_desktop.context import AppContext
    from kcc_desktop.ui.export_tab import ExportTab

    app = QApplication.instance() or QApplication([])
    os.environ["KCC_PACING_TIME_SCALE"] = str(minute_seconds / 60.0)
    worst, uploads, loads = [], [], []
    for run in range(runs):
        sb = start(minute_seconds / 60.0)
        try:
            store, _pkg, _ = company(n, sb, f"stall{run}")
            reset_pacers()
            tab = ExportTab(AppContext(store))
            tab.resize(1280, 800)
            tab.show()
            tab.pending_grid.selectAll()
            app.processEvents()
            loads.append(os.getloadavg()[0])
            tab.upload_action.trigger()
            beat = Heartbeat(10)
            beat.start()
            t0 = time.perf_counter()
            while tab.busy:
                app.processEvents()
                time.sleep(0.001)
            uploads.append(time.perf_counter() - t0)
            end = time.perf_counter() + 0.3      # the refresh after the job, too
            while time.perf_counter() < end:
                app.processEvents()
                time.sleep(0.001)
            beat.stop()
            worst.append(beat.worst_ms)
            tab.close()
            tab.deleteLater()
            app.processEvents()
        finally:
            sb.server.stop()
    return {"bench": "gui_stall_full_upload", "documents": n, "runs": runs,
            "max_gui_stall_ms_median": statistics.median(worst), "stall_per_run_ms": worst,
            "upload_s_per_run": [round(u, 2) for u in uploads], "load_avg_1min": [round(x, 2) for x in loads]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=500, help="documents for the requests-per-document run")
    p.add_argument("--throughput", type=int, default=10000, help="documents for the time-scaled run")
    p.add_argument("--minute", type=float, default=6.0, help="seconds a rate-limit 'minute' lasts")
    p.add_argument("--gui", type=int, default=100000, help="pending documents for the tab timings")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--stall", type=int, default=2000, help="documents for the full-upload GUI stall runs")
    p.add_argument("--skip", nargs="*", default=[], choices=["requests", "throughput", "gui", "stall"])
    p.add_argument("--pipeline", type=int, default=None, help="requests in flight (default: the exporter's)")
    p.add_argument("--pacer-margin", type=float, default=None,
                   help="override the Xero pacer's window margin (seconds) to test the 429 edge")
    args = p.parse_args()
    if args.pacer_margin is not None:
        from dataclasses import replace

        from kcc_desktop.connectors import pacing
        pacing.POLICIES["xero"] = replace(pacing.XERO_POLICY, window_margin=args.pacer_margin)
    _keyring()
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                      "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
    if "requests" not in args.skip:
        print(json.dumps(bench_requests(args.requests)), flush=True)
    if "throughput" not in args.skip:
        print(json.dumps(bench_throughput(args.throughput, args.minute, args.pipeline)), flush=True)
    if "gui" not in args.skip:
        print(json.dumps(bench_gui(args.gui, args.runs, args.minute)), flush=True)
    if "stall" not in args.skip:
        print(json.dumps(bench_stall(args.stall, args.runs, args.minute)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
