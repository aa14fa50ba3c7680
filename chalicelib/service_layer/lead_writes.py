"""How one lead's share of a delivery is written, cheapest way first:

1. create: a lead nobody knew, scored from the events in hand and written with them at once;
2. fold: new events folded into the lead's stored basis and written with the card, a
   transaction's worth at a time (the cost does not grow with the lead's history);
3. store: what neither could take (a merge, a stale basis, events out of order, more claims than
   one transaction holds) is stored apart from the card, and the lead is rescored from its events.

`LeadWrites.write` tries them in that order and says what it came to (`Written`).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.basis import StaleBasis
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.events import LeadEvent
from chalicelib.domain.fold_memory import needs_memory
from chalicelib.domain.folding import OutOfOrder
from chalicelib.domain.identity import LeadPlan
from chalicelib.domain.retention import expires_at
from chalicelib.domain.rules import Rules
from chalicelib.errors import Contended
from chalicelib.storage.ports import (
    DuplicateEvents,
    IdentityConflict,
    LeadMerged,
    LeadRecord,
    Storage,
    StoredEvent,
    VersionConflict,
)

from .rescoring import MAX_ATTEMPTS, Rescored, Rescorer, account_move, fold_change, rescore_change

log = logging.getLogger(__name__)


def new_lead_id() -> str:
    return "ld_" + uuid.uuid4().hex[:20]


@dataclass
class Written:
    """What one lead's share of a delivery came to."""

    lead_id: str
    stored: list[LeadEvent] = field(default_factory=list)  # new events, now stored
    duplicates: int = 0
    scored: Rescored | None = None  # scored as it was written (created or folded)
    rescore: bool = False  # events stored apart from the card, or a merge: rescore it from its events
    created_by_store: bool = False  # a new lead whose rescore reads only this delivery's events
    not_scored: Counter[str] = field(default_factory=Counter)  # new events the scoring ignored, by why
    too_fast: set[tuple[str, str]] = field(default_factory=set)  # (source, id) a speed limit ignored


class LeadWrites:
    def __init__(
        self, storage: Storage, rules: Callable[[], Rules], rescorer: Rescorer, backoff: Callable[[int], None]
    ) -> None:
        self.storage = storage
        self.rules = rules
        self.rescorer = rescorer
        self.backoff = backoff

    def write(
        self,
        plan: LeadPlan,
        members: list[LeadEvent],
        known: dict[str, str],
        record: LeadRecord | None,
        now: datetime,
        create: bool = True,
    ) -> Written:
        """`record`: the stored lead the plan names, when already read (None: read it if needed).
        `create`: try a new lead's one-write creation first (False: `create_many` tried it)."""
        if create and plan.lead_id is None and not plan.merge_from:
            created = self.create(members, plan.keys, now)
            if created is not None:
                return created
        folded = None
        if plan.lead_id is not None and not plan.merge_from:
            folded, members = self.fold(plan.lead_id, members, plan.keys, known, now, record)
            if not members:
                return folded
        written = self.store(members, plan, known)
        if not written.rescore and written.duplicates and record is not None and record.rescore_mark:
            # A redelivery of events stored by an attempt whose rescore failed (the sender saw an
            # error and retried): nothing is new, but the card still lacks them. Rescore it now.
            written.rescore = True
        if folded is not None:
            written.stored = folded.stored + written.stored
            written.duplicates += folded.duplicates
            written.scored = folded.scored
            written.not_scored.update(folded.not_scored)
            written.too_fast |= folded.too_fast
        return written

    def create(self, members: list[LeadEvent], keys: list[str], now: datetime) -> Written | None:
        """None when it cannot be done in one write (a key claimed meanwhile, too many events)."""
        return self.create_many([(members, keys)], now)[0]

    def create_many(self, leads: list[tuple[list[LeadEvent], list[str]]], now: datetime) -> list[Written | None]:
        """New leads (their events and keys), written together where storage can; each None where
        `create` would say None."""
        rules, shadow = self.rules(), self.rescorer.shadow()
        prepared = []
        for members, keys in leads:
            stored = [StoredEvent(event, expires_at(event, rules)) for event in members]
            live = [item.event for item in stored if item.expires_at is None or item.expires_at > now]
            record = LeadRecord(new_lead_id(), 0, list(keys), None, events=live)
            change, ignored = rescore_change(record, rules, now, shadow=shadow)
            prepared.append((record, stored, change, ignored))
        versions = self.storage.events.create_many(
            [(record.lead_id, stored, record.keys, change) for record, stored, change, _ in prepared]
        )
        return [
            None if version is None else Written(
                record.lead_id,
                stored=list(members),
                scored=Rescored(record.lead_id, version, None, change.card, ignored, account_move(record, change), {}),
                not_scored=Counter(ignored.by_reason),
                too_fast=set(ignored.too_fast),
            )
            for version, (record, _, change, ignored), (members, _) in zip(versions, prepared, leads, strict=True)
        ]  # fmt: skip

    def fold(
        self,
        lead_id: str,
        members: list[LeadEvent],
        keys: list[str],
        known: dict[str, str],
        now: datetime,
        record: LeadRecord | None,
    ) -> tuple[Written, list[LeadEvent]]:
        """Folded, and the rest: what could not be folded (see domain/folding.py)."""
        rules, shadow = self.rules(), self.rescorer.shadow()
        pending = [StoredEvent(event, expires_at(event, rules)) for event in members]
        claims = [key for key in keys if known.get(key) != lead_id]
        written = Written(lead_id)
        attempt = 0
        remembers = needs_memory(members, compile_rules(rules))
        while pending:
            record = record or self.storage.leads.get_lead(lead_id, memory=remembers)
            if record is None or record.merged_into or record.rescore_mark:
                break
            room = self.storage.events.append_room(len(claims))
            if room < 1:
                break  # more new identities than one transaction holds: the store path claims them in parts
            chunk = pending[:room]
            try:
                change, ignored = fold_change(record, [item.event for item in chunk], rules, now, shadow)
            except (StaleBasis, OutOfOrder) as exc:
                log.info("rescoring lead %s from its events: %s", lead_id, exc)
                break
            try:
                version = self.storage.events.append(lead_id, chunk, claims, change)
            except DuplicateEvents as exc:
                seen = set(exc.event_ids)
                written.duplicates += len(seen)
                pending = [item for item in pending if item.event.event_id not in seen]
                continue  # the lead is as read: fold the rest into it
            except VersionConflict:
                record = None
                attempt += 1
                if attempt >= MAX_ATTEMPTS * 4:
                    break  # a lead this contended: the store-and-rescore path settles it
                self.backoff(min(attempt, MAX_ATTEMPTS))
                continue
            except IdentityConflict:
                break
            before = written.scored.before if written.scored else change.before
            moved = account_move(record, change) or (written.scored.moved if written.scored else None)
            named = written.scored.named_before if written.scored else change.named_before
            written.scored = Rescored(lead_id, version, before, change.card, moved=moved, named_before=named)
            written.not_scored.update(ignored.by_reason)
            written.too_fast.update(ignored.too_fast)
            written.stored += [item.event for item in chunk]
            record = None
            pending, claims = pending[len(chunk) :], []
        return written, [item.event for item in pending]

    def store(self, members: list[LeadEvent], plan: LeadPlan, known: dict[str, str]) -> Written:
        """Events stored apart from the card (the lead is marked for a rescore), after any merge the
        plan asks for; a key claimed meanwhile joins its owner."""
        rules = self.rules()
        stored_events = [StoredEvent(event, expires_at(event, rules)) for event in members]
        lead_id, merge_from = plan.lead_id, plan.merge_from
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            target = lead_id or new_lead_id()
            for other in merge_from:
                self.storage.leads.merge(other, target, [key for key, owner in known.items() if owner == other])
            claims = [key for key in plan.keys if known.get(key) != target]
            try:
                result = self.storage.events.store(target, stored_events, claims)
            except LeadMerged:
                lead_id, merge_from = self.rescorer.survivor(target), []
                continue
            except IdentityConflict:
                # Someone claimed one of these keys meanwhile (a concurrent first delivery): join them.
                known = self.storage.leads.resolve(plan.keys)
                owners = sorted(set(known.values()))
                lead_id, merge_from = (owners[0], owners[1:]) if owners else (None, [])
                continue
            kept = set(result.stored)
            written = Written(
                target,
                stored=[event for event in members if event.event_id in kept],
                duplicates=len(result.duplicates),
                rescore=bool(kept) or bool(plan.merge_from) or plan.lead_id is None,
                created_by_store=bool(kept) and plan.lead_id is None and not plan.merge_from,
            )
            if kept and not written.created_by_store:
                written.not_scored.update(stateless_skips(members, rules))
            return written
        raise Contended("identity resolution did not settle")


def stateless_skips(events: list[LeadEvent], rules: Rules) -> Counter[str]:
    """What a full rescore will ignore of these events whatever else the lead did (speed limits
    depend on its other events: counted only when events are folded)."""
    filters = compile_rules(rules).filters
    return Counter(reason for event in events if (reason := filters.reason(event.properties)) is not None)
