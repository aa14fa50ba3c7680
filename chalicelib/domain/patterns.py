"""Patterns that run on what senders send (job titles, page paths, user agents): compiled by RE2,
whose matching time is linear in the text whatever the pattern. Python's own `re` backtracks: a
rule such as `^(a+)+$` against a 27-character title takes seconds, doubling with each character.
A pattern RE2 cannot run (a backreference, a lookaround) is refused when the rules are read."""

from __future__ import annotations

from typing import Any

import re2

__all__ = ["PatternError", "compile_pattern"]


class PatternError(ValueError):
    """The pattern is not one RE2 can run."""


def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """A compiled pattern with `search(text)`, as `re`'s, in linear time."""
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # the error is raised, with its reason: nothing for stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{pattern!r} is not a valid regular expression for RE2, the linear-time engine "
                           f"patterns run on: {reason}") from exc  # fmt: skip
