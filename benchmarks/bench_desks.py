"""Several desks on one company against one desk (issue 15, item 5): the same export queue, sent by one
``kcc-desktop export --all`` or by three started together, under the package's rate limits.

    .venv/bin/python benchmarks/bench_desks.py [--providers xero,quickbooks] [--engines sqlite,postgresql]
                                               [--invoices 3000] [--minute 6] [--desks 3] [--runs 3]

Each trial is a fresh company (``build_ledger`` with ``--invoices`` sales invoices, a credit note, a bill and
eight prepayment allocations, mapped with Apply Default Setup) signed in to a freshly reset sandbox whose
rate limits run on a short clock: a "minute" lasts ``--minute`` seconds, every other limit as documented
(Xero 60 a minute and 5 in flight per organisation; QuickBooks 500 a minute, 40 batches a minute, 10 in
flight per realm), and the desks pace on the same clock (``KCC_PACING_TIME_SCALE``). One desk and N desks take
turns, so a trial of each shares the machine's load. Timed: from starting the desks to the last one's exit.
Also timed, by the sandbox: from the first request to the last answer (``package_seconds``), the span the
package was worked, without the desks' own start-up (here every desk starts on the same 2 cores, where on a
real site each has its own machine). Counted: the package's 429 answers, and an audit through the official
SDK (nothing twice, nothing missing).

The desks share one pacing budget in the company store (``sync/pacing_budget.py``), so N desks together may
not out-send one: the figure to read is the ratio N desks ÷ one desk (goal ≤ 1) and 0 429s. PostgreSQL is
included when ``KCC_TEST_PG_URL`` names a server (as ``.ci/run`` sets it). JSON lines to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="kcc-bench-desks-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KCC_DATA_DIR"] = str(_TMP / "data")
os.environ["KCC_LOG_DIR"] = str(_TMP / "logs")
os.environ["XDG_DATA_HOME"] = str(_TMP / "xdg")     # the desks and this process share one keyring file
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"

from benchmarks.chaos.world import WORLDS, World  # noqa: E402  (after the environment the desks inherit)


def _requests(stats: dict) -> int:
    return sum(v for k, v in stats["by_endpoint"].items() if not k.split(" ", 1)[-1].startswith("/_sandbox"))


def trial(world: World, db: str, desks: int, minute: float) -> dict:
    world.new_company(db)
    scale = minute / 60.0
    world.sandbox.control("limits", {"time_scale": scale})
    world.sandbox.faults(latency=0.02)    # a request takes a moment, as over a real connection
    before = world.sandbox.control("stats", {})    # counts from zero: the span is this trial's
    env = dict(os.environ, KCC_PACING_TIME_SCALE=str(scale))
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", db, "export", "--all", "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(desks)]
    results = [p.communicate(timeout=1800) for p in procs]
    elapsed = time.perf_counter() - t0
    after = world.sandbox.stats()
    world.sandbox.control("limits", {"time_scale": 1.0})    # the audit reads at the real pace
    world.sandbox.faults(latency=0.0)
    audit = world.audit()
    # A desk that ends in error says why on stderr; one whose upload left something failed or held says it
    # only in its JSON summary on stdout.
    failed = [(err.strip() or out.strip())[-800:] for p, (out, err) in zip(procs, results, strict=True)
              if p.returncode != 0]
    first, last = after.get("first_request_at"), after.get("last_answer_at")
    span = round(float(last) - float(first), 2) if isinstance(first, float) and isinstance(last, float) else None
    return {"provider": world.provider, "desks": desks, "seconds": round(elapsed, 2), "package_seconds": span,
            "requests": _requests(after) - _requests(before),
            "http_429": after["by_status"].get("429", 0) - before["by_status"].get("429", 0),
            "by_endpoint": {k: v - before["by_endpoint"].get(k, 0) for k, v in after["by_endpoint"].items()
                            if v - before["by_endpoint"].get(k, 0) and "/_sandbox" not in k},
            "audit": audit.text(), "desks_failed": failed}


def _database(engine: str, n: int):
    if engine == "postgresql":
        from tests.helpers.engines import fresh_pg_url

        return fresh_pg_url()
    from contextlib import nullcontext

    return nullcontext(str(_TMP / f"company-{n}.sqlite"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--providers", default="xero,quickbooks")
    p.add_argument("--engines", default="", help="sqlite,postgresql (default: PostgreSQL when KCC_TEST_PG_URL "
                                                 "is set, else SQLite)")
    p.add_argument("--invoices", type=int, default=3000)
    p.add_argument("--minute", type=float, default=6.0, help="seconds a rate-limit 'minute' lasts")
    p.add_argument("--desks", type=int, default=3)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    engines = args.engines.split(",") if args.engines else \
        (["postgresql"] if os.environ.get("KCC_TEST_PG_URL") else ["sqlite"])
    (_TMP / "xdg" / "python_keyring").mkdir(parents=True, exist_ok=True)
    n = 0
    clean = True
    try:
        for provider in args.providers.split(","):
            world = WORLDS[provider](seed=1, invoices=args.invoices)
            try:
                for engine in engines:
                    times: dict[int, list[float]] = {1: [], args.desks: []}
                    spans: dict[int, list[float]] = {1: [], args.desks: []}
                    for run in range(args.runs):
                        order = [1, args.desks] if run % 2 == 0 else [args.desks, 1]
                        for desks in order:
                            n += 1
                            with _database(engine, n) as db:
                                row = trial(world, db, desks, args.minute)
                                world.close()
                            row.update(engine=engine, run=run + 1, invoices=args.invoices, minute=args.minute)
                            print(json.dumps(row), flush=True)
                            times[desks].append(row["seconds"])
                            if row["package_seconds"] is not None:
                                spans[desks].append(row["package_seconds"])
                            clean &= row["http_429"] == 0 and not row["desks_failed"] and \
                                row["audit"].startswith("duplicates 0 / lost 0 ")
                    one, many = statistics.median(times[1]), statistics.median(times[args.desks])
                    summary = {"provider": provider, "engine": engine, "median_one_desk_s": one,
                               f"median_{args.desks}_desks_s": many, "ratio": round(many / one, 3)}
                    if spans[1] and spans[args.desks]:
                        p1, pn = statistics.median(spans[1]), statistics.median(spans[args.desks])
                        summary.update(package_one_desk_s=p1, package_desks_s=pn, package_ratio=round(pn / p1, 3))
                    print(json.dumps({**summary, "load_average": os.getloadavg()}), flush=True)
            finally:
                world.stop()
    finally:
        if "postgresql" in engines:
            from tests.helpers.engines import drop_templates

            drop_templates()
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
