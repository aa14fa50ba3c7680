"""Cal.com webhooks (cal.com/docs/developing/guides/automation/webhooks).

Signed when the webhook has a secret: `X-Cal-Signature-256` = hex HMAC-SHA256(secret, raw body),
no timestamp in the scheme. `BOOKING_CREATED` is a meeting booked for the attendee's email (the
booking form's answers feed the profile), `BOOKING_CANCELLED` takes it back, and
`BOOKING_RESCHEDULED` moves it: the booking it replaces (`rescheduleUid`) is cancelled, so a
reschedule is one meeting. Any other trigger (`PING`, `MEETING_ENDED` ...) is acknowledged and
ignored. A webhook may replace the body with a custom template, so nothing but the trigger, the
booking's uid and the attendee's email is required, looked for where the default body has them
and at the top level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.rules import Rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.errors import BadPayload, Unauthorized
from chalicelib.settings import Settings

from .base import IncomingRequest, hmac_sha256, instant, parse_json, require_secret, same
from .bookings import booking_events, cancellation_event
from .form_fields import Answer
from .registry import register

SOURCE = "calcom"
HEADER = "X-Cal-Signature-256"
CREATED, CANCELLED, RESCHEDULED = "BOOKING_CREATED", "BOOKING_CANCELLED", "BOOKING_RESCHEDULED"
# Booking-form fields every event type has, which say nothing about who the attendee is.
_LOGISTICS = {"location", "guests", "notes", "rescheduleReason", "attendeePhoneNumber", "smsReminderNumber"}


def verify(request: IncomingRequest, secret: str) -> None:
    expected = hmac_sha256(require_secret(secret, "Cal.com"), request.body).hex()
    given = request.header(HEADER) or ""
    if not same(expected, given.strip().removeprefix("sha256=")):
        raise Unauthorized(f"{HEADER} does not match" if given else f"missing {HEADER}")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _attendee(payload: dict[str, Any]) -> dict[str, Any]:
    attendees = payload.get("attendees")
    first = attendees[0] if isinstance(attendees, list) and attendees else None
    return first if isinstance(first, dict) else {}


def _responses(payload: dict[str, Any]) -> dict[str, Any]:
    found = payload.get("responses")
    return found if isinstance(found, dict) else {}


def _answer_value(entry: Any) -> Any:
    """A booking-form response: `{"label", "value"}` in the default body, the bare value in some
    templates."""
    return entry.get("value") if isinstance(entry, dict) else entry


def _email(payload: dict[str, Any]) -> str | None:
    return (
        _text(_answer_value(_responses(payload).get("email")))
        or _text(_attendee(payload).get("email"))
        or _text(payload.get("email"))
        or _text(payload.get("attendeeEmail"))
    )


def _answers(payload: dict[str, Any]) -> list[Answer]:
    answers: list[Answer] = []
    for group in ("responses", "userFieldsResponses"):
        fields = payload.get(group)
        for key, entry in fields.items() if isinstance(fields, dict) else []:
            value = _answer_value(entry)
            if key in _LOGISTICS or key == "email":
                continue
            if isinstance(value, dict):  # the two-part name field
                answers += [Answer("first name", "text", value.get("firstName")),
                            Answer("last name", "text", value.get("lastName"))]  # fmt: skip
                continue
            label = entry.get("label") if isinstance(entry, dict) else None
            name = key if key == "name" else f"{label or ''} {key}".strip()
            answers.append(Answer(name, "text", value))
    custom = payload.get("customInputs")
    answers += [
        Answer(str(label), "text", value) for label, value in (custom.items() if isinstance(custom, dict) else [])
    ]
    attendee_name = _text(_attendee(payload).get("name"))
    if attendee_name:
        answers.append(Answer("name", "text", attendee_name))
    return answers


def _uid(payload: dict[str, Any]) -> str:
    for key in ("uid", "bookingUid", "bookingId"):
        value = payload.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    raise BadPayload("payload.uid: the booking's uid is missing", field="payload.uid")


def _replaced(payload: dict[str, Any]) -> str | None:
    """The uid of the booking a reschedule replaces."""
    original = payload.get("originalRescheduledBooking")
    for value in (payload.get("rescheduleUid"), payload.get("fromReschedule"),
                  original.get("uid") if isinstance(original, dict) else None):  # fmt: skip
        if _text(value):
            return str(value).strip()
    return None


def _when(payload: dict[str, Any], key: str, default: datetime) -> datetime | None:
    value = payload.get(key)
    return instant(value, f"payload.{key}", default) if value else None


def parse(request: IncomingRequest) -> ParsedDelivery:
    data = parse_json(request)
    if not isinstance(data, dict):
        raise BadPayload("body: a JSON object is expected")
    trigger = data.get("triggerEvent")
    if trigger not in (CREATED, CANCELLED, RESCHEDULED):
        return ParsedDelivery(ignored=1)
    payload: dict[str, Any] = data["payload"] if isinstance(data.get("payload"), dict) else data
    email = _email(payload)
    if email is None:
        raise BadPayload(
            "payload.attendees.0.email: the attendee's email is missing", field="payload.attendees.0.email"
        )
    uid = _uid(payload)
    sent = instant(data.get("createdAt"), "createdAt", request.received_at)
    title = _text(payload.get("eventTitle")) or _text(payload.get("title")) or _text(payload.get("type")) or "Cal.com"
    if trigger == CANCELLED:
        return ParsedDelivery(events=[cancellation_event(source=SOURCE, booking_id=uid, email=email, cancelled_at=sent,
                                                         title=title)])  # fmt: skip
    starts, ends = _when(payload, "startTime", sent), _when(payload, "endTime", sent)
    length = payload.get("length")
    minutes = (ends - starts).total_seconds() / 60 if starts and ends and ends > starts else None
    if minutes is None and isinstance(length, (int, float)) and not isinstance(length, bool) and length > 0:
        minutes = float(length)
    events = booking_events(source=SOURCE, booking_id=uid, email=email, booked_at=sent, answers=_answers(payload),
                            title=title, starts_at=starts, minutes=minutes)  # fmt: skip
    replaced = _replaced(payload) if trigger == RESCHEDULED else None
    if replaced and replaced != uid:
        events.append(cancellation_event(source=SOURCE, booking_id=replaced, email=email, cancelled_at=sent,
                                         title=title, rescheduled=True))  # fmt: skip
    return ParsedDelivery(events=events)


@register(SOURCE)
def receive(request: IncomingRequest, settings: Settings, rules: Rules) -> ParsedDelivery:
    verify(request, settings.secret("calcom_secret"))
    return parse(request)
