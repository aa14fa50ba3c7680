"""An in-memory implementation of the storage port, for fast tests of the use cases.

It keeps the promises DynamoStorage keeps (conditional event writes, identity claims, optimistic
versions, merge forwarding, TTL on read, the sparse due and sync indexes); the same contract
tests run against both (tests/integration/test_storage_contract.py). Not for production: one
process, no durability.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.events import as_utc, from_us, iso_z
from chalicelib.domain.unscored import UnscoredCount, seen_at

from .listing import company_key, display_name, search_key
from .port import (
    DueLead,
    DuplicateEvents,
    IdentityConflict,
    LeadMerged,
    LeadPage,
    LeadRecord,
    LeadRow,
    LeadSave,
    StoredEvent,
    StoreResult,
    VersionConflict,
)


@dataclass
class _Lead:
    record: LeadRecord
    due_at: str | None = None
    sync_at: str | None = None
    indexed: bool = False  # has tier and score: in by_tier and in reports (a merged lead is not)
    tier_changes: list[dict[str, Any]] = field(default_factory=list)


class InMemoryStorage:
    def __init__(self) -> None:
        self.identities: dict[str, str] = {}
        self.events: dict[str, dict[str, StoredEvent]] = {}
        self.leads: dict[str, _Lead] = {}
        self.meta: dict[str, Any] = {}
        self.unscored: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # (day, source, reason, name)
        self.remnants: dict[str, str] = {}  # `unscored` marks of leads that have no item yet
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------ identities
    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        with self._lock:
            return {key: self.identities[key] for key in set(keys) if key in self.identities}

    def remember_identity(self, lead_id: str, key: str) -> None:
        with self._lock:
            if self.identities.get(key, lead_id) != lead_id:
                return
            self.identities[key] = lead_id
            lead = self.leads.get(lead_id)
            if lead is not None:
                lead.record.keys = [*lead.record.keys, key]

    # ---------------------------------------------------------------------------------- events
    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        return self._store(lead_id, events, claim_keys, mark=True)

    def _store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], mark: bool) -> StoreResult:
        with self._lock:
            lead = self.leads.get(lead_id)
            if lead is not None and lead.record.merged_into:
                raise LeadMerged(lead_id)
            if any(self.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            for key in claim_keys:
                self.identities[key] = lead_id
            if mark:
                self._mark_unscored(lead_id)
            partition = self.events.setdefault(lead_id, {})
            stored, duplicates = [], []
            for item in events:
                sort_key = _sort_key(item)
                if sort_key in partition:
                    duplicates.append(item.event.event_id)
                else:
                    partition[sort_key] = item
                    stored.append(item.event.event_id)
            return StoreResult(stored, duplicates)

    def _mark_unscored(self, lead_id: str) -> None:
        lead = self.leads.get(lead_id)
        if lead is None:
            self.remnants[lead_id] = uuid.uuid4().hex[:16]
        else:
            lead.record.unscored = uuid.uuid4().hex[:16]

    def append(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave) -> int:
        with self._lock:
            if len(events) > self.append_room(len(claim_keys)):
                raise ValueError("too many events for one append")
            if any(self.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            lead = self.leads.get(lead_id)
            if lead is None or lead.record.version != change.expected_version or lead.record.unscored:
                raise VersionConflict(lead_id)
            if lead.record.merged_into:
                raise VersionConflict(lead_id)
            partition = self.events.setdefault(lead_id, {})
            duplicates = [item.event.event_id for item in events if _sort_key(item) in partition]
            if duplicates:
                raise DuplicateEvents(duplicates)
            for key in claim_keys:
                self.identities[key] = lead_id
            for item in events:
                partition[_sort_key(item)] = item
            return self.save(change)

    def append_room(self, claims: int) -> int:
        return 98 - 2 * claims  # as DynamoDB's transaction limit allows

    def create(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> int | None:
        with self._lock:
            if lead_id in self.leads or lead_id in self.events:
                return None
            if any(self.identities.get(key, lead_id) != lead_id for key in claim_keys):
                raise IdentityConflict(lead_id)
            self._store(lead_id, events, claim_keys, mark=False)
            return self.save(change)

    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        with self._lock:
            lead = self.leads.get(lead_id)
            now = as_utc(now)
            live = [
                item.event
                for item in self.events.get(lead_id, {}).values()
                if item.expires_at is None or int(item.expires_at.timestamp()) > int(now.timestamp())
            ]
            if lead is None and not live:
                return None
            record = _copy(lead.record) if lead else LeadRecord(lead_id=lead_id, version=0, keys=[], card=None)
            if lead is None:
                record.unscored = self.remnants.get(lead_id)
            record.events = live
            return record

    # --------------------------------------------------------------------- merges and deletion
    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        with self._lock:
            lead = self.leads.setdefault(source_lead, _Lead(LeadRecord(source_lead, 0, [], None)))
            lead.record.merged_into = target_lead
            self._mark_unscored(target_lead)
            lead.due_at = lead.sync_at = None
            lead.indexed = False
            lead.tier_changes = []
            self.events.setdefault(target_lead, {}).update(self.events.pop(source_lead, {}))
            owned = {key for key, owner in self.identities.items() if owner == source_lead}
            for key in set(keys) | set(lead.record.keys) | owned:
                self.identities[key] = target_lead

    def merged_into(self, lead_id: str) -> str | None:
        record = self.get_lead(lead_id)
        return record.merged_into if record else None

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        with self._lock:
            lead = self.leads.pop(lead_id, None)
            self.events.pop(lead_id, None)
            owned = {key for key, owner in self.identities.items() if owner == lead_id}
            for key in set(extra_keys) | set(lead.record.keys if lead else []) | owned:
                self.identities.pop(key, None)

    # ----------------------------------------------------------------------------- the lead item
    def save(self, change: LeadSave) -> int:
        with self._lock:
            lead = self.leads.get(change.lead_id)
            current = lead.record.version if lead else 0
            if current != change.expected_version:
                raise VersionConflict(change.lead_id)
            unscored = lead.record.unscored if lead else self.remnants.get(change.lead_id)
            if change.kind == "full" and unscored != change.seen_unscored:
                raise VersionConflict(change.lead_id)  # events were stored since it read them
            if change.kind == "fold" and unscored:
                raise VersionConflict(change.lead_id)
            if lead is None:
                lead = self.leads[change.lead_id] = _Lead(LeadRecord(change.lead_id, 0, [], None))
            version = change.expected_version + 1
            card, record = change.card, lead.record
            if change.kind == "full":
                record.unscored = None
                self.remnants.pop(change.lead_id, None)
            elif lead.record.unscored is None and change.lead_id in self.remnants:
                record.unscored = self.remnants.pop(change.lead_id)
            record.version, record.card = version, card
            if change.basis is not None:
                record.basis = json.loads(json.dumps(change.basis))
            if change.keys is not None:
                record.keys = sorted(set(change.keys))
            if change.profile_json is not None:
                record.profile_json = change.profile_json
            if change.sales_outcome is not None:
                record.outcome = json.loads(json.dumps(change.sales_outcome))
            lead.indexed = True
            lead.due_at = card.next_change_at.isoformat() if card.next_change_at else None
            if change.change.tier_changed:
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
            if change.change.visible_changed:
                lead.sync_at = record.sync_pending_since = change.now.isoformat()
            return version

    def get_lead(self, lead_id: str) -> LeadRecord | None:
        with self._lock:
            lead = self.leads.get(lead_id)
            return _copy(lead.record) if lead else None

    def get_leads(self, lead_ids: Sequence[str]) -> dict[str, LeadRecord]:
        found = {lead_id: self.get_lead(lead_id) for lead_id in set(lead_ids)}
        return {lead_id: record for lead_id, record in found.items() if record is not None}

    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            lead = self.leads.get(lead_id)
            changes = sorted(lead.tier_changes if lead else [], key=lambda c: (c["at"], c["_version"]), reverse=True)
            return [{k: v for k, v in change.items() if k != "_version"} for change in changes[:limit]]

    def leads_page(self, tiers: Sequence[str], grade: str | None, limit: int, cursor: str | None) -> LeadPage:
        if cursor is not None and not cursor.isdigit():
            raise ValueError("not a cursor this list handed out")
        start = int(cursor or 0)
        with self._lock:
            order = {tier: position for position, tier in enumerate(tiers)}
            rows = sorted(
                (self._row(lead) for lead in self.leads.values() if self._listed(lead, order, grade)),
                key=lambda row: (order[row.tier], -row.score, row.lead_id),
            )
        page = rows[start : start + limit]
        return LeadPage(page, str(start + limit) if start + limit < len(rows) else None)

    def leads_by_company(self, text: str, limit: int) -> list[LeadRow]:
        key = search_key(text)
        with self._lock:
            rows = [
                self._row(lead)
                for lead in self.leads.values()
                if lead.indexed and company_key(self._profile(lead).get("company") or "").startswith(key)
            ]
        return sorted(rows, key=lambda row: (-row.score, row.lead_id))[:limit]

    def lead_rows(self, lead_ids: Sequence[str]) -> list[LeadRow]:
        with self._lock:
            return [
                self._row(self.leads[i]) for i in dict.fromkeys(lead_ids) if i in self.leads and self.leads[i].indexed
            ]

    def count_leads(self, tiers: Sequence[str]) -> int:
        order = {tier: position for position, tier in enumerate(tiers)}
        with self._lock:
            return sum(1 for lead in self.leads.values() if self._listed(lead, order, None))

    @staticmethod
    def _listed(lead: _Lead, order: dict[str, int], grade: str | None) -> bool:
        card = lead.record.card
        return lead.indexed and card is not None and card.tier in order and (grade is None or card.grade == grade)

    @staticmethod
    def _profile(lead: _Lead) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(lead.record.profile_json or "{}")
        return found

    def _row(self, lead: _Lead) -> LeadRow:
        card = lead.record.card
        assert card is not None
        profile, basis = self._profile(lead), lead.record.basis or {}
        name = display_name(profile)
        last = basis.get("last_active_us")
        return LeadRow(
            lead_id=lead.record.lead_id, score=card.score, fit=card.fit, engagement=card.engagement,
            tier=card.tier, grade=card.grade, reasons=card.reasons(), updated_at=iso_z(card.scored_at),
            name=name or None, email=profile.get("email") or None, company=profile.get("company") or None,
            last_active_at=iso_z(from_us(int(last))) if last is not None else None,
            next_change_at=iso_z(card.next_change_at) if card.next_change_at else None,
        )  # fmt: skip

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        with self._lock:
            lead = self.leads.get(lead_id)
            if lead is None or lead.record.version != version:
                return False
            lead.record.crm = json.loads(json.dumps(crm))
            lead.record.crm_attempt = None
            lead.sync_at = lead.record.sync_pending_since = None
            return True

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        with self._lock:
            lead = self.leads.get(lead_id)
            if lead is not None and lead.record.version:
                lead.record.crm_attempt = json.loads(json.dumps(attempt))

    # ------------------------------------------------------------------- the scheduled job, reports
    def due_leads(self, now: datetime) -> Iterator[DueLead]:
        with self._lock:
            due = [lead for lead in self.leads.values() if lead.due_at is not None and lead.due_at <= now.isoformat()]
        for lead in due:
            card = lead.record.card
            assert card is not None
            yield DueLead(lead.record.lead_id, lead.record.version, lead.record.basis, card.visible)

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        with self._lock:
            cutoff = older_than.isoformat()
            return [lead_id for lead_id, lead in self.leads.items() if lead.sync_at and lead.sync_at < cutoff][:limit]

    def rules_progress(self) -> dict[str, Any]:
        return dict(json.loads(json.dumps(self.meta.get("rules", {}))))

    def save_rules_progress(self, progress: dict[str, Any]) -> None:
        self.meta["rules"] = json.loads(json.dumps(progress))

    def job_state(self, name: str) -> dict[str, Any]:
        return dict(json.loads(json.dumps(self.meta.get(f"job:{name}", {}))))

    def save_job_state(self, name: str, state: dict[str, Any]) -> None:
        self.meta[f"job:{name}"] = json.loads(json.dumps(state))

    def scan_leads(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]:
        with self._lock:
            lead_ids = sorted(self.leads)
        start = int(start_key or 0)
        page = lead_ids[start : start + page_size]
        return page, (start + page_size if start + page_size < len(lead_ids) else None)

    def count_unscored(self, lines: Sequence[UnscoredCount], now: datetime) -> None:
        day, at = seen_at(now)
        with self._lock:
            for line in lines:
                key = (day, line.key.source, line.key.reason, line.key.name)
                found = self.unscored.setdefault(
                    key, {**asdict(line.key), "count": 0, "first_seen": at, "last_seen": at, "example_lead": ""}
                )
                found.update(count=found["count"] + line.count, last_seen=at, example_lead=line.example_lead)

    def unscored_lines(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        wanted = set(days)
        with self._lock:
            found = [dict(line) for key, line in sorted(self.unscored.items()) if key[0] in wanted]
        return iter(found)

    def report_rows(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            leads = [lead for lead in self.leads.values() if lead.indexed and lead.record.card is not None]
        for lead in leads:
            card = lead.record.card
            assert card is not None
            yield {
                "lead_id": lead.record.lead_id,
                "tier": card.tier,
                "grade": card.grade,
                "score": card.score,
                "outcome": lead.record.outcome,
                "reasons": card.reasons(),
            }


def _sort_key(item: StoredEvent) -> str:
    return f"{item.event.source}#{item.event.event_id}"


def _copy(record: LeadRecord) -> LeadRecord:
    return replace(record, keys=list(record.keys), events=list(record.events))
