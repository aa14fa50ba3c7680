"""HubSpot's marketing email events, portal-wide (`GET /email/public/v1/events`), as engagement:
every send, open, click, bounce, unsubscribe and spam report, not only the latest that the
contact's properties keep. The campaign id is the message key (so "then +N" counts per email),
and an open or click carries its send time (`sentBy.created`) for the response-time multiplier.

HubSpot returns events newest first, 1,000 a page, with an `offset` that is only meant to live
for the query it came from. So events are read in windows of at most a day: the cursor names the
window and the offset inside it; a finished window moves the cursor on. Events HubSpot flags as
filtered (bots, security scanners) are left out (`excludeFilteredEvents`). Each event's id is
HubSpot's, so a window read twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.events import instant_or_none, to_us
from chalicelib.errors import CrmUnavailable

from ..pacing import CrmCalls, PacedReader
from ..ports import Cursor, RecordPage

SOURCE = "hubspot"
PAGE_SIZE = 1000
WINDOW = timedelta(days=1)
SETTLE = timedelta(minutes=1)  # the newest minute may still be filling in: read it next time
TYPES = {
    "SENT": "email_sent",
    "DELIVERED": "email_sent",
    "OPEN": "email_open",
    "CLICK": "email_click",
    "BOUNCE": "email_bounce",
    "SPAMREPORT": "email_spam",
}


def email_event(raw: dict[str, Any]) -> LeadEvent | None:
    kind, recipient, event_id = raw.get("type"), raw.get("recipient"), raw.get("id")
    created = instant_or_none(raw.get("created"))
    if not isinstance(recipient, str) or "@" not in recipient or not event_id or created is None:
        return None
    event_type = TYPES.get(str(kind))
    properties: dict[str, Any] = {"message_id": str(raw.get("emailCampaignId") or "")}
    if kind == "STATUSCHANGE":
        if not _unsubscribed(raw):
            return None  # a resubscribe or another change: not engagement
        event_type = "unsubscribe"
    if event_type is None:
        return None  # PROCESSED, DEFERRED, DROPPED, FORWARD, PRINT ...: not the recipient's doing
    sent = raw.get("sentBy")
    sent_at = instant_or_none(sent.get("created")) if isinstance(sent, dict) else None
    if sent_at is not None:
        properties["sent_at"] = sent_at
    if kind == "CLICK" and isinstance(raw.get("url"), str):
        properties["url"] = raw["url"]
    if kind == "BOUNCE":
        category = str(raw.get("category") or "").upper()
        properties["bounce_type"] = "soft" if category in ("SOFT_BOUNCE", "MAILBOX_FULL") else "hard"
    if raw.get("subject"):
        properties["subject"] = str(raw["subject"])[:200]
    return LeadEvent(
        event_id=f"email-{event_id}",
        source=SOURCE,
        type=event_type,
        occurred_at=created,
        identities=Identities(email=recipient),
        properties=properties,
    )


def _unsubscribed(raw: dict[str, Any]) -> bool:
    if str(raw.get("portalSubscriptionStatus", "")).upper() == "UNSUBSCRIBED":
        return True
    changes = raw.get("subscriptions")
    return isinstance(changes, list) and any(
        isinstance(change, dict) and str(change.get("status", "")).upper() == "UNSUBSCRIBED" for change in changes
    )


def _millis(moment: datetime) -> int:
    return to_us(moment) // 1000


class HubSpotEmailEvents(PacedReader):
    """A record reader (see record_pages.RecordReader) over the email events API."""

    name = "hubspot_email"

    def __init__(self, calls: CrmCalls, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.calls = calls
        self.clock = clock

    def first_cursor(self, since: str | None) -> Cursor:
        start = instant_or_none(since) or (self.clock() - timedelta(days=30))
        return {"start": _millis(start), "offset": None}

    def total(self, since: str | None) -> int | None:
        return None

    def page(self, cursor: Cursor) -> RecordPage:
        start = int(cursor["start"])
        settled = _millis(self.clock() - SETTLE)
        end = int(cursor["end"]) if cursor.get("end") else min(start + _millis_of(WINDOW), settled)
        if start > end:
            return RecordPage(next_cursor=None)
        query: dict[str, Any] = {"startTimestamp": start, "endTimestamp": end, "limit": PAGE_SIZE,
                                 "excludeFilteredEvents": "true"}  # fmt: skip
        if cursor.get("offset"):
            query["offset"] = cursor["offset"]
        try:
            body = self.calls.request("GET", f"/email/public/v1/events?{urlencode(query)}")
        except CrmUnavailable:
            if not cursor.get("offset"):
                raise
            # the offset outlived its query: read the window again (its events are stored once)
            return RecordPage(next_cursor={"start": start, "offset": None})
        raw_events = body.get("events") if isinstance(body, dict) else None
        found = [email_event(item) for item in raw_events or [] if isinstance(item, dict)]
        events = [event for event in found if event is not None]
        if isinstance(body, dict) and body.get("hasMore") and body.get("offset"):
            next_cursor: Cursor | None = {"start": start, "offset": str(body["offset"]), "end": end}
        elif end < settled:
            next_cursor = {"start": end + 1, "offset": None}
        else:
            next_cursor = None
        return RecordPage(events=events, records=len(raw_events or []), next_cursor=next_cursor)


def _millis_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
