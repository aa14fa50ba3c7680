"""Fit attributes, grades, tiers with hysteresis, and the profile/event models that feed them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.domain import LeadEvent, Profile, score
from chalicelib.domain.tiers import tier_for
from tests.helpers import NOW, default_rules, event, rules_with

RULES = default_rules()


def fit_of(**profile) -> int:
    return score(Profile(**profile), [], RULES, NOW).fit


@pytest.mark.parametrize(
    ("title", "points"),
    [
        ("CEO", 15), ("Chief Revenue Officer", 15), ("SVP, Sales", 15), ("Vice President Marketing", 15),
        ("Director of Demand Gen", 15), ("Head of RevOps", 15), ("Co-Founder", 15), ("cto", 15),
        ("Marketing Manager", 10), ("Team Lead, SDR", 10), ("Sales Engineer", 5), ("Analyst", 5),
        ("", 0), (None, 0),
    ],
)  # fmt: skip
def test_job_title_seniority(title: str | None, points: int) -> None:
    assert fit_of(job_title=title) == points


@pytest.mark.parametrize(("size", "points"), [(None, 0), (1, 0), (49, 0), (50, 10), (99, 10), (100, 20), (10_000, 20)])
def test_company_size_bands(size: int | None, points: int) -> None:
    assert fit_of(company_size=size) == points


@pytest.mark.parametrize(
    ("raw", "parsed"), [("250", 250), ("1,000", 1000), ("100-500", 100), ("1000+", 1000), ("50 - 99", 50),
                        ("unknown", None), (-3, None), (None, None), (75.0, 75)]
)  # fmt: skip
def test_company_size_accepts_crm_ranges_at_their_lower_bound(raw, parsed) -> None:
    assert Profile(company_size=raw).company_size == parsed


def test_industry_country_and_source_lists_ignore_case_and_separators() -> None:
    assert fit_of(industry="Computer Software", country="us", lead_source="ORGANIC_SEARCH") == 20
    assert fit_of(lead_source="Partner-Referral") == 5
    assert fit_of(industry="Retail", country="Brazil", lead_source="PAID_SOCIAL") == 0


def test_free_mail_and_student_penalties() -> None:
    assert fit_of(email="Jane@GMAIL.com") == -5
    assert fit_of(email="jane@cs.stanford.edu") == -10
    assert fit_of(email="jane@ox.ac.uk") == -10
    assert fit_of(job_title="PhD Student") == 5 - 10  # "other title" then the student penalty
    assert fit_of(email="jane@mail.acme.com") == 0
    assert fit_of(email="jane@notgmail.com") == 0


def test_a_disposable_address_from_the_maintained_list_costs_points() -> None:
    assert fit_of(email="x7@mailinator.com") == -20
    assert fit_of(email="x7@10MinuteMail.com") == -20
    assert fit_of(email="x7@eu.mailinator.com") == -20  # a subdomain of a listed domain
    assert fit_of(email="x7@mailinator.company.com") == 0
    disposable = next(c for c in score(Profile(email="a@mailinator.com"), [], RULES, NOW).contributions)
    assert (disposable.rule, disposable.points_now) == ("disposable_email", -20)
    assert len(RULES.lists["disposable_email_domains"]) > 5000


def test_a_subdomain_of_a_competitor_is_a_competitor() -> None:
    card = score(Profile(email="x@eu.competitor.example"), [], RULES, NOW)
    assert card.tier == "disqualified"


def test_sales_marking_a_lead_not_a_fit_disqualifies_until_it_changes() -> None:
    events = [event("demo_request", timedelta(hours=1))]
    assert score(Profile(lead_status="UNQUALIFIED"), events, RULES, NOW).tier == "disqualified"
    assert score(Profile(lead_status="IN_PROGRESS"), events, RULES, NOW).tier == "warm"


def test_tech_stack_lists_match_any_item() -> None:
    rules = rules_with(fit=[{"name": "uses_salesforce", "attribute": "tech_stack", "in": ["salesforce"], "points": 7}])
    assert score(Profile(tech_stack="HubSpot;Salesforce"), [], rules, NOW).fit == 7
    assert score(Profile(tech_stack=["Pipedrive"]), [], rules, NOW).fit == 0


def test_fit_contributions_explain_each_matched_option() -> None:
    card = score(Profile(job_title="VP", company_size=30, email="a@gmail.com"), [], RULES, NOW)
    assert [(c.rule, c.label, c.points_now) for c in card.contributions] == [
        ("job_title", "C-level, VP, Director or Head of", 15),
        ("free_mail", "Uses a free-mail address", -5),
        ("company_size", "under 50 employees", 0),
    ]


BANDS = [(0, "cold"), (31, "warm"), (61, "hot"), (101, "super_hot")]


@pytest.mark.parametrize(
    ("score_now", "previous", "hysteresis", "tier"),
    [
        (58, "hot", 5, "hot"),  # within 5 below the hot boundary: stays hot
        (56, "hot", 5, "hot"),
        (55, "hot", 5, "warm"),
        (58, "hot", 0, "warm"),
        (95, "super_hot", 10, "super_hot"),
        (90, "super_hot", 10, "hot"),  # fell past super_hot's margin, still hot
        (55, "super_hot", 10, "hot"),  # far below super_hot, but within 10 of hot
        (50, "super_hot", 10, "warm"),
        (62, "warm", 5, "hot"),  # rising has no hysteresis
        (20, None, 5, "cold"),
    ],
)
def test_hysteresis_only_slows_a_drop(score_now: int, previous: str | None, hysteresis: int, tier: str) -> None:
    assert tier_for(score_now, BANDS, hysteresis, previous) == tier


def test_hysteresis_from_the_rules_file_applies_through_score() -> None:
    tiers = {**RULES.tiers.model_dump(), "hysteresis": 5}
    rules = rules_with(tiers=tiers)
    events = [event("email_open", timedelta(hours=1), message_id=f"m{i}") for i in range(12)]  # 60
    assert score(Profile(), events, rules, NOW).tier == "warm"
    assert score(Profile(), events, rules, NOW, previous_tier="hot").tier == "hot"


def test_events_normalise_times_and_typed_properties() -> None:
    evt = LeadEvent(
        event_id="1",
        source="segment",
        type="email_click",
        occurred_at="2026-11-22T10:00:00Z",
        identities={"email": " Jane@Acme.COM "},
        properties={"sent_at": 1795340000000, "duration_seconds": "930", "message_id": 42},
    )
    assert evt.occurred_at == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert evt.identities.email == "jane@acme.com"
    assert evt.properties["sent_at"] == datetime.fromtimestamp(1795340000, tz=UTC)
    assert evt.properties["duration_seconds"] == 930.0
    assert evt.properties["message_id"] == "42"
    naive = LeadEvent(event_id="2", source="s", type="t", occurred_at=datetime(2026, 1, 1))
    assert naive.occurred_at.tzinfo is UTC


@pytest.mark.parametrize("bad", [{"event_id": ""}, {"occurred_at": "yesterday"}, {"occurred_at": None}, {"x": 1}])
def test_malformed_events_are_rejected(bad: dict) -> None:
    fields = {"event_id": "1", "source": "s", "type": "t", "occurred_at": "2026-11-22T10:00:00Z", **bad}
    with pytest.raises(ValidationError):
        LeadEvent(**fields)
