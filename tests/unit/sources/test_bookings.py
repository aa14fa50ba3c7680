"""Calendly and Cal.com on their own: each signature scheme (Calendly's `t=…,v1=…` with its
5-minute window, Cal.com's hex HMAC of the body), each documented body (tests/fixtures/calendly,
tests/fixtures/calcom), the answers to the booking questions in the profile, a cancellation that
takes the meeting back and a reschedule that stays one meeting."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.cancellations import CANCEL_EVENT
from tests import signing
from tests.unit.sources.conftest import fixture, receive, refused, understood

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def calendly(payload: Any, **signed: Any) -> Any:
    body, headers = signing.calendly(payload, **signed)
    return receive("calendly", "/webhooks/calendly", body, headers)


def calcom(payload: Any) -> Any:
    body, headers = signing.calcom(payload)
    return receive("calcom", "/webhooks/calcom", body, headers)


def test_a_calendly_booking_is_a_meeting_booked_with_the_answers_in_the_profile() -> None:
    delivery = calendly(fixture("calendly/invitee-created.json"))
    meeting = next(event for event in delivery.events if event.type == "meeting_booked")
    assert meeting.event_id == "BBBBBBBBBBBBBBBB"  # the invitee's uuid, from its URI
    assert meeting.identities.as_keys() == ["email:priya@northwind.io"]
    assert meeting.properties["meeting_title"] == "Product demo" and meeting.properties["duration_minutes"] == 30
    lead = understood(delivery.events, NOW)
    assert lead["profile"] == {
        "email": "priya@northwind.io", "first_name": "Priya", "last_name": "Raman", "company": "Northwind Analytics",
        "job_title": "VP of Sales", "company_size": 200, "lead_source": "referral",
    }  # fmt: skip
    assert lead["points"]["meeting_booked"] == 40


def test_a_calendly_cancellation_takes_the_meeting_back_whichever_arrives_first() -> None:
    booked = calendly(fixture("calendly/invitee-created.json")).events
    cancelled = calendly(fixture("calendly/invitee-canceled.json")).events
    assert [(event.type, event.properties["cancels"]) for event in cancelled] == [(CANCEL_EVENT, "BBBBBBBBBBBBBBBB")]
    for events in (booked + cancelled, cancelled + booked):
        lead = understood(events, NOW)
        assert "meeting_booked" not in lead["points"]
        assert lead["profile"]["company"] == "Northwind Analytics"  # what they told us still stands


def test_a_calendly_reschedule_is_one_meeting() -> None:
    """Calendly cancels the old invitee (`rescheduled: true`) and creates a new one (`old_invitee`)."""
    first = json.loads(fixture("calendly/invitee-created.json"))
    cancel = json.loads(fixture("calendly/invitee-canceled.json"))
    cancel["payload"]["rescheduled"] = True
    cancel["payload"]["new_invitee"] = "https://api.calendly.com/scheduled_events/NEW/invitees/NEWINVITEE"
    again = json.loads(fixture("calendly/invitee-created.json"))
    again["payload"]["uri"] = "https://api.calendly.com/scheduled_events/NEW/invitees/NEWINVITEE"
    again["payload"]["old_invitee"] = first["payload"]["uri"]
    events = [event for payload in (first, cancel, again) for event in calendly(payload).events]
    lead = understood(events, NOW)
    assert lead["points"]["meeting_booked"] == 40
    assert any(event.properties.get("rescheduled") for event in events)


def test_calendly_legacy_v1_body() -> None:
    """The v1 webhook shape: `payload.invitee`, `payload.event`, `payload.event_type`, `time`."""
    legacy = {
        "event": "invitee.created", "time": "2026-12-01T15:04:10Z",
        "payload": {
            "event_type": {"uuid": "CCCC", "kind": "One-on-One", "slug": "demo", "name": "Demo call", "duration": 45},
            "event": {"uuid": "GBGB", "start_time": "2026-12-03T14:00:00Z", "end_time": "2026-12-03T14:45:00Z"},
            "invitee": {"uuid": "V1INVITEE", "first_name": "Ola", "last_name": "Nordmann", "name": "Ola Nordmann",
                        "email": "ola@fjord.no", "created_at": "2026-12-01T15:04:10Z"},
            "questions_and_answers": [{"question": "Company", "answer": "Fjord AS"}],
            "tracking": {"utm_source": None},
        },
    }  # fmt: skip
    events = calendly(legacy).events
    meeting = next(event for event in events if event.type == "meeting_booked")
    assert (meeting.event_id, meeting.properties["meeting_title"]) == ("V1INVITEE", "Demo call")
    assert understood(events, NOW)["profile"]["company"] == "Fjord AS"


def test_a_calendly_routing_form_is_a_form_submission() -> None:
    events = calendly(fixture("calendly/routing-form-submission.json")).events
    assert {event.type for event in events} == {"profile_updated", "form_submitted"}
    lead = understood(events, NOW)
    assert lead["identities"] == ["email:priya@northwind.io"]
    assert lead["profile"]["company_size"] == 51  # a range counts from its lower bound


def test_calendly_signatures() -> None:
    body, headers = signing.calendly(fixture("calendly/invitee-created.json"))
    for name, value in (
        ("Calendly-Webhook-Signature", headers["Calendly-Webhook-Signature"].replace("v1=", "v1=0")),
        ("Calendly-Webhook-Signature", headers["Calendly-Webhook-Signature"].split(",")[1]),
        ("Calendly-Webhook-Signature", ""),
    ):
        assert refused("calendly", "/webhooks/calendly", body, headers={**headers, name: value}).status == 401
    stale, stale_headers = signing.calendly(fixture("calendly/invitee-created.json"), timestamp=int(time.time()) - 360)
    assert refused("calendly", "/webhooks/calendly", stale, headers=stale_headers).status == 401
    other, other_headers = signing.calendly(fixture("calendly/invitee-created.json"), key="another-key")
    assert refused("calendly", "/webhooks/calendly", other, headers=other_headers).status == 401
    recent, recent_headers = signing.calendly(
        fixture("calendly/invitee-created.json"), timestamp=int(time.time()) - 240
    )
    assert receive("calendly", "/webhooks/calendly", recent, recent_headers).events


def test_calendly_bad_bodies_are_400s_naming_the_field() -> None:
    payload = json.loads(fixture("calendly/invitee-created.json"))
    del payload["payload"]["email"]
    body, headers = signing.calendly(payload)
    problem = refused("calendly", "/webhooks/calendly", body, headers=headers)
    assert (problem.status, problem.field) == (400, "payload.email")
    assert calendly({"event": "invitee_no_show.created", "payload": {}}).ignored == 1


def test_a_calcom_booking_and_its_cancellation() -> None:
    delivery = calcom(fixture("calcom/booking-created.json"))
    meeting = next(event for event in delivery.events if event.type == "meeting_booked")
    assert (meeting.event_id, meeting.properties["meeting_title"]) == ("q3Lx8wTnRfYk2PzA7cV1bN", "Intro call")
    lead = understood(delivery.events, NOW)
    assert lead["profile"] == {"email": "tomas@fjordlabs.no", "first_name": "Tomas", "last_name": "Berg",
                               "company": "Fjord Labs", "job_title": "Head of Operations"}  # fmt: skip
    assert lead["points"]["meeting_booked"] == 40
    cancelled = calcom(fixture("calcom/booking-cancelled.json")).events
    assert "meeting_booked" not in understood(delivery.events + cancelled, NOW)["points"]


def test_a_calcom_reschedule_is_one_meeting() -> None:
    booked = calcom(fixture("calcom/booking-created.json")).events
    moved = calcom(fixture("calcom/booking-rescheduled.json")).events
    assert [event.properties["cancels"] for event in moved if event.type == CANCEL_EVENT] == ["q3Lx8wTnRfYk2PzA7cV1bN"]
    for events in (booked + moved, moved + booked, moved):
        assert understood(events, NOW)["points"]["meeting_booked"] == 40


def test_calcom_signature_and_defensive_parsing() -> None:
    body, headers = signing.calcom(fixture("calcom/booking-created.json"), secret="wrong")
    assert refused("calcom", "/webhooks/calcom", body, headers=headers).status == 401
    assert refused("calcom", "/webhooks/calcom", body, headers={"Content-Type": "application/json"}).status == 401
    assert calcom({"triggerEvent": "PING", "payload": {}}).ignored == 1
    assert calcom({"triggerEvent": "MEETING_ENDED", "payload": {"uid": "x"}}).ignored == 1
    assert calcom({"hello": "a custom template with no trigger"}).ignored == 1
    # A custom template: flat, only what we need.
    flat = calcom({"triggerEvent": "BOOKING_CREATED", "uid": "flat-1", "email": "flat@acme.io", "title": "Demo"})
    assert [event.type for event in flat.events] == ["profile_updated", "meeting_booked"]
    body, headers = signing.calcom({"triggerEvent": "BOOKING_CREATED", "payload": {"uid": "u-1", "attendees": []}})
    problem = refused("calcom", "/webhooks/calcom", body, headers=headers)
    assert (problem.status, problem.field) == (400, "payload.attendees.0.email")
    body, headers = signing.calcom({"triggerEvent": "BOOKING_CREATED", "payload": {"attendees": [{"email": "a@b.io"}]}})
    assert refused("calcom", "/webhooks/calcom", body, headers=headers).field == "payload.uid"


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12))  # fmt: skip
def test_any_calcom_booking_body_is_a_delivery_or_a_400(payload: Any) -> None:
    """A custom template can put anything anywhere: never an exception other than the sender's 4xx."""
    from chalicelib.service_layer.errors import ClientError

    body, headers = signing.calcom({"triggerEvent": "BOOKING_CREATED", "payload": payload})
    try:
        receive("calcom", "/webhooks/calcom", body, headers)
    except ClientError as exc:
        assert exc.status == 400
