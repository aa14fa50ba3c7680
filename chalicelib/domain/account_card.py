"""What an account's roll-up reads of its contacts (`ContactRank`) and what it keeps: the account
card, each contribution (the company's fit, a contact's engagement, breadth) explained."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .scorecard import REASONS_LIMIT, SEPARATOR


@dataclass(frozen=True)
class ContactRank:
    """A contact as its account's roll-up reads it (the lead item's ranked projection)."""

    lead_id: str
    engagement: float
    name: str | None = None
    email: str | None = None
    score: int | None = None
    tier: str | None = None
    reason: str | None = None  # its top reason, as its card shows it
    last_active_at: str | None = None
    firm: dict[str, Any] = field(default_factory=dict, compare=False)  # its company facts (size, industry ...)

    @property
    def who(self) -> str:
        return self.name or self.email or self.lead_id


class AccountContribution(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["fit", "contact", "breadth"]
    label: str
    points: float
    lead_id: str | None = None  # the contact it is for (kind "contact")
    detail: str | None = None  # what earned it: the contact's top reason
    capped: bool = False

    def line(self) -> str:
        return f"{self.label} ({self.points:+.0f})" + (f": {self.detail}" if self.detail else "")


class AccountCard(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    tier: str
    fit: int
    engagement: float
    breadth: float
    engaged_contacts: int
    engaged_more: bool  # more engaged contacts than one roll-up reads: "50 or more"
    contributions: list[AccountContribution]
    scored_at: datetime
    rules_fingerprint: str

    @property
    def visible(self) -> tuple[int, str, int]:
        """What a CRM shows of it: a write-back is due only when this changes."""
        return (self.score, self.tier, self.engaged_contacts)

    def reasons(self, limit: int = 3) -> list[str]:
        ranked = sorted(self.contributions, key=lambda item: -abs(item.points))
        return [item.line() for item in ranked[:limit]]

    def reasons_line(self) -> str:
        """The reasons one CRM text property holds (255 characters)."""
        line = ""
        for reason in self.reasons(limit=len(self.contributions)):
            candidate = f"{line}{SEPARATOR}{reason}" if line else reason
            if len(candidate) > REASONS_LIMIT:
                break
            line = candidate
        return line
