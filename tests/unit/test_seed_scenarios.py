"""The scenario table, straight from the seed documents and DESIGN.md's seed model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import Profile, score
from tests.helpers import NOW, default_rules, engagement_of, event, page

RULES = default_rules()
H = timedelta(hours=1)
D = timedelta(days=1)


def test_three_opens_of_one_email_score_nine() -> None:
    events = [event("Email Opened", ago, message_id="m-1") for ago in (3 * H, 2 * H, H)]
    card = score(Profile(), events, RULES, NOW)
    assert card.engagement == 9
    assert card.score == 9
    (opens,) = [c for c in card.contributions if c.rule == "email_open"]
    assert opens.count == 3 and opens.points_full == 9


def test_opens_of_two_emails_each_start_at_five() -> None:
    events = [event("email_open", H, message_id="a"), event("email_open", H, message_id="b")]
    assert score(Profile(), events, RULES, NOW).engagement == 10


def test_reply_thirty_minutes_after_sending_scores_sixty() -> None:
    events = [
        event("Email Sent", timedelta(minutes=60), message_id="m-2"),
        event("Email Replied", timedelta(minutes=30), message_id="m-2"),
    ]
    card = score(Profile(), events, RULES, NOW)
    assert card.engagement == 60
    assert card.tier == "warm"


def test_reply_uses_its_own_sent_at_when_no_sent_event_is_known() -> None:
    sent_at = (NOW - timedelta(minutes=45)).isoformat()
    card = score(Profile(), [event("email_reply", timedelta(minutes=15), sent_at=sent_at)], RULES, NOW)
    assert card.engagement == 60


def test_open_forty_days_old_counts_two_and_a_half() -> None:
    card = score(Profile(), [event("email_open", 40 * D, message_id="m")], RULES, NOW)
    assert card.engagement == 2.5
    assert card.score == 3  # rounded half up


def test_vp_at_250_person_company_is_fit_35_grade_a() -> None:
    card = score(Profile(job_title="VP of Sales", company_size=250), [], RULES, NOW)
    assert card.fit == 35
    assert card.grade == "A"
    assert {c.rule: c.points_now for c in card.contributions} == {"company_size": 20, "job_title": 15}


def test_pricing_page_view_plus_demo_request_is_seventy_engagement() -> None:
    card = score(Profile(), [page("/pricing", H), event("Demo Requested", H)], RULES, NOW)
    assert card.engagement == 70
    assert card.tier == "hot"
    assert card.mql is True


def test_competitor_domain_is_disqualified_whatever_its_score() -> None:
    profile = Profile(email="ceo@competitor.example", job_title="CEO", company_size=5000, industry="Software")
    events = [event("demo_request", H), page("/pricing", H), event("trial_started", H)]
    card = score(profile, events, RULES, NOW)
    assert card.score > 100
    assert card.tier == "disqualified"
    assert card.disqualified_by == "competitor"
    assert card.mql is False


def test_unsubscribe_four_hundred_days_old_still_counts_minus_twenty() -> None:
    profile = Profile(job_title="VP Marketing", company_size=500)
    card = score(profile, [event("Unsubscribed", 400 * D)], RULES, NOW)
    assert engagement_of(card, "unsubscribe") == -20
    assert card.score == 15


@pytest.mark.parametrize(
    ("path", "points"),
    [
        ("/", 5),
        ("/blog/how-to-score-leads", 10),
        ("/pricing", 20),
        ("/docs/api/webhooks", 25),
        ("/specs/security", 25),
        ("/case-studies/acme", 30),
        ("/customers/globex", 30),
        ("/compare/hubspot", 25),
        ("/vs/pardot", 25),
    ],
)
def test_page_view_points_by_category(path: str, points: int) -> None:
    assert score(Profile(), [page(path, H)], RULES, NOW).engagement == points


def test_careers_page_is_a_job_seeker_signal() -> None:
    profile = Profile(job_title="Director of IT", company_size=120)
    card = score(profile, [page("/careers", H), page("/jobs/backend-engineer", H)], RULES, NOW)
    assert engagement_of(card, "page_careers") == -10


def test_fifteen_minutes_in_docs_adds_depth() -> None:
    card = score(Profile(), [page("/docs/setup", H, duration_seconds=960)], RULES, NOW)
    assert card.engagement == 35
    card = score(Profile(), [page("/docs/setup", H, duration_seconds=600)], RULES, NOW)
    assert card.engagement == 25


@pytest.mark.parametrize(
    ("event_name", "properties", "points"),
    [
        ("Email Link Clicked", {}, 15),
        ("Content Downloaded", {"content_type": "whitepaper"}, 15),
        ("Content Downloaded", {"content_type": "case_study"}, 20),
        ("Webinar Registered", {}, 10),
        ("Webinar Attended", {}, 25),
        ("Demo Requested", {}, 50),
        ("Trial Started", {}, 30),
        ("Quote Requested", {}, 30),
        ("Social Engagement", {"action": "like"}, 2),
        ("Social Engagement", {"action": "comment"}, 5),
        ("Social Engagement", {"action": "share"}, 8),
        ("Social Engagement", {"action": "profile_view"}, 3),
        ("Social Engagement", {"action": "company_page_visit"}, 3),
        ("Social Engagement", {"action": "direct_message"}, 15),
        ("Email Bounced", {}, -10),
        ("Email Marked as Spam", {}, -50),
    ],
)
def test_engagement_point_table(event_name: str, properties: dict, points: int) -> None:
    profile = Profile(job_title="CTO", company_size=1000, industry="software", country="US")  # fit 50
    card = score(profile, [event(event_name, timedelta(days=7), **properties)], RULES, NOW)
    assert card.engagement == points


def test_soft_bounce_is_not_a_hard_bounce() -> None:
    assert score(Profile(), [event("email_bounce", H, bounce_type="soft")], RULES, NOW).engagement == 0


@pytest.mark.parametrize(
    ("total", "tier"),
    [(0, "cold"), (30, "cold"), (31, "warm"), (60, "warm"), (61, "hot"), (100, "hot"), (101, "super_hot")],
)
def test_tier_boundaries(total: int, tier: str) -> None:
    # 20 (size) + 15 (VP) + 10 (industry) + 5 (country) + 5 (source) = 55 fit at most; build totals from events.
    events = [event("email_open", H, message_id=f"m{i}") for i in range(total // 5)]
    card = score(Profile(), events, RULES, NOW)
    assert card.score == total - total % 5
    if total % 5 == 0:
        assert card.tier == tier


@pytest.mark.parametrize(("fit_profile", "grade"), [
    ({"job_title": "VP", "company_size": 100}, "A"),  # 35
    ({"job_title": "Manager", "company_size": 100}, "B"),  # 30
    ({"job_title": "Manager", "company_size": 60}, "C"),  # 20
    ({"job_title": "Analyst", "company_size": 10}, "D"),  # 5
])  # fmt: skip
def test_grade_bands(fit_profile: dict, grade: str) -> None:
    assert score(Profile(**fit_profile), [], RULES, NOW).grade == grade
