"""Where the rules come from: a rules file (`SCORING_RULES`) if set, else the bundled rules
(default.yaml). Parsed once per container, and again only if the file changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from chalicelib.domain.rules import Rules
from chalicelib.domain.rules_yaml import parse_rules

DEFAULT_RULES_PATH = Path(__file__).with_name("default.yaml")


def load_rules_file(path: str | os.PathLike[str]) -> Rules:
    file = Path(path)
    return parse_rules(file.read_text(encoding="utf-8"), source=str(file))


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> Rules:
    return load_rules_file(path)


def rules_loader(path: str | os.PathLike[str] | None = None) -> Callable[[], Rules]:
    """The rules in force at each call: `path`'s file (default: the bundled rules), re-read on change."""
    file = str(path or DEFAULT_RULES_PATH)

    def current() -> Rules:
        return _cached(file, Path(file).stat().st_mtime_ns)

    return current


def active_rules() -> Rules:
    """The rules `SCORING_RULES` names (the bundled rules when unset), for the CLI and backtests."""
    return rules_loader(os.environ.get("SCORING_RULES") or None)()
