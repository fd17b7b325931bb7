#!/usr/bin/env python3
"""Developer entry points that work on a fresh machine (Linux, macOS, Windows), using only the stdlib:

    python3 dev.py demo     set up .venv and open the app on the demo company, connected to the sandbox
    python3 dev.py test     set up .venv and run the whole test suite offscreen
    python3 dev.py check    set up .venv and run ruff and mypy (both must report nothing)
    python3 dev.py bundle   set up .venv, build the one-folder app with build.spec and smoke-test it
    python3 dev.py installer   the bundle, then this OS's installer: a .deb (Linux), a .dmg (macOS) or a
                            setup .exe (Windows, with Inno Setup 6), in dist/
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str, **kw) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def setup(extras: str = "test") -> None:
    """Creates .venv once and installs the package (editable) with the extras asked for."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    run(str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(str(PY), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    stamp.touch()


def cmd_demo(args: list[str]) -> int:
    setup("test")
    # Bytecode, as an installed app has it: the editable install never writes it where PYTHONDONTWRITEBYTECODE
    # is set, and compiling the package on every start doubled the time to the window (issue 17).
    run(str(PY), "-m", "compileall", "-q", str(ROOT / "kcc_desktop"))
    return subprocess.call([str(PY), "-m", "kcc_desktop", "--demo", *args], cwd=ROOT)


def cmd_test(args: list[str]) -> int:
    setup("test")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # One worker per core (pytest-xdist); "-n 0" runs everything in this process, e.g. for a debugger.
    workers = [] if any(a == "-n" or a.startswith("-n") for a in args) else ["-n", "auto"]
    return subprocess.call([str(PY), "-m", "pytest", "-p", "no:cacheprovider", *workers, *args], cwd=ROOT, env=env)


def cmd_check(args: list[str]) -> int:
    """ruff and mypy over the whole project: both must report nothing."""
    setup("test")
    lint = subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT)
    types = subprocess.call([str(PY), "-m", "mypy"], cwd=ROOT)
    return lint or types


def cmd_bundle(args: list[str]) -> int:
    setup("test,build")
    run(str(PY), "-m", "PyInstaller", "--noconfirm", "--clean", "build.spec")
    exe = ROOT / "dist" / "kcc-desktop" / ("kcc-desktop.exe" if os.name == "nt" else "kcc-desktop")
    if sys.platform == "darwin":
        exe = ROOT / "dist" / "KCC Desktop.app" / "Contents" / "MacOS" / "kcc-desktop"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.call([str(exe), "--smoke-test"], cwd=ROOT, env=env)


def find_iscc() -> str:
    """Inno Setup's compiler: KCC_ISCC, on the PATH, or where its installer puts it."""
    bases = (os.environ.get("PROGRAMFILES(X86)", ""), os.environ.get("PROGRAMFILES", ""),
             os.environ.get("LOCALAPPDATA", "") + "\\Programs")
    candidates = [os.environ.get("KCC_ISCC", ""), shutil.which("iscc") or "",
                  *(base + "\\Inno Setup 6\\ISCC.exe" for base in bases)]
    found = next((c for c in candidates if c and Path(c).is_file()), "")
    if not found:
        sys.exit("Inno Setup 6 is needed for the Windows installer (https://jrsoftware.org/isinfo.php), "
                 "or set KCC_ISCC to its ISCC.exe.")
    return found


def cmd_installer(args: list[str]) -> int:
    code = cmd_bundle([])
    if code:
        return code
    version = subprocess.run([str(PY), "-c", "import kcc_desktop; print(kcc_desktop.__version__)"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
    if sys.platform == "win32":
        run(find_iscc(), f"/DAppVersion={version}", str(ROOT / "packaging" / "windows" / "kcc-desktop.iss"))
    elif sys.platform == "darwin":
        run(str(PY), str(ROOT / "packaging" / "macos" / "build_dmg.py"), *args)
    else:
        run(str(PY), str(ROOT / "packaging" / "linux" / "build_deb.py"), *args)
    return 0


def main() -> int:
    commands = {"demo": cmd_demo, "test": cmd_test, "check": cmd_check, "bundle": cmd_bundle,
                "installer": cmd_installer}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
