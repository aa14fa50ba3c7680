"""next_change_at on hand-computed histories: exact for steps, to the microsecond for half-life."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import Profile, score
from tests.helpers import NOW, default_rules, event, rules_with

RULES = default_rules()
D = timedelta(days=1)
US = timedelta(microseconds=1)


def test_an_open_changes_the_score_when_it_halves_at_thirty_days() -> None:
    opened = NOW - 10 * D
    card = score(Profile(), [event("email_open", 10 * D)], RULES, NOW)
    assert card.score == 5
    assert card.next_change_at == opened + 30 * D
    after = score(Profile(), [event("email_open", 10 * D)], RULES, card.next_change_at)
    assert after.score == 3  # 2.5 rounds half up
    assert after.next_change_at == opened + 90 * D


def test_a_change_that_does_not_move_the_integer_score_is_skipped() -> None:
    # 5 + 2 + 2 = 9 now. At 30 days each open halves in turn (two halve together at +30 d of the
    # later pair); only instants where the rounded total moves count.
    events = [event("email_open", 10 * D, message_id="m"), event("email_open", 5 * D, message_id="m"),
              event("email_open", 5 * D, message_id="m")]  # fmt: skip
    card = score(Profile(), events, RULES, NOW)
    assert card.score == 9
    assert card.next_change_at == NOW - 10 * D + 30 * D  # 2.5 + 2 + 2 = 6.5 -> 7


def test_no_change_is_due_when_only_fit_and_negative_behaviour_remain() -> None:
    profile = Profile(job_title="VP", company_size=500)
    card = score(profile, [event("unsubscribe", 5 * D)], RULES, NOW)
    assert card.score == 15
    assert card.next_change_at is None


def test_a_zero_score_never_changes_without_new_events() -> None:
    card = score(Profile(email="a@gmail.com"), [event("email_open", D)], RULES, NOW)
    assert card.score == 0
    assert card.next_change_at is None


def test_caps_delay_the_visible_change() -> None:
    # Three pricing views (60 raw, capped at 40). The oldest halving leaves 50: still capped.
    events = [page_view(20 * D), page_view(10 * D), page_view(5 * D)]
    card = score(Profile(), events, RULES, NOW)
    assert card.score == 40
    # 20-day-old halves at +10 d (50, capped 40); 10-day-old at +20 d (40, still 40); 5-day-old at +25 d: 30
    assert card.next_change_at == NOW + 25 * D


def page_view(ago: timedelta):
    return event("page_view", ago, url="https://example.com/pricing")


def test_half_life_change_is_found_to_the_microsecond() -> None:
    rules = rules_with(decay={**default_rules().model_dump()["decay"], "email_open": {"half_life_days": 30}})
    events = [event("email_open", timedelta(0))]
    card = score(Profile(), events, rules, NOW)
    assert card.score == 5
    change = card.next_change_at
    # 5 * 0.5 ** (t / 30 d) < 4.5  <=>  t > 30 d * log2(5 / 4.5) ~= 4.56 days
    assert abs((change - NOW) - timedelta(days=30) * 0.15200309344504997) < timedelta(seconds=1)
    assert score(Profile(), events, rules, change - US).score == 5
    assert score(Profile(), events, rules, change).score == 4
