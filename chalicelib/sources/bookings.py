"""What every scheduling tool's delivery becomes: a booking is the invitee's profile (their answers
to the booking questions) and a `meeting_booked`; a cancellation takes a booking back
(domain/cancellations.py). Shared by Calendly and Cal.com, which only find these parts in their
own formats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.cancellations import CANCEL_EVENT
from chalicelib.domain.events import iso_z
from chalicelib.domain.profile import PROFILE_EVENT

from .form_fields import MAX_ANSWERS, Answer, filled_fields, profile_from

BOOKED = "meeting_booked"


def booking_events(
    *,
    source: str,
    booking_id: str,
    email: str,
    booked_at: datetime,
    answers: Sequence[Answer],
    title: str,
    starts_at: datetime | None = None,
    minutes: float | None = None,
) -> list[LeadEvent]:
    """The profile the invitee stated and the meeting they booked (the event id is the booking's,
    so a retried delivery is the same event and a cancellation names it)."""
    answers = [Answer("email", "email", email), *answers[:MAX_ANSWERS]]
    identities = Identities(email=email)
    meeting: dict[str, Any] = {"meeting_title": title, "booking_id": booking_id}
    if starts_at is not None:
        meeting["meeting_start"] = iso_z(starts_at)
    if minutes is not None:
        meeting["duration_minutes"] = minutes
    return [
        LeadEvent(
            event_id=f"{booking_id}:profile",
            source=source,
            type=PROFILE_EVENT,
            occurred_at=booked_at,
            identities=identities,
            properties={"profile": profile_from(answers), "form_fields": filled_fields(answers)},
        ),
        LeadEvent(
            event_id=booking_id,
            source=source,
            type=BOOKED,
            occurred_at=booked_at,
            identities=identities,
            properties=meeting,
        ),
    ]


def cancellation_event(
    *, source: str, booking_id: str, email: str, cancelled_at: datetime, title: str, rescheduled: bool = False
) -> LeadEvent:
    properties: dict[str, Any] = {"cancels": booking_id, "meeting_title": title}
    if rescheduled:
        properties["rescheduled"] = True
    return LeadEvent(
        event_id=f"{booking_id}:cancelled",
        source=source,
        type=CANCEL_EVENT,
        occurred_at=cancelled_at,
        identities=Identities(email=email),
        properties=properties,
    )
