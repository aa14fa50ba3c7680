"""Rescoring one lead: read it and its events, score with the pure domain, save with optimistic
locking (on a concurrent save, read again). Shared by ingestion and the upkeep jobs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.accounts.public_suffix import registrable_domain
from chalicelib.domain import fold_memory
from chalicelib.domain.accounts import account_of
from chalicelib.domain.basis import ScoreBasis, StaleBasis
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.crm_actions import crm_moves
from chalicelib.domain.events import LeadEvent, from_us
from chalicelib.domain.folding import fold_into, full_basis
from chalicelib.domain.identity import listed_keys
from chalicelib.domain.named_scoring import Named, named_fold, named_full
from chalicelib.domain.outcomes import outcome_change
from chalicelib.domain.profile import Profile
from chalicelib.domain.rules import Rules
from chalicelib.domain.scorecard import CardChange, ScoreCard, Visible
from chalicelib.domain.scoring import card_from_basis
from chalicelib.domain.shadow import shadow_entry
from chalicelib.domain.shadow import stored_basis as shadow_basis_of
from chalicelib.errors import Contended
from chalicelib.storage.ports import LeadRecord, LeadSave, Storage, VersionConflict

MAX_ATTEMPTS = 8


def jittered_backoff(attempt: int) -> None:
    """Full jitter: concurrent writers of one lead spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


@dataclass(frozen=True)
class Ignored:
    """What a scoring ignored of the events it read (bots, spam, a speed limit): counted by reason
    for the metrics, and the speed-limited ones named for the unscored report."""

    by_reason: dict[str, int] = field(default_factory=dict)
    too_fast: list[tuple[str, str]] = field(default_factory=list)  # (source, event id)


@dataclass
class Rescored:
    lead_id: str
    version: int
    before: Visible | None  # what the CRM showed before (None: a new lead)
    after: ScoreCard
    ignored: Ignored = field(default_factory=Ignored, compare=False)
    # The accounts a change of company moved it between (from, to: "" for none); None: it did not move.
    moved: tuple[str, str] | None = field(default=None, compare=False)
    named_before: dict[str, int] = field(default_factory=dict, compare=False)  # the named scores before

    @property
    def card_change(self) -> CardChange:
        return CardChange(self.before, self.after, self.named_before)


def score_lead(record: LeadRecord, rules: Rules, now: datetime) -> tuple[Profile, ScoreBasis, ScoreCard]:
    """The lead's profile (its profile events folded in event order), basis and card at `now`."""
    profile, basis = full_basis(record.events, rules, now)
    previous = record.card.tier if record.card else None
    return profile, basis, card_from_basis(basis, rules, now, previous_tier=previous)


def rescore_change(
    record: LeadRecord, rules: Rules, now: datetime, reason: str = "", shadow: Rules | None = None
) -> tuple[LeadSave, Ignored]:
    """What to save for `record` scored at `now` from all its events (card, basis, profile, keys
    and sales outcome; the `shadow` rules' score beside it), and what the scoring ignored."""
    profile, basis, card = score_lead(record, rules, now)
    named = named_full(record.events, rules, now) if rules.scores else None
    change = _change(record, record.events, profile, basis, card, now, reason, rules, named)
    if shadow is not None:
        _, shadow_basis = full_basis(record.events, shadow, now)
        before = (record.shadow or {}).get("card", {}).get("tier")
        entry = shadow_entry(shadow_basis, card_from_basis(shadow_basis, shadow, now, previous_tier=before))
        change = replace(change, shadow=entry, sales_outcome=_with_shadow(change.sales_outcome, record, entry))
    elif record.shadow:
        change = replace(change, shadow={})  # the shadow was stopped or promoted
    return replace(change, kind="full", seen_rescore_mark=record.rescore_mark), _ignored(basis)


def fold_change(
    record: LeadRecord, events: Sequence[LeadEvent], rules: Rules, now: datetime, shadow: Rules | None = None
) -> tuple[LeadSave, Ignored]:
    """What to save for `record` (the lead item, without its events) with new `events` folded into
    its stored basis (and the shadow's, when it has one from the `shadow` rules): the work does not
    grow with the lead's history. Raises StaleBasis or OutOfOrder when only a rescore from the
    events will do."""
    if record.card is None:
        raise StaleBasis("the lead has no stored basis")
    stored_json = record.basis
    if (stored_json or {}).get("fingerprint") != rules.fingerprint:
        stored_json = shadow_basis_of(record.shadow, rules) or stored_json  # the shadow just promoted
    if stored_json is None:
        raise StaleBasis("the lead has no stored basis")
    # With its memory when it was read beside it (for the events that need it), else without.
    stored = ScoreBasis.from_json(fold_memory.join(stored_json, record.memory) or stored_json, rules)
    before = Profile.model_validate_json(record.profile_json or "{}")
    profile, basis = fold_into(stored, before, events, rules, now)
    card = card_from_basis(basis, rules, now, previous_tier=record.card.tier)
    stored_named = (record.basis or {}).get("named")
    named = named_fold(stored_named, before, events, rules, now, record.card.named) if rules.scores else None
    change = replace(_change(record, events, profile, basis, card, now, "", rules, named), kind="fold")
    shadow_json = shadow_basis_of(record.shadow, shadow) if shadow is not None else None
    if shadow is not None and shadow_json is not None:
        _, folded = fold_into(ScoreBasis.from_json(shadow_json, shadow), before, events, shadow, now)
        previous = (record.shadow or {}).get("card", {}).get("tier")
        entry = shadow_entry(folded, card_from_basis(folded, shadow, now, previous))
        change = replace(change, shadow=entry, sales_outcome=_with_shadow(change.sales_outcome, record, entry))
    elif shadow is None and record.shadow:
        change = replace(change, shadow={})
    return change, _ignored(basis)


def _with_shadow(outcome: dict[str, Any] | None, record: LeadRecord, entry: dict[str, Any]) -> dict[str, Any] | None:
    """An outcome keeps the shadow's card then too, so the shadow report measures its prediction."""
    if outcome is None:
        return None
    before = record.shadow or {}
    card = (before if before.get("fingerprint") == entry["fingerprint"] else entry)["card"]
    shown = {"fingerprint": entry["fingerprint"], "score": card["score"], "tier": card["tier"], "grade": card["grade"]}
    return {**outcome, "shadow": shown}


def _ignored(basis: ScoreBasis) -> Ignored:
    return Ignored(dict(basis.just_ignored), list(basis.just_too_fast))


def _change(
    record: LeadRecord,
    events: Sequence[LeadEvent],
    profile: Profile,
    basis: ScoreBasis,
    card: ScoreCard,
    now: datetime,
    reason: str,
    rules: Rules,
    named: Named | None = None,
) -> LeadSave:
    found = [*record.keys, *(key for event in events for key in event.identities.as_keys())]
    keys = listed_keys([key for key in found if key not in record.retired])  # merged away: no record of it
    was_recycled = (record.basis or {}).get("recycled_us")
    if not reason and basis.recycled_us != was_recycled:  # a loss recycled it (crm_actions.recycle_on_lost)
        reason = "recycled" if basis.recycled_us is not None else "recycle undone"
    account = account_of(profile, compile_rules(rules).account_excluded, registrable_domain)
    stored, memory = fold_memory.stored_parts(basis.to_json(), record.basis)
    if named is not None:
        stored["named"], cards = named
        card = card.model_copy(update={"named": cards})
    return LeadSave(
        lead_id=record.lead_id,
        expected_version=record.version,
        card=card,
        before=record.card.visible if record.card else None,
        named_before=record.card.named_visible if record.card else {},
        now=now,
        basis=stored,
        keys=keys,
        profile_json=profile.model_dump_json(exclude_defaults=True),
        profile_before_json=record.profile_json,
        reason=reason,
        sales_outcome=_sales_outcome(record, profile, card, basis, now),
        crm_moves=crm_moves(rules.crm_actions, card.mql, profile),
        account=account.key if account else "",
        memory=memory,
    )


class Rescorer:
    def __init__(
        self,
        storage: Storage,
        rules: Callable[[], Rules],
        backoff: Callable[[int], None] = jittered_backoff,
        shadow: Callable[[], Rules | None] = lambda: None,
    ) -> None:
        """`shadow`: the rules scored beside the active ones, if any (rules/active.py)."""
        self.storage = storage
        self.rules = rules
        self.backoff = backoff
        self.shadow = shadow

    def rescore(self, lead_id: str, now: datetime, reason: str = "") -> Rescored:
        """Score the lead from all its events. Under contention (a busy lead takes many deliveries
        at once) a lost race often needs no second try: see `_settled`."""
        before = None
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            record = self.storage.leads.load(lead_id, now) or LeadRecord(lead_id, 0, [], None)
            if record.merged_into:
                return self.rescore(self.survivor(record.merged_into), now, reason)
            rules = self.rules()
            change, ignored = rescore_change(record, rules, now, reason, self.shadow())
            before = change.before if attempt == 0 else before
            try:
                version = self.storage.leads.save(change)
            except VersionConflict:
                settled = self._settled(lead_id, rules)
                if settled is not None:
                    return Rescored(lead_id, settled[0], before, settled[1])
                continue
            moved = account_move(record, change)
            return Rescored(lead_id, version, change.before, change.card, ignored, moved, change.named_before)
        raise Contended(f"lead {lead_id} kept changing while it was being rescored")

    def bring_up_to_date(self, lead_id: str, now: datetime, reason: str) -> Rescored | None:
        """For the sweep after a rules change: nothing when the lead is already scored with the
        rules in force (and the shadow's); a promoted shadow's basis made the card without reading
        a single event; else a rescore from the events. None: the lead is gone or merged."""
        rules, shadow = self.rules(), self.shadow()
        record = self.storage.leads.get_lead(lead_id)
        if record is None or record.merged_into:
            return None
        # With no shadow running, one a lead still holds is ignored (and dropped at its next save).
        shadow_current = shadow is None or (record.shadow or {}).get("fingerprint") == shadow.fingerprint
        if record.card is not None and not record.rescore_mark:
            if record.card.rules_fingerprint == rules.fingerprint and shadow_current:
                return Rescored(lead_id, record.version, record.card.visible, record.card)
            promoted = shadow_basis_of(record.shadow, rules)
            if promoted is not None and shadow is None and not rules.scores:  # named scores: from the events
                basis = ScoreBasis.from_json(promoted, rules)
                card = card_from_basis(basis, rules, now, previous_tier=record.card.tier)
                profile = Profile.model_validate_json(record.profile_json or "{}")
                core, memory = fold_memory.stored_parts(promoted, record.basis)
                change = LeadSave(
                    lead_id, record.version, card, record.card.visible, now, basis=core, reason=reason, shadow={},
                    crm_moves=crm_moves(rules.crm_actions, card.mql, profile), memory=memory,
                )  # fmt: skip
                try:
                    return Rescored(lead_id, self.storage.leads.save(change), change.before, card)
                except VersionConflict:
                    pass  # changed meanwhile: rescore it from its events
        return self.rescore(lead_id, now, reason)

    def _settled(self, lead_id: str, rules: Rules) -> tuple[int, ScoreCard] | None:
        """The lead as saved by whoever won the race, if that already covers every event stored
        before now: nothing is `unscored` (each store marks it, and only a full rescore that read
        the events after the mark clears it) and its card is from the current rules."""
        record = self.storage.leads.get_lead(lead_id)
        if record is None or record.card is None or record.rescore_mark or record.merged_into:
            return None
        return (record.version, record.card) if record.card.rules_fingerprint == rules.fingerprint else None

    def survivor(self, lead_id: str) -> str:
        return survivor(self.storage, lead_id)


def account_move(record: LeadRecord, change: LeadSave) -> tuple[str, str] | None:
    """(from, to) when the save moves the lead to another account (or out of one, or into one)."""
    if change.account is None or change.account == (record.account or ""):
        return None
    return (record.account or "", change.account)


def survivor(storage: Storage, lead_id: str) -> str:
    """Follow merge forwarding addresses to the lead that now holds the events."""
    for _ in range(MAX_ATTEMPTS):
        forward = storage.leads.merged_into(lead_id)
        if forward is None:
            return lead_id
        lead_id = forward
    return lead_id


def _sales_outcome(
    record: LeadRecord, profile: Profile, card: ScoreCard, basis: ScoreBasis, now: datetime
) -> dict[str, Any] | None:
    before = Profile.model_validate_json(record.profile_json) if record.profile_json else None
    first_seen = from_us(basis.first_seen_us) if basis.first_seen_us is not None else None
    return outcome_change(before, profile, record.card or card, first_seen, now)
