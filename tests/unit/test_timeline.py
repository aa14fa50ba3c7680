"""The score timeline: the past recomputed from the events a day at a time, the future from decay."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import Profile, score
from chalicelib.domain.folding import full_basis
from chalicelib.domain.scoring import card_from_basis
from chalicelib.domain.timeline import score_timeline
from tests.helpers import NOW, default_rules
from tests.strategies import lead_events

RULES = default_rules()


@settings(max_examples=60, deadline=None)
@given(lead_events(max_size=40, max_age=timedelta(days=120)), st.integers(0, 90))
def test_each_past_day_is_what_the_events_up_to_it_scored_then(events, days_ago):
    points = score_timeline(events, RULES, NOW)
    assert len(points) == 91 + 90
    past = [point for point in points if not point.projected]
    assert [point.at for point in past] == [NOW - timedelta(days=days) for days in range(90, -1, -1)]
    at = NOW - timedelta(days=days_ago)
    _, basis = full_basis([event for event in events if event.occurred_at <= at], RULES, at)
    then = card_from_basis(basis, RULES, at)
    point = past[90 - days_ago]
    assert (point.score, point.fit, point.engagement) == (then.score, then.fit, then.engagement)
    assert past[-1].score == score(Profile(), events, RULES, NOW).score  # the last: a rescore now


@settings(max_examples=40, deadline=None)
@given(lead_events(max_size=40, max_age=timedelta(days=60)))
def test_the_future_is_decay_alone(events):
    points = score_timeline(events, RULES, NOW)
    future = [point for point in points if point.projected]
    assert [point.at for point in future] == [NOW + timedelta(days=days) for days in range(1, 91)]
    _, basis = full_basis(events, RULES, NOW)
    for point in future[::15]:
        assert point.score == card_from_basis(basis, RULES, point.at).score
    scores = [points[90].score] + [point.score for point in future]
    assert scores == sorted(scores, reverse=True)  # the default rules only ever decay
