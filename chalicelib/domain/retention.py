"""How long a stored event matters: after that its points are 0 under every rule, so it may expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from .compiled_rules import compile_rules, matches_all
from .decay import DecaySchedule
from .events import LeadEvent
from .profile import PROFILE_EVENT
from .rules import Rules

RETENTION_MARGIN = timedelta(days=30)
# A half-life never reaches zero; after ten half-lives less than 0.1% of the value is left.
HALF_LIVES_KEPT = 10


def expires_at(event: LeadEvent, rules: Rules) -> datetime | None:
    """None: keep for ever (profile changes, events of non-decaying or negative rules).

    Otherwise the event's time plus the longest horizon of the rules its type can match (or of
    any schedule when none match today, so a rule added later still finds recent events), plus a
    margin so that rules edited to decay more slowly still see them.
    """
    compiled = compile_rules(rules)
    canonical = compiled.canonical_type(event.type)
    if canonical == PROFILE_EVENT:
        return None
    index = compiled.candidates.get(canonical)
    schedules = []
    if index is not None:
        props = compiled.properties_of(event, canonical)
        for spec, tests in index.for_properties(props):
            if tests and not matches_all(tests, props):
                continue
            rule = rules.engagement.rules[spec.index]
            if spec.negative or rule.decay is None:
                return None
            schedules.append(rules.decay[rule.decay])
    if not schedules:
        schedules = list(rules.decay.values())
    if not schedules:
        return None
    return event.occurred_at + max(_horizon(schedule) for schedule in schedules) + RETENTION_MARGIN


def _horizon(schedule: DecaySchedule) -> timedelta:
    if schedule.steps is not None:
        return timedelta(days=schedule.steps[-1].until_days if schedule.after == 0 else 36_500)
    assert schedule.half_life_days is not None
    days = schedule.half_life_days * HALF_LIVES_KEPT
    if schedule.zero_after_days is not None:
        days = min(days, schedule.zero_after_days)
    return timedelta(days=days)
