"""The lead repository and the event log, in memory."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.events import as_utc, to_us
from chalicelib.domain.score_change import let_go_days
from chalicelib.storage import event_cursor
from chalicelib.storage.ports import (
    DuplicateEvents,
    EventPage,
    IdentityConflict,
    LeadMerged,
    LeadRecord,
    LeadSave,
    NewLead,
    StoredEvent,
    StoreResult,
    VersionConflict,
)

from .state import LeadEntry, MemoryState, copy_record, sort_key


class MemoryLeads:
    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        with self.state.lock:
            return {key: self.state.identities[key] for key in set(keys) if key in self.state.identities}

    def remember_identity(self, lead_id: str, key: str) -> None:
        with self.state.lock:
            if self.state.identities.get(key, lead_id) != lead_id:
                return
            self.state.identities[key] = lead_id
            lead = self.state.leads.get(lead_id)
            if lead is not None:
                lead.record.keys = [*lead.record.keys, key]

    def retire_keys(self, lead_id: str, keys: Iterable[str]) -> None:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is not None:
                lead.record.retired = lead.record.retired | set(keys)

    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            now = as_utc(now)
            live = [
                item.event
                for item in self.state.events.get(lead_id, {}).values()
                if item.expires_at is None or int(item.expires_at.timestamp()) > int(now.timestamp())
            ]
            if lead is None and not live:
                return None
            record = copy_record(lead.record) if lead else LeadRecord(lead_id=lead_id, version=0, keys=[], card=None)
            if lead is None:
                record.rescore_mark = self.state.remnants.get(lead_id)
            record.events = live
            return record

    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        with self.state.lock:
            lead = self.state.leads.setdefault(source_lead, LeadEntry(LeadRecord(source_lead, 0, [], None)))
            lead.record.merged_into = target_lead
            self.state.mark_for_rescore(target_lead)
            lead.due_at = lead.sync_at = None
            lead.indexed = False
            lead.tier_changes = []
            self.state.events.setdefault(target_lead, {}).update(self.state.events.pop(source_lead, {}))
            owned = {key for key, owner in self.state.identities.items() if owner == source_lead}
            for key in set(keys) | set(lead.record.keys) | owned:
                self.state.identities[key] = target_lead

    def merged_into(self, lead_id: str) -> str | None:
        record = self.get_lead(lead_id)
        return record.merged_into if record else None

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        with self.state.lock:
            lead = self.state.leads.pop(lead_id, None)
            self.state.events.pop(lead_id, None)
            owned = {key for key, owner in self.state.identities.items() if owner == lead_id}
            for key in set(extra_keys) | set(lead.record.keys if lead else []) | owned:
                self.state.identities.pop(key, None)

    def save(self, change: LeadSave) -> int:
        with self.state.lock:
            lead = self.state.leads.get(change.lead_id)
            current = lead.record.version if lead else 0
            if current != change.expected_version:
                raise VersionConflict(change.lead_id)
            mark = lead.record.rescore_mark if lead else self.state.remnants.get(change.lead_id)
            if change.kind == "full" and mark != change.seen_rescore_mark:
                raise VersionConflict(change.lead_id)  # events were stored since it read them
            if change.kind == "fold" and mark:
                raise VersionConflict(change.lead_id)
            if lead is None:
                lead = self.state.leads[change.lead_id] = LeadEntry(LeadRecord(change.lead_id, 0, [], None))
            version = change.expected_version + 1
            card, record = change.card, lead.record
            if change.kind == "full":
                record.rescore_mark = None
                self.state.remnants.pop(change.lead_id, None)
            elif lead.record.rescore_mark is None and change.lead_id in self.state.remnants:
                record.rescore_mark = self.state.remnants.pop(change.lead_id)
            record.version, record.card = version, card
            _mark_move(record, change)
            if change.basis is not None:
                record.basis = json.loads(json.dumps(change.basis))
            if change.memory is not None:
                record.memory = json.loads(json.dumps(change.memory)) or None
            if change.keys is not None:
                record.keys = sorted(set(change.keys))
            if change.profile_json is not None:
                record.profile_json = change.profile_json
            if change.sales_outcome is not None:
                record.outcome = json.loads(json.dumps(change.sales_outcome))
            if change.crm_moves is not None:
                record.crm_moves = json.loads(json.dumps(change.crm_moves))
            if change.shadow is not None:
                record.shadow = json.loads(json.dumps(change.shadow)) if change.shadow else None
            if change.account is not None:
                record.account = change.account or None
            lead.indexed = True
            lead.due_at = card.due_at.isoformat() if card.due_at else None
            if change.card_change.tier_changed:
                record.tier_changed_at = card.scored_at.isoformat()
                lead.tier_changes.append(
                    {
                        "from": change.before.tier if change.before else None,
                        "to": card.tier,
                        "at": card.scored_at.isoformat(),
                        "score": card.score,
                        "reason": change.reason or "; ".join(card.reasons()),
                        "_version": version,
                    }
                )
            if change.card_change.visible_changed:
                lead.sync_at = record.sync_pending_since = change.now.isoformat()
            return version

    def get_lead(self, lead_id: str, memory: bool = False) -> LeadRecord | None:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is None:
                return None
            record = copy_record(lead.record)
            return record if memory else replace(record, memory=None)  # as DynamoDB reads it

    def get_leads(self, lead_ids: Sequence[str], memory: Collection[str] = ()) -> dict[str, LeadRecord]:
        found = {lead_id: self.get_lead(lead_id, lead_id in memory) for lead_id in set(lead_ids)}
        return {lead_id: record for lead_id, record in found.items() if record is not None}


class MemoryEvents:
    def __init__(self, state: MemoryState, repository: MemoryLeads) -> None:
        self.state = state
        self.repository = repository  # an append or a create saves the card as the repository does

    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        return self._store(lead_id, events, claim_keys, mark=True)

    def add_feed_keys(self, lead_id: str) -> int:
        return 0  # an event's time is always known here

    def page(self, lead_id: str, limit: int, cursor: str | None, now: datetime) -> EventPage:
        after = event_cursor.decode(cursor) if cursor else None
        with self.state.lock:
            ordered = sorted(
                ((to_us(item.event.occurred_at), f"EVT#{sort_key(item)}", item)
                 for item in self.state.events.get(lead_id, {}).values()),
                key=lambda entry: (entry[0], entry[1]), reverse=True,
            )  # fmt: skip
        if after is not None:
            ordered = [entry for entry in ordered if (entry[0], entry[1]) < after]
        window, rest = ordered[:limit], ordered[limit:]
        now_s = int(as_utc(now).timestamp())
        live = [item.event for _, _, item in window if item.expires_at is None or item.expires_at.timestamp() > now_s]
        following = event_cursor.encode(window[-1][0], window[-1][1]) if rest else None
        return EventPage(live, following)

    def _store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], mark: bool) -> StoreResult:
        with self.state.lock:
            lead = self.state.leads.get(lead_id)
            if lead is not None and lead.record.merged_into:
                raise LeadMerged(lead_id)
            if any(self.state.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            for key in claim_keys:
                self.state.identities[key] = lead_id
            if mark:
                self.state.mark_for_rescore(lead_id)
            partition = self.state.events.setdefault(lead_id, {})
            stored, duplicates = [], []
            for item in events:
                key = sort_key(item)
                if key in partition:
                    duplicates.append(item.event.event_id)
                else:
                    partition[key] = item
                    stored.append(item.event.event_id)
            return StoreResult(stored, duplicates)

    def append(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave) -> int:
        with self.state.lock:
            if len(events) > self.append_room(len(claim_keys)):
                raise ValueError("too many events for one append")
            if any(self.state.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            lead = self.state.leads.get(lead_id)
            if lead is None or lead.record.version != change.expected_version or lead.record.rescore_mark:
                raise VersionConflict(lead_id)
            if lead.record.merged_into:
                raise VersionConflict(lead_id)
            partition = self.state.events.setdefault(lead_id, {})
            duplicates = [item.event.event_id for item in events if sort_key(item) in partition]
            if duplicates:
                raise DuplicateEvents(duplicates)
            for key in claim_keys:
                self.state.identities[key] = lead_id
            for item in events:
                partition[sort_key(item)] = item
            return self.repository.save(change)

    def append_room(self, claims: int) -> int:
        return 95 - 2 * claims  # as DynamoDB's transaction limit allows (storage/dynamodb/events.py)

    def create(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> int | None:
        with self.state.lock:
            if lead_id in self.state.leads or lead_id in self.state.events:
                return None
            if any(self.state.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            self._store(lead_id, events, claim_keys, mark=False)
            return self.repository.save(change)

    def create_many(self, leads: Sequence[NewLead]) -> list[int | None]:
        answers: list[int | None] = []
        for lead in leads:
            try:
                answers.append(self.create(*lead))
            except IdentityConflict:
                answers.append(None)
        return answers


def _mark_move(record: LeadRecord, change: LeadSave) -> None:
    """What storage/score_moves.py writes: the score the day started at, set by its first save."""
    today = change.now.date()
    record.day_starts.setdefault(today, change.before.score if change.before else 0)
    for day in let_go_days(today):
        record.day_starts.pop(day, None)
