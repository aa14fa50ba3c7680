"""Where the rules come from: `SCORING_RULES` if set, else the bundled seed model (default.yaml)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from chalicelib.domain import Rules, parse_rules

DEFAULT_RULES_PATH = Path(__file__).with_name("default.yaml")


def load_rules_file(path: str | os.PathLike[str]) -> Rules:
    file = Path(path)
    return parse_rules(file.read_text(encoding="utf-8"), source=str(file))


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> Rules:
    return load_rules_file(path)


def active_rules() -> Rules:
    """The rules in force, parsed once per Lambda container (and again only if the file changes)."""
    path = os.environ.get("SCORING_RULES") or str(DEFAULT_RULES_PATH)
    return _cached(path, Path(path).stat().st_mtime_ns)
