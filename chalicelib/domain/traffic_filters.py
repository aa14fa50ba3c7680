"""Traffic that is kept but never scored: crawlers, bursts no person could make, spam forms.

The rules file's `filters` section (every switch has a safe default):

    filters:
      crawler_user_agents: crawler_user_agents   # a list of user-agent regexes (null: off)
      speed_limits: {page_view: 60, form: 10}    # per lead per minute; the excess is not scored
      honeypot_fields: [_gotcha, bot-field, honeypot]
      bot_like: {share: 0.5, min_events: 20}     # the card marks a lead mostly ignored

`crawler_user_agents` names a list under `lists`; the default list comes from the maintained
crawler-user-agents package (github.com/monperrus/crawler-user-agents). "form" in `speed_limits`
means any form submission (an event with a `form_id`); other keys are canonical event types.
A honeypot field is a form field people never see: a submission that fills one is a bot's.

Ignored events are stored like any other (a rules change re-judges them), counted by reason in
the lead's card ("ignored: crawler user agent ×312") and in metrics, and earn nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .patterns import compile_pattern

CRAWLER_LIST = "crawler_user_agents"
CRAWLER_PACKAGE = "crawler-user-agents"
FORM_KIND = "form"
LABELS = {
    "crawler": "crawler user agent",
    "too_fast": "faster than a person",
    "honeypot": "honeypot form field filled",
}
_CHUNK = 25  # patterns per alternation: one regex of 1,500 alternatives is slower to search


class BotLike(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    share: float = Field(default=0.5, gt=0, le=1, description="share of a lead's events ignored")
    min_events: int = Field(default=20, ge=1, description="ignored events before a lead can be marked")


class TrafficFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    crawler_user_agents: str | None = Field(default=CRAWLER_LIST, description="list of user-agent regexes")
    speed_limits: dict[str, int] = Field(default_factory=lambda: {"page_view": 60, FORM_KIND: 10})
    honeypot_fields: list[str] = Field(default_factory=lambda: ["_gotcha", "bot-field", "honeypot"])
    bot_like: BotLike = Field(default_factory=BotLike)


def field_name(label: str) -> str:
    """How form field labels are compared: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_-]+", "-", label.strip().lower()).strip("-")


class CompiledFilters:
    """The filters as lookups; `reason` is called for every event, so answers are remembered."""

    __slots__ = ("_seen", "crawlers", "honeypots", "speed_limits")
    _MEMORY = 1024

    def __init__(self, filters: TrafficFilters, lists: Mapping[str, list[str]], canonical: Any) -> None:
        patterns = lists.get(filters.crawler_user_agents, []) if filters.crawler_user_agents else []
        self.crawlers = [compile_pattern("|".join(patterns[i : i + _CHUNK])) for i in range(0, len(patterns), _CHUNK)]
        self.honeypots = frozenset(field_name(name) for name in filters.honeypot_fields)
        self.speed_limits = {
            key if key == FORM_KIND else canonical(key): limit for key, limit in filters.speed_limits.items()
        }
        self._seen: dict[str, bool] = {}

    def reason(self, props: Mapping[str, Any]) -> str | None:
        """Why an event is not scored whatever else is known ("crawler", "honeypot"), or None."""
        agent = props.get("user_agent")
        if agent and agent.__class__ is str and self.crawlers and self._is_crawler(agent):
            return "crawler"
        filled = props.get("form_fields")
        if (
            filled
            and self.honeypots
            and isinstance(filled, list)
            and any(isinstance(name, str) and field_name(name) in self.honeypots for name in filled)
        ):
            return "honeypot"
        return None

    def speed_kind(self, canonical: str, props: Mapping[str, Any]) -> str | None:
        """The speed limit an event counts against, if any."""
        if props.get("form_id") is not None and FORM_KIND in self.speed_limits:
            return FORM_KIND
        return canonical if canonical in self.speed_limits else None

    def _is_crawler(self, agent: str) -> bool:
        found = self._seen.get(agent)
        if found is None:
            if len(self._seen) >= self._MEMORY:
                self._seen.clear()
            found = self._seen[agent] = any(chunk.search(agent) for chunk in self.crawlers)
        return found
