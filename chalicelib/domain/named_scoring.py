"""Scoring the named scores (named_scores.py) beside the main one: each by the same engine, over
the events its `when` selects, with the rules `named_rules` derives. What a lead stores of them is
in its basis (`basis["named"]`: each one's basis and the score the CRM was sent), so a new event
folds into them and the decay job rescores them without reading the lead's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .basis import ScoreBasis, StaleBasis
from .compiled_rules import compile_rules
from .events import LeadEvent
from .folding import fold_into, full_basis
from .named_scores import NamedCard, named_rules, selected
from .profile import Profile
from .rules import Rules
from .scoring import card_from_basis, score_basis

Named = tuple[dict[str, Any], list[NamedCard]]  # (what the basis keeps under "named", the cards)


def named_full(events: Sequence[LeadEvent], rules: Rules, now: datetime) -> Named:
    """Every named score from all the lead's events."""
    compiled = compile_rules(rules)
    stored: dict[str, Any] = {}
    cards: list[NamedCard] = []
    for name, spec in rules.scores.items():
        derived = named_rules(rules, name)
        mine = selected(events, compiled.score_selectors[name], compiled.canonical_type)
        _, basis = full_basis(mine, derived, now)
        card = NamedCard.of(name, spec, card_from_basis(basis, derived, now))
        stored[name] = {"basis": basis.to_json(), "score": card.score}
        cards.append(card)
    return stored, cards


def named_fold(
    stored: dict[str, Any] | None,
    profile: Profile,
    events: Sequence[LeadEvent],
    rules: Rules,
    now: datetime,
    shown: Sequence[NamedCard] = (),
) -> Named:
    """The new `events` folded into each named score's stored basis; a score none of them is for
    keeps its basis and, until its next change, its card (`shown`: the cards the lead has).
    Raises StaleBasis (a named score the lead has no basis for: rescore from the events)."""
    compiled = compile_rules(rules)
    kept: dict[str, Any] = {}
    cards: list[NamedCard] = []
    before = {card.name: card for card in shown}
    for name, spec in rules.scores.items():
        derived = named_rules(rules, name)
        entry = (stored or {}).get(name)
        if not entry:
            raise StaleBasis(f"no basis for the named score {name}")
        mine = selected(events, compiled.score_selectors[name], compiled.canonical_type)
        card = before.get(name)
        if not mine and card is not None and (card.next_change_at is None or card.next_change_at > now):
            kept[name] = entry  # nothing new for it, and it has not aged a step: as it was
            cards.append(card)
            continue
        _, basis = fold_into(ScoreBasis.from_json(entry["basis"], derived), profile, mine, derived, now)
        folded = NamedCard.of(name, spec, card_from_basis(basis, derived, now))
        kept[name] = {"basis": basis.to_json(), "score": folded.score}
        cards.append(folded)
    return kept, cards


def named_now(stored: dict[str, Any] | None, rules: Rules, now: datetime) -> Named:
    """The named scores at `now` from their stored bases (decay). Raises StaleBasis."""
    kept: dict[str, Any] = {}
    cards: list[NamedCard] = []
    for name, spec in rules.scores.items():
        entry = (stored or {}).get(name)
        if not entry:
            raise StaleBasis(f"no basis for the named score {name}")
        derived = named_rules(rules, name)
        card = NamedCard.of(name, spec, card_from_basis(ScoreBasis.from_json(entry["basis"], derived), derived, now))
        kept[name] = {"basis": entry["basis"], "score": card.score}
        cards.append(card)
    return kept, cards


def named_of_profile(profile: Profile, events: Sequence[LeadEvent], rules: Rules, now: datetime) -> list[NamedCard]:
    """Every named score of a lead known by its profile and behaviour events (a CRM export)."""
    compiled = compile_rules(rules)
    cards = []
    for name, spec in rules.scores.items():
        derived = named_rules(rules, name)
        mine = selected(events, compiled.score_selectors[name], compiled.canonical_type)
        cards.append(NamedCard.of(name, spec, card_from_basis(score_basis(profile, mine, derived), derived, now)))
    return cards


def named_before(basis: dict[str, Any] | None) -> dict[str, int]:
    """The named scores a stored basis says the CRM was last shown."""
    return {name: int(entry["score"]) for name, entry in ((basis or {}).get("named") or {}).items()}
