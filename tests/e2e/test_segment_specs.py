"""Segment's semantic spec examples (tests/fixtures/segment/spec-*.json, copied from the spec pages
of segment-docs, src/connections/spec/) replayed byte for byte through the HTTP tracking API with
the default rules: the profile they describe and the points they earn, not only the status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import signing
from tests.conftest import SECRETS, admin_get, json_body

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def lead(client: Any, key: str) -> dict[str, Any]:
    response = admin_get(client, f"/leads/{key}")
    assert response.status_code == 200, (key, response.body)
    return dict(json_body(response))


def events(key: str) -> list[tuple[str, str]]:
    """(event type, event id) of everything stored for the lead: what the delivery was understood as."""
    from datetime import UTC, datetime

    from chalicelib.bootstrap import container

    lead_id = container().lead_views.find_lead_id(key)
    record = container().storage.leads.load(str(lead_id), datetime.now(UTC))
    assert record is not None, key
    return sorted((event.type, event.event_id) for event in record.events)


def track(client: Any, name: str) -> dict[str, Any]:
    response = client.http.post("/v1/track", body=fixture(f"segment/{name}"), headers=signing.basic())
    assert response.status_code == 200, response.body
    return dict(json_body(response))


def points(card: dict[str, Any]) -> dict[str, float]:
    return {item["rule"]: item["points_now"] for item in card["contributions"] if item["points_now"]}


def test_signed_up_fills_the_profile_and_links_the_account(client) -> None:
    assert track(client, "spec-b2b-signed-up.json")["accepted"] == 2  # the event and the profile it states
    found = lead(client, "user:019mr8mf4r")
    assert found["identities"] == ["email:pgibbons@initech.com", "user:019mr8mf4r"]
    profile = found["profile"]
    assert (profile["first_name"], profile["last_name"], profile["email"], profile["phone"]) == (
        "Peter", "Gibbons", "pgibbons@initech.com", "410-555-9412"
    )  # fmt: skip
    assert "job_title" not in profile  # the example's title is "Mr": a salutation, not a seniority
    assert found["account"] == {"key": "group:acct_123", "id": "acct_123", "name": None, "via": "Segment group",
                                "score": None, "tier": None}  # fmt: skip
    assert points(found["card"]) == {"product_signup": 30}
    assert found["score"] == 30


def test_account_created_names_the_account_and_is_the_same_sign_up(client) -> None:
    track(client, "spec-b2b-signed-up.json")
    track(client, "spec-b2b-account-created.json")
    found = lead(client, "user:019mr8mf4r")
    assert found["account"] == {"key": "group:acct_123", "id": "acct_123", "name": "Initech", "via": "Segment group",
                                "score": None, "tier": None}  # fmt: skip
    assert found["profile"]["company"] == "Initech"
    assert points(found["card"]) == {"product_signup": 30}  # earned once for both names


@pytest.mark.parametrize(
    ("name", "rule", "earned"),
    [
        ("spec-b2b-trial-started.json", "trial_started", 30),
        ("spec-b2b-invite-sent.json", "invite_sent", 30),
        ("spec-b2b-account-added-user.json", "team_joined", 10),
        ("spec-live-chat-conversation-started.json", "live_chat", 15),
        ("spec-video-playback-started.json", "video_started", 5),
        ("spec-video-playback-completed.json", "video_completed", 10),
        ("spec-video-content-completed.json", "video_completed", 10),
    ],
)
def test_each_spec_event_earns_its_rule(client, name: str, rule: str, earned: int) -> None:
    body = json.loads(fixture(f"segment/{name}"))
    track(client, name)
    assert points(lead(client, f"user:{body['userId']}")["card"]) == {rule: earned}


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("spec-b2b-trial-ended.json", ["Trial Ended", "profile_updated"]),  # and the account link
        ("spec-video-playback-paused.json", ["Video Playback Paused"]),
    ],
)
def test_recorded_only_spec_events_are_stored_and_earn_nothing(client, name: str, stored: list[str]) -> None:
    body = json.loads(fixture(f"segment/{name}"))
    assert track(client, name)["accepted"] == len(stored)
    found = lead(client, f"user:{body['userId']}")
    assert points(found["card"]) == {}
    assert [kind for kind, _ in events(f"user:{body['userId']}")] == stored


def test_email_spec_with_user_id_and_context_user_agent(client) -> None:
    """The Email spec's examples write `user_id` and `context.user_agent` (a real browser's)."""
    track(client, "spec-email-opened.json")
    track(client, "spec-email-link-clicked.json")
    opened = lead(client, "email:pgibbons@initech.com")
    # the click's example is the same user id with another recipient address: the same lead
    assert opened["identities"] == ["email:joanna@chotchkies.com", "email:pgibbons@initech.com", "user:019mr8mf4r"]
    card = lead(client, "user:019mr8mf4r")["card"]
    assert points(card) == {"email_open": 5, "email_click": 15}
    assert card["ignored"] == [] or all(item["count"] == 0 for item in card["ignored"])


def test_a_message_without_message_id_or_timestamp_redelivered_is_a_duplicate(client) -> None:
    first = track(client, "spec-b2b-signed-in.json")
    again = track(client, "spec-b2b-signed-in.json")
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (2, 0, 2)


def test_unscored_report_over_http(client) -> None:
    """An unmapped name, a recorded-only type and a page no rule matches, through the real path."""
    names = ["spec-video-playback-paused.json", "spec-video-playback-paused.json", "spec-b2b-trial-ended.json"]
    for number, name in enumerate(names):
        body = {**json.loads(fixture(f"segment/{name}")), "messageId": f"m{number}"}  # two pauses, not one sent twice
        assert client.http.post("/v1/track", body=json.dumps(body), headers=signing.basic()).status_code == 200
    batch = {
        "batch": [
            {"type": "track", "event": "Report Exported", "userId": "u-9", "messageId": "x1"},
            {"type": "track", "event": "Report Exported", "userId": "u-9", "messageId": "x2"},
            {"type": "page", "userId": "u-9", "messageId": "x3", "properties": {"url": "https://acme.example/about"}},
            {"type": "page", "userId": "u-9", "messageId": "x4", "properties": {"url": "https://acme.example/pricing"}},
        ]
    }
    assert client.http.post("/v1/batch", body=json.dumps(batch), headers=signing.basic()).status_code == 200
    viewer = {"Authorization": f"Bearer {SECRETS['VIEWER_API_KEY']}"}
    response = client.http.get("/reports/unscored", headers=viewer)
    assert response.status_code == 200, response.body
    report = json_body(response)
    assert report["days"] == 30
    lines = {(line["name"], line["reason"]): line for line in report["unscored"]}
    assert set(lines) == {
        ("Report Exported", "unmapped_name"),
        ("page_view", "no_rule_matched"),
        ("Video Playback Paused", "recorded_only"),
        ("Trial Ended", "recorded_only"),
    }
    exported = lines[("Report Exported", "unmapped_name")]
    assert (exported["count"], exported["source"], exported["type"]) == (2, "segment", "report exported")
    assert exported["first_seen"] <= exported["last_seen"]
    assert admin_get(client, f"/leads/{exported['example_lead']}").status_code == 200
    assert lines[("Video Playback Paused", "recorded_only")]["type"] == "video_progress"
    assert lines[("page_view", "no_rule_matched")]["count"] == 1  # the pricing page earned its points
    assert json_body(admin_get(client, "/reports/unscored?days=7"))["unscored"] == report["unscored"]
    assert client.http.get("/reports/unscored").status_code == 401
    refused = admin_get(client, "/reports/unscored?days=0")
    assert refused.status_code == 400 and json_body(refused)["field"] == "days"


def test_signed_in_on_three_days_is_trial_activity() -> None:
    """The spec's Signed In example has neither messageId nor timestamp: each day's delivery is
    stamped when received and is another sign-in; the third distinct day earns trial activity."""
    from datetime import timedelta

    from chalicelib.sources import segment
    from chalicelib.sources.base import IncomingRequest
    from chalicelib.storage.memory import InMemoryStorage
    from tests.helpers import NOW, use_cases

    svc = use_cases(InMemoryStorage())
    body = fixture("segment/spec-b2b-signed-in.json").encode()
    for day in (2, 1, 0):
        at = NOW - timedelta(days=day)
        request = IncomingRequest("POST", "https://x.example/v1/track", {}, body, {}, at)
        parsed = segment.parse(request, "track")
        assert [event.occurred_at for event in parsed.events] == [at, at]
        svc.ingestion.ingest(parsed, at)
        again = svc.ingestion.ingest(
            segment.parse(request, "track"), at + timedelta(hours=1)
        )  # the same day: a redelivery
        assert again.duplicates == 2
    lead_id = svc.lead_views.find_lead_id("user:019mr8mf4r")
    card = svc.storage.leads.get_lead(str(lead_id)).card
    assert {c.rule: c.points_now for c in card.contributions if c.points_now} == {"trial_active": 20}
