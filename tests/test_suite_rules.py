"""Rules for the tests themselves (issue 20), checked on their source so that a new test cannot slip back:

- an ``all(...)`` over a collection in an assert also proves the collection is not empty (``all`` of
  nothing is True, so an empty result would pass);
- no ``importorskip`` of the project's own modules (a broken import must fail, not skip);
- tests that send SIGKILL or SIGTERM are marked ``posix_signals`` (skipped on Windows);
- no clocks or sleeps in tests: no ``time.sleep``, ``perf_counter``, ``monotonic`` or elapsed-time
  bounds (timings live in benchmarks/; waits are on signals and conditions).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Helpers that run a real server or a child process may wait on a wall clock (a deadline for a condition,
# never an assertion about how long something took).
CLOCK_ALLOWED = {"helpers/waiting.py"}


def _sources():
    for path in sorted(TESTS.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        yield path.relative_to(TESTS).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def _iterated(call: ast.Call) -> ast.expr | None:
    """The collection an ``all(x for x in C)`` runs over (C), or None for ``all(C)`` of a plain name."""
    if not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.GeneratorExp | ast.ListComp):
        return arg.generators[0].iter
    return arg


def _proves_not_empty(operands: list[ast.expr], collection: ast.expr) -> bool:
    if isinstance(collection, ast.Tuple | ast.List | ast.Set) and collection.elts:
        return True                   # a literal with elements
    if (isinstance(collection, ast.Call) and isinstance(collection.func, ast.Attribute)
            and collection.func.attr in ("values", "items", "keys") and not collection.args):
        collection = collection.func.value   # `D and all(... in D.values())`
    wanted = ast.dump(collection)
    for op in operands:
        dumped = ast.dump(op)
        if wanted in dumped:          # `C and all(...)`, `len(C) == 3 and all(...)`, `[...] == C and ...`
            return True
    return False


def vacuous_alls() -> list[str]:
    found = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assert):
                continue
            test = node.test
            operands = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
            for i, op in enumerate(operands):
                if not (isinstance(op, ast.Call) and isinstance(op.func, ast.Name) and op.func.id == "all"):
                    continue
                collection = _iterated(op)
                if collection is None or not _proves_not_empty(operands[:i], collection):
                    found.append(f"{name}:{node.lineno}")
    return found


def test_no_assert_all_can_pass_on_an_empty_collection():
    assert vacuous_alls() == []


def test_the_projects_own_modules_are_never_import_skipped():
    found = [f"{name}:{node.lineno}" for name, tree in _sources() for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "importorskip" and node.args and isinstance(node.args[0], ast.Constant)
             and str(node.args[0].value).startswith("kcc_desktop")]
    assert found == []


def test_no_clock_or_sleep_in_tests():
    found = []
    for name, tree in _sources():
        if name in CLOCK_ALLOWED:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("sleep", "perf_counter", "monotonic") and \
                    isinstance(node.value, ast.Name) and node.value.id == "time":
                found.append(f"{name}:{node.lineno} time.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "time":
                found += [f"{name}:{node.lineno} from time import {a.name}" for a in node.names
                          if a.name in ("sleep", "perf_counter", "monotonic")]
    assert found == []


def test_tests_that_send_posix_signals_are_marked_for_windows():
    """SIGKILL and SIGTERM do not exist on Windows: such a test carries ``@pytest.mark.posix_signals``
    (tests/conftest.py skips it there, saying why), so the Windows job runs everything else."""
    unmarked = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            sends = any(isinstance(n, ast.Attribute) and n.attr in ("SIGKILL", "SIGTERM") for n in ast.walk(node))
            marked = any("posix_signals" in ast.dump(d) for d in node.decorator_list)
            if sends and not marked:
                unmarked.append(f"{name}:{node.lineno} {node.name}")
    assert unmarked == []
