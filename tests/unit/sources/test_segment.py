"""The tracking API's parser on its own (Segment's HTTP Tracking API, as RudderStack's SDKs speak it
too): the write key, each call type, the 400s that name the field, a batch's bad messages reported
one by one, and the documented examples in tests/fixtures/segment and tests/fixtures/rudderstack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import signing
from tests.unit.sources.conftest import fixture, receive, refused, settings, understood


def call(kind: str, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return receive(f"segment.{kind}", f"/v1/{kind}", text, signing.basic() if headers is None else headers, **kwargs)


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("batch", {"batch": []}, "batch"),
        ("track", {"userId": "u", "type": "track"}, "event"),
        ("track", {"event": "X"}, "userId"),
        ("track", {"userId": "u", "event": "X", "timestamp": "soon"}, "timestamp"),
        ("batch", {"nope": 1}, "batch"),
        # a skew correction outside the calendar (found by the fuzz test): a 400, not a 500
        ("track", {"userId": "u", "event": "X", "timestamp": "9999-12-31T00:00:00Z",
                   "sentAt": "0001-01-01T00:00:00Z"}, "sentAt"),
    ],
)  # fmt: skip
def test_malformed_tracking_calls_are_400(kind: str, body: dict[str, Any], field: str) -> None:
    error = refused(f"segment.{kind}", f"/v1/{kind}", json.dumps(body), headers=signing.basic())
    assert (error.status, error.field) == (400, field)


def test_a_wrong_or_missing_write_key_is_refused() -> None:
    body = json.dumps({"userId": "u", "event": "X"})
    assert refused("segment.track", "/v1/track", body, headers=signing.basic("not-the-key")).status == 401
    assert refused("segment.track", "/v1/track", body, headers={}).status == 401


def test_a_batch_keeps_its_valid_messages_and_names_the_invalid_ones() -> None:
    """As Segment's own API does: each bad message named in `rejected`, the rest accepted."""
    batch = [
        {"type": "track", "event": "X"},
        {"type": "track", "event": "Demo Requested", "userId": "u-ok", "messageId": "ok-1"},
        {"type": "track", "event": "X", "userId": "u", "timestamp": "soon"},
        {"type": "identify", "userId": "u" * 3000, "traits": {"email": "long@acme.io"}},
    ]
    delivery = call("batch", {"batch": batch})
    assert [item.field for item in delivery.rejected] == ["batch[0].userId", "batch[2].timestamp", "batch[3].userId"]
    assert [event.event_id for event in delivery.events] == ["ok-1"]
    assert understood(delivery.events)["engagement"] == 50


def test_a_skewed_device_clock_is_corrected_by_sent_at() -> None:
    message = {
        "type": "track", "event": "Quote Requested", "userId": "u-100", "messageId": "msg-100",
        # the device clock is an hour ahead: timestamp and sentAt are both skewed, the difference is real
        "timestamp": "2030-01-01T11:00:00Z", "sentAt": "2030-01-01T11:00:05Z",
    }  # fmt: skip
    (event,) = call("track", message).events
    assert abs((event.occurred_at - event.occurred_at.now(event.occurred_at.tzinfo)).total_seconds()) < 60
    assert understood([event])["engagement"] == 30


# ------------------------------------------------------------------------------ tests/fixtures
def test_segment_http_api_batch_with_write_key_in_body() -> None:
    """Segment's own example: the write key in the body, two of four timestamps not ISO 8601."""
    delivery = call("batch", fixture("segment/http-api-batch.json"), headers={},
                    config=settings(events_write_key="YOUR_WRITE_KEY"))  # fmt: skip
    assert len(delivery.events) == 2
    assert [item.field for item in delivery.rejected] == ["batch[2].timestamp", "batch[3].timestamp"]
    jake = understood(delivery.events)
    assert jake["identities"] == ["email:jake@yahoo.com", "user:019mr8mf4r"]
    assert (jake["profile"]["first_name"], jake["profile"]["last_name"]) == ("Jake", "Peterson")


def test_segment_spec_group_and_screen_as_single_calls() -> None:
    events = (
        call("group", fixture("segment/spec-group.json")).events
        + call("screen", fixture("segment/spec-screen.json")).events
    )
    account = understood(events)
    assert (account["profile"]["company"], account["profile"]["company_size"]) == ("Initech", 329)


def test_rudderstack_identify() -> None:
    """The gzip RudderStack's SDKs send is inflated by the HTTP entry point (tests/e2e/test_tracking.py)."""
    profile = understood(call("identify", fixture("rudderstack/identify-minimal.json")).events)["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Peter", "Gibbons")


@pytest.mark.parametrize("kind", ["track", "page", "screen"])
def test_context_traits_fill_the_profile_on_every_call(kind: str) -> None:
    """The console shows a name, not `ld_…`, for a lead known only from track calls with traits.
    RudderStack's Track spec: "Identity data (user traits) will be automatically added to track
    calls ... in a traits object in the context fields of the payload" (the unmodified SDK sends it
    so in tests/e2e/test_tracking.py)."""
    message = {"type": kind, "userId": "u-ctx", "messageId": f"m-{kind}", "event": "Demo Requested",
               "context": {"traits": {"email": "ada@lovelace.dev", "firstName": "Ada", "company": "Analytical",
                                      "title": "CTO"}}}  # fmt: skip
    lead = understood(call(kind, message).events)
    assert "email:ada@lovelace.dev" in lead["identities"]
    profile = lead["profile"]
    assert (profile["first_name"], profile["company"], profile["job_title"]) == ("Ada", "Analytical", "CTO")
