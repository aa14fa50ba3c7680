"""Rescoring one lead: read it and its events, score with the pure domain, save with optimistic
locking (on a concurrent save, read again). Shared by ingestion and the scheduled job."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.engagement import canonical_order
from chalicelib.domain.outcomes import outcome_change
from chalicelib.domain.profile import PROFILE_EVENT, Profile, fold_profile
from chalicelib.domain.rules import Rules
from chalicelib.domain.scorecard import ScoreCard, Visible
from chalicelib.domain.scoring import card_from_basis, score_basis
from chalicelib.storage.port import LeadRecord, LeadSave, LeadStorage, VersionConflict

MAX_ATTEMPTS = 8


def jittered_backoff(attempt: int) -> None:
    """Full jitter: concurrent writers of one lead spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


@dataclass
class Rescored:
    lead_id: str
    version: int
    before: Visible | None  # what the CRM showed before (None: a new lead)
    after: ScoreCard

    @property
    def visible_change(self) -> bool:
        return self.before != self.after.visible

    @property
    def tier_change(self) -> bool:
        return self.before is None or self.before.tier != self.after.tier


def score_lead(record: LeadRecord, rules: Rules, now: datetime) -> tuple[Profile, ScoreBasis, ScoreCard]:
    """The lead's profile (its profile events folded in event order), basis and card at `now`."""
    ordered = canonical_order(record.events)
    patches = [
        ((occurred_us, event.source, event.event_id), event.properties.get("profile") or {})
        for occurred_us, event in ordered
        if event.type == PROFILE_EVENT
    ]
    behaviour = [event for _, event in ordered if event.type != PROFILE_EVENT]
    profile = fold_profile(patches)
    previous = record.card.tier if record.card else None
    basis = score_basis(profile, behaviour, rules)
    return profile, basis, card_from_basis(basis, rules, now, previous_tier=previous)


def rescore_change(record: LeadRecord, rules: Rules, now: datetime, reason: str = "") -> LeadSave:
    """What to save for `record` scored at `now`: card, basis, profile, keys and sales outcome."""
    profile, basis, card = score_lead(record, rules, now)
    keys = sorted(set(record.keys) | {key for event in record.events for key in event.identities.as_keys()})
    return LeadSave(
        lead_id=record.lead_id,
        expected_version=record.version,
        card=card,
        before=record.card.visible if record.card else None,
        now=now,
        basis=basis.to_json(),
        keys=keys,
        profile_json=profile.model_dump_json(exclude_defaults=True),
        reason=reason,
        sales_outcome=_sales_outcome(record, profile, card, now),
    )


class Rescorer:
    def __init__(
        self, storage: LeadStorage, rules: Callable[[], Rules], backoff: Callable[[int], None] = jittered_backoff
    ) -> None:
        self.storage = storage
        self.rules = rules
        self.backoff = backoff

    def rescore(self, lead_id: str, now: datetime, reason: str = "") -> Rescored:
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            record = self.storage.load(lead_id, now) or LeadRecord(lead_id, 0, [], None)
            if record.merged_into:
                return self.rescore(self.survivor(record.merged_into), now, reason)
            change = rescore_change(record, self.rules(), now, reason)
            try:
                version = self.storage.save(change)
            except VersionConflict:
                continue
            return Rescored(lead_id, version, change.before, change.card)
        raise RuntimeError(f"lead {lead_id} kept changing while it was being rescored")

    def survivor(self, lead_id: str) -> str:
        """Follow merge forwarding addresses to the lead that now holds the events."""
        for _ in range(MAX_ATTEMPTS):
            forward = self.storage.merged_into(lead_id)
            if forward is None:
                return lead_id
            lead_id = forward
        return lead_id


def _sales_outcome(record: LeadRecord, profile: Profile, card: ScoreCard, now: datetime) -> dict[str, Any] | None:
    before = Profile.model_validate_json(record.profile_json) if record.profile_json else None
    first_seen = min((event.occurred_at for event in record.events), default=None)
    return outcome_change(before, profile, record.card or card, first_seen, now)
