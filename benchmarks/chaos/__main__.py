"""The chaos suite (issue 15), run by hand: ``.venv/bin/python -m benchmarks.chaos [--kills N] [--rounds R]``.

For each provider (the Xero and the QuickBooks sandbox) and each engine (SQLite; PostgreSQL too when
``KCC_TEST_PG_URL`` names a server, as ``.ci/run`` sets it), on a fresh company of 8 sales invoices, a
credit note, a bill and a prepayment allocated to four invoices (four payments KCC creates):

- **kills**: a desk runs ``kcc-desktop export --all`` or, after an export and two receipts recorded by the
  bookkeeper, ``kcc-desktop import`` (fetch, then create & allocate), and is SIGKILLed as the n-th answer
  arrives from the package (n random: the package has done the work, the desk never hears of it; the
  prepayment-allocation step included). Then, as a user would: an import at once, and after the dead
  desk's claims lapse an export and an import.
- **multi-desk rounds**: 3 desks on PostgreSQL, 2 on SQLite, run ``export --all`` and ``import`` at once,
  with 20 % of the package's answers failing (10 % 500/503, 10 % cut after the package applied the request)
  and a proxy corrupting 10 % of the answers that do arrive; the bookkeeper records two receipts; the desks
  import and export at once again; then the faults stop and an import, export and import finish the work.

After each run the package is read back through the official SDK (xero-python; python-quickbooks) and the
ledger through the company store. One line per run: duplicates (a document, contact, stock item or KCC
payment twice in the package), lost (a ledger document not in the package, an item still pending, an
allocation with no payment, a receipt not imported), double receipts (receipts in the ledger beyond those
the bookkeeper recorded), crashes (a traceback or "database is locked" from any desk). Then the totals.
Exit code 1 unless every count is 0.

``--short`` (CI): 1 kill and 1 round per provider and engine.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="kcc-chaos-"))
LEASE = 2.0   # seconds: a killed desk's claims lapse quickly (KCC_CLAIM_LEASE, read by every desk)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KCC_DATA_DIR"] = str(_TMP / "data")
os.environ["KCC_LOG_DIR"] = str(_TMP / "logs")
os.environ["KCC_CLAIM_LEASE"] = str(LEASE)
os.environ["XDG_DATA_HOME"] = str(_TMP / "xdg")     # the desks and this process share one keyring file
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"

from .world import WORLDS, Audit, World  # noqa: E402  (after the environment the desks inherit)

CRASH_SIGNS = ("Traceback", "database is locked")


def _desk(db: str, argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", db, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _crashes(procs: list[subprocess.Popen[str]]) -> int:
    """Waits for every desk; counts (and shows) those that crashed rather than stopping in words."""
    n = 0
    for p in procs:
        _out, err = p.communicate(timeout=600)
        if any(sign in err for sign in CRASH_SIGNS):
            n += 1
            print(f"  a desk crashed ({' '.join(p.args[3:])}):\n    " + err[-1500:].replace("\n", "\n    "),
                  file=sys.stderr)
    return n


def _run(db: str, *argvs: list[str]) -> int:
    return _crashes([_desk(db, argv) for argv in argvs])


def _finish(db: str) -> int:
    """What a user does after trouble: import at once; when the stopped desks' claims have lapsed, export and
    import again."""
    crashes = _run(db, ["import", "--json"])
    time.sleep(LEASE + 0.5)
    return crashes + _run(db, ["export", "--all", "--json"]) + _run(db, ["import", "--json"])


def kill_run(world: World, db: str, rng: random.Random, reach: dict[str, int]) -> tuple[str, Audit]:
    world.new_company(db)
    scenario = rng.choice(["export", "export", "import"])
    crashes = 0
    if scenario == "import":
        crashes += _run(db, ["export", "--all", "--json"])
        world.pay_some(2)
    world.sandbox.faults(latency=0.02)
    victim = _desk(db, ["export", "--all", "--json"] if scenario == "export" else ["import", "--json"])
    at = rng.randint(1, reach[scenario])
    world.proxy.kill_at(at, victim.pid)
    victim.communicate(timeout=600)
    world.proxy.disarm()
    if world.proxy.killed_at is None:       # it finished first: next time aim within what it needed
        reach[scenario] = max(1, world.proxy.answers)
        what = f"{scenario}, finished before answer {at}"
    else:
        what = f"{scenario}, killed at answer {at}: {world.proxy.killed_on}"
    world.sandbox.faults(latency=0.0)
    crashes += _finish(db)
    return what, world.audit() + Audit(crashes=crashes)


def desks_round(world: World, db: str, desks: int, seed: int) -> tuple[str, Audit]:
    world.new_company(db)
    faults = {"latency": 0.02, "error_rate": 0.1, "drop_after_commit_rate": 0.1, "seed": seed}
    world.sandbox.faults(**faults)
    world.proxy.corrupt_rate = 0.1
    crashes = _run(db, *[["export", "--all", "--json"]] * desks, *[["import", "--json"]] * (desks - 1))
    world.sandbox.faults(error_rate=0.0, drop_after_commit_rate=0.0)   # the bookkeeper's own clicks go through
    world.pay_some(2)
    world.sandbox.faults(**faults)
    crashes += _run(db, *[["import", "--json"]] * (desks - 1), ["export", "--all", "--json"])
    world.sandbox.faults(error_rate=0.0, drop_after_commit_rate=0.0, latency=0.0)
    world.proxy.corrupt_rate = 0.0
    played = world.sandbox.stats()["faults"]
    what = (f"{played['error'] + played['dropped']} faults, {world.proxy.corrupted} answers corrupted of "
            f"{world.proxy.answers}")
    crashes += _finish(db)
    return what, world.audit() + Audit(crashes=crashes)


@contextmanager
def _database(engine: str, n: int) -> Iterator[str]:
    if engine == "postgresql":
        from tests.helpers.engines import fresh_pg_url

        with fresh_pg_url() as url:
            yield url
    else:
        yield str(_TMP / f"company-{n}.sqlite")


def _plan(kills: int, rounds: int, engines: list[str]) -> list[tuple[str, str]]:
    """The runs in order: the engines take turns, and the rounds come spread among the kills, so a run
    stopped early still has some of everything."""
    plan: list[tuple[str, str]] = []
    every = max(1, kills // rounds) if rounds else 0
    done = 0
    for i in range(kills):
        plan += [("kill", e) for e in engines]
        if every and (i + 1) % every == 0 and done < rounds:
            plan += [("round", e) for e in engines]
            done += 1
    plan += [("round", e) for _ in range(rounds - done) for e in engines]
    return plan


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="kill runs per provider and engine (default 50)")
    parser.add_argument("--rounds", type=int, default=10, help="multi-desk rounds per provider and engine")
    parser.add_argument("--short", action="store_true", help="CI: 1 kill and 1 round per provider and engine")
    parser.add_argument("--providers", default="xero,quickbooks")
    parser.add_argument("--engines", default="", help="sqlite,postgresql (default: PostgreSQL when "
                                                      "KCC_TEST_PG_URL is set)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if args.short:
        args.kills, args.rounds = 1, 1
    engines = args.engines.split(",") if args.engines else \
        ["sqlite"] + (["postgresql"] if os.environ.get("KCC_TEST_PG_URL") else [])
    (_TMP / "xdg" / "python_keyring").mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _stop)   # kill PID: the totals so far, and the test databases dropped
    rng = random.Random(args.seed)
    tally: dict[tuple[str, str, str], tuple[int, Audit]] = {}
    n = 0
    started = time.monotonic()
    try:
        for provider in args.providers.split(","):
            world = WORLDS[provider](args.seed)
            reach = {"export": 40, "import": 8}
            counts = {e: {"kill": 0, "round": 0} for e in engines}
            try:
                for kind, engine in _plan(args.kills, args.rounds, engines):
                    n += 1
                    counts[engine][kind] += 1
                    t0 = time.monotonic()
                    with _database(engine, n) as db:
                        if kind == "kill":
                            what, audit = kill_run(world, db, rng, reach)
                            label = f"kill {provider} {engine} {counts[engine][kind]} ({what}"
                        else:
                            desks = 3 if engine == "postgresql" else 2
                            what, audit = desks_round(world, db, desks, seed=rng.randrange(1 << 30))
                            label = f"round {provider} {engine} {desks} desks {counts[engine][kind]} ({what}"
                        world.close()
                    runs, sub = tally.get((provider, engine, kind), (0, Audit()))
                    tally[(provider, engine, kind)] = (runs + 1, sub + audit)
                    print(f"{label}; {time.monotonic() - t0:.0f} s): {audit.text()}", flush=True)
            finally:
                world.stop()
    except KeyboardInterrupt:
        print("stopped by hand; the totals so far:")
    finally:
        if "postgresql" in engines:
            from tests.helpers.engines import drop_templates

            drop_templates()
    total = Audit()
    for (provider, engine, kind), (runs, sub) in sorted(tally.items()):
        print(f"== {provider} {engine} {kind}s: {runs}: {sub.text()}")
        total += sub
    print(f"TOTAL ({len(tally)} kinds of run, {sum(r for r, _ in tally.values())} runs; "
          f"{time.monotonic() - started:.0f} s): {total.text()}")
    return 0 if total.clean else 1


if __name__ == "__main__":
    sys.exit(main())
