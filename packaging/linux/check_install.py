#!/usr/bin/env python3
"""CI: proves the .deb end to end on this machine, as root. Installs it with apt (which fetches its
dependencies), runs the installed app's --smoke-test and its headless commands the way a user and the
scheduler would, uninstalls and purges it, and checks that nothing of the package is left and that the
user's data folder came through byte for byte.

    python3 packaging/linux/check_install.py dist/kcc-desktop_<version>_<arch>.deb
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "kcc-desktop"
INSTALLED = [Path("/opt/kcc-desktop/kcc-desktop"), Path("/usr/bin/kcc-desktop"),
             Path("/usr/share/applications/uk.co.kcc.desktop.desktop"),
             Path("/usr/share/icons/hicolor/256x256/apps/uk.co.kcc.desktop.png")]


def step(what: str) -> None:
    print(f"== {what}", flush=True)


def run(*argv: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> str:
    print("+", " ".join(argv), flush=True)
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode not in ok:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(argv)}\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def user_env(home: Path) -> dict[str, str]:
    """A user with a fresh home and the platform's default folders (no KCC_* overrides)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KCC_", "XDG_"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return env


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].endswith(".deb"):
        sys.exit(__doc__)
    deb = Path(argv[0]).resolve()
    if os.geteuid() != 0:
        sys.exit("Installing a package needs root.")
    if run("dpkg-query", "-W", "-f=${Status}", PACKAGE, ok=(0, 1)).startswith("install ok"):
        step(f"{PACKAGE} is installed from an earlier run: removing it first")
        run("dpkg", "--purge", PACKAGE)

    step(f"install {deb.name}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", str(deb), env=env)
    missing = [str(p) for p in INSTALLED if not p.exists()]
    if missing:
        sys.exit(f"FAILED: not installed: {missing}")
    if shutil.which("desktop-file-validate"):
        run("desktop-file-validate", str(INSTALLED[2]))

    home = Path(tempfile.mkdtemp(prefix="kcc-user-"))
    env = user_env(home)
    step("the installed app, as a user")
    print(run("kcc-desktop", "--version", env=env).strip())
    print(run("kcc-desktop", "--smoke-test", env=env).strip())
    # The user's own company file, in the default data folder, with a run of the scheduled sync recorded.
    run("kcc-desktop", "demo", "--documents", "20", env=env)
    data = home / ".local" / "share" / "KCCDesktop"
    if not (data / "kcc.sqlite").is_file():
        sys.exit(f"FAILED: the company file is not in the default data folder {data}")
    units = run("kcc-desktop", "schedule", "install", "--every", "30m", "--dry-run", env=env)
    if f"ExecStart=/opt/kcc-desktop/kcc-desktop --db {data / 'kcc.sqlite'} scheduled-run" not in units:
        sys.exit(f"FAILED: the scheduled job would not run the installed app:\n{units}")
    ran = run("kcc-desktop", "scheduled-run", "--export", env=env, ok=(1,))    # integration off: recorded, exit 1
    if "the integration is off" not in ran:
        sys.exit(f"FAILED: the installed scheduled-run said: {ran}")
    before = snapshot(data)
    print(f"data folder {data}: {len(before)} files")

    step("uninstall and purge")
    run("dpkg", "-r", PACKAGE)
    run("dpkg", "--purge", PACKAGE)
    left = [str(p) for p in [*INSTALLED, Path("/opt/kcc-desktop")] if p.exists() or p.is_symlink()]
    if left:
        sys.exit(f"FAILED: left behind after uninstalling: {left}")
    if run("dpkg-query", "-W", "-f=${Status}", PACKAGE, ok=(0, 1)).startswith("install ok"):
        sys.exit("FAILED: dpkg still lists the package as installed")
    after = snapshot(data) if data.exists() else {}
    if after != before:
        sys.exit(f"FAILED: the data folder changed on uninstall: {sorted(set(before) ^ set(after))}")
    print(f"install check ok: installed, smoke-tested, uninstalled; {len(after)} files in the data folder kept")
    shutil.rmtree(home)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
