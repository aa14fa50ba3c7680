"""A booking called off: a cancellation takes back the points of the event it cancels.

A cancellation is an event in the lead's history (`booking_cancelled`, with `cancels`: the id of
the event it takes back, from the same source), so it is stored, deduplicated and shown like any
other. Scoring leaves out both the cancelled event and the cancellation, whichever arrived first:
a meeting booked then cancelled earns what a meeting never booked earns, and a reschedule (the
old booking cancelled, a new one made) is one meeting. The basis remembers what was cancelled, so
a booking that arrives after its own cancellation (deliveries are not ordered) is not folded in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .events import LeadEvent

CANCEL_EVENT = "booking_cancelled"
MAX_REMEMBERED = 200  # a lead cancels a handful of meetings; a flood is not kept in its basis

Cancelled = frozenset[tuple[str, str]]  # (source, event id)


def is_cancel(event: LeadEvent) -> bool:
    return event.type == CANCEL_EVENT


def cancels(event: LeadEvent) -> tuple[str, str] | None:
    """The (source, event id) this cancellation takes back; None for any other event."""
    if not is_cancel(event):
        return None
    target = event.properties.get("cancels")
    return (event.source, str(target)) if isinstance(target, str) and target else None


def cancelled_by(events: Iterable[LeadEvent]) -> Cancelled:
    return frozenset(found for found in map(cancels, events) if found is not None)


def standing(events: Iterable[LeadEvent]) -> list[LeadEvent]:
    """The events that count: neither a cancellation nor cancelled by one."""
    events = list(events)
    if not any(event.type == CANCEL_EVENT for event in events):
        return events  # most leads never cancel anything: one pass over their events
    gone = cancelled_by(events)
    return [event for event in events if not is_cancel(event) and (event.source, event.event_id) not in gone]


def cancelled_json(cancelled: Cancelled) -> list[list[str]]:
    return [list(key) for key in sorted(cancelled)[-MAX_REMEMBERED:]]


def cancelled_from_json(data: Any) -> Cancelled:
    if not isinstance(data, list):
        return frozenset()
    return frozenset((str(item[0]), str(item[1])) for item in data if isinstance(item, list) and len(item) == 2)
