"""One engagement rule's tally: the events it matched, what each earns at full strength and when
its decay starts, the rule's cap and repeats; the total at any instant. The units and clocks the
engagement fold shares (micro-points, hours, weeks) are defined here."""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from bisect import bisect_right, insort
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from .compiled_rules import EngagementRuleSpec, hashable
from .decay import NO_DECAY, StepDecay
from .forgotten import Forgotten, let_go

MICRO = 1_000_000
HOUR_US = 3_600_000_000
WEEK_US = 7 * 24 * HOUR_US
DAY_US = 24 * HOUR_US  # a UTC day: what `_date` tells apart, as an integer
MAX_EXPLAINED = 3  # event ids a contribution names (the most recent); its count covers the rest
EXACT_UP_TO = 256  # beyond this many events in one rule, same-value events of one clock hour share a decay clock

MINUTE_US = 60_000_000
SPEED_MEMORY_MINUTES = 60  # a speed-limited event later than this by the newest one is rescored
IGNORED_LIFETIME_US = 90 * 24 * HOUR_US  # ignored events are shown for as long as a page view counts

EventKey = tuple[int, str, str]  # (µs, source, event id): the canonical order


REMEMBERED = 100  # emails, and repeat scopes per rule, a stored basis keeps: the most recently active (forgotten.py)


def _message_ends(found: list[Any]) -> int:
    return int(found[2])


def _forget_minutes(minutes: dict[int, list[Any]], newest: int) -> None:
    for old in [old for old in minutes if old < newest - SPEED_MEMORY_MINUTES]:
        del minutes[old]


def ignored_alive(week: int, now_us: int) -> bool:
    return (week + 1) * WEEK_US + IGNORED_LIFETIME_US > now_us


_floor = math.floor


def micro(value: float) -> int:
    return math.floor(value * MICRO + 0.5)


def digest(value: Any) -> str:
    """A short stable name for a property value (a message id, a URL): what the basis remembers."""
    return _digest(value if value.__class__ is str else hashable(value))


@functools.lru_cache(maxsize=4096)
def _digest(value: Any) -> str:
    return base64.urlsafe_b64encode(hashlib.blake2b(str(value).encode(), digest_size=6).digest()).decode()


class OutOfOrder(Exception):
    """The event arrived after later ones and would change how they were counted: rescore."""


class RuleTally:
    """One rule's matched events and what they earn.

    `bases[i]` (× `weights[i]` events) decays from `anchors[i]` (µs), in ascending anchor order.
    Entries that can no longer change the rule's capped total are dropped (see `compact`); the
    card's count and full-strength points come from `weeks` (week index -> [events, micro-points]),
    so they stay right whatever was dropped.
    """

    __slots__ = (
        "anchors", "bases", "forever", "forgotten", "matched", "recent", "scopes", "spec", "stored", "timeless",
        "title", "weeks", "weights",
    )  # fmt: skip

    def __init__(self, spec: EngagementRuleSpec) -> None:
        self.spec = spec
        self.timeless = spec.decay is NO_DECAY  # its entries need no clock: one per value
        self.forever = spec.decay.lifetime == math.inf  # counted as one week: never stops counting
        self.matched = 0  # events ever folded in: decides when decay clocks start to be shared
        self.weeks: dict[int, list[int]] = {}
        self.recent: list[EventKey] = []  # the latest event keys, or a distinct-days rule's days
        self.bases: list[float] = []
        self.anchors: list[int] = []
        self.weights: list[int] = []
        self.scopes: dict[str, int] = {}  # repeat scope -> when its latest event expires (s; 0: never)
        self.forgotten = Forgotten()  # scopes let go of while alive (see forgotten.py)
        # What the latest event was, as a rep reads it ("Submitted 'Book a demo'"; "" when it names
        # nothing): (source, event id, title), so a reason names what and when without the events
        # at hand (the decay job).
        self.title: tuple[str, str, str] | None = None
        # The stored form it was read from, while nothing changed it: a fold writes it back as it
        # was, so a rule the event did not touch costs no compaction or encoding.
        self.stored: dict[str, Any] | None = None

    # ------------------------------------------------------------------------------ reading
    def total_at(self, now_us: int) -> int:
        """Unclipped micro-points at `now_us`; an event stamped after `now` counts as brand new."""
        decay = self.spec.decay
        if self.spec.negative or not self.bases:
            return sum(weight * micro(base) for base, weight in zip(self.bases, self.weights))
        total = 0
        bases, anchors, weights = self.bases, self.anchors, self.weights
        if now_us - anchors[0] >= decay.lifetime:
            # The oldest entries are worth nothing any more (compacted entries are in clock order).
            alive = bisect_right(anchors, now_us - decay.lifetime)
            bases, anchors, weights = bases[alive:], anchors[alive:], weights[alive:]
        if isinstance(decay, StepDecay):
            # Clocks ascend, so each step's entries are a run: those younger than its `until`
            # and not younger than the step before's. An entry exactly `until` old is in the next.
            end = len(anchors)
            for until, share in decay.bands:
                start = bisect_right(anchors, now_us - until) if until is not None else 0
                if start < end and share:
                    # Decaying values are never negative, so truncation is rounding half up here.
                    total += sum(
                        weight * int(base * share * MICRO + 0.5)
                        for base, weight in zip(bases[start:end], weights[start:end])
                    )
                end = start
                if not end:
                    break
            return total
        keep = decay.keep
        for base, anchor, weight in zip(bases, anchors, weights):
            age = now_us - anchor
            total += weight * int(base * keep(age if age > 0 else 0) * MICRO + 0.5)
        return total

    def seen_at(self, now_us: int) -> tuple[int, int]:
        """(events, micro-points at full strength) of the events still worth something at `now_us`,
        to the week: an event is counted until the end of the week its value ends in."""
        lifetime = self.spec.decay.lifetime
        if lifetime == math.inf:
            return sum(count for count, _ in self.weeks.values()), sum(value for _, value in self.weeks.values())
        # (week + 1) * WEEK_US + lifetime > now_us, for an integer week: week >= first
        first = (now_us - int(lifetime)) // WEEK_US
        events = points = 0
        for week, (count, value) in self.weeks.items():
            if week >= first:
                events += count
                points += value
        return events, points

    def event_ids_at(self, now_us: int) -> list[str]:
        """The latest events still counted at `now_us` (to the week, as `seen_at` counts them): an
        expired one is gone from storage, and a rescore would not name it."""
        lifetime = self.spec.decay.lifetime
        if self.forever:
            return [event_id for _, _, event_id in self.recent]
        return [
            event_id
            for occurred_us, _, event_id in self.recent
            if (occurred_us // WEEK_US + 1) * WEEK_US + lifetime > now_us
        ]

    def latest(self, now_us: int, ids: list[str] | None = None) -> tuple[str, int] | None:
        """(title, µs) of the latest event still counted at `now_us`, when its title is known
        (`ids`: event_ids_at(now_us), when the caller has them)."""
        ids = self.event_ids_at(now_us) if ids is None else ids
        if not ids or self.title is None:
            return None
        occurred_us, source, event_id = self.recent[-1]
        if (source, event_id) != self.title[:2] or ids[-1] != event_id:
            return None
        return self.title[2], occurred_us

    # ------------------------------------------------------------------------------ folding
    def earn(self, key: EventKey, base: float) -> None:
        """One more matched event worth `base` at full strength, decaying from its time.
        (Per matched event: written flat, as `fold` is.)"""
        occurred_us = key[0]
        self.matched = matched = self.matched + 1
        week = 0 if self.forever else occurred_us // WEEK_US
        weeks = self.weeks
        value = _floor(base * MICRO + 0.5)
        if week in weeks:
            seen = weeks[week]
            seen[0] += 1
            seen[1] += value
        else:
            weeks[week] = [1, value]
        recent = self.recent
        if not recent or key > recent[-1]:
            recent.append(key)
        else:
            insort(recent, key)
        if base:
            if self.timeless:
                anchor = 0
            elif matched <= EXACT_UP_TO:
                anchor = occurred_us
            else:
                anchor = occurred_us - occurred_us % HOUR_US
            anchors = self.anchors
            if anchors and anchors[-1] == anchor and self.bases[-1] == base:
                self.weights[-1] += 1  # what compact() would merge: no need to grow the lists
            else:
                self.bases.append(base)
                anchors.append(anchor)
                self.weights.append(1)

    def repeat(self, props: Mapping[str, Any], expires: int) -> float:
        """What one more event of a "then +N" rule earns at full strength: its points for the first
        of its scope (the value of `repeat_per`), `then` after; the scope lives until `expires`
        (epoch s, 0: for ever) at least. Raises OutOfOrder for a scope a stored basis let go of."""
        spec = self.spec
        scope = digest(props.get(spec.repeat_per)) if spec.repeat_per else ""
        ends = self.scopes.pop(scope, None)
        if ends is not None:
            self.scopes[scope] = 0 if not ends or not expires else max(ends, expires)
            return spec.then
        if self.forgotten and self.forgotten.may_hold(scope):
            raise OutOfOrder(f"{spec.name}: a repeat scope the stored basis had to forget")
        self.scopes[scope] = expires
        return spec.points

    def earn_all(self, keys: list[EventKey], base: float) -> None:
        """Into a new tally, events in canonical order each worth `base`: what `earn` does one by
        one, a list at a time (a rescore's, rescore_fold.py)."""
        count = len(keys)
        value = _floor(base * MICRO + 0.5)
        if self.forever:
            self.weeks = {0: [count, count * value]}
        else:
            weekly = Counter([occurred_us // WEEK_US for occurred_us, _, _ in keys])
            self.weeks = {week: [events, events * value] for week, events in weekly.items()}
        times = [occurred_us for occurred_us, _, _ in keys]
        if base and count <= EXACT_UP_TO and not self.timeless and len(set(times)) == count:
            # One entry per event, as `earn` leaves them when no two share a clock.
            self.matched, self.recent = count, list(keys)
            self.anchors, self.bases, self.weights = times, [base] * count, [1] * count
            return
        self._entries(keys, [base] * count)

    def earn_each(self, keys: list[EventKey], bases: list[float]) -> None:
        """Into a new tally, events in canonical order, each worth its own of `bases`."""
        for (occurred_us, _, _), base in zip(keys, bases, strict=True):
            self._count(occurred_us, _floor(base * MICRO + 0.5))
        self._entries(keys, bases)

    def _entries(self, keys: list[EventKey], bases: list[float]) -> None:
        """The events' entries, merged where consecutive ones share a clock and value (as `earn`)."""
        self.matched = len(keys)
        self.recent = list(keys)
        anchors, kept, weights = self.anchors, self.bases, self.weights
        timeless = self.timeless
        for position, ((occurred_us, _, _), base) in enumerate(zip(keys, bases, strict=True)):
            if not base:
                continue
            if timeless:
                anchor = 0
            elif position < EXACT_UP_TO:
                anchor = occurred_us
            else:
                anchor = occurred_us - occurred_us % HOUR_US
            if anchors and anchors[-1] == anchor and kept[-1] == base:
                weights[-1] += 1
            else:
                anchors.append(anchor)
                kept.append(base)
                weights.append(1)

    def count_days(self, keys: list[EventKey]) -> None:
        """Into a new distinct-days tally, events in canonical order: what `count_day` does one by one."""
        spec = self.spec
        needed = spec.distinct_days
        days: list[EventKey] = []
        seen: set[int] = set()
        earned = False
        for key in keys:
            occurred_us = key[0]
            value = 0
            if not earned:
                day = occurred_us // DAY_US
                if day not in seen:
                    seen.add(day)
                    days.append(key)
                    if len(days) == needed:
                        earned = True
                        value = micro(spec.points)
                        self.bases.append(spec.points)
                        self.anchors.append(occurred_us)
                        self.weights.append(1)
            self._count(occurred_us, value)
        self.matched = len(keys)
        self.recent = days

    def count_day(self, key: EventKey) -> None:
        """Distinct-days rules earn once, at the first event of the day that completes the required
        number of days; `recent` holds each day's first event."""
        spec = self.spec
        assert spec.distinct_days is not None
        days = self.recent
        day = _date(key[0])
        # Of the events before the newest counted day, only one after the first of a day already
        # counted changes nothing.
        if days and key < days[-1] and (self.bases or not any(_date(f[0]) == day and f < key for f in days)):
            raise OutOfOrder(f"{spec.name}: an earlier event may change the days counted")
        self.matched += 1
        if self.bases or (days and any(_date(first[0]) == day for first in days)):
            self._count(key[0], 0)
            return
        days.append(key)
        if len(days) == spec.distinct_days:
            self._count(key[0], micro(spec.points))
            self.bases.append(spec.points)
            self.anchors.append(key[0])
            self.weights.append(1)
        else:
            self._count(key[0], 0)

    def _count(self, occurred_us: int, value: int) -> None:
        week = 0 if self.forever else occurred_us // WEEK_US
        found = self.weeks.get(week)
        if found is None:
            self.weeks[week] = [1, value]
        else:
            found[0] += 1
            found[1] += value

    # ---------------------------------------------------------------------------- bounding
    def drop_ended_scopes(self, now_us: int) -> None:
        """A scope whose events have all expired by `now_us` is gone, as they are from storage."""
        if not self.scopes and not self.forgotten:
            return
        kept = {scope: ends for scope, ends in self.scopes.items() if not ends or ends * MICRO > now_us}
        was = bool(self.forgotten)
        self.forgotten.forget_ended(now_us)
        if len(kept) != len(self.scopes) or was != bool(self.forgotten):
            self.stored = None
        self.scopes = kept

    def settled(self, now_us: int) -> bool:
        """Unchanged since it was read (compacted when stored) and nothing in it has ended by
        `now_us`: compacting it again would change nothing (compaction is idempotent)."""
        if self.stored is None:
            return False
        lifetime = self.spec.decay.lifetime
        if lifetime == math.inf:
            return True
        # The oldest week and the oldest entry (anchors ascend) end first.
        if self.weeks and (min(self.weeks) + 1) * WEEK_US + lifetime <= now_us:
            return False
        return not self.anchors or now_us - self.anchors[0] < lifetime

    def compact(self, now_us: int | None = None, remembered: int | None = None) -> None:
        """Merge and drop entries that can no longer make a difference to the rule's capped total,
        at any time (or from `now_us` on, for entries and weeks whose value has ended).

        - Entries with the same value and clock merge (a weight); past EXACT_UP_TO events, clocks
          are the start of the hour (an event's decay steps may come up to 1 hour early).
        - A value that has ended (worth 0 for ever) is dropped; its week stays counted to its end.
        - With a cap: going back from the newest entry, once the entries kept so far are worth more
          than the cap even at their lowest value before they end, every older entry is dropped. It
          ends no later than the kept ones, so until then the total is capped either way.
        """
        if now_us is not None and self.settled(now_us):
            return
        self.stored = None
        spec, decay = self.spec, self.spec.decay
        lifetime = decay.lifetime
        if len(self.recent) > MAX_EXPLAINED and not spec.distinct_days:
            del self.recent[:-MAX_EXPLAINED]
        if now_us is not None and lifetime != math.inf:
            self.weeks = {week: seen for week, seen in self.weeks.items() if (week + 1) * WEEK_US + lifetime > now_us}
            self.drop_ended_scopes(now_us)
        let_go(self.scopes, REMEMBERED if remembered is None else remembered, self.forgotten, int)
        if not self.bases:
            return
        rough = self.matched > EXACT_UP_TO
        anchors = self.anchors
        if not rough and all(earlier < later for earlier, later in pairwise(anchors)):
            # Clocks distinct and in order (a rescore's, as events are folded in time order):
            # nothing merges; the oldest entries may have ended, and the cap may drop more.
            if now_us is not None and lifetime != math.inf and now_us - anchors[0] >= lifetime:
                alive = bisect_right(anchors, now_us - lifetime)
                self.anchors, self.bases, self.weights = anchors[alive:], self.bases[alive:], self.weights[alive:]
                anchors = self.anchors
                if not anchors:
                    return
            if spec.cap is not None and not spec.negative and decay.floor > 0:
                self._keep(anchors, self.bases, self.weights)
            return
        merged: dict[tuple[int, float], int] = {}
        for base, anchor, weight in zip(self.bases, anchors, self.weights):
            if rough and anchor:
                anchor -= anchor % HOUR_US
            if now_us is not None and lifetime != math.inf and now_us - anchor >= lifetime:
                continue
            slot = (anchor, base)
            merged[slot] = merged.get(slot, 0) + weight
        entries = sorted(merged.items())
        self._keep([anchor for (anchor, _), _ in entries], [base for (_, base), _ in entries], [w for _, w in entries])

    def _keep(self, anchors: list[int], bases: list[float], weights: list[int]) -> None:
        """These entries (in clock order), less those the cap makes useless."""
        spec = self.spec
        if spec.cap is not None and bases and not spec.negative:
            cut = _within_cap(bases, weights, round(spec.cap * MICRO), spec.decay.floor)
            if cut is not None:
                start, needed = cut
                anchors, bases, weights = anchors[start:], bases[start:], [needed, *weights[start + 1 :]]
        self.anchors, self.bases, self.weights = anchors, bases, weights


def _within_cap(bases: list[float], weights: list[int], cap: int, floor: float) -> tuple[int, int] | None:
    """Where the newest entries that stay above `cap` until they end start, and how many events
    of the oldest of them are needed; None: every entry is."""
    if floor <= 0:
        return None
    kept = 0
    for position in range(len(bases) - 1, -1, -1):
        lowest = int(bases[position] * floor * MICRO + 0.5)
        if lowest <= 0:
            return None
        weight = weights[position]
        if kept + weight * lowest > cap:
            return position, (cap - kept) // lowest + 1
        kept += weight * lowest
    return None


def _date(occurred_us: int) -> Any:
    return datetime.fromtimestamp(occurred_us // MICRO, tz=UTC).date()
