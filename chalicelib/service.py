"""Use cases: ingest a delivery, rescore a lead, look leads up. Adapters in, adapters out; the
scoring itself is the pure domain's."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import LeadEvent, Profile, Rules, ScoreBasis, ScoreCard, card_from_basis, score_basis
from chalicelib.domain.engagement import canonical_order
from chalicelib.domain.identity import parse_key, plan_leads
from chalicelib.domain.outcomes import outcome_change
from chalicelib.domain.profile import PROFILE_EVENT, fold_profile
from chalicelib.domain.retention import expires_at
from chalicelib.domain.tiers import is_mql
from chalicelib.observability import logger
from chalicelib.queue import WritebackQueue
from chalicelib.sources.base import ParsedDelivery
from chalicelib.sources.hubspot import contact_profile_event
from chalicelib.storage.dynamodb import (
    IdentityConflict,
    LeadMerged,
    LeadRecord,
    LeadRepository,
    StoredEvent,
    VersionConflict,
)

MAX_ATTEMPTS = 8


def jittered_backoff(attempt: int) -> None:
    """Full jitter: concurrent writers of one lead spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


class ContactDirectory(Protocol):
    """Reads contacts from the CRM when a webhook names a contact but carries none of its properties."""

    def read_contacts(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]: ...


@dataclass
class Rescored:
    lead_id: str
    version: int
    before: tuple[int, str, str] | None  # the visible (score, tier, grade) it replaced
    after: ScoreCard

    @property
    def visible_change(self) -> bool:
        return self.before != self.after.visible

    @property
    def tier_change(self) -> bool:
        return self.before is None or self.before[1] != self.after.tier


@dataclass
class IngestOutcome:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    deleted: int = 0
    rescored: list[Rescored] = field(default_factory=list)

    @property
    def lead_ids(self) -> list[str]:
        return [item.lead_id for item in self.rescored]


def new_lead_id() -> str:
    return "ld_" + uuid.uuid4().hex[:20]


def is_lead_id(text: str) -> bool:
    return text.startswith("ld_") and len(text) == 23 and all(c in "0123456789abcdef" for c in text[3:])


class LeadService:
    def __init__(
        self,
        repository: LeadRepository,
        rules: Callable[[], Rules],
        contacts: ContactDirectory | None = None,
        backoff: Callable[[int], None] = jittered_backoff,
        queue: WritebackQueue | None = None,
    ) -> None:
        self.repository = repository
        self.rules = rules
        self.contacts = contacts
        self.backoff = backoff
        self.queue = queue

    # ---------------------------------------------------------------------------------- ingest
    def ingest(self, delivery: ParsedDelivery, now: datetime) -> IngestOutcome:
        outcome = IngestOutcome(ignored=delivery.ignored)
        events = _unique(delivery.events)
        known = self.repository.resolve(key for event in events for key in event.identities.as_keys())
        fetched = self._fetched_profiles(delivery, events, known)
        if fetched:
            events += fetched
            known.update(self.repository.resolve(k for e in fetched for k in e.identities.as_keys() if k not in known))

        touched: list[str] = []
        for plan in plan_leads([event.identities.as_keys() for event in events], known):
            members = [events[index] for index in plan.signal_indexes]
            lead_id, stored, duplicates = self._store(members, plan.keys, plan.lead_id, plan.merge_from, known)
            outcome.accepted += stored
            outcome.duplicates += duplicates
            if stored or plan.merge_from or plan.lead_id is None:
                touched.append(lead_id)
        outcome.rescored = [self.rescore(lead_id, now) for lead_id in dict.fromkeys(touched)]
        for deletion in delivery.deletions:
            outcome.deleted += self._delete(deletion.identities.as_keys())
        self.publish(outcome.rescored)
        return outcome

    # -------------------------------------------------------------------------------- publish
    def publish(self, rescored: Sequence[Rescored]) -> None:
        """Queue a write-back for every visible change, and a notification for every lead that
        entered or left MQL. Never raises: the lead item's outbox mark (sync_at) stays set, and
        the scheduled job queues it again if this send is lost."""
        if self.queue is None:
            return
        rules = self.rules()
        compiled = rules.compiled()
        messages: list[dict[str, Any]] = []
        for item in rescored:
            if item.visible_change:
                messages.append({"kind": "sync", "lead_id": item.lead_id, "version": item.version})
            was_mql = item.before is not None and is_mql(item.before[1], compiled.tier_bands, rules.tiers.mql_from)
            if item.tier_change and was_mql != item.after.mql:
                messages.append(
                    {
                        "kind": "notify",
                        "lead_id": item.lead_id,
                        "from": item.before[1] if item.before else None,
                        "to": item.after.tier,
                        "at": item.after.scored_at.isoformat(),
                        "score": item.after.score,
                        "mql": item.after.mql,
                        "reason": "; ".join(item.after.reasons()),
                    }
                )
        if not messages:
            return
        try:
            self.queue.send(messages)
        except Exception as exc:
            logger.warning("write-back queue unavailable", extra={"error": type(exc).__name__, "count": len(messages)})

    def _fetched_profiles(
        self, delivery: ParsedDelivery, events: list[LeadEvent], known: dict[str, str]
    ) -> list[LeadEvent]:
        """One batch read for the HubSpot contacts this delivery names but does not describe."""
        if self.contacts is None:
            return []
        wanted = set(delivery.hubspot_ids_to_fetch)
        wanted |= {
            event.identities.hubspot_id
            for event in events
            if event.source == "hubspot"
            and event.identities.hubspot_id
            and f"hubspot:{event.identities.hubspot_id}" not in known
        }
        if not wanted:
            return []
        return [contact_profile_event(contact) for contact in self.contacts.read_contacts(sorted(wanted))]

    def _store(
        self,
        members: list[LeadEvent],
        keys: list[str],
        lead_id: str | None,
        merge_from: list[str],
        known: dict[str, str],
    ) -> tuple[str, int, int]:
        rules = self.rules()
        stored_events = [StoredEvent(event, expires_at(event, rules)) for event in members]
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            target = lead_id or new_lead_id()
            for other in merge_from:
                self.repository.merge(other, target, [key for key, owner in known.items() if owner == other])
            claims = [key for key in keys if known.get(key) != target]
            try:
                result = self.repository.store(target, stored_events, claims)
            except LeadMerged:
                lead_id, merge_from = self._survivor(target), []
                continue
            except IdentityConflict:
                # Someone claimed one of these keys meanwhile (a concurrent first delivery): join them.
                known = self.repository.resolve(keys)
                owners = sorted(set(known.values()))
                lead_id, merge_from = (owners[0], owners[1:]) if owners else (None, [])
                continue
            return target, len(result.stored), len(result.duplicates)
        raise RuntimeError("identity resolution did not settle")

    def _survivor(self, lead_id: str) -> str:
        """Follow merge forwarding addresses to the lead that now holds the events."""
        for _ in range(MAX_ATTEMPTS):
            forward = self.repository.merged_into(lead_id)
            if forward is None:
                return lead_id
            lead_id = forward
        return lead_id

    def _delete(self, keys: list[str]) -> int:
        known = self.repository.resolve(keys)
        for lead_id in sorted(set(known.values())):
            self.repository.delete_lead(lead_id, keys)
        return len(set(known.values()))

    # --------------------------------------------------------------------------------- rescore
    def rescore(self, lead_id: str, now: datetime, reason: str = "") -> Rescored:
        """Read the lead and all its events, score, save; on a concurrent save, read again."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            record = self.repository.load(lead_id, now) or LeadRecord(lead_id, 0, [], None)
            if record.merged_into:
                return self.rescore(self._survivor(record.merged_into), now, reason)
            profile, basis, card = self.score_record(record, now)
            outcome = self._outcome(record, profile, card, now)
            keys = sorted(set(record.keys) | {key for event in record.events for key in event.identities.as_keys()})
            before = record.card.visible if record.card else None
            try:
                version = self.repository.save(
                    lead_id,
                    record.version,
                    card,
                    before,
                    now,
                    basis=basis.to_json(),
                    keys=keys,
                    profile_json=profile.model_dump_json(exclude_defaults=True),
                    reason=reason,
                    outcome=outcome,
                )
            except VersionConflict:
                continue
            return Rescored(lead_id, version, before, card)
        raise RuntimeError(f"lead {lead_id} kept changing while it was being rescored")

    @staticmethod
    def _outcome(record: LeadRecord, profile: Profile, card: ScoreCard, now: datetime) -> dict[str, Any] | None:
        before = Profile.model_validate_json(record.profile_json) if record.profile_json else None
        first_seen = min((event.occurred_at for event in record.events), default=None)
        return outcome_change(before, profile, record.card or card, first_seen, now)

    def tier_report(self) -> dict[str, Any]:
        from chalicelib.domain.outcome_report import tier_report

        rules = self.rules()
        return tier_report(self.repository.report_rows(), rules)

    def score_record(self, record: LeadRecord, now: datetime) -> tuple[Profile, ScoreBasis, ScoreCard]:
        ordered = canonical_order(record.events)
        patches = [
            ((occurred_us, event.source, event.event_id), event.properties.get("profile") or {})
            for occurred_us, event in ordered
            if event.type == PROFILE_EVENT
        ]
        behaviour = [event for _, event in ordered if event.type != PROFILE_EVENT]
        profile = fold_profile(patches)
        previous = record.card.tier if record.card else None
        rules = self.rules()
        basis = score_basis(profile, behaviour, rules)
        return profile, basis, card_from_basis(basis, rules, now, previous_tier=previous)

    # ---------------------------------------------------------------------------------- lookup
    def find_lead_id(self, key: str) -> str | None:
        identity = parse_key(key)
        if identity is not None:
            return self.repository.resolve([identity]).get(identity)
        return key if is_lead_id(key) else None

    def lead(self, key: str) -> dict[str, Any] | None:
        lead_id = self.find_lead_id(key)
        record = self.repository.get_lead(self._survivor(lead_id)) if lead_id else None
        if record is None or record.card is None:
            return None
        card = record.card
        return {
            "lead_id": record.lead_id,
            "identities": record.keys,
            "tier_changes": self.repository.tier_changes(record.lead_id),
            "write_back": {"pending_since": record.sync_pending_since, "last": record.crm},
            "outcome": record.outcome,
            "profile": Profile.model_validate_json(record.profile_json or "{}").model_dump(exclude_defaults=True),
            "score": card.score,
            "tier": card.tier,
            "grade": card.grade,
            "fit": card.fit,
            "engagement": card.engagement,
            "reasons": card.reasons(),
            "card": card.model_dump(mode="json"),
        }

    def leaderboard(self, tiers: Sequence[str], limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for tier in tiers:
            rows += self.repository.list_by_tier(tier, limit)
        return sorted(rows, key=lambda row: (-row["score"], row["lead_id"]))[:limit]


def _unique(events: list[LeadEvent]) -> list[LeadEvent]:
    seen: dict[tuple[str, str], LeadEvent] = {}
    for event in events:
        seen.setdefault((event.source, event.event_id), event)
    return list(seen.values())
