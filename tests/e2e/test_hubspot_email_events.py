"""HubSpot's marketing email events, polled portal-wide from the email events API served as
HubSpot documents it (GET /email/public/v1/events: `events`, `hasMore`, `offset`, newest first,
`startTimestamp`/`endTimestamp` inclusive, at most 1,000 a page; the event fields of the API
reference: id, created, type, recipient, emailCampaignId, sentBy, category, portalSubscriptionStatus)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug import Request, Response

from chalicelib.entrypoints.schedule import run_crm_sync
from chalicelib.storage.memory import InMemoryStorage
from tests.conftest import use_container

NOW = datetime.now(UTC).replace(microsecond=0)
PATH = "/email/public/v1/events"


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def event(kind: str, minutes_ago: float, recipient: str, campaign: int, **extra: Any) -> dict[str, Any]:
    created = ms(NOW - timedelta(minutes=minutes_ago))
    sent = ms(NOW - timedelta(minutes=minutes_ago + 30))
    return {"appId": 113, "appName": "Batch", "created": created, "emailCampaignId": campaign,
            "id": f"{kind.lower()}-{recipient}-{created}", "portalId": 62515, "recipient": recipient,
            "type": kind, "sentBy": {"created": sent, "id": f"sent-{recipient}-{campaign}"}, **extra}  # fmt: skip


class FakeEmailEvents:
    def __init__(self, httpserver: Any, events: list[dict[str, Any]], page_size: int = 2) -> None:
        self.events, self.page_size, self.queries, self.failures = events, page_size, [], []
        httpserver.expect_request(PATH, method="GET").respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        args = request.args
        self.queries.append(dict(args))
        if self.failures:
            status = self.failures.pop(0)
            body = {"status": "error", "policyName": "DAILY" if status == "daily" else "TEN_SECONDLY_ROLLING"}
            return Response(json.dumps(body), status=429, headers={"Retry-After": "1"}, content_type="application/json")
        assert args["excludeFilteredEvents"] == "true"
        start, end = int(args["startTimestamp"]), int(args["endTimestamp"])
        window = sorted((e for e in self.events if start <= e["created"] <= end), key=lambda e: -e["created"])
        offset = int(args.get("offset", 0))
        page = window[offset : offset + self.page_size]
        more = offset + self.page_size < len(window)
        body = {"events": page, "hasMore": more, "offset": str(offset + self.page_size) if more else ""}
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def poller(aws, httpserver, monkeypatch) -> Any:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test-token")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    monkeypatch.setenv("HUBSPOT_EMAIL_EVENTS", "true")
    return httpserver


def engagement(parts: Any, email: str) -> dict[str, float]:
    lead = parts.lead_views.lead(f"email:{email}", NOW)
    return {c["rule"]: c["points_now"] for c in lead["card"]["contributions"] if c["kind"] == "engagement"}


def test_every_open_and_click_counts_per_campaign_with_its_send_time(poller) -> None:
    events = [
        event("SENT", 120, "ana@initech.com", 7001),
        event("OPEN", 100, "ana@initech.com", 7001),
        event("OPEN", 90, "ana@initech.com", 7001),
        event("CLICK", 80, "ana@initech.com", 7001, url="https://www.example.com/pricing"),
        event("OPEN", 70, "ana@initech.com", 7002),
        event("PROCESSED", 60, "ana@initech.com", 7002),  # not the recipient's doing: nothing
    ]
    fake = FakeEmailEvents(poller, events)
    parts = use_container(storage=InMemoryStorage())
    reader = parts.record_readers["hubspot_email"]
    reader.clock = lambda: NOW
    report = parts.crm_import.reconcile(reader, NOW)
    assert report.done and report.records == 6
    assert len(fake.queries) == 3  # 6 events, 2 a page: offsets followed inside the window
    # opens: 5 then 2 for campaign 7001, 5 for 7002; the click 30 min after its send: x2.0
    assert engagement(parts, "ana@initech.com") == {"email_open": 12, "email_click": 30}


def test_a_window_read_again_adds_nothing(poller) -> None:
    FakeEmailEvents(poller, [event("OPEN", 30, "bo@initech.com", 1), event("CLICK", 20, "bo@initech.com", 1)])
    parts = use_container(storage=InMemoryStorage())
    reader = parts.record_readers["hubspot_email"]
    first = parts.crm_import.reconcile(reader, NOW)
    again = parts.crm_import.run(reader, NOW, since=(NOW - timedelta(hours=2)).isoformat(), restart=True)
    assert first.accepted == 2 and (again.records, again.accepted, again.changed) == (2, 0, 0)


def test_bounce_unsubscribe_and_spam_are_negative(poller) -> None:
    events = [
        event("BOUNCE", 50, "cy@initech.com", 3, category="HARD_BOUNCE"),
        event(
            "STATUSCHANGE", 40, "cy@initech.com", 3, portalSubscriptionStatus="UNSUBSCRIBED", source="SOURCE_RECIPIENT"
        ),
        event("SPAMREPORT", 30, "cy@initech.com", 3),
        event("BOUNCE", 20, "di@initech.com", 3, category="SOFT_BOUNCE"),
    ]
    FakeEmailEvents(poller, events, page_size=1000)
    parts = use_container(storage=InMemoryStorage())
    parts.crm_import.reconcile(parts.record_readers["hubspot_email"], NOW)
    assert engagement(parts, "cy@initech.com") == {"hard_bounce": -10, "unsubscribe": -20, "spam_complaint": -50}
    assert engagement(parts, "di@initech.com") == {}  # a soft bounce is not held against anyone


def test_the_daily_limit_stops_the_poll_and_the_next_run_goes_on(poller) -> None:
    fake = FakeEmailEvents(poller, [event("OPEN", 30, "ed@initech.com", 1)])
    fake.failures = ["daily"]
    parts = use_container(storage=InMemoryStorage())
    summary = run_crm_sync(lambda: 300.0, clock=lambda: NOW)
    assert "daily" in summary["hubspot_email"]["stopped"] and not summary["hubspot_email"]["done"]
    later = run_crm_sync(lambda: 300.0, clock=lambda: NOW + timedelta(minutes=15))
    assert later["hubspot_email"]["done"]
    assert engagement(parts, "ed@initech.com") == {"email_open": 5}


def test_with_the_poller_on_the_email_properties_are_left_to_it(poller) -> None:
    """Opens counted from both the events and `hs_email_last_open_date` would count twice."""
    parts = use_container(storage=InMemoryStorage())
    mapping = parts.record_readers["hubspot"].mapping
    assert not {"hs_email_last_open_date", "hs_email_last_click_date"} & {item.property for item in mapping.hubspot}
    assert "hs_email_last_reply_date" in {item.property for item in mapping.hubspot}  # replies are not email events
