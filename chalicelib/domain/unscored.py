"""Which arriving events earn nothing, and why: the report that tells a team which of the event
names it sends the rules do not score (GET /reports/unscored).

An event earns nothing when
- `unmapped_name`: its name is no key or name of `engagement.event_types`;
- `no_rule`: its type has no rule, and the rules do not say it is kept on purpose;
- `recorded_only`: its type is listed under `engagement.recorded_only` (kept without points on purpose);
- `no_rule_matched`: its type has rules but none whose conditions its properties meet (a page view
  of a page no category names);
- `filtered:<filter>`: a traffic filter ignored it (crawler, honeypot, too_fast);
- `missing_identity:<kind>`: it names nobody (a form without an email field): acknowledged, stored
  nowhere.

What is decided here needs only the event and the rules, so it costs no request. Only the speed
limit depends on the lead's other events: the fold that applies it reports `too_fast`. An event
whose rules' caps are already reached is not "unscored": its rule counted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .events import LeadEvent, iso_z
from .profile import PROFILE_EVENT
from .recycle import RECYCLE_EVENT

if TYPE_CHECKING:
    from .rules import Rules

NOT_BEHAVIOUR = frozenset({PROFILE_EVENT, "alias", RECYCLE_EVENT})  # who the lead is, not what it did: never scored
MAX_NAME = 200  # a sender may invent any name: the report keeps this much of it
REPORT_RETENTION_DAYS = 120  # how long the report's daily counts are kept: the longest window it shows


@dataclass(frozen=True)
class UnscoredKey:
    """One line of the report: events of one name from one source that earned nothing for one reason."""

    source: str
    name: str
    type: str
    reason: str


def unscored_reason(event: LeadEvent, rules: Rules) -> str | None:
    """Why `event` earns nothing whatever else its lead did; None when a rule counts it (or it is
    a profile change or an alias, which are not behaviour)."""
    if event.type in NOT_BEHAVIOUR:
        return None
    # Imported here: storage reads this module's records, and the write-back path never loads the engine.
    from .compiled_rules import compile_rules

    compiled = compile_rules(rules)
    props = event.properties
    if "user_agent" in props or "form_fields" in props:
        why = compiled.filters.reason(props)
        if why is not None:
            return f"filtered:{why}"
    canonical = compiled.canonical_type(event.type)
    if compiled.candidates.get(canonical) is None:
        if canonical in compiled.recorded_only:
            return "recorded_only"
        return "no_rule" if canonical in rules.engagement.event_types else "unmapped_name"
    return None if compiled.matched_specs(event, canonical) else "no_rule_matched"


@dataclass(frozen=True)
class UnscoredCount:
    """What one delivery adds to one report line: one write, however many events it carried."""

    key: UnscoredKey
    count: int
    example_lead: str


def tally(lines: Iterable[tuple[UnscoredKey, str]]) -> list[UnscoredCount]:
    """(line, lead) per event, summed per line; the example is the last lead seen."""
    counts: dict[UnscoredKey, int] = {}
    examples: dict[UnscoredKey, str] = {}
    for key, lead in lines:
        counts[key] = counts.get(key, 0) + 1
        examples[key] = lead
    return [UnscoredCount(key, count, examples[key]) for key, count in counts.items()]


def key_for(event: LeadEvent, canonical: str, reason: str) -> UnscoredKey:
    return UnscoredKey(event.source, event.type[:MAX_NAME], canonical[:MAX_NAME], reason)


def seen_at(now: datetime) -> tuple[str, str]:
    """(UTC day, instant to the second): the bucket a count goes to and its first/last seen."""
    return now.date().isoformat(), iso_z(now.replace(microsecond=0))


def day_buckets(now: datetime, days: int) -> list[str]:
    """The UTC days a window of `days` ending at `now` covers, newest first (ISO dates)."""
    today: date = now.date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days)]


def merge_buckets(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per-day counts of one (source, reason, name) summed over the window: count, first and last
    seen (ISO 8601), the type the rules map the name to, and one example lead (the latest seen).
    The most frequent first."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in items:
        key = (item["source"], item["reason"], item["name"])
        found = merged.get(key)
        if found is None:
            merged[key] = dict(item)
            continue
        found["count"] += item["count"]
        found["first_seen"] = min(found["first_seen"], item["first_seen"])
        if item["last_seen"] > found["last_seen"]:
            found["last_seen"] = item["last_seen"]
            found["example_lead"] = item["example_lead"]
            found["type"] = item["type"]
    return sorted(merged.values(), key=lambda row: (-row["count"], row["source"], row["name"], row["reason"]))
