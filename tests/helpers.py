"""Small builders so each test states only what matters to it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain import Identities, LeadEvent, Rules
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def default_rules() -> Rules:
    return load_rules_file(DEFAULT_RULES_PATH)


def rules_with(**overrides: Any) -> Rules:
    """The default rules with top-level sections replaced, re-validated like a real file."""
    import yaml

    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text())
    data.update(overrides)
    return parse_rules(yaml.safe_dump(data), source="test")


def event(event_type: str, ago: timedelta = timedelta(0), event_id: str | None = None, **properties: Any) -> LeadEvent:
    return LeadEvent(
        event_id=event_id or f"evt-{next(_ids)}",
        source="test",
        type=event_type,
        occurred_at=NOW - ago,
        properties=properties,
    )


def track(event_id: str, kind: str, ago: timedelta = timedelta(hours=1), **identities: str) -> LeadEvent:
    """A tracking event as the Segment adapter makes it (an email event carries its message id)."""
    return LeadEvent(
        event_id=event_id,
        source="segment",
        type=kind,
        occurred_at=NOW - ago,
        identities=Identities(**identities),
        properties={"message_id": event_id} if kind.startswith("Email") else {},
    )


def page(path: str, ago: timedelta = timedelta(0), **properties: Any) -> LeadEvent:
    return event("page_view", ago, url=f"https://example.com{path}", **properties)


def engagement_of(card: Any, rule: str) -> float:
    return sum(c.points_now for c in card.contributions if c.rule == rule)


def use_cases(storage: Any, rules: Any = None) -> Any:
    """The use cases over `storage` with the bundled rules (or `rules`, a callable), queueing nothing."""
    from chalicelib.bootstrap import Container
    from chalicelib.rules import rules_loader
    from chalicelib.settings import Settings

    return Container(Settings(), storage=storage, rules=rules or rules_loader(), queue=None)


# A named score on the /analytics section of a site, written to a HubSpot property (several scores).
ANALYTICS_SCORE = """
scores:
  product_analytics:
    label: Interest in Analytics
    when: {page_path_prefix: /analytics}
    properties: {hubspot: lead_score_analytics}
"""
