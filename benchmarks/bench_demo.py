"""Times ``kcc-desktop --db FILE demo --documents N`` end to end (a fresh file each run, as a user runs it).

Usage: .venv/bin/python benchmarks/bench_demo.py [--sizes 1000,10000,100000] [--repeats 3] [--json]

Prints, per size, the median wall-clock and CPU seconds of the whole command (process start, migration,
build, commit), and the machine it ran on. CPU time is reported too because this machine is shared:
wall time rises with other people's load, CPU time much less. Exits 1 if the median for 100,000
documents is a minute or more (the issue's budget).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BUDGET_SECONDS = 60.0
BUDGET_SIZE = 100_000


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_before": _load()}


def _load():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def run_once(size: int, seed: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="kcc-bench-") as folder:
        db = Path(folder) / "demo.sqlite"
        env = dict(os.environ, KCC_DATA_DIR=folder, KCC_LOG_DIR=folder)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kcc_desktop", "--db", str(db), "demo", "--documents", str(size),
                        "--seed", str(seed)], check=True, env=env, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    info = machine()
    results = []
    for size in sizes:
        runs = [run_once(size, args.seed) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        results.append({"documents": size, "median_wall_s": round(wall, 2), "median_cpu_s": round(cpu, 2),
                        "wall_runs_s": [round(r[0], 2) for r in runs],
                        "ms_per_document": round(wall * 1000 / size, 3) if size else None})
        if not args.json:
            print(f"{size:>8} documents: median {wall:6.2f} s wall, {cpu:6.2f} s CPU "
                  f"(runs {', '.join(f'{r[0]:.2f}' for r in runs)})", flush=True)
    info["load_average_after"] = _load()
    if args.json:
        print(json.dumps({"machine": info, "results": results}, indent=2))
    else:
        print(f"machine: {info['nproc']} x {info['cpu']}, Python {info['python']}, {info['date']}, "
              f"load average before {info['load_average_before']}, after {info['load_average_after']}")
        if len(results) > 1 and results[0]["documents"]:
            first, last = results[0], results[-1]
            print(f"ratio {last['documents'] // first['documents']}x documents -> "
                  f"{last['median_wall_s'] / first['median_wall_s']:.1f}x wall time")
    budget = next((r for r in results if r["documents"] == BUDGET_SIZE), None)
    if budget and budget["median_wall_s"] >= BUDGET_SECONDS:
        print(f"FAIL: {BUDGET_SIZE} documents took {budget['median_wall_s']} s (budget {BUDGET_SECONDS} s)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
