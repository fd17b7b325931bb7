"""The layers stay apart: PySide6 only in kcc_desktop/ui/ and the app bootstrap, SQL never in ui/ (the
screens read through the Qt-free kcc_desktop/views/), and no import cycles."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kcc_desktop"
ALLOWED = {PACKAGE / "app.py"}


def _imports(path: Path, package: str) -> bool:
    """Whether the module imports ``package`` (or a module of it) anywhere, in functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        if any(n == package or n.startswith(package + ".") for n in names):
            return True
    return False


def _imports_qt(path: Path) -> bool:
    return _imports(path, "PySide6")


def test_the_import_finder_sees_imports_in_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sqlalchemy.orm import Session\n", encoding="utf-8")
    assert _imports(module, "sqlalchemy") and not _imports(module, "PySide6")


def test_pyside6_is_imported_only_in_ui_and_the_bootstrap():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if (PACKAGE / "ui") not in p.parents and p not in ALLOWED and _imports_qt(p)]
    assert offenders == []


def test_the_views_are_qt_free():
    # The ban above covers kcc_desktop/views/; this says so, and fails if the package moves out of reach.
    views = sorted((PACKAGE / "views").glob("*.py"))
    assert len(views) > 5
    assert [p.name for p in views if _imports_qt(p)] == []


def test_sqlalchemy_is_not_imported_in_ui():
    """The screens read through kcc_desktop/views/: no query, session or ORM object in ui/."""
    screens = sorted((PACKAGE / "ui").rglob("*.py"))
    assert len(screens) > 10
    assert [p.name for p in screens if _imports(p, "sqlalchemy")] == []


def test_ui_opens_no_sessions():
    """``store.session()`` / ``store.transaction()`` belong in views/ and the services, not in the window."""
    offenders = [f"{path.name}:{node.lineno}" for path in sorted((PACKAGE / "ui").rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr in ("session", "transaction")]
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


# --- the import graph -------------------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in it (in functions too: hiding one there still
    makes a cycle at run time), resolved to the deepest module that exists."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _import_graph() -> dict[str, set[str]]:
    paths = list(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imported(p, modules) for p in paths}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_package():
    graph = _import_graph()
    assert len(graph) > 50 and graph["kcc_desktop.sync.export.service"]   # the graph really was read
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not name.startswith(d + ".")}
    assert _cycles(graph) == []
