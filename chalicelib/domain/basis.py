"""The now-independent part of a score: fit and every rule's earnings (value at full strength
and the instant its decay starts). Stored with the lead, it lets the decay job produce the exact
card `score()` would, at any later `now`, without reading the lead's events again, and lets a new
event be folded in without reading them either (`folding.py`).

Its size is bounded whatever the history: each rule keeps only the entries that can still change
its capped total, a week-by-week count, its latest event ids and the repeat scopes still alive
(see `engagement.RuleTally.compact`).

Valid only for the rules it was built with (`fingerprint`); a rules change means a full rescore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from .cancellations import Cancelled, cancelled_from_json, cancelled_json
from .compiled_rules import compile_rules
from .engagement import Folder
from .fit import FitResult
from .fold_memory import STAMP
from .forgotten import Forgotten
from .rule_tally import HOUR_US, MICRO, EventKey, RuleTally
from .rules import Rules
from .scorecard import Contribution

FORMAT = 4


class StaleBasis(ValueError):
    """The basis was built with other rules (or by an older version): rescore from the events."""


@dataclass
class ScoreBasis:
    fingerprint: str
    fit: FitResult
    tallies: list[RuleTally]
    messages: dict[str, list[Any]] = field(default_factory=dict)
    profile_last: EventKey | None = None  # the newest profile change folded in
    first_seen_us: int | None = None
    ignored: dict[str, dict[int, int]] = field(default_factory=dict)  # reason -> week -> events not scored
    speed: dict[str, dict[int, list[Any]]] = field(default_factory=dict)  # kind -> minute -> [events, newest key]
    message_clock: EventKey | None = None  # the newest email send, click or reply folded in
    forgotten: Forgotten = field(default_factory=Forgotten)  # emails let go of while alive
    last_active_us: int | None = None  # the newest event a rule counted
    recycled_us: int | None = None  # the recycle in force (recycle.py): nothing before it counts
    cancelled: Cancelled = frozenset()  # events a cancellation took back (cancellations.py)
    # Read without its memory (emails, repeat scopes): the memory's stamp (fold_memory.py). None:
    # the memory is here, in `messages`, `forgotten` and the tallies' scopes.
    memory_stamp: str | None = None
    just_ignored: dict[str, int] = field(default_factory=dict, compare=False)  # by the last fold: metrics only
    just_too_fast: list[tuple[str, str]] = field(default_factory=list, compare=False)  # (source, id) speed-limited

    @classmethod
    def folded(
        cls,
        folder: Folder,
        fit: FitResult,
        tallies: list[RuleTally],
        profile_last: EventKey | None = None,
        first_seen_us: int | None = None,
        recycled_us: int | None = None,
        cancelled: Cancelled = frozenset(),
    ) -> ScoreBasis:
        """The basis a fold leaves: its tallies and the folder's memory (emails, ignored, speed)."""
        basis = cls(
            folder.compiled.fingerprint, fit, tallies, folder.messages, profile_last, first_seen_us,
            folder.ignored, folder.speed, folder.message_clock, folder.forgotten, folder.last_active_us,
        )  # fmt: skip
        basis.recycled_us = recycled_us
        basis.cancelled = cancelled
        basis.memory_stamp = folder.memory_stamp
        basis.just_ignored = folder.just_ignored
        basis.just_too_fast = folder.just_too_fast
        return basis

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "fit": {
                "points": self.fit.points,
                "disqualified_by": self.fit.disqualified_by,
                "persona": self.fit.persona,
                "contributions": [[c.rule, c.label, c.points_now] for c in self.fit.contributions],
            },
            "rules": [_tally_json(tally) for tally in self.tallies],
            **({STAMP: self.memory_stamp} if self.memory_stamp is not None else {"messages": self.messages}),
            "profile_last": list(self.profile_last) if self.profile_last else None,
            "first_seen_us": self.first_seen_us,
            "last_active_us": self.last_active_us,
            **({"recycled_us": self.recycled_us} if self.recycled_us is not None else {}),
            **({"cancelled": cancelled_json(self.cancelled)} if self.cancelled else {}),
            "message_clock": list(self.message_clock) if self.message_clock else None,
            "ignored": {reason: sorted(weeks.items()) for reason, weeks in self.ignored.items()},
            "speed": {
                kind: [[minute, seen[0], *seen[1]] for minute, seen in sorted(minutes.items())]
                for kind, minutes in self.speed.items()
            },
            **({"forgotten": self.forgotten.to_json()} if self.forgotten else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], rules: Rules) -> ScoreBasis:
        compiled = compile_rules(rules)
        if data.get("fingerprint") != compiled.fingerprint or data.get("format") != FORMAT:
            raise StaleBasis("the basis was built with other rules")
        fit_data = data["fit"]
        fit = FitResult(
            points=int(fit_data["points"]),
            contributions=[
                Contribution.model_construct(
                    kind="fit",
                    rule=rule,
                    label=label,
                    count=1,
                    points_now=points,
                    points_full=points,
                    capped=False,
                    event_ids=[],
                )
                for rule, label, points in fit_data["contributions"]
            ],
            disqualified_by=fit_data["disqualified_by"],
            persona=fit_data.get("persona"),  # absent from a basis stored before personas
        )
        tallies = [_tally_from_json(item, compiled.engagement_rules[item["i"]]) for item in data["rules"]]
        last = data.get("profile_last")
        clock = data.get("message_clock")
        return cls(
            compiled.fingerprint,
            fit,
            tallies,
            messages={name: list(found) for name, found in data.get("messages", {}).items()},
            profile_last=(int(last[0]), str(last[1]), str(last[2])) if last else None,
            first_seen_us=data.get("first_seen_us"),
            last_active_us=data.get("last_active_us"),
            recycled_us=data.get("recycled_us"),
            cancelled=cancelled_from_json(data.get("cancelled")),
            message_clock=(int(clock[0]), str(clock[1]), str(clock[2])) if clock else None,
            ignored={
                str(reason): {int(week): int(count) for week, count in weeks}
                for reason, weeks in data.get("ignored", {}).items()
            },
            speed={
                str(kind): {int(seen[0]): _minute(seen[1:]) for seen in minutes}
                for kind, minutes in data.get("speed", {}).items()
            },
            forgotten=Forgotten.from_json(data.get("forgotten")),
            memory_stamp=data.get(STAMP),
        )


def _points(value: int) -> int | float:
    """Micro-points as points: shorter, and exact back (round(points * MICRO))."""
    return value // MICRO if value % MICRO == 0 else value / MICRO


def _minute(seen: list[Any]) -> list[Any]:
    """A speed-limit minute: [events counted, the newest counted key (µs, source, id)]."""
    return [int(seen[0]), (int(seen[1]), str(seen[2]), str(seen[3]))]


def _tally_json(tally: RuleTally) -> dict[str, Any]:
    """Compact on purpose: it is stored with every lead and read and written with each event.
    Entries are ascending anchor deltas (in hours when every clock is on the hour, as past
    EXACT_UP_TO events they are), the distinct values, and one code per entry: weight x values + index."""
    if tally.stored is not None:
        return tally.stored  # as it was read: nothing changed it
    item: dict[str, Any] = {
        "i": tally.spec.index,
        "m": tally.matched,
        "w": [[week, count, _points(value)] for week, (count, value) in sorted(tally.weeks.items())],
        "r": [list(key) for key in tally.recent],
    }
    if tally.bases:
        hourly = all(anchor % HOUR_US == 0 for anchor in tally.anchors)
        unit = HOUR_US if hourly else 1
        deltas, previous = [], 0
        for anchor in tally.anchors:
            deltas.append((anchor - previous) // unit)
            previous = anchor
        item["h" if hourly else "a"] = deltas
        values = sorted(set(tally.bases))
        item["b"] = [int(value) if value == int(value) else value for value in values]
        position = {value: number for number, value in enumerate(values)}
        codes = [weight * len(values) + position[base] for base, weight in zip(tally.bases, tally.weights)]
        if any(code != len(values) for code in codes):  # not every entry one event of the only value
            item["e"] = codes
    if tally.scopes:
        item["s"] = tally.scopes
    if tally.forgotten:
        item["f"] = tally.forgotten.to_json()
    if tally.title:
        item["t"] = list(tally.title)
    return item


def _tally_from_json(item: dict[str, Any], spec: Any) -> RuleTally:
    """Read for every rule on every event (the card needs them all): JSON's own ints and strings
    are taken as they are."""
    tally = RuleTally(spec)
    tally.matched = item["m"]
    tally.weeks = {
        week: [count, value * MICRO if value.__class__ is int else round(value * MICRO)]
        for week, count, value in item["w"]
    }
    tally.recent = list(map(tuple, item["r"]))
    if "h" in item:
        anchors = [hours * HOUR_US for hours in accumulate(item["h"])]
    else:
        anchors = list(accumulate(item.get("a", ())))
    values = [float(value) for value in item.get("b", ())]
    tally.anchors = anchors
    codes = item.get("e")
    if codes is None:  # each entry one event of the only value
        tally.bases = [values[0]] * len(anchors) if anchors else []
        tally.weights = [1] * len(anchors)
    else:
        tally.bases = [values[code % len(values)] for code in codes]
        tally.weights = [code // len(values) for code in codes]
    tally.scopes = {str(scope): int(ends) for scope, ends in item.get("s", {}).items()}
    tally.forgotten = Forgotten.from_json(item.get("f"))
    title = item.get("t")  # absent from a basis stored before titles: reasons fall back to labels
    tally.title = (str(title[0]), str(title[1]), str(title[2])) if title else None
    tally.stored = item
    return tally
