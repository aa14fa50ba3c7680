"""The README's Layout table, generated from the modules' own docstrings (their first sentence),
so the README cannot drift from the code: `python -m scripts.readme_layout` prints it, `--write`
puts it between the README's layout markers; tests/unit/test_readme_layout.py fails when they
differ (a module added, moved or redescribed without the README following)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START = "<!-- layout: generated from the modules' docstrings by scripts/readme_layout.py -->"
END = "<!-- /layout -->"
LISTED = ("app.py", "chalicelib")  # what ships to Lambda: every module of it is listed


def modules() -> list[Path]:
    found = [ROOT / "app.py"]
    found += sorted((ROOT / "chalicelib").rglob("*.py"), key=lambda path: path.relative_to(ROOT).parts)
    return found


def summary(path: Path) -> str:
    """The docstring's first sentence, on one line (no docstring: said, so the test names it)."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not docstring:
        return "(no docstring)"
    paragraph = " ".join(docstring.split("\n\n")[0].split())
    match = re.match(r"(.+?[.?])(\s|$)", paragraph)
    return (match.group(1) if match else paragraph).replace("|", "\\|")


def name_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if path.name == "__init__.py":
        return f"{relative.parent.as_posix()}/"
    return relative.as_posix()


def table() -> str:
    rows = ["| module | what it is |", "|---|---|"]
    rows += [f"| `{name_of(path)}` | {summary(path)} |" for path in modules()]
    return "\n".join(rows)


def in_readme(text: str) -> str:
    start = text.index(START) + len(START)
    return text[start : text.index(END)].strip()


def write() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index(START) + len(START)
    README.write_text(text[:start] + "\n" + table() + "\n" + text[text.index(END) :], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(table())
