"""What `rules validate` warns about in a valid rules file: types that arrive and earn nothing
without saying so, and rules that nothing can reach. Warnings, not errors: the file still works."""

from __future__ import annotations

from collections.abc import Iterable

from .rules import Rules


def rules_warnings(rules: Rules, emitted: Iterable[str] = ()) -> list[str]:
    """`emitted`: canonical types the sources produce themselves (rules/vocabulary.py)."""
    engagement = rules.engagement
    scored = {rule.event for rule in engagement.rules}
    recorded = set(engagement.recorded_only)
    reachable = reachable_types(rules, emitted)
    warnings = [
        f"engagement.event_types.{canonical}: no rule scores it; add a rule, or list it under "
        "engagement.recorded_only if it is kept without points on purpose"
        for canonical in engagement.event_types
        if canonical not in scored and canonical not in recorded
    ]
    warnings += [
        f"engagement.rules[{rule.name}]: nothing maps to event type {rule.event!r}; "
        f"list the tracking names that mean it under engagement.event_types.{rule.event}"
        for rule in engagement.rules
        if rule.event not in reachable
    ]
    return warnings


def reachable_types(rules: Rules, emitted: Iterable[str] = ()) -> set[str]:
    """The canonical event types live traffic can bring under these rules: the ones tracking names
    map to, the ones the sources emit themselves, the CRM activity's."""
    engagement = rules.engagement
    reachable = {canonical for canonical, names in engagement.event_types.items() if names}
    reachable |= {kind.casefold() for kind in emitted}
    reachable |= {event.casefold() for _, event in rules.crm_activity.event_references()}
    reachable |= {engagement.page_categories.event.casefold(), engagement.sent_event.casefold()}
    return reachable
