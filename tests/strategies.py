"""Hypothesis strategies for lead histories that exercise every rule kind of the seed model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from chalicelib.domain import LeadEvent, Profile
from tests.helpers import NOW

MAX_AGE = timedelta(days=400)

PATHS = ["/", "/en/", "/blog/a", "/pricing", "/de/pricing", "/docs/api", "/specs", "/case-studies/x",
         "/customers/y", "/compare/z", "/vs/q", "/careers", "/jobs/1", "/about", "/contact"]  # fmt: skip
MESSAGES = ["m1", "m2", "m3"]


def _props(event_type: str, draw: Any) -> dict[str, Any]:
    if event_type.startswith("email") or event_type in ("Email Opened", "Email Link Clicked", "Email Replied"):
        props: dict[str, Any] = {"message_id": draw(st.sampled_from([*MESSAGES, None]))}
        if draw(st.booleans()):
            props["campaign_type"] = draw(st.sampled_from(["cold_outreach", "nurture", "sales_follow_up", "other"]))
        return props
    if event_type == "page_view":
        props = {"url": "https://example.com" + draw(st.sampled_from(PATHS))}
        if draw(st.booleans()):
            props["duration_seconds"] = draw(st.integers(0, 3600))
        return props
    if event_type == "content_download":
        return {"content_type": draw(st.sampled_from(["whitepaper", "guide", "case_study", "ebook"]))}
    if event_type == "social":
        return {"action": draw(st.sampled_from(["like", "comment", "share", "profile_view", "direct_message"]))}
    if event_type == "email_bounce":
        return {"bounce_type": draw(st.sampled_from(["hard", "soft"]))}
    return {}


EVENT_TYPES = [
    "email_sent", "email_open", "Email Opened", "email_click", "Email Link Clicked", "email_reply",
    "email_bounce", "email_spam", "unsubscribe", "page_view", "page_view", "page_view", "content_download",
    "webinar_registered", "webinar_attended", "demo_request", "trial_started", "trial_active",
    "trial_active", "quote_request", "social", "video_progress", "unknown_thing",
]  # fmt: skip


@st.composite
def lead_events(draw: Any, max_size: int = 25, max_age: timedelta = MAX_AGE) -> list[LeadEvent]:
    count = draw(st.integers(0, max_size))
    events = []
    for index in range(count):
        event_type = draw(st.sampled_from(EVENT_TYPES))
        age = draw(st.integers(0, int(max_age.total_seconds() * 1_000_000)))
        events.append(
            LeadEvent(
                event_id=f"e{index}",
                source=draw(st.sampled_from(["segment", "hubspot"])),
                type=event_type,
                occurred_at=NOW - timedelta(microseconds=age),
                properties=_props(event_type, draw),
            )
        )
    return events


profiles = st.builds(
    Profile,
    email=st.sampled_from([None, "a@acme.com", "b@gmail.com", "c@mit.edu", "d@competitor.example"]),
    job_title=st.sampled_from([None, "CEO", "VP Sales", "Marketing Manager", "Engineer", "Student"]),
    company_size=st.sampled_from([None, 5, 49, 50, 99, 100, 5000]),
    industry=st.sampled_from([None, "Software", "Retail"]),
    country=st.sampled_from([None, "US", "Brazil"]),
    lead_source=st.sampled_from([None, "ORGANIC_SEARCH", "PAID_SOCIAL"]),
)
