"""An account's score: fit (who the company is) + the engagement of its most engaged contacts
(capped) + breadth (points for each engaged contact beyond the first: a buying committee forming).

It is computed from the company's profile and its contacts ranked by engagement, most engaged
first, at most `COUNT_LIMIT` of them: the cost of a roll-up does not grow with the account.
Decay follows the contacts': each contact's engagement is its card's, kept current by its own
decay, and a contact's change rolls its account up again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .account_card import AccountCard, AccountContribution, ContactRank
from .account_rules import ACCOUNT_ATTRIBUTES, AccountRules
from .compiled_rules import FitRuleSpec
from .fit import answer_fit
from .profile import Profile
from .tiers import tier_for


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
