"""A lead's score over time: the past recomputed from its events, a point a day, as the engine
would have scored them then; the future projected from decay alone (no new events).

The past is one fold over the events in time order (`engagement.Folder`, as a full rescore), with
the card taken at the end of each day: the events up to that instant, what had ended by then
dropped, as a fold at that instant would. So the last past point is the card a rescore gives now.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .basis import ScoreBasis
from .cancellations import standing
from .compiled_rules import compile_rules
from .engagement import Folder, canonical_order, fold_ordered
from .events import LeadEvent, as_utc, to_us
from .fit import evaluate_fit
from .profile import PROFILE_EVENT, fold_profile
from .recycle import cutoff_us, is_recycle, loses
from .rules import Rules
from .scorecard import ScoreCard
from .scoring import card_from_basis

DAY = timedelta(days=1)


@dataclass(frozen=True)
class TimelinePoint:
    at: datetime
    score: int
    fit: int
    engagement: float
    tier: str
    projected: bool  # after `now`: decay alone


def score_timeline(
    events: Iterable[LeadEvent], rules: Rules, now: datetime, past_days: int = 90, future_days: int = 90
) -> list[TimelinePoint]:
    """`past_days` + 1 points up to `now` (one a day, the last at `now`), then `future_days`."""
    compiled = compile_rules(rules)
    now = as_utc(now)
    checkpoints = [now - DAY * days for days in range(past_days, 0, -1)] + [now]
    ordered = canonical_order(standing(events))
    folder = Folder(compiled)
    folder.remembered = sys.maxsize  # never stored: it remembers every email and scope
    patches: list[tuple[tuple[int, str, str], dict[str, object]]] = []
    fit = evaluate_fit(fold_profile(patches), compiled)
    points: list[TimelinePoint] = []
    tier: str | None = None
    position = 0
    basis = None
    recycled: int | None = None
    on_lost = rules.crm_actions.recycle_on_lost
    for checkpoint in checkpoints:
        until_us = to_us(checkpoint)
        profile_changed = False
        while position < len(ordered) and ordered[position][0] <= until_us:
            occurred_us, event = ordered[position]
            position += 1
            patch = (event.properties.get("profile") or {}) if event.type == PROFILE_EVENT else {}
            lost = on_lost and event.type == PROFILE_EVENT and loses(fold_profile(patches), patch)
            if event.type == PROFILE_EVENT:
                key = (occurred_us, event.source, event.event_id)
                if folder.skip(key, PROFILE_EVENT, event.properties) is None:
                    patches.append((key, event.properties.get("profile") or {}))
                    profile_changed = True
                if not lost:
                    continue
            if is_recycle(event) or lost:
                # What counts from here on changed: fold again what the lead did after the recycle
                # in force (rare: a recycle, its undo, a loss that recycles).
                recycled = cutoff_us(ordered[:position], on_lost)
                folder = Folder(compiled)
                folder.remembered = sys.maxsize
                fold_ordered(folder, [(us, done) for us, done in ordered[:position] if us > (recycled or -1)
                                      and done.type != PROFILE_EVENT and not is_recycle(done)])  # fmt: skip
                continue
            if recycled is not None and occurred_us <= recycled:
                continue
            folder.fold(occurred_us, event, compiled.canonical_type(event.type))
        if profile_changed:
            fit = evaluate_fit(fold_profile(patches), compiled)
        basis = ScoreBasis.folded(folder, fit, folder.result(until_us))
        card = card_from_basis(basis, rules, checkpoint, previous_tier=tier)
        points.append(_point(card, checkpoint, projected=False))
        tier = card.tier
    assert basis is not None
    for days in range(1, future_days + 1):
        at = now + DAY * days
        card = card_from_basis(basis, rules, at, previous_tier=tier)
        points.append(_point(card, at, projected=True))
        tier = card.tier
    return points


def _point(card: ScoreCard, at: datetime, projected: bool) -> TimelinePoint:
    return TimelinePoint(at, card.score, card.fit, card.engagement, card.tier, projected)
