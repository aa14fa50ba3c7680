"""Named scores: scores besides the main one, each for one interest (a product, a part of the
site), as HubSpot's several scores, Pardot's scoring categories or Mautic's point groups.

```yaml
scores:
  product_analytics:
    label: Interest in Analytics
    when: {page_path_prefix: /analytics}     # and/or event_types: [...], properties: {product: analytics}
    properties: {hubspot: lead_score_analytics, salesforce: Lead_Score_Analytics__c}
```

A named score is the engagement the lead earned by the events its `when` selects, under the main
engagement rules (or its own `rules`), with their caps and decay; `fit: true` adds the lead's fit.
With a `page_path_prefix`, the main page rules read that section as a site of its own:
/analytics/pricing counts as a pricing view, /analytics as the homepage.
It is computed by the same engine over those events (`named_rules` derives the rules it runs),
so it is explained, decays and folds new events in as the main score does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .cancellations import CANCEL_EVENT
from .conditions import Predicate, ValueTest
from .event_rule import EngagementRule
from .events import LeadEvent
from .profile import PROFILE_EVENT

if TYPE_CHECKING:
    from .rules import Rules
    from .scorecard import ScoreCard

OWN_SOURCE = "leadscore"  # the events leadscore adds itself (a recycle: recycle.py), which every score reads
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreFilter(_Strict):
    """Which events a named score counts: all of the given conditions hold."""

    page_path_prefix: str | None = Field(default=None, description="a page view whose path starts with this")
    event_types: list[str] | None = Field(default=None, description="canonical event types (keys of event_types)")
    properties: dict[str, ValueTest] = Field(default_factory=dict, description="tests on the event's properties")

    @field_validator("page_path_prefix")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("a path prefix starts with /")
        return value


class NamedScore(_Strict):
    label: str = Field(min_length=1, max_length=80)
    description: str = ""
    when: ScoreFilter = Field(default_factory=ScoreFilter)
    rules: list[EngagementRule] | None = Field(default=None, description="its own engagement rules; none: the main")
    fit: bool = Field(default=False, description="add the lead's fit to it")
    properties: dict[Literal["hubspot", "salesforce"], str] = Field(default_factory=dict)

    @field_validator("properties")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for crm, name in value.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,99}", name):
                raise ValueError(f"{crm} property {name!r}: letters, digits and underscores")
        return value


def check_names(scores: Mapping[str, Any]) -> None:
    for name in scores:
        if not NAME.fullmatch(name):
            raise ValueError(f"score name {name!r}: lower case letters, digits and underscores (at most 40)")


class ScoreSelector:
    """The compiled `when` of one named score: `keeps(event, canonical)` says whether it counts.
    Profile changes and recycles always pass: who the lead is, and what no longer counts."""

    def __init__(self, when: ScoreFilter, lists: Mapping[str, list[str]], page_event: str) -> None:
        self.prefix = when.page_path_prefix
        self.types = frozenset(when.event_types) if when.event_types is not None else None
        self.tests: list[tuple[str, Predicate]] = [(key, test.compile(lists)) for key, test in when.properties.items()]
        self.page_event = page_event

    def keeps(self, event: LeadEvent, canonical: str) -> bool:
        if event.type in (PROFILE_EVENT, CANCEL_EVENT) or event.source == OWN_SOURCE:
            return True  # who the lead is, a recycle or a cancellation: what no longer counts
        if self.types is not None and canonical not in self.types:
            return False
        if self.prefix is not None and not self._on_path(event, canonical):
            return False
        return all(test(event.properties.get(name)) for name, test in self.tests)

    def _on_path(self, event: LeadEvent, canonical: str) -> bool:
        return canonical == self.page_event and _path(event.properties).startswith(self.prefix or "/")


def _path(properties: Mapping[str, Any]) -> str:
    path = properties.get("path")
    if isinstance(path, str) and path.startswith("/"):
        return path
    url = properties.get("url")
    if isinstance(url, str):
        try:
            return urlsplit(url).path or "/"
        except ValueError:
            return ""
    return ""


def named_rules(rules: Rules, name: str) -> Rules:
    """The rules a named score runs: the main file with its engagement rules (or its own), no fit
    unless it asks for it, and none of what only the main score has (calibration, CRM actions,
    accounts, other named scores). Built once per rules object."""
    cache: dict[str, Rules] = rules.derived_cache
    found = cache.get(name)
    if found is None:
        spec = rules.scores[name]
        engagement = rules.engagement.model_copy(update={"rules": list(spec.rules or rules.engagement.rules)})
        prefix = spec.when.page_path_prefix
        if prefix and spec.rules is None:
            # The main page rules read the section as a site of its own: /analytics/pricing is
            # "Viewed pricing", /analytics the homepage (a locale prefix is still stripped).
            pages = engagement.page_categories
            section = "^" + re.escape(prefix.rstrip("/")) + "(/|$)"
            strip = f"{section}|{pages.strip_prefix}" if pages.strip_prefix else section
            engagement = engagement.model_copy(
                update={"page_categories": pages.model_copy(update={"strip_prefix": strip})}
            )
        update: dict[str, Any] = {"engagement": engagement, "scores": {}, "accounts": None, "calibration": None,
                                  "name": f"{rules.name}:{name}"}  # fmt: skip
        if not spec.fit:
            update.update(fit=[], personas=[])
        found = rules.model_copy(update=update)
        found.forget_compiled_form()
        cache[name] = found
    return found


def selected(events: Iterable[LeadEvent], selector: ScoreSelector, canonical: Any) -> list[LeadEvent]:
    return [event for event in events if selector.keeps(event, canonical(event.type))]


class NamedCard(BaseModel):
    """A named score as the lead's card shows it and the CRM is sent it."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    score: int
    engagement: float
    reasons: list[str]
    next_change_at: datetime | None
    properties: dict[str, str] = {}  # the CRM property each CRM is sent it in

    @classmethod
    def of(cls, name: str, spec: NamedScore, card: ScoreCard) -> NamedCard:
        return cls(name=name, label=spec.label, score=card.score, engagement=round(card.engagement, 2),
                   reasons=card.reasons(), next_change_at=card.next_change_at,
                   properties=dict(spec.properties))  # fmt: skip
