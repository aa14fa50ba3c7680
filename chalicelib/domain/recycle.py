"""Recycling a lead that lost: the engagement it earned before the recycle stops counting (its
fit stays), and a recycle can be undone. Both are events in the lead's history (`lead_recycled`,
`undo: true` for an undo), so a rescore from the events, the timeline and the activity all see
them where they happened: from each recycle on, only what the lead did after it counts; an undo
takes back the latest recycle not yet undone. With `crm_actions.recycle_on_lost`, the CRM saying
the lead lost (a profile change to a lost status) recycles it too, at that moment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .events import Identities, LeadEvent, as_utc, to_us
from .outcomes import outcome_state
from .profile import PROFILE_EVENT, Profile

RECYCLE_EVENT = "lead_recycled"
SOURCE = "leadscore"


def recycle_event(at: datetime, undo: bool = False) -> LeadEvent:
    at = as_utc(at)
    return LeadEvent(event_id=f"{'undo' if undo else 'recycle'}-{to_us(at)}", source=SOURCE, type=RECYCLE_EVENT,
                     occurred_at=at, identities=Identities(), properties={"undo": undo})  # fmt: skip


def is_recycle(event: LeadEvent) -> bool:
    return event.type == RECYCLE_EVENT


def cutoff_us(ordered: Iterable[tuple[int, LeadEvent]], on_lost: bool = False) -> int | None:
    """When the recycle in force happened (µs): engagement up to it no longer counts; None: none.
    `ordered`: the lead's events in canonical order, as far as the moment asked about; `on_lost`:
    a profile change that makes the lead lost recycles it."""
    recycles: list[int] = []
    profile: dict[str, Any] = {}
    state = "open"
    for occurred_us, event in ordered:
        if on_lost and event.type == PROFILE_EVENT:
            profile = {**profile, **(event.properties.get("profile") or {})}
            was, state = state, profile_state(profile)
            if state == "lost" and was != "lost":
                recycles.append(occurred_us)
            continue
        if event.type != RECYCLE_EVENT:
            continue
        if event.properties.get("undo") is True:
            if recycles:
                recycles.pop()
        else:
            recycles.append(occurred_us)
    return recycles[-1] if recycles else None


def loses(before: Profile, patch: dict[str, Any]) -> bool:
    """Whether this profile change makes the lead lost (it was not)."""
    after = {**before.model_dump(), **patch}
    return profile_state(after) == "lost" and outcome_state(before) != "lost"


def profile_state(values: dict[str, Any]) -> str:
    known = {name: value for name, value in values.items() if name in Profile.model_fields}
    try:
        return outcome_state(Profile.model_validate(known))
    except ValueError:
        return "open"
