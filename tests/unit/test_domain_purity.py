"""The functional core stays pure: no AWS, no HTTP, no clock, no environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).parents[2] / "chalicelib" / "domain"
FORBIDDEN_MODULES = {"boto3", "botocore", "requests", "urllib3", "http", "socket", "os", "time", "random", "chalice"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "getenv", "open"}


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda path: path.name)
def test_domain_module_does_no_io(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{module.name} imports {name}"
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert called not in FORBIDDEN_CALLS, f"{module.name}:{node.lineno} calls {called}()"
