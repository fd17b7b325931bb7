"""The sandbox plays the accounting package: it depends on nothing else of the app, so the app can only
reach it over HTTP, as it reaches Xero and QuickBooks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kcc_desktop.sandbox

SANDBOX = Path(kcc_desktop.sandbox.__file__).resolve().parent
PACKAGE = "kcc_desktop.sandbox"


def _module(path: Path) -> str:
    parts = path.relative_to(SANDBOX).with_suffix("").parts
    return ".".join([PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts)])


def _app_imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """The kcc_desktop modules ``source`` (the text of ``module``) imports anywhere in it, inside
    functions too, with relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
    return {name for name in found if name == "kcc_desktop" or name.startswith("kcc_desktop.")}


def test_sandbox_modules_import_only_the_sandbox():
    files = sorted(SANDBOX.rglob("*.py"))
    assert len(files) > 25  # the walk really read the package
    outside = {f"{path.relative_to(SANDBOX)} imports {name}" for path in files
               for name in _app_imports(path.read_text(encoding="utf-8"), _module(path), path.name == "__init__.py")
               if name != PACKAGE and not name.startswith(PACKAGE + ".")}
    assert outside == set()


def test_the_import_check_resolves_relative_imports():
    source = "from ..base import exact_json\n\ndef later():\n    from ...ledger import service\n"
    assert _app_imports(source, "kcc_desktop.sandbox.xero.provider") == {"kcc_desktop.sandbox.base",
                                                                         "kcc_desktop.ledger"}
    assert _app_imports("from .provider import XeroProvider\n", "kcc_desktop.sandbox.xero", is_package=True) == {
        "kcc_desktop.sandbox.xero.provider"}


def test_starting_both_sandboxes_loads_no_other_app_module():
    code = ("import sys\n"
            "from kcc_desktop.sandbox.runner import start_sandbox\n"
            "import kcc_desktop.sandbox.testing, kcc_desktop.sandbox.qbo_testing\n"
            "for provider in ('xero', 'quickbooks'):\n"
            "    start_sandbox(provider).stop()\n"
            "print(sorted(m for m in sys.modules if m.startswith('kcc_desktop')\n"
            "             and not m.startswith('kcc_desktop.sandbox')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['kcc_desktop']"
