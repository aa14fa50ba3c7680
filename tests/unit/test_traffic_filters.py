"""Crawlers, bursts and spam forms are kept, counted in the card and never scored."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from chalicelib.domain import LeadEvent, Profile
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.folding import full_basis
from chalicelib.domain.profile import PROFILE_EVENT
from chalicelib.domain.rules_yaml import RulesError, parse_rules
from chalicelib.domain.scoring import card_from_basis, score
from chalicelib.rules import DEFAULT_RULES_PATH
from tests.helpers import NOW, default_rules, rules_with

RULES = default_rules()
FIXTURES = Path(__file__).parents[1] / "fixtures"
# Segment's own "Group" spec example: a person's browser.
BROWSER = json.loads((FIXTURES / "segment" / "spec-group.json").read_text())["context"]["userAgent"]
GOOGLEBOT = CRAWLER_USER_AGENTS_DATA[0]["instances"][1]


def page(number: int, agent: str | None = BROWSER, ago: timedelta = timedelta(hours=1), path: str = "/pricing"):
    props = {"url": f"https://example.com{path}"}
    if agent is not None:
        props["user_agent"] = agent
    return LeadEvent(event_id=f"p{number}", source="segment", type="page_view", occurred_at=NOW - ago, properties=props)


def test_every_user_agent_the_maintained_list_gives_as_a_crawler_example_is_one() -> None:
    """The crawler-user-agents project ships example user agents with each pattern."""
    filters = compile_rules(RULES).filters
    examples = [agent for entry in CRAWLER_USER_AGENTS_DATA for agent in entry.get("instances", [])]
    assert len(examples) > 2000
    missed = [agent for agent in examples if filters.reason({"user_agent": agent}) != "crawler"]
    assert missed == []
    assert filters.reason({"user_agent": BROWSER}) is None


def test_crawler_page_views_are_counted_in_the_card_and_never_scored() -> None:
    events = [page(n, GOOGLEBOT, ago=timedelta(hours=n)) for n in range(312)] + [page(999, BROWSER)]
    card = score(Profile(), events, RULES, NOW)
    assert card.engagement == 20  # the one view by a browser
    (ignored,) = card.ignored
    assert (ignored.reason, ignored.count, str(ignored)) == ("crawler", 312, "ignored: crawler user agent ×312")
    assert card.bot_like
    assert card.reasons()[0] == "Mostly bot-like traffic"
    assert "ignored: crawler user agent ×312" in card.reasons()


def test_a_few_ignored_events_do_not_make_a_lead_bot_like() -> None:
    events = [page(n, GOOGLEBOT, ago=timedelta(days=n)) for n in range(5)] + [
        page(100 + n, BROWSER, ago=timedelta(days=n), path=path) for n, path in enumerate(["/", "/docs/a", "/blog/b"])
    ]
    card = score(Profile(), events, RULES, NOW)
    assert card.ignored[0].count == 5 and not card.bot_like


def test_more_page_views_a_minute_than_a_person_makes_are_not_scored() -> None:
    burst = [page(n, None, ago=timedelta(minutes=30, seconds=-(n % 50))) for n in range(100)]  # in one minute
    _, basis = full_basis(burst, RULES, NOW)
    card = card_from_basis(basis, RULES, NOW)
    (ignored,) = card.ignored
    assert (ignored.reason, ignored.count, ignored.label) == ("too_fast", 40, "faster than a person")
    pricing = next(c for c in card.contributions if c.rule == "page_pricing")
    assert pricing.count == 60


def test_a_form_that_fills_a_honeypot_field_is_ignored_profile_and_all() -> None:
    fields = ["Email", "Job title", "_gotcha"]
    events = [
        LeadEvent(
            event_id="s1:profile", source="typeform", type=PROFILE_EVENT, occurred_at=NOW,
            properties={"profile": {"job_title": "CEO", "company_size": 5000}, "form_fields": fields},
        ),
        LeadEvent(
            event_id="s1", source="typeform", type="demo_request", occurred_at=NOW,
            properties={"form_id": "f", "form_name": "Book a demo", "form_fields": fields},
        ),
    ]  # fmt: skip
    profile, basis = full_basis(events, RULES, NOW)
    card = card_from_basis(basis, RULES, NOW)
    assert (card.score, profile) == (0, Profile())
    assert [(item.reason, item.count) for item in card.ignored] == [("honeypot", 2)]
    assert card_from_basis(full_basis(_without(events, "_gotcha"), RULES, NOW)[1], RULES, NOW).score > 50


def _without(events: list[LeadEvent], field: str) -> list[LeadEvent]:
    return [
        event.model_copy(update={"properties": {**event.properties, "form_fields": ["Email", "Job title"]}})
        for event in events
    ]


def test_ignored_events_stop_counting_once_they_are_old() -> None:
    events = [page(n, GOOGLEBOT, ago=timedelta(days=100)) for n in range(30)]
    assert score(Profile(), events, RULES, NOW).ignored == []


def test_the_filters_can_be_turned_off_and_tuned_in_the_rules_file() -> None:
    off = rules_with(filters={"crawler_user_agents": None, "speed_limits": {}, "honeypot_fields": []})
    events = [page(n, GOOGLEBOT, ago=timedelta(seconds=n)) for n in range(80)]
    assert score(Profile(), events, off, NOW).ignored == []
    strict = rules_with(filters={"speed_limits": {"Page Viewed": 2}})  # an alias of page_view
    burst = [page(n, None, ago=timedelta(minutes=30, seconds=-n)) for n in range(5)]
    assert score(Profile(), burst, strict, NOW).ignored[0].count == 3


def test_a_rules_file_without_filters_still_filters_crawlers() -> None:
    import yaml

    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text())
    data.pop("filters")
    data["lists"].pop("crawler_user_agents")
    rules = parse_rules(yaml.safe_dump(data), source="test")
    assert score(Profile(), [page(1, GOOGLEBOT)], rules, NOW).ignored[0].reason == "crawler"


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"crawler_user_agents": "bots"}, "list 'bots' is not defined under lists"),
        ({"speed_limits": {"page_veiw": 10}}, "'page_veiw' is neither \"form\" nor an event type"),
        ({"speed_limits": {"form": 0}}, "at least 1 event a minute"),
        ({"speed_limits": {"email_sent": 5}}, "email sends come from the CRM"),
        ({"bot_like": {"share": 1.5}}, "less than or equal to 1"),
        ({"surprise": True}, "unknown key `surprise` (keys here: bot_like, crawler_user_agents, honeypot_fields, "),
        ({"speed_limit": {"form": 5}}, "unknown key `speed_limit`; did you mean `speed_limits`?"),
        ({"speed_limits": {"page_veiw": 10}}, "did you mean `page_view`?"),
    ],
)
def test_rules_validate_checks_the_filters(filters, message) -> None:
    with pytest.raises(RulesError) as caught:
        rules_with(filters=filters)
    assert message in str(caught.value)


def test_a_crawler_pattern_that_is_no_regular_expression_is_refused() -> None:
    import yaml

    lists = yaml.safe_load(DEFAULT_RULES_PATH.read_text())["lists"]
    with pytest.raises(RulesError) as caught:
        rules_with(lists={**lists, "crawler_user_agents": ["Googlebot", "bad(regex"]})
    assert "lists.crawler_user_agents[1]" in str(caught.value) and "not a regular expression" in str(caught.value)
