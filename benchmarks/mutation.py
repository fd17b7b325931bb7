"""Mutation testing of the Qt-free core with mutmut, one module group at a time (issue 20).

Usage: .venv/bin/python benchmarks/mutation.py [GROUP ...] [--list] [--keep] [--rev HEAD]

Each group is a few source files and the narrow test selection that is meant to pin them down (the table
below). For each group a scratch copy of the project is made under ``.mutation/GROUP/`` (the package, the
tests and a pyproject.toml whose ``[tool.mutmut]`` names that group only), and ``mutmut run
--max-children 1`` runs there: one worker process, because this 2-core machine is shared. mutmut runs the
selection once to learn which test reaches which function, then each mutant against only those tests, in
a process forked from the first (no re-import), so a group of a few hundred mutants takes minutes.

Written per group: ``benchmarks/mutation/GROUP.txt`` — the counts, the score and the diff of every
mutant that was not killed. Survivors are either killed by a new test or explained, one line each, in
``benchmarks/mutation/EQUIVALENT.md``; the scores go into benchmarks/README.md by hand.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "mutation"
SCRATCH = ROOT / ".mutation"

# group: (files to mutate, tests that should kill their mutants)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "rounding": (["kcc_desktop/ledger/rounding.py"], ["tests/ledger/test_rounding.py"]),
    "payment_guard": (["kcc_desktop/sync/guard.py"], ["tests/ledger/test_payment_guard.py"]),
    "trial_balance": (["kcc_desktop/ledger/trial_balance.py"],
                      ["tests/ledger/test_trial_balance_range.py", "tests/ledger/test_posting.py"]),
    "postings": (["kcc_desktop/ledger/postings.py"],
                 ["tests/ledger/test_postings_legs.py", "tests/ledger/test_posting.py"]),
    "export_rules": (["kcc_desktop/sync/export/rules.py"],
                     ["tests/sync/test_export_rules.py"]),
    "export_queue": (["kcc_desktop/sync/queue.py"], ["tests/sync/test_queue.py", "tests/sync/test_queue_rules.py",
                                                  "tests/sync/test_queue_desks.py"]),
    "payloads": (["kcc_desktop/sync/payloads.py"],
                 ["tests/sync/test_payloads.py", "tests/sync/test_payloads_fields.py"]),
    "csv_import": (["kcc_desktop/ledger/csv_import.py", "kcc_desktop/ledger/csv_checks.py",
                    "kcc_desktop/ledger/csv_reader.py", "kcc_desktop/ledger/csv_limits.py"],
                   ["tests/ledger/test_csv_import.py", "tests/ledger/test_csv_import_bulk.py",
                    "tests/ledger/test_csv_import_limits.py", "tests/ledger/test_csv_import_messages.py",
                    "tests/test_csv_cells.py",
                    # the million-row memory test runs minutes in a child process, out of mutmut's reach; the
                    # two bulk-writer-against-services comparisons (20 s of a survivor's 30) pin down
                    # csv_write and bulk_rows, which this group does not mutate
                    "-k", "not million and not bulk_import_writes_what_the_services_write"]),
    "payments_import": (["kcc_desktop/sync/payments_import.py"],
                        ["tests/sync/test_payments_import.py", "tests/sync/test_payments_import_qbo.py",
                         "tests/sync/test_payments_import_overpayments.py",
                         "tests/sync/test_payments_import_batches.py",
                         "tests/sync/test_payments_import_changes.py", "tests/sync/test_own_uploads.py"]),
}

KILLED = {1, 3, 37}
MAX_DIFFS = 40
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout", 24: "timeout",
          -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def _pyproject(files: list[str], tests: list[str]) -> str:
    text = (ROOT / "pyproject.toml").read_text()
    listed = ", ".join(f'"{f}"' for f in files)
    selected = ", ".join(f'"{t}"' for t in tests)
    return text + f"""
[tool.mutmut]
source_paths = ["kcc_desktop/"]
only_mutate = [{listed}]
pytest_add_cli_args_test_selection = [{selected}]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-x"]
"""


def _results(work: Path) -> dict[str, int | None]:
    import json

    codes: dict[str, int | None] = {}
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def run_group(name: str, keep: bool, rev: str | None, children: int = 1) -> tuple[int, int]:
    files, tests = GROUPS[name]
    work = SCRATCH / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    if rev:   # a commit's files, whatever the work tree holds right now
        archive = subprocess.run(["git", "archive", rev, "kcc_desktop", "tests"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    else:
        for folder in ("kcc_desktop", "tests"):
            shutil.copytree(ROOT / folder, work / folder, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (work / "pyproject.toml").write_text(_pyproject(files, tests))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(work))
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    subprocess.run([str(mutmut), "run", "--max-children", str(children)], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, check=False)
    took = time.monotonic() - started
    codes = _results(work)
    killed = sum(1 for code in codes.values() if code in KILLED)
    counts = Counter("killed" if c in KILLED else STATUS.get(c, f"suspicious ({c})") for c in codes.values())
    lines = [f"group {name}: {', '.join(files)}", f"tests: {' '.join(tests)}",
             f"mutants {len(codes)}, killed {killed}, score {100 * killed / max(len(codes), 1):.1f} %, "
             f"{took:.0f} s wall", "statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), ""]
    left = sorted(key for key, code in codes.items() if code not in KILLED)
    if len(left) > MAX_DIFFS:   # `mutmut show` costs seconds each: past this, names (and statuses) only
        lines += [f"# {key}: {STATUS.get(codes[key], codes[key])}" for key in left]
        left = []
    for key in left:
        diff = subprocess.run([str(mutmut), "show", key], cwd=work, env=env, capture_output=True, text=True)
        lines.append(diff.stdout.rstrip())
        lines.append("")
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:4]), flush=True)
    return killed, len(codes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help="groups to run (default: all, smallest first)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--keep", action="store_true", help="reuse .mutation/GROUP (mutmut re-runs only what changed)")
    parser.add_argument("--rev", help="mutate a commit's files (e.g. HEAD) instead of the work tree's")
    parser.add_argument("--children", type=int, default=1,
                        help="mutants checked at once (1 on a shared machine; 2 when it is yours alone)")
    args = parser.parse_args()
    if args.list:
        for name, (files, tests) in GROUPS.items():
            print(f"{name}: {' '.join(files)}  <-  {' '.join(tests)}")
        return 0
    for name in args.groups or list(GROUPS):
        run_group(name, args.keep, args.rev, args.children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
