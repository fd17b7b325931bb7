"""Times ``kcc-desktop --db FILE import-documents orders.csv`` against the demo's bulk writer, in the same run.

Usage: .venv/bin/python benchmarks/bench_csv_import.py [--sizes 10000,90000] [--repeats 3] [--services 2000] [--json]

For each size: a fresh company file with the demo's master data (``demo --documents 0``: 50 customers,
20 suppliers, 200 stock items, the chart), and an order-system CSV of that many documents made from them
(``tests/helpers/orders_csv.py``: 1-4 lines each, stock and free-text lines, discounts, credit notes and
bills, one document in 50 naming a new company, neighbouring documents' rows interleaved). Each run is a
process of its own, as a user runs the command; the figures are the median over ``--repeats`` runs of
the command's wall and CPU time, the time inside ``cli.main`` (without interpreter start), documents a
second, and the process's peak resident memory. In the same run ``demo --documents N`` is timed the
same way (the demo's bulk writer: documents with their payments and allocations), and the ratio of the
two rates is printed. ``--services N`` also times the same import written through
``service.create_document`` one document at a time (the path the import used before), in process.

Exits 1 if the import's median rate at the largest size is under 2,000 documents a second (issue 16): the
wall-clock rate, or, when the load average was above the number of cores throughout, the rate per second of
CPU (the import is one thread; on a queue for the CPU its wall clock measures the queue).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_demo import machine  # beside this file (a script's folder is on its path)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # kcc_desktop and tests.helpers, imported where they are used

BUDGET_PER_SECOND = 2_000


def run_command(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """One ``kcc-desktop ARGS`` in a process of its own: wall and CPU time, the time inside ``cli.main``, and
    that process's own peak resident memory (``tests.helpers.cli_process``)."""
    from tests.helpers.cli_process import run_cli

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = run_cli(args, env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "inside": done.inside_s, "peak_mb": done.peak_mb}


def company_file(folder: Path, env: dict[str, str]) -> Path:
    db = folder / "company.sqlite"
    subprocess.run([sys.executable, "-m", "kcc_desktop", "--db", str(db), "demo", "--documents", "0"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return db


def orders_file(folder: Path, db: Path, documents: int) -> tuple[Path, int]:
    from kcc_desktop.store import open_store
    from tests.helpers.orders_csv import codes_of, write_orders

    store = open_store(db)
    try:
        path = write_orders(folder / "orders.csv", codes_of(store), documents, seed=16, interleave=True)
    finally:
        store.close()
    with path.open(encoding="utf-8") as f:
        rows = sum(1 for _ in f) - 1
    return path, rows


def median_of(runs: list[dict[str, float]], documents: int) -> dict[str, float]:
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["per_second"] = documents / out["wall"]
    out["per_second_inside"] = documents / out["inside"]
    out["per_second_cpu"] = documents / out["cpu"]
    return out


def bench_size(documents: int, repeats: int, env: dict[str, str]) -> dict[str, object]:
    imports, demos = [], []
    with tempfile.TemporaryDirectory(prefix="kcc-bench-csv-") as name:
        folder = Path(name)
        template = company_file(folder, env)
        orders, rows = orders_file(folder, template, documents)
        size_mb = orders.stat().st_size / 1024 / 1024
        for n in range(repeats):   # import and demo alternate, so both see the same load
            db = folder / f"import-{n}.sqlite"
            db.write_bytes(template.read_bytes())
            imports.append(run_command(["--db", str(db), "import-documents", str(orders)], env))
            demos.append(run_command(["--db", str(folder / f"demo-{n}.sqlite"), "demo", "--documents",
                                      str(documents)], env))
            for path in folder.glob(f"*-{n}.sqlite*"):
                path.unlink()
    imp, demo = median_of(imports, documents), median_of(demos, documents)
    return {"documents": documents, "rows": rows, "file_mb": round(size_mb, 1), "import": imp, "demo": demo,
            "ratio": imp["per_second"] / demo["per_second"],
            "import_wall_runs": [round(r["wall"], 2) for r in imports],
            "import_peak_mb_runs": [round(r["peak_mb"]) for r in imports],
            "demo_wall_runs": [round(r["wall"], 2) for r in demos]}


def bench_services(documents: int, repeats: int, env: dict[str, str]) -> dict[str, float]:
    """The same import through service.create_document, one document at a time (in this process)."""
    from kcc_desktop.ledger.csv_import import import_documents
    from kcc_desktop.store import open_store
    from kcc_desktop.sync.queue import install_queue_listeners

    install_queue_listeners()   # as the command line has them: the listener's cost was part of the old path
    seconds = []
    with tempfile.TemporaryDirectory(prefix="kcc-bench-csv-") as name:
        folder = Path(name)
        template = company_file(folder, env)
        orders, _ = orders_file(folder, template, documents)
        for n in range(repeats):
            db = folder / f"services-{n}.sqlite"
            db.write_bytes(template.read_bytes())
            store = open_store(db)
            try:
                started = time.perf_counter()
                report = import_documents(store, orders, bulk=False)
                seconds.append(time.perf_counter() - started)
                assert report.ok, report.text()
            finally:
                store.close()
    wall = statistics.median(seconds)
    return {"documents": documents, "median_s": wall, "per_second": documents / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,90000", help="documents per file (90,000 is about 195,000 rows)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--services", type=int, default=2000, help="documents for the one-by-one path (0: skip)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="kcc-bench-env-")
    env = dict(os.environ, KCC_DATA_DIR=folder, KCC_LOG_DIR=folder, PYTHONPATH=str(ROOT))
    info = machine()
    results = [bench_size(int(s), args.repeats, env) for s in args.sizes.split(",")]
    services = bench_services(args.services, args.repeats, env) if args.services else None
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if args.json:
        print(json.dumps({"machine": info, "sizes": results, "services": services}, indent=2, default=str))
    else:
        print(f"{info['date']}  nproc {info['nproc']}  {info['cpu']}  Python {info['python']}  "
              f"load {info['load_average_before']} -> {info['load_average_after']}")
        for r in results:
            imp, demo = r["import"], r["demo"]
            assert isinstance(imp, dict) and isinstance(demo, dict)
            print(f"{r['documents']:>7,} documents ({r['rows']:,} rows, {r['file_mb']} MB): import median "
                  f"{imp['wall']:.2f} s wall, {imp['cpu']:.2f} s CPU, {imp['inside']:.2f} s in main = "
                  f"{imp['per_second']:,.0f}/s ({imp['per_second_inside']:,.0f}/s in main, "
                  f"{imp['per_second_cpu']:,.0f}/s of CPU), peak "
                  f"{imp['peak_mb']:.0f} MB; demo {demo['wall']:.2f} s = {demo['per_second']:,.0f}/s "
                  f"({demo['per_second_inside']:,.0f}/s in main, {demo['per_second_cpu']:,.0f}/s of CPU); "
                  f"import/demo {r['ratio']:.2f}; runs "
                  f"{r['import_wall_runs']} / {r['demo_wall_runs']}, import peaks {r['import_peak_mb_runs']} MB")
        if services:
            print(f"services path, {services['documents']:,} documents: median {services['median_s']:.2f} s = "
                  f"{services['per_second']:,.0f}/s")
    largest = max(results, key=lambda r: int(str(r["documents"])))
    imp = largest["import"]
    assert isinstance(imp, dict)
    # On a machine busier than its cores the wall clock measures the queue for the CPU, not the import: the
    # import is one thread, so then its rate per CPU second is what it would do alone.
    loads = [info["load_average_before"], info["load_average_after"]]
    busy = all(loads) and min(load[0] for load in loads) > (info["nproc"] or 1)
    rate = imp["per_second_cpu"] if busy else imp["per_second"]
    print(f"budget {BUDGET_PER_SECOND:,}/s: {rate:,.0f}/s {'of CPU (the machine was busy)' if busy else 'wall'} "
          f"at {largest['documents']:,} documents: {'met' if rate >= BUDGET_PER_SECOND else 'NOT met'}",
          file=sys.stderr)
    return 0 if rate >= BUDGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
