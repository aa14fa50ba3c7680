"""The result of scoring one lead, with enough detail for a sales rep to see why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from .named_scores import NamedCard

REASONS_LIMIT = 255  # characters of the one-line reasons a CRM record gets (Salesforce Text(255))
SEPARATOR = " · "


class Contribution(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["fit", "engagement"]
    rule: str
    label: str
    count: int
    points_now: float
    points_full: float
    capped: bool = False
    event_ids: list[str] = []
    # The latest event it counts, as a rep reads it ("" when it names nothing: the label says it),
    # and when (engagement only; None when unknown).
    latest: str | None = None
    latest_at: datetime | None = None

    @classmethod
    def engagement(
        cls,
        rule: str,
        label: str,
        count: int,
        points_now: float,
        points_full: float,
        capped: bool,
        event_ids: list[str],
        latest: str | None,
        latest_at: datetime | None,
    ) -> Contribution:
        """An engagement rule's contribution from values the scorer computed (no validation), as
        `model_construct` builds it with every field given, at a fifth of its cost: the card names
        every rule a lead earns by, on every event."""
        made = object.__new__(cls)
        _set(made, "__dict__", {
            "kind": "engagement", "rule": rule, "label": label, "count": count, "points_now": points_now,
            "points_full": points_full, "capped": capped, "event_ids": event_ids, "latest": latest,
            "latest_at": latest_at,
        })  # fmt: skip
        _set(made, "__pydantic_fields_set__", set(_ALL_FIELDS))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made

    def what(self, today: datetime | None = None) -> str:
        """What earned it: the latest event and when ("Replied to 'Q3 pricing' on Dec 3 and 1
        more", "Requested a demo on Dec 2"), else the rule's label; the year only when it is not
        `today`'s."""
        if self.latest is None or self.latest_at is None:
            return self.label
        at = self.latest_at
        when = f"{at:%b} {at.day}" + (f", {at.year}" if today is not None and at.year != today.year else "")
        more = f" and {self.count - 1} more" if self.count > 1 else ""
        return f"{self.latest or self.label} on {when}{more}"


_set = object.__setattr__  # what pydantic's model_construct sets on a frozen model
_ALL_FIELDS = frozenset(Contribution.model_fields)


class NotScored(BaseModel):
    """Events kept but not scored, by why (see traffic_filters): "ignored: crawler user agent ×312"."""

    model_config = ConfigDict(frozen=True)

    reason: str
    label: str
    count: int

    def __str__(self) -> str:
        return f"ignored: {self.label} ×{self.count}"


class Visible(NamedTuple):
    """What the CRM shows of a card: a write-back is due only when this changes."""

    score: int
    tier: str
    grade: str


class ScoreCard(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    fit: int
    engagement: float
    total: float
    tier: str
    grade: str
    mql: bool
    disqualified_by: str | None = None
    contributions: list[Contribution]
    next_change_at: datetime | None
    scored_at: datetime
    rules_fingerprint: str
    ignored: list[NotScored] = []
    bot_like: bool = False  # most of the lead's recent events were ignored: a crawler, monitor or spam
    likelihood: float | None = None  # P(conversion) at this score, when the rules carry a calibration
    persona: str | None = None  # the buyer persona the lead matches best, when the rules define personas
    named: list[NamedCard] = []  # the rules' named scores (named_scores.py), each explained

    @property
    def visible(self) -> Visible:
        return Visible(self.score, self.tier, self.grade)

    @property
    def named_visible(self) -> dict[str, int]:
        """What a CRM shows of the named scores: a change of one is due a write-back too."""
        return {item.name: item.score for item in self.named}

    @property
    def due_at(self) -> datetime | None:
        """When decay must look again: the card's next change, or a named score's if sooner."""
        moments = [moment for moment in (self.next_change_at, *(item.next_change_at for item in self.named)) if moment]
        return min(moments) if moments else None

    def reasons(self, top: int = 3) -> list[str]:
        """The largest contributions now, as short human-readable lines."""
        ranked = sorted(
            (c for c in self.contributions if c.points_now),
            key=lambda c: (-abs(c.points_now), c.rule),
        )
        lines = [f"{c.what(self.scored_at)} ({c.points_now:+g})" for c in ranked[:top]]
        if self.bot_like:
            lines.insert(0, "Mostly bot-like traffic")
        return lines + [str(item) for item in self.ignored]

    def reasons_line(self, limit: int = REASONS_LIMIT, top: int = 5) -> str:
        """The top contributions in one line for the CRM record, largest first, as many as fit in
        `limit` characters (a Salesforce Text(255) field):
        "Requested a demo +50 · Viewed pricing ×2 +40 · VP title +15 · Unsubscribed −20"."""
        parts = ["Mostly bot-like traffic"] if self.bot_like else []
        if self.disqualified_by:
            parts.append(f"Disqualified: {self.disqualified_by}")
        ranked = sorted(
            (c for c in self.contributions if round(c.points_now)),
            key=lambda c: (-abs(c.points_now), c.rule),
        )
        for contribution in ranked[:top]:
            parts.append(_reason_part(contribution, self.scored_at))
        line = ""
        for part in parts:
            longer = f"{line}{SEPARATOR}{part}" if line else part
            if len(longer) > limit:
                break
            line = longer
        return line


def _reason_part(contribution: Contribution, today: datetime) -> str:
    points = round(contribution.points_now)
    signed = f"+{points}" if points > 0 else f"\u2212{-points}"
    if contribution.latest is not None:
        return f"{contribution.what(today)} {signed}"
    times = f" ×{contribution.count}" if contribution.kind == "engagement" and contribution.count > 1 else ""
    return f"{contribution.label}{times} {signed}"


@dataclass(frozen=True)
class CardChange:
    """A card against what the CRM showed before it (None: a new lead). The one definition of
    "what changed": a visible change is due a write-back, a tier change is recorded and counted."""

    before: Visible | None
    after: ScoreCard
    named_before: dict[str, int] = field(default_factory=dict)  # the named scores the CRM showed

    @property
    def visible_changed(self) -> bool:
        return self.before != self.after.visible or self.named_before != self.after.named_visible

    @property
    def tier_changed(self) -> bool:
        return self.before is None or self.before.tier != self.after.tier
