"""Fit: who the lead is. Each rule asks one question of the profile; its first matching option scores."""

from __future__ import annotations

from dataclasses import dataclass

from .compiled_rules import CompiledRules
from .profile import Profile
from .scorecard import Contribution


@dataclass(frozen=True)
class FitResult:
    points: int
    contributions: list[Contribution]
    disqualified_by: str | None


def evaluate_fit(profile: Profile, compiled: CompiledRules) -> FitResult:
    points = 0
    contributions: list[Contribution] = []
    disqualified_by: str | None = None
    for rule in compiled.fit_rules:
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
