"""A lead's activity as a rep reads it: one line per event, naming what the person did (the form,
the email's subject or campaign, the page, the meeting, the video) and when, with the points the
event is worth now, or why it is worth nothing (recorded only, no rule for it, filtered as a bot,
aged out).

"Worth now" is the event's own share at full strength times its decay at its age, before the
rule's cap and repeat counting, which belong to the rule's total on the card (the card says when
a rule is capped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .alerts import CRM_NAMES
from .bounds import clean_text
from .cancellations import Cancelled, is_cancel
from .compiled_rules import CompiledRules
from .events import LeadEvent, iso_z, to_us
from .profile import PROFILE_EVENT
from .recycle import is_recycle
from .traffic_filters import LABELS as REASON_LABELS

TITLE_LIMIT = 160
# What the person did, by canonical type: the verb the title starts with.
VERBS = {
    "page_view": "Viewed", "email_open": "Opened", "email_click": "Clicked", "email_reply": "Replied to",
    "email_sent": "Was sent", "email_bounce": "Bounced", "email_spam": "Marked as spam",
    "unsubscribe": "Unsubscribed from", "form_submitted": "Submitted", "demo_request": "Requested a demo through",
    "quote_request": "Asked for a quote through",
    "content_download": "Downloaded", "webinar_registered": "Registered for", "webinar_attended": "Attended",
    "event_attended": "Attended", "meeting_booked": "Booked", "video_started": "Started", "video_progress": "Watched",
    "video_completed": "Finished", "trial_started": "Started a trial", "call": "Call", "chat_message": "Chatted",
}  # fmt: skip
# Properties that name the thing, most telling first.
NAMING = ("form_name", "form", "subject", "campaign", "campaign_name", "meeting_title", "video_title", "title", "name")


@dataclass(frozen=True)
class ActivityLine:
    event_id: str
    source: str
    name: str  # the type as the sender named it
    kind: str  # the canonical type the rules map it to
    at: datetime
    title: str
    rule: str | None  # the label of the rule it counts for
    points_now: float
    note: str | None  # why it earns nothing, or what limits it

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "source": self.source, "name": self.name, "type": self.kind,
            "at": iso_z(self.at), "title": self.title, "rule": self.rule, "points_now": round(self.points_now, 2),
            "note": self.note,
        }  # fmt: skip


def is_activity(event: LeadEvent) -> bool:
    """What the person did: a profile update carries what a form or the CRM said about them, not
    something they did, and is left out (but for a CRM merge of its records: its history)."""
    return event.type != PROFILE_EVENT or "merged" in event.properties


def activity_line(
    event: LeadEvent, compiled: CompiledRules, now: datetime, capped: frozenset[str], cancelled: Cancelled = frozenset()
) -> ActivityLine:
    """`capped`: names of the rules whose total the card caps; `cancelled`: the events the lead's
    cancellations took back (its basis remembers them)."""
    if is_cancel(event):
        props = event.properties
        thing = next((clean_text(str(props[key])) for key in NAMING if _given(props.get(key))), "")
        cancelled_title = (f"Cancelled '{thing}'" if thing else "Cancelled a booking")[:TITLE_LIMIT]
        return ActivityLine(event.event_id, event.source, event.type, event.type, event.occurred_at, cancelled_title,
                            None, 0.0, "takes back the booking's points")  # fmt: skip
    if is_recycle(event):
        undone = event.properties.get("undo") is True
        title = "Recycle undone: what it did before counts again" if undone else "Recycled by sales"
        why = None if undone else "what it did before no longer counts"
        return ActivityLine(event.event_id, event.source, event.type, event.type, event.occurred_at, title, None, 0.0,
                            why)  # fmt: skip
    merged = event.properties.get("merged") if event.type == PROFILE_EVENT else None
    if isinstance(merged, dict):
        crm = CRM_NAMES.get(str(merged.get("crm")), str(merged.get("crm")))
        title = f"Merged in {crm}: {', '.join(map(str, merged.get('from') or []))} into {merged.get('into')}"
        return ActivityLine(event.event_id, event.source, event.type, event.type, event.occurred_at, title, None, 0.0,
                            "the records' activity counts once, on this lead")  # fmt: skip
    kind = compiled.canonical_type(event.type)
    title = describe(event, kind)
    if (event.source, event.event_id) in cancelled:
        return ActivityLine(event.event_id, event.source, event.type, kind, event.occurred_at, title, None, 0.0,
                            "cancelled: worth nothing")  # fmt: skip
    ignored = compiled.filters.reason(event.properties)
    if ignored is not None:
        return ActivityLine(event.event_id, event.source, event.type, kind, event.occurred_at, title, None, 0.0,
                            f"ignored: {REASON_LABELS.get(ignored, ignored)}")  # fmt: skip
    matched = compiled.matched_specs(event, kind)
    if not matched:
        if kind in compiled.recorded_only or kind == compiled.sent_event:
            why = "recorded, not scored"
        elif kind in compiled.candidates:
            why = "no rule's conditions match it"
        else:
            why = f"no rule scores {event.type!r}"
        return ActivityLine(event.event_id, event.source, event.type, kind, event.occurred_at, title, None, 0.0, why)
    spec = max(matched, key=lambda candidate: (abs(candidate.points), -candidate.index))
    age = max(0, to_us(now) - to_us(event.occurred_at))
    keep = spec.decay.keep(age)
    points = spec.points * keep
    label = spec.description or spec.name
    if keep == 0:
        note: str | None = "aged out: worth nothing now"
    elif spec.name in capped:
        note = "its rule has reached its cap"
    elif keep < 1:
        note = f"{keep:.0%} of its {spec.points:+g} at this age"
    else:
        note = None
    return ActivityLine(event.event_id, event.source, event.type, kind, event.occurred_at, title, label, points, note)


def describe(event: LeadEvent, kind: str) -> str:
    """ "Submitted 'Book a demo'", "Viewed 'Pricing' (/pricing)", "Opened 'Q3 pricing'"."""
    # Nothing named: the name the sender gave it says most.
    return named(event, kind) or _spoken(event.type)[:TITLE_LIMIT]


def named(event: LeadEvent, kind: str) -> str | None:
    """The title when the event names the thing (a form, a subject, a page); None when it does not."""
    props = event.properties
    thing = next((clean_text(str(props[key])) for key in NAMING if _given(props.get(key))), "")
    where = _path(props.get("path") or props.get("url"))
    verb = VERBS.get(kind)
    if verb is None:
        if not thing:
            return None
        text = clean_text(event.type) + f" '{thing}'"
    elif thing:
        text = f"{verb} '{thing}'" + (f" ({where})" if where and kind == "page_view" else "")
    elif where:
        text = f"{verb} {where}"
    else:
        return None
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


def _spoken(name: str) -> str:
    """ "Demo Requested" as sent; a machine name ("demo_request") as words ("Demo request")."""
    text = clean_text(name)
    if "_" in text and " " not in text:
        text = text.replace("_", " ").capitalize()
    return text


def _given(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip() != ""


def _path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("", "http", "https"):
        return ""  # javascript:, data: ...: not a page
    return clean_text(parts.path or "/")
