"""An account's score: fit (who the company is) + the engagement of its most engaged contacts
(capped) + breadth (points for each engaged contact beyond the first: a buying committee forming).

It is computed from the company's profile and its contacts ranked by engagement, most engaged
first, at most `COUNT_LIMIT` of them: the cost of a roll-up does not grow with the account.
Decay follows the contacts': each contact's engagement is its card's, kept current by its own
decay, and a contact's change rolls its account up again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .account_rules import ACCOUNT_ATTRIBUTES, AccountRules
from .compiled_rules import FitRuleSpec
from .fit import answer_fit
from .profile import Profile
from .scorecard import REASONS_LIMIT, SEPARATOR
from .tiers import tier_for


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


def account_profile(own: dict[str, Any], contacts: Sequence[ContactRank]) -> Profile:
    """The company as the account knows it: its own record's properties (a CRM company), else
    what its most engaged contact's profile says of it, attribute by attribute."""
    merged: dict[str, Any] = {}
    for name in sorted(ACCOUNT_ATTRIBUTES):
        values = [own.get(name), *(contact.firm.get(name) for contact in contacts)]
        for value in values:
            if value in (None, "", [], ()):
                continue
            try:
                merged[name] = getattr(Profile.model_validate({name: value}), name)
            except ValueError:
                continue  # one unusable value: try the next source
            break
    return Profile.model_validate(merged)


def account_name(key: str, profile: Profile) -> str:
    """Its company name, else the key's id (a domain, a group id)."""
    return profile.company or key.partition(":")[2]


def score_account(
    rules: AccountRules,
    fit_rules: Sequence[FitRuleSpec],
    profile: Profile,
    contacts: Sequence[ContactRank],
    more: bool,
    now: datetime,
    previous_tier: str | None = None,
) -> AccountCard:
    """`contacts`: the most engaged first, as many as a roll-up reads; `more`: it has others."""
    ranked = sorted(contacts, key=lambda contact: -contact.engagement)
    fit = answer_fit(profile, list(fit_rules))
    contributions = [AccountContribution(kind="fit", label=item.label, points=item.points_now)
                     for item in fit.contributions]  # fmt: skip
    room = rules.engagement.cap
    engagement = 0.0
    for contact in ranked[: rules.engagement.top_contacts]:
        if contact.engagement <= 0 or room <= 0:
            break
        counted = min(contact.engagement, room)
        room -= counted
        engagement += counted
        capped = counted < contact.engagement
        contributions.append(
            AccountContribution(
                kind="contact",
                label=contact.who,
                points=round(counted, 2),
                lead_id=contact.lead_id,
                detail=contact.reason,
                capped=capped,
            )
        )
    engaged = [contact for contact in ranked if contact.engagement >= rules.breadth.engaged_from]
    breadth = min(rules.breadth.cap, rules.breadth.points * max(0, len(engaged) - 1))
    if breadth:
        label = f"{len(engaged)}{'+' if more and len(engaged) == len(ranked) else ''} engaged contacts"
        contributions.append(AccountContribution(kind="breadth", label=label, points=breadth))
    score = max(0, round(fit.points + engagement + breadth))
    return AccountCard(
        score=score,
        tier=tier_for(score, rules.bands, previous=previous_tier),
        fit=fit.points,
        engagement=round(engagement, 2),
        breadth=breadth,
        engaged_contacts=len(engaged),
        engaged_more=more and len(engaged) == len(ranked),
        contributions=contributions,
        scored_at=now,
        rules_fingerprint=rules.fingerprint,
    )
