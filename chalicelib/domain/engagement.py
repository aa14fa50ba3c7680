"""Engagement: what the lead did. Turns events into earnings (value at full strength plus decay clock).

Everything here is independent of `now` except `RuleTally.total_at`: which events earn, their
"then +N" position, multipliers and the instant their decay starts are fixed facts of the event
history. That split is what lets `next_change` sweep future decay steps without rescoring.

Values are summed as integer micro-points, so any order of events gives the same total to the
last digit and rounding half up is exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from .compiled_rules import CompiledRules, EngagementRuleSpec, SentEmail
from .events import LeadEvent, to_us

MICRO = 1_000_000


def micro(value: float) -> int:
    return math.floor(value * MICRO + 0.5)


class RuleTally:
    """One rule's matched events and what each earns; `bases[i]` decays from `anchors[i]` (µs)."""

    __slots__ = ("spec", "count", "event_ids", "bases", "anchors", "_days")

    def __init__(self, spec: EngagementRuleSpec) -> None:
        self.spec = spec
        self.count = 0
        self.event_ids: list[str] = []
        self.bases: list[float] = []
        self.anchors: list[int] = []
        self._days: dict[date, str] | None = {} if spec.distinct_days else None

    def earn(self, base: float, anchor_us: int) -> None:
        self.bases.append(base)
        self.anchors.append(anchor_us)

    def total_at(self, now_us: int) -> int:
        """Unclipped micro-points at `now_us`; an event stamped after `now` counts as brand new."""
        keep = self.spec.decay.keep
        total = 0
        for base, anchor in zip(self.bases, self.anchors):
            age = now_us - anchor
            total += micro(base * keep(age if age > 0 else 0))
        return total

    def full_total(self) -> int:
        return sum(micro(base) for base in self.bases)

    def count_day(self, event: LeadEvent, anchor_us: int) -> None:
        """Distinct-days rules earn once, at the event that completes the required number of days."""
        days = self._days
        assert days is not None and self.spec.distinct_days is not None
        if self.bases or event.occurred_at.date() in days:
            return
        days[event.occurred_at.date()] = event.event_id
        if len(days) == self.spec.distinct_days:
            self.earn(self.spec.points, anchor_us)
        self.event_ids = list(days.values())


def canonical_order(events: Iterable[LeadEvent]) -> list[LeadEvent]:
    """Sorted by time then id, one event per (source, id): the order every "first" and "then" is counted in.

    Ids are unique within a source, so a repeated (source, id) is a redelivery of the same event.
    """
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.source, e.event_id))
    unique: list[LeadEvent] = []
    seen: set[tuple[str, str]] = set()
    for event in ordered:
        key = (event.source, event.event_id)
        if key not in seen:
            seen.add(key)
            unique.append(event)
    return unique


def collect(events: Iterable[LeadEvent], compiled: CompiledRules) -> list[RuleTally]:
    ordered = canonical_order(events)
    canonical_types = [compiled.canonical_type(event.type) for event in ordered]
    sent_emails = _sent_emails(ordered, canonical_types, compiled)
    message_key = compiled.message_key
    rules_by_type = compiled.rules_by_type
    tallies: dict[int, RuleTally] = {}
    occurrences: dict[tuple[int, Any], int] = {}

    for event, canonical in zip(ordered, canonical_types):
        specs = rules_by_type.get(canonical)
        if not specs:
            continue
        props = compiled.properties_of(event, canonical)
        occurred_us = to_us(event.occurred_at)
        for spec in specs:
            if spec.where and not spec.matches(props):
                continue
            tally = tallies.get(spec.index)
            if tally is None:
                tally = tallies[spec.index] = RuleTally(spec)
            tally.count += 1
            if spec.distinct_days:
                tally.count_day(event, occurred_us)
                continue
            tally.event_ids.append(event.event_id)
            key = (spec.index, props.get(spec.repeat_per) if spec.repeat_per else None)
            seen_before = occurrences.get(key, 0)
            occurrences[key] = seen_before + 1
            base = spec.then if seen_before else spec.points
            if spec.multipliers and base:
                sent = sent_emails.get(props.get(message_key))
                for multiplier in spec.multipliers:
                    base *= multiplier.factor(occurred_us, props, sent)
            tally.earn(base, occurred_us)
    return [tallies[index] for index in sorted(tallies)]


def _sent_emails(ordered: list[LeadEvent], canonical_types: list[str], compiled: CompiledRules) -> dict[Any, SentEmail]:
    """The first `email_sent` per message id: a click or reply inherits its send time and campaign."""
    sent: dict[Any, SentEmail] = {}
    for event, canonical in zip(ordered, canonical_types):
        if canonical == compiled.sent_event:
            message_id = event.properties.get(compiled.message_key)
            if message_id is not None and message_id not in sent:
                sent[message_id] = SentEmail(to_us(event.occurred_at), event.properties)
    return sent
