"""Several desks on one company: each a real ``kcc-desktop`` process, started together, signed in through
the test's keyring, working against the sandbox; and an audit of the package afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def desk_env(keyring_file: str, home: Path, sandbox_root: str) -> dict[str, str]:
    xdg = home / "xdg"
    (xdg / "python_keyring").mkdir(parents=True, exist_ok=True)
    shutil.copy(keyring_file, xdg / "python_keyring" / "keyring_pass.cfg")
    return dict(os.environ, XDG_DATA_HOME=str(xdg), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                KCC_XERO_URL=sandbox_root, KCC_QBO_URL=sandbox_root)


def run_desks(db: str, commands: list[list[str]], env: dict[str, str], timeout: float = 240) -> list[tuple[int, str]]:
    """Starts every command at once on ``db``; returns each one's (exit code, stderr)."""
    procs = [subprocess.Popen([sys.executable, "-m", "kcc_desktop", "--db", db, *argv], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv in commands]
    out = []
    for p in procs:
        _stdout, stderr = p.communicate(timeout=timeout)
        out.append((p.returncode, stderr))
    return out


def duplicates(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)
