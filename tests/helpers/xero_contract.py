"""Contract checking against Xero's OpenAPI spec (shared by conftest and the contract test).

The spec is vendored in tests/contract/. Without it the checks cannot run, and they never vanish
silently: a contract test skips naming where the spec is expected (under CI, ``CI=true``, it fails).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import pytest

SPEC_DIR = Path(__file__).resolve().parents[1] / "contract"
SPEC_PATH = SPEC_DIR / "xero_accounting.yaml"
IDENTITY_SPEC_PATH = SPEC_DIR / "xero-identity.yaml"
API = "/api.xro/2.0/"


class ContractCheckOff(UserWarning):
    """A test's answers went unchecked because the spec is missing (outside CI only)."""


def missing_spec(paths: tuple[Path, ...] = (SPEC_PATH, IDENTITY_SPEC_PATH)) -> str | None:
    """Why the contract checks cannot run, naming the files expected, or None when they can."""
    absent = [str(p) for p in paths if not p.is_file()]
    if not absent:
        return None
    return f"Xero OpenAPI spec not found: expected {' and '.join(absent)} (see tests/contract/README.md)"


def on_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_spec(paths: tuple[Path, ...] = (SPEC_PATH, IDENTITY_SPEC_PATH),
                 environ: Mapping[str, str] = os.environ) -> None:
    """For a test that is a contract check: skip it when the spec is missing, or fail it under CI."""
    problem = missing_spec(paths)
    if problem is None:
        return
    if on_ci(environ):
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


def contract_checks_on() -> bool:
    """For a test that also checks its answers: whether it can. Under CI a missing spec fails the test;
    elsewhere the test runs unchecked and a ContractCheckOff warning says where the spec is expected."""
    problem = missing_spec()
    if problem is None:
        return True
    if on_ci():
        pytest.fail(problem, pytrace=False)
    warnings.warn(ContractCheckOff(f"answers not checked against Xero's schemas: {problem}"), stacklevel=2)
    return False

# URL segment -> component schema of a 200 body; Allocations sub-resources answer with "Allocations".
SCHEMAS = {"Invoices": "Invoices", "Payments": "Payments", "Contacts": "Contacts", "Items": "Items",
           "Accounts": "Accounts", "TaxRates": "TaxRates", "CreditNotes": "CreditNotes",
           "Organisation": "Organisations", "Overpayments": "Overpayments", "BankTransactions": "BankTransactions",
           "Prepayments": "Prepayments", "Currencies": "Currencies"}

_validators: dict[str, object] = {}


def spec_validator(schema_name: str):
    """A jsonschema validator for one component schema, $refs resolved within the spec."""
    require_spec()
    if not _validators:
        import yaml
        from jsonschema import Draft7Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with SPEC_PATH.open(encoding="utf-8") as fh:
            spec = yaml.load(fh, Loader=loader)
        registry = Registry().with_resource("urn:xero-accounting", Resource.from_contents(spec, DRAFT7))
        _validators["registry"] = registry
        _validators["cls"] = Draft7Validator
    if schema_name == "identity:Connection[]" and schema_name not in _validators:
        import yaml

        with IDENTITY_SPEC_PATH.open(encoding="utf-8") as fh:
            identity = yaml.safe_load(fh)
        schema = {"type": "array", "items": identity["components"]["schemas"]["Connection"]}
        _validators[schema_name] = _validators["cls"](schema)
    if schema_name not in _validators:
        cls = _validators["cls"]
        _validators[schema_name] = cls({"$ref": f"urn:xero-accounting#/components/schemas/{schema_name}"},
                                       registry=_validators["registry"])
    return _validators[schema_name]


def schema_for(path: str, status: int) -> str | None:
    if path.lower() == "/connections" and status == 200:
        return "identity:Connection[]"
    if not path.startswith(API):
        return None
    if status == 400:
        return "Error"
    if status != 200:
        return None
    parts = path[len(API):].strip("/").split("/")
    if len(parts) == 3 and parts[2] == "Allocations":
        return "Allocations"
    return SCHEMAS.get(parts[0])


def contract_violations(seen: list[tuple[str, int, bytes]]) -> list[str]:
    problems = []
    for path, status, body in seen:
        name = schema_for(path, status)
        if not name or not body:
            continue
        try:
            doc = json.loads(body)
        except ValueError:
            problems.append(f"{path} {status}: body is not JSON")
            continue
        for err in spec_validator(name).iter_errors(doc):
            where = "/".join(map(str, err.absolute_path))
            problems.append(f"{path} {status} [{name}] at {where}: {err.message[:200]}")
    return problems


class Seen(list):
    """(path, status, body) of every answer; ``check()`` asserts they all match the spec."""

    def check(self) -> int:
        problems = contract_violations(self)
        assert not problems, "responses off the Xero contract:\n" + "\n".join(problems[:20])
        return sum(1 for p, s, _ in self if schema_for(p, s))
