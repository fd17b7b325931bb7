"""The Windows and macOS installers are built on their own runners (.github/workflows/build.yml); here,
what they are made from is checked: the Inno Setup script against what the app and the bundle are, and the
.dmg script's commands for each signing and notarisation setting."""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path

import pytest

from kcc_desktop import APP_ID, APP_NAME

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "packaging" / "windows" / "kcc-desktop.iss"


def inno_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in ISS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = line[1:-1]
            sections[current] = []
        else:
            sections.setdefault(current, []).append(line)
    return sections


def inno_defines(sections) -> dict[str, str]:
    return dict(re.findall(r'#define (\w+) "([^"]*)"', "\n".join(sections[""])))


def setup(sections) -> dict[str, str]:
    return dict(line.split("=", 1) for line in sections["Setup"])


def test_the_windows_installer_is_per_user_with_version_and_publisher():
    sections = inno_sections()
    defines, s = inno_defines(sections), setup(sections)
    assert defines["AppName"] == APP_NAME and defines["AppPublisher"]
    assert s["PrivilegesRequired"] == "lowest"                   # no administrator rights needed
    assert s["PrivilegesRequiredOverridesAllowed"] == "dialog"   # all users, when someone wants that
    assert s["DefaultDirName"] == r"{autopf}\{#AppName}"          # %LOCALAPPDATA%\Programs when per user
    assert (s["AppVersion"], s["AppPublisher"], s["VersionInfoVersion"]) == (
        "{#AppVersion}", "{#AppPublisher}", "{#AppVersion}")
    assert s["AppId"] == "{{" + str(uuid.uuid5(uuid.NAMESPACE_DNS, APP_ID)).upper() + "}"
    assert (ISS.parent / s["SetupIconFile"].replace("\\", "/")).is_file()


def test_the_windows_installer_packs_the_bundle_and_adds_a_start_menu_entry():
    sections = inno_sections()
    defines = inno_defines(sections)
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    name = re.search(r'^NAME = "([^"]+)"', spec, re.M).group(1)
    assert defines["AppExeName"] == f"{name}.exe"
    assert defines["BundleDir"].replace("\\", "/") == f"../../dist/{name}"       # what `dev.py bundle` makes
    assert any(line.startswith(r'Source: "{#BundleDir}\*"') and "recursesubdirs" in line for line in sections["Files"])
    assert any(line.startswith(r'Name: "{autoprograms}\{#AppName}"') for line in sections["Icons"])


def test_uninstalling_on_windows_unregisters_the_schedule_and_keeps_the_data_folder():
    from kcc_desktop.cli import build_parser

    sections = inno_sections()
    assert "UninstallDelete" not in sections and "InstallDelete" not in sections
    assert "KCCDesktop" not in ISS.read_text(encoding="utf-8").split("[Setup]")[1]   # no data-folder path at all
    [run] = sections["UninstallRun"]
    parameters = re.search(r'Parameters: "([^"]+)"', run).group(1)
    args = build_parser().parse_args(parameters.split())
    assert (args.command, args.schedule_action) == ("schedule", "remove")


# --- macOS ----------------------------------------------------------------------------------------------

def load_dmg():
    spec = importlib.util.spec_from_file_location("build_dmg", ROOT / "packaging" / "macos" / "build_dmg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP = Path("/build/dist/KCC Desktop.app")
STAGING, DMG = Path("/tmp/image"), Path("/build/dist/KCC-Desktop-0.1.0.dmg")


def plan(env):
    return load_dmg().plan(APP, STAGING, DMG, "KCC Desktop 0.1.0", env)


def test_an_unsigned_image_holds_the_app_beside_the_applications_link():
    assert plan({}) == [
        ["ditto", str(APP), str(STAGING / "KCC Desktop.app")],
        ["hdiutil", "create", "-volname", "KCC Desktop 0.1.0", "-srcfolder", str(STAGING), "-fs", "HFS+",
         "-format", "UDZO", "-ov", str(DMG)],
    ]


def test_a_signing_identity_checks_the_apps_signature_and_signs_the_image():
    steps = plan({"KCC_CODESIGN_IDENTITY": "Developer ID Application: KCC (TEAM123)"})
    assert steps[0] == ["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(APP)]
    assert steps[-1] == ["codesign", "--force", "--sign", "Developer ID Application: KCC (TEAM123)", "--timestamp",
                         str(DMG)]


@pytest.mark.parametrize(("env", "credentials"), [
    ({"KCC_NOTARY_PROFILE": "kcc-notary"}, ["--keychain-profile", "kcc-notary"]),
    ({"KCC_NOTARY_APPLE_ID": "ci@kcc.example", "KCC_NOTARY_TEAM_ID": "TEAM123", "KCC_NOTARY_PASSWORD": "app-pw"},
     ["--apple-id", "ci@kcc.example", "--team-id", "TEAM123", "--password", "app-pw"]),
])
def test_notarisation_submits_waits_and_staples_after_signing(env, credentials):
    steps = plan({"KCC_CODESIGN_IDENTITY": "Developer ID Application: KCC (TEAM123)", **env})
    assert steps[-3][:2] == ["codesign", "--force"]
    assert steps[-2] == ["xcrun", "notarytool", "submit", str(DMG), *credentials, "--wait"]
    assert steps[-1] == ["xcrun", "stapler", "staple", str(DMG)]


def test_half_configured_notarisation_is_refused_before_anything_is_built():
    with pytest.raises(SystemExit, match="KCC_NOTARY_PASSWORD"):
        plan({"KCC_CODESIGN_IDENTITY": "X", "KCC_NOTARY_APPLE_ID": "a", "KCC_NOTARY_TEAM_ID": "t"})
    with pytest.raises(SystemExit, match="set KCC_CODESIGN_IDENTITY too"):
        plan({"KCC_NOTARY_PROFILE": "kcc-notary"})
