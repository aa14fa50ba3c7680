"""How long a stored event matters: after that its points are 0 under every rule, so it may expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from .compiled_rules import compile_rules
from .events import LeadEvent
from .profile import PROFILE_EVENT
from .rules import Rules


def expires_at(event: LeadEvent, rules: Rules) -> datetime | None:
    """None: keep for ever (profile changes, events of non-decaying or negative rules).

    Otherwise the event's time plus the longest lifetime of the rules it matches (or of any
    schedule when none match today, so a rule added later still finds recent events), plus a
    margin so that rules edited to decay more slowly still see them.
    """
    compiled = compile_rules(rules)
    canonical = compiled.canonical_type(event.type)
    if canonical == PROFILE_EVENT:
        return None
    retention = compiled.retention_us(compiled.matched_specs(event, canonical))
    return None if retention is None else event.occurred_at + timedelta(microseconds=retention)
