"""'then +N' scopes, distinct-day rules, caps and the response-time / campaign multipliers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import Profile, score
from tests.helpers import NOW, default_rules, engagement_of, event, page

RULES = default_rules()
H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)


def card_of(*events):
    return score(Profile(), list(events), RULES, NOW)


def test_then_counts_per_message_for_email_rules() -> None:
    card = card_of(
        event("email_click", 3 * H, message_id="a"),
        event("email_click", 2 * H, message_id="a"),
        event("email_click", 2 * H, message_id="b"),
    )
    # no send time known: multiplier 1.0; message a: 15 + 5, message b: 15
    assert engagement_of(card, "email_click") == 35


def test_the_first_occurrence_is_the_earliest_whatever_the_delivery_order() -> None:
    late_first = [event("email_reply", 1 * D, message_id="a", sent_at=(NOW - 1 * D - 30 * M).isoformat()),
                  event("email_reply", 2 * D, message_id="a", sent_at=(NOW - 5 * D).isoformat())]  # fmt: skip
    card = card_of(*late_first)
    # earliest reply (2 days ago, 3 days after sending): 30 x 1.0; later one (30 min after): 10 x 2.0
    assert engagement_of(card, "email_reply") == 50


def test_repeated_page_views_add_up_to_the_cap() -> None:
    card = card_of(*[page("/pricing", i * H) for i in range(1, 5)])
    (pricing,) = [c for c in card.contributions if c.rule == "page_pricing"]
    assert (pricing.count, pricing.points_now, pricing.capped) == (4, 40, True)


def test_page_categories_are_counted_apart() -> None:
    card = card_of(page("/pricing", H), page("/blog/x", H), page("/blog/y", H))
    assert engagement_of(card, "page_pricing") == 20
    assert engagement_of(card, "page_blog") == 20


def test_a_demo_request_is_earned_once_at_a_time_and_again_after_it_decays() -> None:
    assert card_of(event("demo_request", D), event("demo_request", 2 * D)).engagement == 50
    # one at 200 days (decayed to 0) and a fresh one: the fresh one earns in full
    assert card_of(event("demo_request", 200 * D), event("demo_request", D)).engagement == 50
    # one at 100 days (half value) and a fresh one: capped at 50
    assert card_of(event("demo_request", 100 * D), event("demo_request", D)).engagement == 50


def test_trial_active_on_three_distinct_days_earns_twenty_once() -> None:
    two_days = [event("trial_active", D), event("trial_active", D + H), event("trial_active", 2 * D)]
    card = card_of(*two_days)
    (active,) = [c for c in card.contributions if c.rule == "trial_active"]
    assert (active.count, active.points_now, len(active.event_ids)) == (3, 0, 2)

    five_days = [event("trial_active", day * D, event_id=f"day-{day}") for day in range(1, 6)]
    card = card_of(*five_days)
    (active,) = [c for c in card.contributions if c.rule == "trial_active"]
    assert active.points_now == 20
    assert active.event_ids == ["day-5", "day-4", "day-3"]  # the three days that earned it


def test_trial_active_decays_from_the_day_it_was_earned() -> None:
    days = [event("trial_active", age) for age in (100 * D, 99 * D, 98 * D)]
    # earned 98 days ago: buying intent keeps 50% between 90 and 180 days
    assert card_of(*days).engagement == 10


@pytest.mark.parametrize(
    ("after_sending", "factor"),
    [
        (30 * M, 2.0),
        (60 * M, 2.0),
        (61 * M, 1.5),
        (24 * H, 1.5),
        (25 * H, 1.2),
        (48 * H, 1.2),
        (49 * H, 1.0),
    ],
)
def test_response_time_multiplier_bands(after_sending: timedelta, factor: float) -> None:
    card = card_of(
        event("email_sent", after_sending + M, message_id="m"),
        event("email_click", M, message_id="m"),
    )
    assert engagement_of(card, "email_click") == 15 * factor


@pytest.mark.parametrize(
    ("campaign", "factor"), [("cold_outreach", 1.5), ("nurture", 1.0), ("sales_follow_up", 1.2), ("other", 1.0)]
)
def test_campaign_context_multiplier_comes_from_the_sent_email(campaign: str, factor: float) -> None:
    card = card_of(
        event("email_sent", 10 * D, message_id="m", campaign_type=campaign),
        event("email_reply", D, message_id="m"),
    )
    assert engagement_of(card, "email_reply") == pytest.approx(30 * factor)


def test_multipliers_compose_and_apply_to_then_values() -> None:
    card = card_of(
        event("email_sent", 2 * H, message_id="m", campaign_type="cold_outreach"),
        event("email_click", 90 * M, message_id="m"),  # 30 min after: x2.0
        event("email_click", 30 * M, message_id="m"),  # 90 min after: x1.5
    )
    assert engagement_of(card, "email_click") == 15 * 2.0 * 1.5 + 5 * 1.5 * 1.5


def test_opens_get_no_multiplier() -> None:
    card = card_of(event("email_sent", 2 * M, message_id="m", campaign_type="cold_outreach"),
                   event("email_open", M, message_id="m"))  # fmt: skip
    assert card.engagement == 5


def test_click_decay_keeps_sixty_percent_after_fourteen_days() -> None:
    assert card_of(event("email_click", 20 * D)).engagement == 9
    assert card_of(event("email_click", 90 * D)).engagement == 0


def test_unmapped_event_types_earn_nothing_but_do_not_fail() -> None:
    assert card_of(event("Something Custom", H), event("video_progress", H)).engagement == 0
