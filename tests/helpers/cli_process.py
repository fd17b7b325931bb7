"""Runs ``kcc-desktop`` in a process of its own, as a user does, and reads back that process's own peak
resident memory and the time spent inside ``cli.main`` (the memory test of import-documents and
benchmarks/bench_csv_import.py).

The peak is the new process's ``VmHWM`` (``/proc/self/status``), not ``getrusage``'s ``ru_maxrss``: Linux
carries ``ru_maxrss`` across ``exec`` (the kernel keeps the larger of the old and the new image's peak,
``setmax_mm_hiwater_rss`` in ``exec_mmap``), and ``subprocess`` forks from the caller, so a child of a
200 MB pytest process reports 200 MB whatever it does itself. ``VmHWM`` belongs to the new address space
only. Elsewhere (no ``/proc``) ``ru_maxrss`` is the fallback: bytes on macOS, KiB on the others.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass

WRAPPER = textwrap.dedent("""
    import resource, sys, time

    def peak_kib():
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak

    from kcc_desktop.cli import main
    started = time.perf_counter()
    code = main(sys.argv[1:])
    inside = time.perf_counter() - started
    print(f"\\nCLI-PROCESS {inside} {peak_kib()}", file=sys.stderr)
    sys.exit(code)
""")


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str        # without the wrapper's own last line
    inside_s: float    # time inside cli.main (no interpreter start)
    peak_mb: float     # the process's own peak resident memory


def run_cli(args: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> CliRun:
    """``kcc-desktop ARGS`` in a fresh interpreter (``env`` must let it import kcc_desktop)."""
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    stderr, marker, tail = done.stderr.rpartition("\nCLI-PROCESS ")
    if not marker:
        raise RuntimeError(f"kcc-desktop {' '.join(args)} ended without reaching its end "
                           f"({done.returncode}):\n{done.stderr[-3000:]}")
    inside, peak = tail.split()
    return CliRun(done.returncode, done.stdout, stderr, float(inside), int(peak) / 1024)
