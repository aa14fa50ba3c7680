"""Calendly webhooks (developer.calendly.com, "Webhook signatures" and the webhook payload pages).

Signed: `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(signing key, "<t>." + body)>`,
refused when `t` is more than the tolerance (5 minutes) from now. `invitee.created` is a meeting
booked for the invitee's email, their answers to the booking questions feed the profile;
`invitee.canceled` takes the booking back (a reschedule cancels the old invitee and creates a new
one: one meeting); `routing_form_submission.created` is a form submitted. Records are named by URI
(`https://api.calendly.com/scheduled_events/<event>/invitees/<uuid>`): the invitee's uuid is the
booking's id. The legacy v1 shape (`payload.invitee`, `payload.event`, `payload.event_type`) is
read too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, check_fresh, hmac_sha256, instant, parse_json, require_secret, same, validate
from .bookings import booking_events, cancellation_event
from .form_fields import Answer, submission_delivery
from .registry import register

SOURCE = "calendly"
HEADER = "Calendly-Webhook-Signature"


def verify(request: IncomingRequest, key: str, now: datetime, tolerance_seconds: int) -> None:
    key = require_secret(key, "Calendly")
    given = request.header(HEADER)
    if not given:
        raise Unauthorized(f"missing {HEADER}")
    parts = dict(part.strip().partition("=")[::2] for part in given.split(","))
    timestamp, signature = parts.get("t"), parts.get("v1")
    if not timestamp or not signature:
        raise Unauthorized(f"{HEADER} must be t=<timestamp>,v1=<signature>")
    expected = hmac_sha256(key, timestamp.encode() + b"." + request.body).hex()
    if not same(expected, signature):
        raise Unauthorized(f"{HEADER} does not match")
    check_fresh(timestamp, now, tolerance_seconds, f"{HEADER} t", per_second=1)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Answer(_Open):
    question: str = ""
    answer: Any = None


class _Scheduled(_Open):
    name: str | None = None
    start_time: str | None = None
    end_time: str | None = None


class _Cancellation(_Open):
    created_at: str | None = None


class _Invitee(_Open):
    """The v2 payload itself, or v1's `payload.invitee`."""

    uri: str | None = None
    uuid: str | None = None
    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    canceled_at: str | None = None  # v1
    rescheduled: bool | None = None
    questions_and_answers: list[_Answer] = []
    tracking: dict[str, Any] | None = None
    scheduled_event: _Scheduled | None = None
    cancellation: _Cancellation | None = None


class _Envelope(_Open):
    event: str
    created_at: str | None = None
    time: str | None = None  # v1
    payload: dict[str, Any]


class _RoutingSubmission(_Open):
    uri: str
    routing_form: str | None = None
    questions_and_answers: list[_Answer] = []
    tracking: dict[str, Any] | None = None
    created_at: str | None = None


def last_segment(uri: str) -> str:
    """`https://api.calendly.com/.../invitees/AAAA` -> `AAAA`: the record's uuid."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _answers(invitee: _Invitee | _RoutingSubmission) -> list[Answer]:
    answers = [Answer(item.question, "text", item.answer) for item in invitee.questions_and_answers]
    if isinstance(invitee, _Invitee):
        names = (("first name", invitee.first_name), ("last name", invitee.last_name), ("name", invitee.name))
        answers += [Answer(label, "text", value) for label, value in names if value]
    tracking = invitee.tracking or {}
    answers += [Answer(key, "hidden", value) for key, value in tracking.items() if key.startswith("utm_") and value]
    return answers


def _invitee(envelope: _Envelope) -> tuple[_Invitee, str, _Scheduled]:
    """The invitee, where its fields are (`payload` or v1's `payload.invitee`), and the meeting."""
    payload = envelope.payload
    if isinstance(payload.get("invitee"), dict):  # v1
        invitee: _Invitee = validate(_Invitee, payload["invitee"], "payload.invitee")
        extra = validate(_Invitee, {"questions_and_answers": payload.get("questions_and_answers") or []}, "payload")
        invitee.questions_and_answers += extra.questions_and_answers
        invitee.tracking = invitee.tracking or payload.get("tracking")
        event_type: dict[str, Any] = payload["event_type"] if isinstance(payload.get("event_type"), dict) else {}
        event: dict[str, Any] = payload["event"] if isinstance(payload.get("event"), dict) else {}
        meeting = validate(_Scheduled, {**event, "name": event_type.get("name") or event.get("name")}, "payload.event")
        return invitee, "payload.invitee", meeting
    invitee = validate(_Invitee, payload, "payload")
    return invitee, "payload", invitee.scheduled_event or _Scheduled()


def _invitee_delivery(envelope: _Envelope, received_at: datetime) -> ParsedDelivery:
    invitee, where, meeting = _invitee(envelope)
    if not invitee.email:
        raise BadPayload(f"{where}.email: the invitee's email is missing", field=f"{where}.email")
    record = invitee.uri or invitee.uuid
    if not record:
        raise BadPayload(f"{where}.uri: the invitee's URI is missing", field=f"{where}.uri")
    booking_id = last_segment(record)
    sent = instant(envelope.created_at or envelope.time, "created_at", received_at)
    title = meeting.name or "Calendly meeting"
    if envelope.event == "invitee.canceled":
        cancelled = invitee.cancellation.created_at if invitee.cancellation else None
        at = instant(cancelled or invitee.canceled_at or invitee.updated_at, f"{where}.cancellation.created_at", sent)
        event = cancellation_event(source=SOURCE, booking_id=booking_id, email=invitee.email, cancelled_at=at,
                                   title=title, rescheduled=bool(invitee.rescheduled))  # fmt: skip
        return ParsedDelivery(events=[event])
    starts = instant(meeting.start_time, "payload.scheduled_event.start_time", sent) if meeting.start_time else None
    ends = instant(meeting.end_time, "payload.scheduled_event.end_time", sent) if meeting.end_time else None
    minutes = (ends - starts).total_seconds() / 60 if starts and ends and ends > starts else None
    events = booking_events(
        source=SOURCE,
        booking_id=booking_id,
        email=invitee.email,
        booked_at=instant(invitee.created_at, f"{where}.created_at", sent),
        answers=_answers(invitee),
        title=title,
        starts_at=starts,
        minutes=minutes,
    )
    return ParsedDelivery(events=events)


def _routing_delivery(envelope: _Envelope, received_at: datetime) -> ParsedDelivery:
    submission: _RoutingSubmission = validate(_RoutingSubmission, envelope.payload, "payload")
    sent = instant(envelope.created_at, "created_at", received_at)
    return submission_delivery(
        source=SOURCE,
        submission_id=last_segment(submission.uri),
        form_id=last_segment(submission.routing_form or submission.uri),
        form_name="Calendly routing form",
        submitted_at=instant(submission.created_at, "payload.created_at", sent),
        answers=_answers(submission),
    )


def parse(request: IncomingRequest) -> ParsedDelivery:
    envelope: _Envelope = validate(_Envelope, parse_json(request))
    if envelope.event in ("invitee.created", "invitee.canceled"):
        return _invitee_delivery(envelope, request.received_at)
    if envelope.event == "routing_form_submission.created":
        return _routing_delivery(envelope, request.received_at)
    return ParsedDelivery(ignored=1)  # no-shows, other subscriptions: nothing about interest


@register(SOURCE)
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("calendly_signing_key"), request.received_at, settings.signature_tolerance_seconds)
    return parse(request)
