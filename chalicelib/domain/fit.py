"""Fit: who the lead is. Each rule asks one question of the profile; its first matching option scores."""

from __future__ import annotations

from dataclasses import dataclass

from .compiled_rules import CompiledRules, FitRuleSpec
from .profile import Profile
from .scorecard import Contribution


@dataclass(frozen=True)
class FitResult:
    points: int
    contributions: list[Contribution]
    disqualified_by: str | None
    persona: str | None = None  # the best-matching persona, when the rules define personas


def evaluate_fit(profile: Profile, compiled: CompiledRules) -> FitResult:
    """The shared fit rules, plus those of the persona that gives the most points (the first of
    them on a tie, in the file's order)."""
    shared = answer_fit(profile, compiled.fit_rules)
    if not compiled.personas:
        return shared
    best: FitResult | None = None
    for name, rules in compiled.personas:
        found = answer_fit(profile, rules)
        if best is None or found.points > best.points:
            best = FitResult(found.points, found.contributions, found.disqualified_by, name)
    assert best is not None
    return FitResult(
        shared.points + best.points,
        shared.contributions + best.contributions,
        shared.disqualified_by or best.disqualified_by,
        best.persona,
    )


def answer_fit(profile: Profile, rules: list[FitRuleSpec]) -> FitResult:
    points = 0
    contributions: list[Contribution] = []
    disqualified_by: str | None = None
    for rule in rules:
        for option in rule.options:
            if any(test(profile.attribute(attribute)) for attribute, test in option.tests):
                points += option.points
                contributions.append(
                    Contribution.model_construct(
                        kind="fit",
                        rule=rule.name,
                        label=option.label,
                        count=1,
                        points_now=option.points,
                        points_full=option.points,
                        capped=False,
                        event_ids=[],
                    )
                )
                if rule.disqualify and disqualified_by is None:
                    disqualified_by = rule.name
                break
    return FitResult(points, contributions, disqualified_by)
