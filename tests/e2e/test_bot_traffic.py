"""Bots through the real HTTP path: a crawler's Segment traffic, a burst no person could make and a
spam form are accepted (200: the sender must not retry), kept, shown in the lead's card and counted
in the `EventsNotScored` metric, and earn nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from tests import signing
from tests.conftest import admin_get, json_body

# An uptime monitor, as the crawler-user-agents project records its user agent.
MONITOR = next(entry for entry in CRAWLER_USER_AGENTS_DATA if entry["pattern"] == "UptimeRobot")["instances"][0]


def _metrics(capsys) -> dict[tuple[str, str], int]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    found = {(line["source"], line["reason"]): line["EventsNotScored"] for line in lines if "EventsNotScored" in line}
    return {key: value[0] if isinstance(value, list) else value for key, value in found.items()}


def test_a_monitor_hitting_pages_is_kept_shown_and_not_scored(client, capsys) -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    batch = [
        {
            "type": "page",
            "messageId": f"mon-{number}",
            "anonymousId": "monitor-1",
            "timestamp": (start + timedelta(minutes=5 * number)).isoformat(),
            "properties": {"url": "https://acme.example/pricing"},
            "context": {"userAgent": MONITOR},
        }
        for number in range(40)
    ]
    reply = client.http.post("/v1/batch", body=json.dumps({"batch": batch}), headers=signing.basic())
    assert (reply.status_code, json_body(reply)["accepted"]) == (200, 40)
    lead = json_body(admin_get(client, "/leads/anon:monitor-1"))
    assert (lead["score"], lead["engagement"]) == (0, 0)
    assert lead["card"]["ignored"] == [{"reason": "crawler", "label": "crawler user agent", "count": 40}]
    assert lead["card"]["bot_like"] is True
    assert lead["reasons"][:1] == ["Mostly bot-like traffic"] and "ignored: crawler user agent ×40" in lead["reasons"]
    assert _metrics(capsys)[("segment", "crawler")] == 40


def test_a_burst_of_page_views_counts_what_a_person_could_view(client, capsys) -> None:
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    batch = [
        {
            "type": "page",
            "messageId": f"burst-{number}",
            "userId": "scraper-7",
            "timestamp": (at + timedelta(milliseconds=500 * number)).isoformat(),  # 100 views in 50 seconds
            "properties": {"url": "https://acme.example/docs/api"},
        }
        for number in range(100)
    ]
    assert client.http.post("/v1/batch", body=json.dumps({"batch": batch}), headers=signing.basic()).status_code == 200
    card = json_body(admin_get(client, "/leads/user:scraper-7"))["card"]
    assert card["ignored"] == [{"reason": "too_fast", "label": "faster than a person", "count": 40}]
    assert next(c for c in card["contributions"] if c["rule"] == "page_docs")["count"] == 60
    assert _metrics(capsys)[("segment", "too_fast")] == 40


def test_a_form_that_fills_the_honeypot_is_ignored_and_its_profile_unused(client) -> None:
    payload = {
        "form": "Book a demo",
        "submitted_at": "2026-11-22T10:00:00Z",
        "fields": [
            {"label": "Email", "value": "spam@bot.example", "type": "email"},
            {"label": "Job title", "value": "CEO"},
            {"label": "_gotcha", "value": "http://cheap-pills.example"},  # hidden from people by CSS
        ],
    }
    body, headers = signing.standard_webhook(payload, "msg_honeypot")
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 200
    lead = json_body(admin_get(client, "/leads/email:spam@bot.example"))
    assert (lead["score"], lead["fit"], lead["profile"]) == (0, 0, {})
    assert lead["card"]["ignored"] == [{"reason": "honeypot", "label": "honeypot form field filled", "count": 2}]
