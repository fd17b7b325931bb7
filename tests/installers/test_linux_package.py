"""The .deb as dpkg sees it, built from a stand-in bundle (the real one is built, installed, smoke-tested
and removed by .ci/run): its fields, where each file lands, the desktop entry."""

from __future__ import annotations

import configparser
import importlib.util
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from kcc_desktop import APP_ID, APP_NAME, __version__

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "packaging" / "linux" / f"{APP_ID}.desktop"
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed here")


def load_builder():
    spec = importlib.util.spec_from_file_location("build_deb", ROOT / "packaging" / "linux" / "build_deb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed here")
    bundle = tmp_path_factory.mktemp("bundle") / "kcc-desktop"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "kcc-desktop").write_text("#!/bin/sh\necho stand-in\n")
    (bundle / "kcc-desktop").chmod(0o700)                  # whatever the build machine's umask made of it
    (bundle / "_internal" / "base_library.zip").write_bytes(b"x" * 5000)
    # A library's version needs, as an ELF file names them: the package must ask for the newest C library.
    (bundle / "_internal" / "libstand-in.so").write_bytes(b"\x7fELF" + b"\0" * 60 + b"GLIBC_2.2.5\0GLIBC_2.34\0")
    return load_builder().build(bundle, tmp_path_factory.mktemp("out"), arch="amd64")


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


@needs_dpkg
def test_the_package_is_named_and_versioned_from_the_app(deb):
    assert deb.name == f"kcc-desktop_{__version__}_amd64.deb"
    fields = dict(line.split(": ", 1) for line in dpkg_deb("-f", str(deb)).splitlines() if ": " in line)
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == ("kcc-desktop", __version__, "amd64")
    assert fields["Maintainer"].endswith(">") and int(fields["Installed-Size"]) >= 5
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends[0] == "libc6 (>= 2.34)"
    assert {"libegl1", "libxcb-cursor0", "libxkbcommon-x11-0"} <= set(depends)   # Qt's xcb platform plugin


@needs_dpkg
def test_files_land_in_opt_with_a_command_a_menu_entry_and_an_icon(deb):
    listing = {}
    for line in dpkg_deb("-c", str(deb)).splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        listing[path.split(" -> ")[0]] = (mode, owner, path)
    assert listing["./opt/kcc-desktop/kcc-desktop"][:2] == ("-rwxr-xr-x", "root/root")
    assert listing["./opt/kcc-desktop/_internal/base_library.zip"][:2] == ("-rw-r--r--", "root/root")
    assert listing["./usr/bin/kcc-desktop"][2].endswith("-> /opt/kcc-desktop/kcc-desktop")
    assert f"./usr/share/applications/{APP_ID}.desktop" in listing
    assert f"./usr/share/icons/hicolor/256x256/apps/{APP_ID}.png" in listing
    assert f"./usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg" in listing
    # No maintainer scripts: nothing runs at install or removal, so nothing can touch a user's folders.
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(control)) as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == ["./control"]


def test_the_desktop_entry_opens_the_app_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP, encoding="utf-8")
    e = entry["Desktop Entry"]
    assert (e["Type"], e["Name"], e["Exec"], e["Icon"], e["Terminal"]) == (
        "Application", APP_NAME, "kcc-desktop", APP_ID, "false")
    assert "Office" in e["Categories"].split(";") and e["Categories"].endswith(";")
    # The window names this file (QGuiApplication.desktopFileName), so docks group the window with it.
    assert "setDesktopFileName(APP_ID)" in (ROOT / "kcc_desktop" / "app.py").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_the_desktop_entry_passes_the_freedesktop_validator():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "")
