"""Named scores beside the main one: the engagement of the events a `when` selects (a site
section, event types, properties), explained and decaying like the main score; folded in at the
cost of the events in hand, equal to a rescore from every event, and decayed from the basis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.memory import InMemoryStorage
from tests.helpers import NOW, use_cases

SCORES = """
scores:
  product_analytics:
    label: Interest in Analytics
    when: {page_path_prefix: /analytics}
    properties: {hubspot: lead_score_analytics, salesforce: Lead_Score_Analytics__c}
  buying:
    label: Buying signals
    when: {event_types: [demo_request, quote_request, trial_started]}
"""
RULES = parse_rules(DEFAULT_RULES_PATH.read_text() + SCORES, "named.yaml")


def _event(event_id: str, kind: str, ago: timedelta, **properties: Any) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="segment", type=kind, occurred_at=NOW - ago,
                     identities=Identities(user_id="u1"), properties=properties)  # fmt: skip


def _view(event_id: str, path: str, ago: timedelta = timedelta(hours=1)) -> LeadEvent:
    return _event(event_id, "Page Viewed", ago, url=f"https://acme.example{path}")


HISTORY = [_view("v1", "/analytics/pricing"), _view("v2", "/analytics"), _view("v3", "/pricing"),
           _event("d1", "Demo Requested", timedelta(hours=2)), _view("v4", "/blog/x", timedelta(days=40))]  # fmt: skip


def _card(storage: InMemoryStorage) -> Any:
    lead_id = storage.leads.resolve(["user:u1"])["user:u1"]
    record = storage.leads.get_lead(lead_id)
    assert record is not None and record.card is not None
    return record.card


def test_each_named_score_counts_only_the_events_it_selects_and_names_its_reasons() -> None:
    storage = InMemoryStorage()
    use_cases(storage, lambda: RULES).ingestion.ingest(ParsedDelivery(events=HISTORY), NOW)
    card = _card(storage)
    named = {item.name: item for item in card.named}
    analytics = named["product_analytics"]
    # The section read as a site of its own: its pricing page and its landing page.
    assert (analytics.label, analytics.score) == ("Interest in Analytics", 25)
    assert any("pricing" in reason.lower() for reason in analytics.reasons)
    assert analytics.properties == {"hubspot": "lead_score_analytics", "salesforce": "Lead_Score_Analytics__c"}
    assert named["buying"].score == 50  # the demo request alone
    assert card.score > analytics.score  # the main score counts everything
    assert card.named_visible == {"product_analytics": 25, "buying": 50}


def test_folding_new_events_equals_a_rescore_from_every_event() -> None:
    storage = InMemoryStorage()
    parts = use_cases(storage, lambda: RULES)
    parts.ingestion.ingest(ParsedDelivery(events=HISTORY[:2]), NOW)
    later = NOW + timedelta(minutes=5)
    parts.ingestion.ingest(ParsedDelivery(events=HISTORY[2:]), later)
    folded = _card(storage)
    rescored = parts.rescorer.rescore(storage.leads.resolve(["user:u1"])["user:u1"], later).after
    assert folded.named == rescored.named and folded.score == rescored.score


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["/analytics/pricing", "/analytics/docs/a", "/pricing", "/analytics"]),
                          st.integers(min_value=0, max_value=200)), min_size=1, max_size=12))  # fmt: skip
def test_decay_from_the_basis_equals_a_rescore_at_any_later_day(views: list[tuple[str, int]]) -> None:
    storage = InMemoryStorage()
    parts = use_cases(storage, lambda: RULES)
    events = [_view(f"v{index}", path, timedelta(days=days)) for index, (path, days) in enumerate(views)]
    parts.ingestion.ingest(ParsedDelivery(events=events), NOW)
    card = _card(storage)
    due = card.due_at
    if due is None:
        return
    later = due + timedelta(hours=1)
    parts.upkeep.run(later)
    decayed = _card(storage)
    fresh = parts.rescorer.rescore(storage.leads.resolve(["user:u1"])["user:u1"], later).after
    assert decayed.named_visible == fresh.named_visible
    assert decayed.named == fresh.named


def test_named_scores_are_checked_with_the_file() -> None:
    from chalicelib.domain.rules_diagnosis import RulesError

    base = DEFAULT_RULES_PATH.read_text()
    mistakes = {
        "scores:\n  Bad Name: {label: x}\n": "score name 'Bad Name'",
        "scores:\n  ok: {label: y, properties: {hubspot: not a name}}\n": "hubspot property 'not a name'",
        "scores:\n  ok: {label: y, when: {event_types: [demo_requset]}}\n": "did you mean `demo_request`",
        "scores:\n  ok: {label: y, when: {page_path_prefix: analytics}}\n": "a path prefix starts with /",
        "scores:\n  ok: {label: y, rules: [{name: r, event: demo_request, points: 5, decay: nope}]}\n": "'nope'",
    }
    for text, said in mistakes.items():
        with pytest.raises(RulesError) as found:
            parse_rules(base + text, "bad.yaml")
        assert said in str(found.value), (text, str(found.value))


def test_a_filter_on_event_properties_and_a_named_scores_own_rules() -> None:
    extra = """
scores:
  analytics_product:
    label: Analytics product
    when: {properties: {product: analytics}}
  trials:
    label: Trial activity
    fit: true
    when: {event_types: [trial_started, trial_active]}
    rules:
      - {name: trial, description: Started a trial, event: trial_started, points: 40, cap: 40, decay: buying_intent}
"""
    rules = parse_rules(DEFAULT_RULES_PATH.read_text() + extra, "extra.yaml")
    storage = InMemoryStorage()
    events = [_event("d1", "Demo Requested", timedelta(hours=1), product="Analytics"),
              _event("d2", "Quote Requested", timedelta(hours=1), product="reporting"),
              _event("t1", "Trial Started", timedelta(hours=1)),
              _event("p1", "profile_updated", timedelta(hours=3), profile={"job_title": "VP Sales"})]  # fmt: skip
    use_cases(storage, lambda: rules).ingestion.ingest(ParsedDelivery(events=events), NOW)
    card = _card(storage)
    named = {item.name: item for item in card.named}
    assert named["analytics_product"].score == 50  # the demo of the analytics product; not the other quote
    assert named["trials"].score == 40 + card.fit  # its own rule's 40, and the lead's fit
    assert named["trials"].reasons[0].startswith("Started a trial")
