"""A shadow score: the lead scored by the candidate rules beside the active ones. What a lead
keeps of it is the shadow's basis (so a new event folds into it as into the active basis) and a
small card (score, tier, grade, top reasons, when it next changes) the reports read without the
basis. It is never a CRM's, an alert's or a lifecycle move's business: nothing here leaves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.basis import ScoreBasis, StaleBasis
from chalicelib.domain.rules import Rules
from chalicelib.domain.scorecard import ScoreCard
from chalicelib.domain.scoring import card_from_basis


def shadow_entry(basis: ScoreBasis, card: ScoreCard) -> dict[str, Any]:
    """What the lead stores of its shadow score."""
    return {"fingerprint": card.rules_fingerprint, "card": shadow_card(card), "basis": basis.to_json()}


def shadow_card(card: ScoreCard) -> dict[str, Any]:
    return {
        "score": card.score, "tier": card.tier, "grade": card.grade, "fit": card.fit,
        "engagement": round(card.engagement, 2), "mql": card.mql, "reasons": card.reasons(),
        "scored_at": card.scored_at.isoformat(),
        "next_change_at": card.next_change_at.isoformat() if card.next_change_at else None,
    }  # fmt: skip


def current(entry: dict[str, Any] | None, rules: Rules | None, now: datetime) -> dict[str, Any] | None:
    """The shadow card at `now` for `rules` (None: the lead has no shadow score from them): the
    stored card while it holds, else scored again from the stored basis."""
    if not entry or rules is None or entry.get("fingerprint") != rules.fingerprint:
        return None
    card = entry["card"]
    due = card.get("next_change_at")
    if (due is None or datetime.fromisoformat(due) > now) or not entry.get("basis"):
        return dict(card)
    try:
        basis = ScoreBasis.from_json(entry["basis"], rules)
    except StaleBasis:
        return dict(card)
    return shadow_card(card_from_basis(basis, rules, now, previous_tier=card["tier"]))


def stored_basis(entry: dict[str, Any] | None, rules: Rules) -> dict[str, Any] | None:
    """The shadow's basis when it was built with `rules` (a shadow just promoted is the active
    version's basis already: no rescore from the events)."""
    if entry and entry.get("fingerprint") == rules.fingerprint and entry.get("basis"):
        basis: dict[str, Any] = entry["basis"]
        return basis
    return None
