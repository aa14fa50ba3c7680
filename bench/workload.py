"""A realistic lead history for benchmarks: a B2B buyer's mix of emails, page views and intent events."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain import LeadEvent, Profile

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROFILE = Profile(email="jane@acme.com", job_title="VP Marketing", company_size=250, industry="Software", country="US")
_PATHS = ["/", "/blog/a", "/blog/b", "/pricing", "/docs/api", "/case-studies/x", "/compare/y", "/about", "/careers"]
_KINDS = [
    ("page_view", 40), ("Email Opened", 20), ("email_sent", 10), ("Email Link Clicked", 8), ("Email Replied", 2),
    ("Content Downloaded", 4), ("Webinar Registered", 2), ("Webinar Attended", 1), ("Trial Active", 6),
    ("Social Engagement", 5), ("Demo Requested", 1), ("Unsubscribed", 1),
]  # fmt: skip


def lead_history(count: int, seed: int = 7, horizon_days: int = 180) -> list[LeadEvent]:
    rng = random.Random(seed)
    names, weights = zip(*_KINDS, strict=True)
    events = []
    for index in range(count):
        kind = rng.choices(names, weights)[0]
        props: dict[str, Any] = {}
        if kind == "page_view":
            props = {"url": "https://acme.example" + rng.choice(_PATHS), "duration_seconds": rng.randint(5, 1200)}
        elif kind.lower().startswith("email"):
            props = {"message_id": f"msg-{rng.randint(1, max(1, count // 8))}", "campaign_type": "nurture"}
        elif kind == "Content Downloaded":
            props = {"content_type": rng.choice(["whitepaper", "case_study", "guide"])}
        elif kind == "Social Engagement":
            props = {"action": rng.choice(["like", "share", "comment"])}
        age = timedelta(seconds=rng.randint(0, horizon_days * 86_400))
        events.append(LeadEvent(event_id=f"e{index}", source="segment", type=kind, occurred_at=NOW - age,
                                properties=props))  # fmt: skip
    return events


def fake_aws_credentials() -> None:
    """moto needs some credentials; never real ones."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
