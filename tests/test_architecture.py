"""The core stays Qt-free: PySide6 only in kcc_desktop/ui/ and the app bootstrap."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kcc_desktop"
ALLOWED = {PACKAGE / "app.py"}


def _imports_qt(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == "PySide6" or n.startswith("PySide6.") for n in names):
            return True
    return False


def test_pyside6_is_imported_only_in_ui_and_the_bootstrap():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if (PACKAGE / "ui") not in p.parents and p not in ALLOWED and _imports_qt(p)]
    assert offenders == []


def test_headless_commands_do_not_load_qt():
    code = ("import sys, kcc_desktop.cli as c; c.build_parser(); "
            "import kcc_desktop.ledger.service, kcc_desktop.store; print('PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_version_flag(capsys):
    import pytest

    from kcc_desktop import __version__
    from kcc_desktop.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
