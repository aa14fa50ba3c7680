"""Where the rules come from: a rules file (`SCORING_RULES`) if set, else the bundled rules
(default.yaml). Parsed once per container, and again only if the file changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from chalicelib.domain.rules import Rules
from chalicelib.domain.rules_diagnosis import RulesError
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.errors import RulesUnavailable

DEFAULT_RULES_PATH = Path(__file__).with_name("default.yaml")


def load_rules_file(path: str | os.PathLike[str]) -> Rules:
    file = Path(path)
    return parse_rules(file.read_text(encoding="utf-8"), source=str(file))


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> Rules:
    return load_rules_file(path)


def rules_loader(path: str | os.PathLike[str] | None = None) -> Callable[[], Rules]:
    """The rules in force at each call: `path`'s file (default: the bundled rules), re-read on
    change. A file that cannot be read or is invalid raises RulesUnavailable (a 503, never a 500)."""
    file = str(path or DEFAULT_RULES_PATH)

    def current() -> Rules:
        try:
            return _cached(file, Path(file).stat().st_mtime_ns)
        except (OSError, ValueError) as exc:  # ValueError: RulesError, with the line and the problem
            raise RulesUnavailable(rules_problem(file, exc)) from exc

    return current


def rules_problem(file: str, exc: Exception) -> str:
    """One line: the file, the line and the problem (and how many more there are)."""
    if isinstance(exc, RulesError) and exc.issues:
        more = f" (and {len(exc.issues) - 1} more)" if len(exc.issues) > 1 else ""
        return f"{file}: {exc.issues[0]}{more}"
    if isinstance(exc, OSError):
        return f"{file}: {exc.strerror or type(exc).__name__}"
    return f"{file}: {exc}"


def check_rules_file(path: str | os.PathLike[str] | None) -> str | None:
    """None when the rules `path` names (default: the bundled ones) load; else the one-line problem."""
    try:
        rules_loader(path)()
    except RulesUnavailable as exc:
        return str(exc)
    return None


def active_rules() -> Rules:
    """The rules `SCORING_RULES` names (the bundled rules when unset), for the CLI and backtests."""
    return rules_loader(os.environ.get("SCORING_RULES") or None)()
