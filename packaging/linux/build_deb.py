#!/usr/bin/env python3
"""Builds the Debian package (.deb) from the one-folder bundle ``dist/kcc-desktop`` (``python3 dev.py bundle``).

The package installs the bundle under /opt/kcc-desktop, a /usr/bin/kcc-desktop link, the desktop entry and
the icon. It has no maintainer scripts: dpkg's own triggers refresh the menu and icon caches, and nothing
outside the package's own files is touched, so removing it leaves the user's company file and settings
(in ~/.local/share/KCCDesktop) exactly as they were. Stdlib only; needs ``dpkg-deb``.

    python3 packaging/linux/build_deb.py [--bundle dist/kcc-desktop] [--out dist]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PACKAGE = "kcc-desktop"
INSTALL_DIR = Path("/opt/kcc-desktop")
DESKTOP_ID = "uk.co.kcc.desktop"          # the app's desktop file name (QGuiApplication.desktopFileName)

# What the bundled Qt needs from the system: its X11 (xcb) and Wayland platform plugins, OpenGL, fonts,
# D-Bus (also the keyring's Secret Service). Names as Debian 12 / Ubuntu 22.04 and later spell them.
DEPENDS = [
    "libegl1", "libgl1", "libfontconfig1", "libfreetype6", "libdbus-1-3",
    "libglib2.0-0 | libglib2.0-0t64", "libxkbcommon0", "libxkbcommon-x11-0", "libx11-xcb1", "libxcb1",
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-xfixes0", "libxcb-xkb1", "libwayland-client0",
    "libwayland-cursor0", "libwayland-egl1",
]
RECOMMENDS = ["gnome-keyring | kwalletmanager"]   # a Secret Service for the connection's tokens
DESCRIPTION = """Accounts-integration workstation for Xero and QuickBooks Online
 KCC Desktop keeps a stock-and-order ledger in step with Xero or QuickBooks
 Online: it exports companies, stock items, invoices, credit notes and
 prepayment allocations, and brings back the payments recorded in the package.
 Sync can run unattended on a schedule (kcc-desktop schedule install)."""


def app_metadata() -> dict[str, str]:
    """__version__, APP_NAME and APP_ID from kcc_desktop/__init__.py, read without importing the app."""
    tree = ast.parse((ROOT / "kcc_desktop" / "__init__.py").read_text(encoding="utf-8"))
    values: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    values[target.id] = node.value.value
    return values


_GLIBC_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?\x00")


def glibc_needed(bundle: Path) -> str:
    """The newest C library version any bundled binary asks for (its version needs name them as strings),
    so the package is refused where the bundle could not start rather than failing when opened."""
    newest: tuple[int, ...] = (2, 17)
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        for match in _GLIBC_VERSION.finditer(path.read_bytes()):
            newest = max(newest, tuple(int(x) for x in match.groups() if x))
    return ".".join(map(str, newest))


def architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def installed_size_kib(root: Path) -> int:
    """Debian policy's estimate: each file rounded up to a KiB, plus one per directory."""
    total = 0
    for path in root.rglob("*"):
        if path.is_symlink() or path.is_dir():
            total += 1
        else:
            total += (path.stat().st_size + 1023) // 1024
    return total


def control(version: str, arch: str, size_kib: int, maintainer: str, glibc: str = "2.17") -> str:
    fields = {
        "Package": PACKAGE, "Version": version, "Architecture": arch, "Maintainer": maintainer,
        "Installed-Size": str(size_kib), "Depends": ", ".join([f"libc6 (>= {glibc})", *DEPENDS]),
        "Recommends": ", ".join(RECOMMENDS),
        "Section": "misc", "Priority": "optional", "Description": DESCRIPTION,
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _normalise_modes(root: Path) -> None:
    """Files 0644 (0755 if anyone may run them), folders 0755, whatever the build machine's umask."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if path.is_dir() or mode & stat.S_IXUSR:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def stage(bundle: Path, root: Path, version: str, arch: str, maintainer: str) -> None:
    """Lays out the package's file tree under ``root``, DEBIAN/control included."""
    if not (bundle / PACKAGE).is_file():
        raise SystemExit(f"{bundle / PACKAGE} is missing: build the bundle first (python3 dev.py bundle).")
    app = root / INSTALL_DIR.relative_to("/")
    shutil.copytree(bundle, app, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    os.symlink(INSTALL_DIR / PACKAGE, root / "usr" / "bin" / PACKAGE)
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy(HERE / f"{DESKTOP_ID}.desktop", applications / f"{DESKTOP_ID}.desktop")
    icons = root / "usr" / "share" / "icons" / "hicolor"
    for folder, source in (("256x256", "kcc.png"), ("scalable", "kcc.svg")):
        (icons / folder / "apps").mkdir(parents=True)
        target = icons / folder / "apps" / f"{DESKTOP_ID}{Path(source).suffix}"
        shutil.copy(ROOT / "resources" / "icons" / source, target)
    _normalise_modes(root)
    debian = root / "DEBIAN"
    debian.mkdir()
    text = control(version, arch, installed_size_kib(root), maintainer, glibc_needed(bundle))
    (debian / "control").write_text(text, encoding="utf-8")
    _normalise_modes(debian)


def build(bundle: Path, out: Path, *, version: str | None = None, arch: str | None = None,
          maintainer: str | None = None) -> Path:
    """Builds ``out/kcc-desktop_<version>_<arch>.deb`` and returns its path."""
    meta = app_metadata()
    version = version or meta["__version__"]
    arch = arch or architecture()
    maintainer = maintainer or os.environ.get("KCC_DEB_MAINTAINER") or "KCC <desktop@kcc.co.uk>"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PACKAGE}_{version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="kcc-deb-") as work:
        root = Path(work) / "root"
        stage(bundle, root, version, arch, maintainer)
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(target)], check=True,
                       stdout=subprocess.DEVNULL)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / PACKAGE, help="the one-folder bundle")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes")
    args = parser.parse_args(argv)
    print(build(args.bundle, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
