"""A lead's profile and basis, from all its events (a full rescore) or by folding new events into
the stored ones: the constant-cost path every delivery takes for a lead already scored.

Both are the same fold (`engagement.Folder`), so they give the same card. Folding refuses, with
`OutOfOrder` and the reason, only where the order of arrival matters:

- an event older than the newest event of a rule that counts repeats ("then +N"): it may be the
  first that earns full points;
- an event older than the newest counted day of a distinct-days rule (unless it changes nothing);
- an email send, click or reply older than the newest one folded in (a click earns by the send
  before it);
- a profile change older than the newest one folded in;
- a cancellation (it takes back an event already folded in).

A basis from other rules (`StaleBasis`) and identity merges are rescored from the events too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .basis import ScoreBasis, StaleBasis
from .cancellations import CANCEL_EVENT, cancelled_by, is_cancel, standing
from .compiled_rules import compile_rules
from .engagement import Folder, canonical_order, fold_ordered
from .events import LeadEvent, as_utc, to_us
from .fit import evaluate_fit
from .profile import PROFILE_EVENT, Profile, fold_profile
from .recycle import RECYCLE_EVENT, cutoff_us, is_recycle, loses
from .rule_tally import EventKey, OutOfOrder
from .rules import Rules

__all__ = ["OutOfOrder", "StaleBasis", "fold_into", "full_basis"]


def full_basis(events: Iterable[LeadEvent], rules: Rules, now: datetime | None = None) -> tuple[Profile, ScoreBasis]:
    """The profile (profile changes folded in event order) and basis of a lead with these events;
    with `now`, what can no longer matter from then on is dropped."""
    compiled = compile_rules(rules)
    events = list(events)
    # Most histories hold no cancellation, recycle or profile change: one look at the types spares
    # a pass over the events for each.
    types = {event.type for event in events}
    cancelled = cancelled_by(events) if CANCEL_EVENT in types else frozenset()
    ordered = canonical_order(standing(events) if CANCEL_EVENT in types else events)
    folder = Folder(compiled)
    patches = (
        [
            ((occurred_us, event.source, event.event_id), event.properties.get("profile") or {})
            for occurred_us, event in ordered
            if event.type == PROFILE_EVENT
            and folder.skip((occurred_us, event.source, event.event_id), PROFILE_EVENT, event.properties) is None
        ]
        if PROFILE_EVENT in types
        else []
    )
    profile = fold_profile(patches)
    on_lost = rules.crm_actions.recycle_on_lost
    recycled = cutoff_us(ordered, on_lost) if RECYCLE_EVENT in types or (on_lost and patches) else None
    behaviour = ordered
    if PROFILE_EVENT in types or RECYCLE_EVENT in types:  # else nothing to leave out
        behaviour = [
            (occurred_us, event)
            for occurred_us, event in ordered
            if event.type != PROFILE_EVENT and not is_recycle(event) and (recycled is None or occurred_us > recycled)
        ]
    fold_ordered(folder, behaviour)
    now_us = to_us(as_utc(now)) if now is not None else None
    basis = ScoreBasis.folded(
        folder,
        evaluate_fit(profile, compiled),
        folder.result(now_us),
        profile_last=patches[-1][0] if patches else None,
        first_seen_us=ordered[0][0] if ordered else None,
        recycled_us=recycled,
        cancelled=cancelled,
    )
    return profile, basis


def fold_into(
    basis: ScoreBasis, profile: Profile, events: Iterable[LeadEvent], rules: Rules, now: datetime
) -> tuple[Profile, ScoreBasis]:
    """The stored `basis` and `profile` with new `events` folded in (each new to the lead: storage
    deduplicates). Consumes `basis`. Raises StaleBasis or OutOfOrder: rescore from the events."""
    compiled = compile_rules(rules)
    if basis.fingerprint != compiled.fingerprint:
        raise StaleBasis("the basis was built with other rules")
    folder = Folder(
        compiled, basis.tallies, basis.messages, basis.ignored, basis.speed, basis.message_clock, basis.forgotten,
        basis.last_active_us, basis.memory_stamp,
    )  # fmt: skip
    now_us = to_us(as_utc(now))
    folder.drop_ended(now_us)
    profile_last: EventKey | None = basis.profile_last
    first_seen = basis.first_seen_us
    canonical_type = compiled.canonical_type
    changed_profile = False
    for occurred_us, event in canonical_order(events):
        first_seen = occurred_us if first_seen is None else min(first_seen, occurred_us)
        if event.type == PROFILE_EVENT:
            key = (occurred_us, event.source, event.event_id)
            if folder.skip(key, PROFILE_EVENT, event.properties) is not None:
                continue
            if profile_last is not None and key < profile_last:
                raise OutOfOrder("a profile change older than the newest one folded in")
            if rules.crm_actions.recycle_on_lost and loses(profile, event.properties.get("profile") or {}):
                raise OutOfOrder("the CRM says the lead lost: it is recycled")
            profile = fold_profile([((0,), profile.model_dump()), ((1,), event.properties.get("profile") or {})])
            profile_last, changed_profile = key, True
            continue
        if is_recycle(event):
            raise OutOfOrder("a recycle (or its undo) changes what the lead earned before it")
        if is_cancel(event):
            raise OutOfOrder("a cancellation takes back an event")
        if (event.source, event.event_id) in basis.cancelled:
            continue  # cancelled before it arrived
        if basis.recycled_us is not None and occurred_us <= basis.recycled_us:
            continue  # earned before the recycle: no longer counts
        folder.fold(occurred_us, event, canonical_type(event.type))
    tallies = folder.result(now_us)
    fit = evaluate_fit(profile, compiled) if changed_profile else basis.fit
    kept = (basis.recycled_us, basis.cancelled)
    return profile, ScoreBasis.folded(folder, fit, tallies, profile_last, first_seen, *kept)
