#!/usr/bin/env python3
"""Builds the macOS disk image ``dist/KCC-Desktop-<version>.dmg``: the app and a link to Applications, to
drag it onto. Signing and notarisation come from the environment, as for the app itself (build.spec):

- ``KCC_CODESIGN_IDENTITY``: the "Developer ID Application: ..." identity; build.spec signs the app with it
  (hardened runtime), this script checks that signature and signs the image.
- notarisation, either ``KCC_NOTARY_PROFILE`` (a profile saved with ``xcrun notarytool store-credentials``)
  or ``KCC_NOTARY_APPLE_ID``, ``KCC_NOTARY_TEAM_ID`` and ``KCC_NOTARY_PASSWORD`` (an app-specific password).
  The image is submitted, waited for, and the ticket stapled to it.

Without them the image is unsigned (fine for testing; Gatekeeper will warn). Stdlib only; runs on macOS.

    python3 packaging/macos/build_dmg.py [--app "dist/KCC Desktop.app"] [--out dist]
"""

from __future__ import annotations

import argparse
import os
import plistlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def app_info(app: Path) -> tuple[str, str]:
    """The app's name and version, as its Info.plist (written by build.spec from the package) has them."""
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    return str(info["CFBundleName"]), str(info["CFBundleShortVersionString"])


def notary_args(env: Mapping[str, str]) -> list[str]:
    """notarytool's credentials from the environment, or [] when notarisation is not asked for."""
    if env.get("KCC_NOTARY_PROFILE"):
        return ["--keychain-profile", env["KCC_NOTARY_PROFILE"]]
    names = ("KCC_NOTARY_APPLE_ID", "KCC_NOTARY_TEAM_ID", "KCC_NOTARY_PASSWORD")
    given = [n for n in names if env.get(n)]
    if not given:
        return []
    if len(given) != len(names):
        raise SystemExit(f"Notarisation needs all of {', '.join(names)} (or KCC_NOTARY_PROFILE); "
                         f"only {', '.join(given)} set.")
    return ["--apple-id", env[names[0]], "--team-id", env[names[1]], "--password", env[names[2]]]


def plan(app: Path, staging: Path, dmg: Path, volume: str, env: Mapping[str, str]) -> list[list[str]]:
    """The commands that make the image, in order (staging already holds the Applications link)."""
    identity = env.get("KCC_CODESIGN_IDENTITY", "")
    notary = notary_args(env)
    if notary and not identity:
        raise SystemExit("Notarisation needs a signed app: set KCC_CODESIGN_IDENTITY too.")
    commands = []
    if identity:
        commands.append(["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)])
    commands += [
        ["ditto", str(app), str(staging / app.name)],      # keeps the signature, symlinks and attributes
        ["hdiutil", "create", "-volname", volume, "-srcfolder", str(staging), "-fs", "HFS+", "-format", "UDZO",
         "-ov", str(dmg)],
    ]
    if identity:
        commands.append(["codesign", "--force", "--sign", identity, "--timestamp", str(dmg)])
    if notary:
        commands += [["xcrun", "notarytool", "submit", str(dmg), *notary, "--wait"],
                     ["xcrun", "stapler", "staple", str(dmg)]]
    return commands


def build(app: Path, out: Path, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if not (app / "Contents" / "Info.plist").is_file():
        raise SystemExit(f"{app} is not an app bundle: build it first (python3 dev.py bundle).")
    name, version = app_info(app)
    out.mkdir(parents=True, exist_ok=True)
    dmg = out / f"{name.replace(' ', '-')}-{version}.dmg"
    with tempfile.TemporaryDirectory(prefix="kcc-dmg-") as work:
        staging = Path(work) / "image"
        staging.mkdir()
        os.symlink("/Applications", staging / "Applications")
        for command in plan(app, staging, dmg, f"{name} {version}", env):
            shown = ["***" if i and command[i - 1] == "--password" else a for i, a in enumerate(command)]
            print("+", " ".join(shown), flush=True)
            subprocess.run(command, check=True)
    return dmg


def main(argv: list[str] | None = None) -> int:
    if shutil.which("hdiutil") is None:
        raise SystemExit("A .dmg is built on macOS (it needs hdiutil).")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "KCC Desktop.app")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    print(build(args.app, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
