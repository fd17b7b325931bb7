"""The GitHub workflow builds the three installers on their own systems for every version tag, keeps each,
and attaches them to the release."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def workflow() -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))          # YAML 1.1 reads the key `on` as true
    return data


def test_every_version_tag_builds_an_installer_on_each_system():
    wf = workflow()
    assert wf["on"]["push"]["tags"] == ["v*"]
    job = wf["jobs"]["installer"]
    built = {entry["os"].split("-")[0]: entry["installer"] for entry in job["strategy"]["matrix"]["include"]}
    assert built == {"ubuntu": "dist/*.deb", "macos": "dist/*.dmg", "windows": "dist/*-setup.exe"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert "python dev.py test -q" in runs and "python dev.py installer" in runs
    assert any("packaging/linux/check_install.py" in r for r in runs)      # the .deb proven on Linux too
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["with"]["path"] == "${{ matrix.installer }}" and upload["with"]["if-no-files-found"] == "error"


def test_a_tag_attaches_all_the_installers_to_its_release():
    release = workflow()["jobs"]["release"]
    assert release["needs"] == "installer" and release["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert release["permissions"] == {"contents": "write"}
    assert any("gh release create" in step.get("run", "") for step in release["steps"])
