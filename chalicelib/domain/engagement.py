"""Engagement: what the lead did. Turns events into earnings (value at full strength plus decay
clock): the fold over a lead's events; each rule's tally is rule_tally.py.

Everything here is independent of `now` except `RuleTally.total_at` and the counts a card shows:
which events earn, their "then +N" position, multipliers and the instant their decay starts are
fixed facts of the event history. That split is what lets `next_change` sweep future decay steps
without rescoring, and what lets a new event be folded into a stored basis (`Folder`) without
reading the lead's other events.

A full rescore is the same fold, over every event in canonical (time) order. Folding one more event
later gives the same tallies unless the event is out of order and something order-dependent would
change (a first occurrence, a distinct day, the email a click answers): then `OutOfOrder` says why
and the caller rescores from the events.

Values are summed as integer micro-points, so any order of events gives the same total to the
last digit and rounding half up is exact.

This is the per-event hot path (a lead may have thousands of events), so the loop is written
flat: local names, few method calls per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from .activity import named
from .compiled_rules import PAGE_CATEGORY, CompiledRules, EngagementRuleSpec, SentEmail, hashable
from .events import EPOCH, ONE_US, LeadEvent
from .forgotten import Forgotten, let_go
from .rescore_fold import fold_all
from .rule_tally import (
    MICRO,
    MINUTE_US,
    REMEMBERED,
    SPEED_MEMORY_MINUTES,
    WEEK_US,
    EventKey,
    OutOfOrder,
    RuleTally,
    _forget_minutes,
    _message_ends,
    digest,
    ignored_alive,
)


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


class Folder:
    """The engagement side of a lead's basis, folded one event at a time.

    `messages` remembers, per email (message id digest), [first send µs, the send's multiplier
    properties, expiry s]: a click or reply earns by the first send of its email before it.
    `message_clock` is the newest send, click or reply folded in: one older than it may change
    what was earned, so it is refused (OutOfOrder).
    """

    def __init__(
        self,
        compiled: CompiledRules,
        tallies: Iterable[RuleTally] = (),
        messages: dict[str, list[Any]] | None = None,
        ignored: dict[str, dict[int, int]] | None = None,
        speed: dict[str, dict[int, list[Any]]] | None = None,
        message_clock: EventKey | None = None,
        forgotten: Forgotten | None = None,
        last_active_us: int | None = None,
        memory_stamp: str | None = None,
    ) -> None:
        self.compiled = compiled
        # The stamp of a stored memory that was not read (fold_memory.py): emails and repeat scopes
        # are then unknown, and an event that needs them is refused. None: they are all at hand.
        self.memory_stamp = memory_stamp
        self.last_active_us = last_active_us  # the newest event a rule counted: the lead's last activity
        # What a stored basis keeps of emails and repeat scopes (forgotten.py); None: REMEMBERED. A
        # fold that is never stored (the timeline's) keeps them all, so it never has to refuse one.
        self.remembered: int | None = None
        self.forgotten = forgotten if forgotten is not None else Forgotten()  # emails let go of while alive
        self.message_clock = message_clock
        self.tallies = {tally.spec.index: tally for tally in tallies}
        self.messages = messages if messages is not None else {}
        self.ignored = ignored if ignored is not None else {}  # reason -> week -> events
        # speed kind -> minute -> [events scored, the newest scored key]
        self.speed = speed if speed is not None else {}
        self._newest_minute = {kind: max(minutes) for kind, minutes in self.speed.items() if minutes}
        self.just_ignored: dict[str, int] = {}  # what this fold ignored, for metrics
        self.just_too_fast: list[tuple[str, str]] = []  # (source, event id) this fold's speed limits ignored
        self._counted: dict[EventKey, tuple[LeadEvent, str]] = {}  # events a rule counted, to name the latest

    def skip(self, key: EventKey, canonical: str, props: dict[str, Any]) -> str | None:
        """Why the event is not scored (see traffic_filters), recording it; None: score it."""
        occurred_us = key[0]
        filters = self.compiled.filters
        reason = filters.reason(props) if ("user_agent" in props or "form_fields" in props) else None
        if reason is None:
            kind = filters.speed_kind(canonical, props)
            if kind is not None and self._too_fast(kind, key, filters.speed_limits[kind]):
                reason = "too_fast"
        if reason is not None:
            self._ignore(reason, occurred_us)
        return reason

    def _ignore(self, reason: str, occurred_us: int) -> None:
        weeks = self.ignored.setdefault(reason, {})
        week = occurred_us // WEEK_US
        weeks[week] = weeks.get(week, 0) + 1
        self.just_ignored[reason] = self.just_ignored.get(reason, 0) + 1

    def _too_fast(self, kind: str, key: EventKey, limit: int) -> bool:
        """The first `limit` events of a kind in each clock minute count; the rest are excess.
        A minute is [events counted, the newest counted key]."""
        minutes = self.speed.get(kind)
        if minutes is None:
            minutes = self.speed[kind] = {}
        minute = key[0] // MINUTE_US
        found = minutes.get(minute)
        if found is None:
            newest = self._newest_minute.get(kind)
            if newest is None or minute > newest:
                self._newest_minute[kind] = minute
                if len(minutes) >= 2 * SPEED_MEMORY_MINUTES:  # now and then here, always in forget()
                    _forget_minutes(minutes, minute)
            elif minute < newest - SPEED_MEMORY_MINUTES:
                raise OutOfOrder(f"a {kind} event older than the last hour's speed count")
            minutes[minute] = [1, key]
            return False
        if found[0] < limit:
            found[0] += 1
            if key > found[1]:
                found[1] = key
            return False
        if key < found[1]:
            raise OutOfOrder(f"an earlier {kind} event in a minute already at its speed limit")
        return True

    def fold(self, occurred_us: int, event: LeadEvent, canonical: str) -> None:
        """Fold one behaviour event in (a redelivery must not reach here: storage deduplicates).
        Raises OutOfOrder when only a rescore from the events can place it; the folder is then
        part-way and must be discarded."""
        key = (occurred_us, event.source, event.event_id)
        compiled = self.compiled
        plan = compiled.plan(canonical)
        props = event.properties
        # Only events a filter looks at go through skip(): most events have none of these.
        if "user_agent" in props or "form_fields" in props or "form_id" in props:
            skipped = self.skip(key, canonical, props)
            if skipped is not None:
                if skipped == "too_fast":
                    self.just_too_fast.append((event.source, event.event_id))
                return
        elif plan.speed_limit is not None:
            minutes = self.speed.get(canonical)
            found = minutes.get(occurred_us // MINUTE_US) if minutes is not None else None
            if found is not None and found[0] < plan.speed_limit and key > found[1]:
                found[0] += 1  # the common case of _too_fast: another event in a minute under its limit
                found[1] = key
            elif self._too_fast(canonical, key, plan.speed_limit):
                self._ignore("too_fast", occurred_us)
                self.just_too_fast.append((event.source, event.event_id))
                return
        if plan.sends:
            self._sent(key, props)
        index = plan.index
        if index is None:
            return
        matched: Sequence[EngagementRuleSpec]
        if plan.plain is not None:
            matched = plan.plain
        elif plan.page and PAGE_CATEGORY not in props:
            category = compiled.pages.category(props)
            if index.key == PAGE_CATEGORY:
                choice = index.choice(category)
                if choice is None:
                    return
                if choice.reads_properties:
                    props = {**props, PAGE_CATEGORY: category}
                matched = choice.matching(props)
            else:
                props = {**props, PAGE_CATEGORY: category}
                matched = index.matching(props)
        else:
            matched = index.matching(props)
        if not matched:
            return
        self._counted[key] = (event, canonical)
        if self.last_active_us is None or occurred_us > self.last_active_us:
            self.last_active_us = occurred_us
        expires = -1  # computed when a repeat scope or an email needs it
        tallies = self.tallies
        for spec in matched:
            tally = tallies.get(spec.index)
            if tally is None:
                tally = tallies[spec.index] = RuleTally(spec)
            tally.stored = None
            if spec.simple:
                tally.earn(key, spec.points)
                continue
            if spec.distinct_days:
                tally.count_day(key)
                continue
            base = spec.points
            if self.memory_stamp is not None and (spec.repeats or spec.multipliers):
                raise OutOfOrder(f"{spec.name}: the fold's memory was not read")
            if spec.repeats:
                if tally.recent and key < tally.recent[-1]:
                    raise OutOfOrder(f"{spec.name}: an earlier event may be the one that earns full points")
                if expires < 0:
                    expires = (
                        compiled.expiry_s(occurred_us, matched) if len(matched) > 1 else spec.expiry_s(occurred_us)
                    )
                base = tally.repeat(props, expires)
            if spec.multipliers:
                sent = self._message_for(key, props)
                if base:
                    for multiplier in spec.multipliers:
                        base *= multiplier.factor(occurred_us, props, sent)
            tally.earn(key, base)

    def _sent(self, key: EventKey, props: dict[str, Any]) -> None:
        message = hashable(props.get(self.compiled.message_key))
        if message is None:
            return
        if self.memory_stamp is not None:
            raise OutOfOrder("an email send: the fold's memory was not read")
        self._message_clock(key, "an email send")
        name = digest(message)
        found = self._recall(name)
        if found is None:
            wanted = self.compiled.message_properties
            kept = {field: props[field] for field in wanted if props.get(field) is not None}
            found = [key[0], kept, self.compiled.expiry_s(key[0], [])]
        self.messages[name] = found  # the most recently active email last (see forgotten.let_go)

    def _message_for(self, key: EventKey, props: dict[str, Any]) -> SentEmail | None:
        """The first send of the email this click or reply answers, if it came before."""
        message = props.get(self.compiled.message_key)
        if message is None:
            return None
        self._message_clock(key, "a click or reply")
        name = digest(message)
        found = self._recall(name)
        if found is None:
            return None
        self.messages[name] = found  # the most recently active email last (see forgotten.let_go)
        return SentEmail(found[0], found[1])

    def _recall(self, name: str) -> list[Any] | None:
        """The remembered email, taken out (the caller puts it back as the most recent); None for
        one never seen. One the stored basis had to forget is refused: rescore from the events."""
        found = self.messages.pop(name, None)
        if found is None and self.forgotten.may_hold(name):
            raise OutOfOrder("an email the stored basis had to forget")
        return found

    def _message_clock(self, key: EventKey, what: str) -> None:
        if self.message_clock is not None and key < self.message_clock:
            raise OutOfOrder(f"{what} older than the newest email activity folded in changes what clicks earn")
        self.message_clock = key

    def drop_ended(self, now_us: int) -> None:
        """Emails and repeat scopes whose events have all expired by `now_us`, as a full rescore then
        reads the events: done before new events are folded into a stored basis, so a repeat after
        its scope's events expired earns as in a rescore (first points again)."""
        self.messages = {
            name: found for name, found in self.messages.items() if not found[2] or found[2] * MICRO > now_us
        }
        self.forgotten.forget_ended(now_us)
        for tally in self.tallies.values():
            tally.drop_ended_scopes(now_us)

    def forget(self, now_us: int) -> None:
        """Drop what can no longer matter from `now_us` on (see RuleTally.compact)."""
        self._forget_speed()
        self.drop_ended(now_us)
        let_go(self.messages, self._remembered(), self.forgotten, _message_ends)
        for reason, weeks in list(self.ignored.items()):
            self.ignored[reason] = {week: count for week, count in weeks.items() if ignored_alive(week, now_us)}
            if not self.ignored[reason]:
                del self.ignored[reason]
        for tally in self.tallies.values():
            tally.compact(now_us, self._remembered())

    def _remembered(self) -> int:
        return REMEMBERED if self.remembered is None else self.remembered

    def _forget_speed(self) -> None:
        for kind, minutes in self.speed.items():
            if minutes:
                _forget_minutes(minutes, self._newest_minute.get(kind, max(minutes)))

    def _name_latest(self) -> None:
        """Title each rule's latest event when it is one of this fold's (only those are at hand)."""
        for tally in self.tallies.values():
            if not tally.recent:
                continue
            latest = tally.recent[-1]
            _, source, event_id = latest
            if tally.title is not None and tally.title[:2] == (source, event_id):
                continue
            found = self._counted.get(latest)
            title = (source, event_id, named(*found) or "") if found else None
            if title != tally.title:
                tally.title, tally.stored = title, None

    def result(self, now_us: int | None = None) -> list[RuleTally]:
        self._name_latest()
        if now_us is not None:
            self.forget(now_us)
        else:
            self._forget_speed()
            let_go(self.messages, self._remembered(), self.forgotten, _message_ends)
            for tally in self.tallies.values():
                tally.compact(remembered=self._remembered())
        return [self.tallies[index] for index in sorted(self.tallies)]


def fold_ordered(folder: Folder, ordered: list[tuple[int, LeadEvent]]) -> None:
    """A full rescore's fold: every event in canonical order. Into a new folder, type by type
    (rescore_fold.py); into one already holding events, one at a time."""
    if folder.tallies or folder.messages or folder.speed or folder.ignored or folder.message_clock:
        fold_one_by_one(folder, ordered)
    else:
        fold_all(folder, ordered)


def fold_one_by_one(folder: Folder, ordered: list[tuple[int, LeadEvent]]) -> None:
    """Every event in canonical order, one at a time."""
    compiled = folder.compiled
    canonical_type: Callable[[str], str] = compiled.canonical_type
    aliases = compiled.type_aliases
    fold = folder.fold
    for occurred_us, event in ordered:
        fold(occurred_us, event, aliases.get(event.type) or canonical_type(event.type))
