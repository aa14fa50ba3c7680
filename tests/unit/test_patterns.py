"""Patterns from the rules file run in linear time (RE2): a catastrophic pattern an attacker's job
title would drive to seconds with Python's `re` is matched as quickly as any other, and a pattern
RE2 cannot run is refused when the rules are read, naming its line. (Timings: `make bench`.)"""

from __future__ import annotations

import pytest

from chalicelib.domain.patterns import PatternError, compile_pattern
from chalicelib.domain.rules_yaml import RulesError, parse_rules
from chalicelib.domain.scoring import card_from_basis
from chalicelib.rules import DEFAULT_RULES_PATH
from tests.helpers import NOW

CATASTROPHIC = "^(a+)+$"
RULE = "        pattern: '\\b(manager|mgr|lead|team lead|supervisor)\\b'"


def rules_with_pattern(pattern: str) -> str:
    text = DEFAULT_RULES_PATH.read_text()
    assert RULE in text
    return text.replace(RULE, f"        pattern: '{pattern}'")


def test_a_catastrophic_pattern_is_an_rE2_pattern_and_matches_as_re_would() -> None:
    compiled = compile_pattern(CATASTROPHIC)
    assert type(compiled).__module__.startswith("re2")  # not Python's backtracking engine
    assert compiled.search("a" * 1_000) is not None
    assert compiled.search("a" * 1_000 + "!") is None
    assert compile_pattern("PRICING", ignore_case=True).search("/pricing") is not None


def test_a_title_of_a_thousand_characters_against_it_is_scored() -> None:
    from chalicelib.domain.folding import full_basis
    from tests.helpers import event

    rules = parse_rules(rules_with_pattern(CATASTROPHIC))
    title = event("profile_updated", profile={"job_title": "a" * 999 + "!"})
    _, basis = full_basis([title], rules, NOW)
    assert card_from_basis(basis, rules, NOW).fit >= 0


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=lookahead)x", "(?<!behind)y"])
def test_a_pattern_rE2_cannot_run_is_refused_naming_its_line(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)
    text = rules_with_pattern(pattern)
    with pytest.raises(RulesError) as refused:
        parse_rules(text)
    line = text[: text.index(pattern)].count("\n") + 1
    assert any(issue.line == line and "RE2" in issue.message for issue in refused.value.issues), refused.value
