"""HubSpot's own activity properties in a webhook delivery (`contact.propertyChange`, the shape of
the Webhooks API documentation's example) become engagement: a form conversion by its form's
name, a page visit by its URL, a meeting; our own and unmapped properties are ignored."""

from __future__ import annotations

import time

from tests.unit.sources.conftest import understood
from tests.unit.sources.test_hubspot import change, parse

DAY_MS = 86_400_000


def ms_ago(days: float) -> str:
    return str(int(time.time() * 1000 - days * DAY_MS))


def test_a_form_conversion_means_what_its_form_name_says() -> None:
    delivery = parse([
        change(1, 7001, "recent_conversion_event_name", "Book a demo"),
        change(2, 7001, "recent_conversion_date", ms_ago(2)),
        change(3, 7001, "num_conversion_events", "1"),
    ])  # fmt: skip
    lead = understood(delivery.events)
    assert lead["points"] == {"demo_request": 50} and lead["engagement"] == 50


def test_a_pricing_page_visit_and_a_meeting() -> None:
    delivery = parse([
        change(30, 7004, "hs_analytics_last_url", "https://www.example.com/pricing?plan=pro"),
        change(31, 7004, "hs_analytics_last_visit_timestamp", ms_ago(1)),
        change(32, 7004, "engagements_last_meeting_booked", ms_ago(1)),
    ])  # fmt: skip
    assert understood(delivery.events)["points"] == {"page_pricing": 20, "meeting_booked": 40}


def test_our_own_properties_and_unmapped_ones_are_ignored() -> None:
    delivery = parse([change(50, 7006, "lead_score", "99"), change(51, 7006, "hs_predictivescoringtier", "tier_1")])
    assert (len(delivery.events), delivery.ignored) == (0, 2)
