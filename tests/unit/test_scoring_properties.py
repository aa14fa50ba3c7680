"""Properties the engine must hold for any lead history, checked with hypothesis."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.naive import naive_score
from chalicelib.domain import ScoreCard, score
from chalicelib.domain.events import from_us, to_us
from tests.helpers import NOW, default_rules, rules_with
from tests.strategies import lead_events, profiles

RULES = default_rules()
HALF_LIFE_RULES = rules_with(
    decay={
        "email_open": {"half_life_days": 20},
        "email_click": {"half_life_days": 10},
        "email_reply": {"half_life_days": 45},
        "page_view": {"half_life_days": 21, "zero_after_days": 120},
        "content": {"steps": [{"until_days": 60, "keep": 1.0}, {"until_days": 180, "keep": 0.5}]},
        "buying_intent": {"half_life_days": 90},
        "social": {"half_life_days": 14},
    }
)
ONE_US = timedelta(microseconds=1)
later = st.integers(0, 500 * 86_400).map(lambda seconds: timedelta(seconds=seconds))


def _visible(card: ScoreCard) -> tuple[int, str, str]:
    return card.visible


@given(profiles, lead_events(), st.randoms(use_true_random=False))
def test_any_permutation_of_events_gives_the_same_card(profile, events, random) -> None:
    shuffled = list(events)
    random.shuffle(shuffled)
    assert score(profile, shuffled, RULES, NOW) == score(profile, events, RULES, NOW)


@given(profiles, lead_events(max_size=10))
def test_a_redelivered_event_is_counted_once(profile, events) -> None:
    assert score(profile, events + events[:3], RULES, NOW) == score(profile, events, RULES, NOW)


@given(profiles, lead_events(), later, later)
def test_without_new_events_the_score_never_rises(profile, events, first, second) -> None:
    early, late = sorted((first, second))
    for rules in (RULES, HALF_LIFE_RULES):
        before = score(profile, events, rules, NOW + early)
        after = score(profile, events, rules, NOW + late)
        assert after.total <= before.total
        assert after.score <= before.score


def _check_next_change(profile, events, rules, offset) -> None:
    now = NOW + offset
    card = score(profile, events, rules, now)
    change = card.next_change_at
    if change is None:
        assert _visible(score(profile, events, rules, now + timedelta(days=3650))) == card.visible
        return
    assert change > now
    # The total is monotone, so equal visible cards at both ends mean equal everywhere between.
    assert _visible(score(profile, events, rules, change - ONE_US)) == card.visible
    assert _visible(score(profile, events, rules, change)) != card.visible


@given(profiles, lead_events(), later)
def test_card_is_constant_until_next_change_at_and_differs_there(profile, events, offset) -> None:
    _check_next_change(profile, events, RULES, offset)


@settings(max_examples=60)
@given(profiles, lead_events(max_size=15), later)
def test_next_change_at_is_exact_for_half_life_decay_too(profile, events, offset) -> None:
    _check_next_change(profile, events, HALF_LIFE_RULES, offset)


@given(lead_events(), later)
def test_negative_behaviour_never_decays(events, offset) -> None:
    negative_rules = {rule.name for rule in RULES.engagement.rules if rule.points < 0}
    card = score(profile_without_fit(), events, RULES, NOW + offset + timedelta(days=3650))
    for contribution in card.contributions:
        if contribution.rule in negative_rules:
            assert contribution.points_now == contribution.points_full < 0


def profile_without_fit():
    from chalicelib.domain import Profile

    return Profile()


@settings(max_examples=75)
@given(profiles, lead_events(max_size=15), later)
def test_engine_agrees_with_the_naive_baseline(profile, events, offset) -> None:
    """The indexed engine and the sweep for next_change_at give what brute force gives."""
    now = NOW + offset
    card = score(profile, events, RULES, now)
    expected = naive_score(profile, events, RULES, now)
    assert {
        "score": card.score,
        "tier": card.tier,
        "grade": card.grade,
        "next_change_at": card.next_change_at,
    } == expected


@given(st.integers(-(2**52), 2**52))
def test_microsecond_clock_round_trips(value) -> None:
    assert to_us(from_us(value)) == value


@settings(max_examples=60)
@given(profiles, lead_events(), later, later)
def test_a_stored_basis_gives_the_card_a_full_rescore_gives(profile, events, first, second) -> None:
    """What the decay job computes from the lead item equals scoring the events again."""
    import json

    from chalicelib.domain import ScoreBasis, card_from_basis, score_basis

    stored = json.loads(json.dumps(score_basis(profile, events, RULES).to_json()))
    for offset in (first, second):
        restored = ScoreBasis.from_json(stored, RULES)
        assert card_from_basis(restored, RULES, NOW + offset) == score(profile, events, RULES, NOW + offset)


def test_a_basis_from_other_rules_is_refused() -> None:
    import pytest

    from chalicelib.domain import ScoreBasis, StaleBasis, score_basis

    stored = score_basis(profile_without_fit(), [], RULES).to_json()
    with pytest.raises(StaleBasis):
        ScoreBasis.from_json(stored, HALF_LIFE_RULES)
