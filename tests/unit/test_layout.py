"""The house rules a reader relies on: the README's Layout is the modules' own docstrings (none
missing), sources/ only parses (no outbound call, no CRM, no storage), and no module grows past
what one sitting reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scripts import readme_layout

ROOT = Path(__file__).parents[2]
SOURCES = ROOT / "chalicelib" / "sources"
# What a parser must not reach: the network, AWS, a CRM adapter, storage, the composition root.
OUTBOUND = ("requests", "urllib3", "http", "socket", "boto3", "botocore", "chalicelib.crm", "chalicelib.storage",
            "chalicelib.task_queue", "chalicelib.bootstrap", "chalicelib.alerts")  # fmt: skip
MODULE_LINES = 450
USE_CASE_LINES = 300


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def test_the_readme_layout_is_the_modules_docstrings() -> None:
    readme = readme_layout.README.read_text(encoding="utf-8")
    assert readme_layout.in_readme(readme) == readme_layout.table(), "run: python -m scripts.readme_layout --write"


def test_every_module_says_what_it_is() -> None:
    missing = [path for path in readme_layout.modules() if readme_layout.summary(path) == "(no docstring)"]
    assert missing == []


@pytest.mark.parametrize("module", sorted(SOURCES.glob("*.py")), ids=lambda path: path.name)
def test_a_parser_makes_no_outbound_call(module: Path) -> None:
    for name in imported(module):
        assert not any(name == banned or name.startswith(banned + ".") for banned in OUTBOUND), (
            f"{module.name} imports {name}"
        )


def test_no_module_is_over_what_one_sitting_reads() -> None:
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in readme_layout.modules()}
    too_long = {path.name: lines for path, lines in sizes.items() if lines > MODULE_LINES}
    assert too_long == {}
    use_cases = {path.name: lines for path, lines in sizes.items()
                 if path.parent.name == "service_layer" and lines > USE_CASE_LINES}  # fmt: skip
    assert use_cases == {}
