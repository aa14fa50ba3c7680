"""Engagement: what the lead did. Turns events into earnings (value at full strength plus decay clock).

Everything here is independent of `now` except `RuleTally.total_at`: which events earn, their
"then +N" position, multipliers and the instant their decay starts are fixed facts of the event
history. That split is what lets `next_change` sweep future decay steps without rescoring.

Values are summed as integer micro-points, so any order of events gives the same total to the
last digit and rounding half up is exact.

This is the per-event hot path (a lead may have thousands of events), so the loop is written
flat: local names, no per-event method dispatch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from operator import itemgetter
from typing import Any

from .compiled_rules import CompiledRules, EngagementRuleSpec, SentEmail, hashable, matches_all
from .decay import StepDecay
from .events import EPOCH, ONE_US, LeadEvent

MICRO = 1_000_000


def micro(value: float) -> int:
    return math.floor(value * MICRO + 0.5)


class RuleTally:
    """One rule's matched events and what each earns; `bases[i]` decays from `anchors[i]` (µs).

    Anchors are in ascending order: events are visited in canonical (time) order.
    """

    __slots__ = ("_days", "_matched_days", "anchors", "bases", "event_ids", "spec")

    def __init__(self, spec: EngagementRuleSpec) -> None:
        self.spec = spec
        self._matched_days = 0
        self.event_ids: list[str] = []
        self.bases: list[float] = []
        self.anchors: list[int] = []
        self._days: dict[date, str] | None = {} if spec.distinct_days else None

    def total_at(self, now_us: int) -> int:
        """Unclipped micro-points at `now_us`; an event stamped after `now` counts as brand new."""
        decay = self.spec.decay
        if self.spec.negative or not self.bases:
            return sum(micro(base) for base in self.bases)
        total = 0
        if isinstance(decay, StepDecay):
            steps, after = decay.steps, decay.after
            for base, anchor in zip(self.bases, self.anchors):
                age = now_us - anchor
                kept = after
                for until, share in steps:
                    if age < until:
                        kept = share
                        break
                # Decaying values are never negative, so truncation is rounding half up here.
                total += int(base * kept * MICRO + 0.5)
            return total
        keep = decay.keep
        for base, anchor in zip(self.bases, self.anchors):
            age = now_us - anchor
            total += int(base * keep(age if age > 0 else 0) * MICRO + 0.5)
        return total

    def restore_count(self, count: int) -> None:
        """When rebuilt from a stored basis (distinct-days rules count matched events apart)."""
        self._matched_days = count

    @property
    def count(self) -> int:
        """Events this rule matched (for a distinct-days rule, including those on repeated days)."""
        return self._matched_days if self.spec.distinct_days else len(self.event_ids)

    def full_total(self) -> int:
        return sum(micro(base) for base in self.bases)

    def count_day(self, event: LeadEvent, anchor_us: int) -> None:
        """Distinct-days rules earn once, at the event that completes the required number of days."""
        days = self._days
        assert days is not None and self.spec.distinct_days is not None
        self._matched_days += 1
        if self.bases or event.occurred_at.date() in days:
            return
        days[event.occurred_at.date()] = event.event_id
        if len(days) == self.spec.distinct_days:
            self.bases.append(self.spec.points)
            self.anchors.append(anchor_us)
        self.event_ids = list(days.values())


def canonical_order(events: Iterable[LeadEvent]) -> list[tuple[int, LeadEvent]]:
    """(µs, event) sorted by time, then source and id: the order every "first" and "then" is counted in.

    A redelivery repeats the event's source, id and time, so it sorts next to the original and is
    dropped there. Sorting on the integer time alone and settling the rare ties afterwards is
    several times faster than sorting on (time, source, id) tuples.
    """
    keyed = [((event.occurred_at - EPOCH) // ONE_US, event) for event in events]
    keyed.sort(key=_FIRST)
    if len({occurred_us for occurred_us, _ in keyed}) == len(keyed):
        return keyed  # no two events at the same microsecond: nothing to tie-break or drop
    unique: list[tuple[int, LeadEvent]] = []
    index, count = 0, len(keyed)
    while index < count:
        end = index + 1
        while end < count and keyed[end][0] == keyed[index][0]:
            end += 1
        run = sorted(keyed[index:end], key=_source_and_id)
        last_key = None
        for item in run:
            key = (item[1].source, item[1].event_id)
            if key != last_key:
                unique.append(item)
            last_key = key
        index = end
    return unique


def _source_and_id(item: tuple[int, LeadEvent]) -> tuple[str, str]:
    return item[1].source, item[1].event_id


_FIRST = itemgetter(0)


def collect(events: Iterable[LeadEvent], compiled: CompiledRules) -> list[RuleTally]:
    ordered = canonical_order(events)
    canonical_type = compiled.canonical_type
    canonical_types = [canonical_type(event.type) for _, event in ordered]
    sent_emails = _sent_emails(ordered, canonical_types, compiled)
    message_key = compiled.message_key
    candidates = compiled.candidates
    page_event, classify = compiled.page_event, compiled.pages.category
    tallies: dict[int, RuleTally] = {}
    occurrences: dict[tuple[int, Any], bool] = {}

    for (occurred_us, event), canonical in zip(ordered, canonical_types):
        index = candidates.get(canonical)
        if index is None:
            continue
        props = event.properties
        if canonical == page_event and "page_category" not in props:
            props = {**props, "page_category": classify(props)}
        for spec, tests in index.for_properties(props):
            if tests and not matches_all(tests, props):
                continue
            tally = tallies.get(spec.index)
            if tally is None:
                tally = tallies[spec.index] = RuleTally(spec)
            if spec.distinct_days:
                tally.count_day(event, occurred_us)
                continue
            tally.event_ids.append(event.event_id)
            base = spec.points
            if spec.repeats:
                key = (spec.index, hashable(props.get(spec.repeat_per)) if spec.repeat_per else None)
                if key in occurrences:
                    base = spec.then
                else:
                    occurrences[key] = True
            if spec.multipliers and base:
                sent = sent_emails.get(hashable(props.get(message_key)))
                for multiplier in spec.multipliers:
                    base *= multiplier.factor(occurred_us, props, sent)
            tally.bases.append(base)
            tally.anchors.append(occurred_us)
    return [tallies[index] for index in sorted(tallies)]


def _sent_emails(
    ordered: list[tuple[int, LeadEvent]], canonical_types: list[str], compiled: CompiledRules
) -> dict[Any, SentEmail]:
    """The first `email_sent` per message id: a click or reply inherits its send time and campaign."""
    sent: dict[Any, SentEmail] = {}
    sent_event, message_key = compiled.sent_event, compiled.message_key
    for (occurred_us, event), canonical in zip(ordered, canonical_types):
        if canonical == sent_event:
            message_id = hashable(event.properties.get(message_key))
            if message_id is not None and message_id not in sent:
                sent[message_id] = SentEmail(occurred_us, event.properties)
    return sent
