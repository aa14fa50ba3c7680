"""Use cases: ingest a delivery, look leads up. It depends on ports (storage, profile directories,
the write-back publisher), never on an adapter; the scoring itself is the pure domain's."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.basis import StaleBasis
from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.events import LeadEvent, iso_z
from chalicelib.domain.folding import OutOfOrder
from chalicelib.domain.identity import parse_key, plan_leads
from chalicelib.domain.profile import Profile
from chalicelib.domain.retention import expires_at
from chalicelib.domain.rules import Rules
from chalicelib.domain.unscored import UnscoredKey, day_buckets, key_for, merge_buckets, tally, unscored_reason
from chalicelib.leads_query import LeadsQuery
from chalicelib.publishing import ChangePublisher
from chalicelib.rescoring import MAX_ATTEMPTS, Rescored, Rescorer, fold_change, jittered_backoff, rescore_change
from chalicelib.sources.base import BadPayload, ParsedDelivery, ProfileRef
from chalicelib.storage.port import (
    DuplicateEvents,
    IdentityConflict,
    LeadMerged,
    LeadRecord,
    LeadStorage,
    StorageUnavailable,
    StoredEvent,
    VersionConflict,
)

log = logging.getLogger(__name__)


class ProfileDirectory(Protocol):
    """Reads profiles from a CRM when a delivery names a record but carries none of its
    properties; returns them as canonical profile events (unknown ids are simply absent)."""

    def read_profiles(self, record_ids: Sequence[str]) -> list[LeadEvent]: ...


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    deleted: int = 0
    rescored: list[Rescored] = field(default_factory=list)
    not_scored: Counter[str] = field(default_factory=Counter)  # accepted but ignored (bots, spam), by why
    # New events that earned nothing (domain/unscored.py), with the lead each went to: the report's counts.
    unscored: list[tuple[UnscoredKey, str]] = field(default_factory=list)

    @property
    def lead_ids(self) -> list[str]:
        return [item.lead_id for item in self.rescored]


@dataclass
class Folded:
    rest: list[LeadEvent]
    stored: int = 0
    duplicates: int = 0
    rescored: Rescored | None = None
    not_scored: Counter[str] = field(default_factory=Counter)
    stored_events: list[LeadEvent] = field(default_factory=list)
    too_fast: list[tuple[str, str]] = field(default_factory=list)


def _stateless_skips(events: list[LeadEvent], rules: Rules) -> Counter[str]:
    """What a full rescore will ignore of these events whatever else the lead did (speed limits
    depend on its other events: counted only when events are folded)."""
    filters = compile_rules(rules).filters
    return Counter(reason for event in events if (reason := filters.reason(event.properties)) is not None)


def new_lead_id() -> str:
    return "ld_" + uuid.uuid4().hex[:20]


def is_lead_id(text: str) -> bool:
    return text.startswith("ld_") and len(text) == 23 and all(c in "0123456789abcdef" for c in text[3:])


class LeadService:
    def __init__(
        self,
        storage: LeadStorage,
        rules: Callable[[], Rules],
        directories: Mapping[str, ProfileDirectory] | None = None,
        backoff: Callable[[int], None] = jittered_backoff,
        publisher: ChangePublisher | None = None,
        rescorer: Rescorer | None = None,
    ) -> None:
        """`directories` by identity kind ("hubspot": the HubSpot contact reader)."""
        self.storage = storage
        self.rules = rules
        self.directories = dict(directories or {})
        self.backoff = backoff
        self.publisher = publisher or ChangePublisher(None, rules)
        self.rescorer = rescorer or Rescorer(storage, rules, backoff)

    # ---------------------------------------------------------------------------------- ingest
    def ingest(self, delivery: ParsedDelivery, now: datetime, read_records: bool = True) -> IngestResult:
        """`read_records`: ask for the CRM records the delivery names but does not describe
        (False for what was just read from the CRM)."""
        result = IngestResult(ignored=delivery.ignored)
        delivery = self._read_or_fall_back(delivery)
        events = _unique(delivery.events)
        known = self.storage.resolve(key for event in events for key in event.identities.as_keys())
        touched: list[str] = []
        fresh: set[str] = set()
        created: list[Rescored] = []
        new: list[tuple[str, LeadEvent]] = []  # (lead, event) of every event stored by this delivery
        too_fast: set[tuple[str, str]] = set()  # (source, event id) the folds' speed limits ignored
        plans = plan_leads([event.identities.as_keys() for event in events], known)
        # The lead items new events fold into, read together (one request per 100 leads).
        records = self.storage.get_leads([plan.lead_id for plan in plans if plan.lead_id and not plan.merge_from])
        for plan in plans:
            members = [events[index] for index in plan.signal_indexes]
            if plan.lead_id is None and not plan.merge_from:
                made = self._create(members, plan.keys, now, result.not_scored)
                if made is not None:
                    result.accepted += len(members)
                    created.append(made)
                    new += [(made.lead_id, event) for event in members]
                    too_fast.update(made.too_fast)
                    continue
            if plan.lead_id is not None and not plan.merge_from:
                folded = self._fold(plan.lead_id, members, plan.keys, known, now, records.get(plan.lead_id))
                result.not_scored.update(folded.not_scored)
                result.accepted += folded.stored
                result.duplicates += folded.duplicates
                if folded.rescored is not None:
                    created.append(folded.rescored)
                new += [(plan.lead_id, event) for event in folded.stored_events]
                too_fast.update(folded.too_fast)
                members = folded.rest
                if not members:
                    continue
            lead_id, stored_ids, duplicates = self._store(members, plan.keys, plan.lead_id, plan.merge_from, known)
            stored = len(stored_ids)
            kept = set(stored_ids)
            new += [(lead_id, event) for event in members if event.event_id in kept]
            if stored and plan.lead_id is None and not plan.merge_from:
                fresh.add(lead_id)  # every event of its rescore is new: its count of ignored ones is this delivery's
            elif stored:
                result.not_scored.update(_stateless_skips(members, self.rules()))
            result.accepted += stored
            result.duplicates += duplicates
            if stored or plan.merge_from or plan.lead_id is None:
                touched.append(lead_id)
        rescored = [self.rescorer.rescore(lead_id, now) for lead_id in dict.fromkeys(touched)]
        for item in rescored:
            if item.lead_id in fresh:
                result.not_scored.update(item.not_scored)
                too_fast.update(item.too_fast)
        result.unscored = self._unscored(new, too_fast)
        if result.unscored:
            self._count_unscored(result.unscored, now)
        result.rescored = _per_lead(created + rescored)
        for deletion in delivery.deletions:
            result.deleted += self._delete(deletion.identities.as_keys())
        self.publisher.publish(result.rescored)
        if read_records:
            for directory, record_ids in self._to_enrich(delivery, events, known).items():
                self.publisher.enrich(directory, record_ids)
        return result

    def _unscored(
        self, new: list[tuple[str, LeadEvent]], too_fast: set[tuple[str, str]]
    ) -> list[tuple[UnscoredKey, str]]:
        """Each new event that earned nothing, as its report line and lead: the speed limit the
        fold applied, else what the rules alone say (domain/unscored.py)."""
        rules = self.rules()
        canonical = compile_rules(rules).canonical_type
        found = []
        for lead, event in new:
            reason = (
                "filtered:too_fast" if (event.source, event.event_id) in too_fast else unscored_reason(event, rules)
            )
            if reason is not None:
                found.append((key_for(event, canonical(event.type), reason), lead))
        return found

    def _count_unscored(self, lines: list[tuple[UnscoredKey, str]], now: datetime) -> None:
        """The report's counts are worth less than the delivery: the events are stored, so a failed
        count is logged and the delivery still acknowledged (a redelivery would not count them:
        they are duplicates then)."""
        try:
            self.storage.count_unscored(tally(lines), now)
        except StorageUnavailable as exc:
            log.warning("unscored events not counted: %s", exc)

    def unscored_report(self, now: datetime, days: int = 30) -> dict[str, Any]:
        """What earned nothing in the last `days` UTC days, per source, name and reason."""
        window = day_buckets(now, days)
        lines = merge_buckets(self.storage.unscored_lines(window))
        return {"days": days, "since": window[-1], "until": window[0], "unscored": lines}

    def enrich(self, directory: str, record_ids: Sequence[str], now: datetime) -> IngestResult:
        """Read records a delivery named without their properties, and ingest them as profile
        events (from the queue: a webhook never waits for a CRM). Raises CrmUnavailable."""
        reader = self.directories.get(directory)
        if reader is None:
            return IngestResult()
        return self.ingest(
            ParsedDelivery(events=reader.read_profiles(sorted(set(record_ids)))), now, read_records=False
        )

    def _read_or_fall_back(self, delivery: ParsedDelivery) -> ParsedDelivery:
        """Events that say less than their record: read the record instead when we can."""
        if not delivery.unless_read:
            return delivery
        readable = [ref for ref, _ in delivery.unless_read if ref.kind in self.directories]
        fallback = [event for ref, event in delivery.unless_read if ref.kind not in self.directories]
        return replace(
            delivery,
            events=[*delivery.events, *fallback],
            profiles_to_fetch=[*delivery.profiles_to_fetch, *readable],
            unless_read=[],
        )

    def _to_enrich(
        self, delivery: ParsedDelivery, events: list[LeadEvent], known: dict[str, str]
    ) -> dict[str, list[str]]:
        """Per configured directory, the records this delivery names but does not describe: those
        it asks for, and those its events name that we did not know before it."""
        wanted: dict[str, set[str]] = {}
        for ref in delivery.profiles_to_fetch:
            wanted.setdefault(ref.kind, set()).add(ref.record_id)
        for event in events:
            for key in event.identities.as_keys():
                named = ProfileRef.from_key(key)
                if named is not None and named.kind == event.source and key not in known:
                    wanted.setdefault(named.kind, set()).add(named.record_id)
        return {kind: sorted(ids) for kind, ids in sorted(wanted.items()) if kind in self.directories}

    def _create(
        self, members: list[LeadEvent], keys: list[str], now: datetime, not_scored: Counter[str]
    ) -> Rescored | None:
        """A lead nobody knew: scored from the events in hand and written with them at once.
        None when that is not possible (a key claimed meanwhile, too many events for one write)."""
        rules = self.rules()
        stored = [StoredEvent(event, expires_at(event, rules)) for event in members]
        live = [item.event for item in stored if item.expires_at is None or item.expires_at > now]
        lead_id = new_lead_id()
        change = rescore_change(LeadRecord(lead_id, 0, list(keys), None, events=live), rules, now)
        try:
            version = self.storage.create(lead_id, stored, keys, change)
        except IdentityConflict:
            return None
        if version is None:
            return None
        not_scored.update(change.not_scored)
        return Rescored(lead_id, version, None, change.card, too_fast=change.too_fast)

    def _fold(
        self,
        lead_id: str,
        members: list[LeadEvent],
        keys: list[str],
        known: dict[str, str],
        now: datetime,
        record: LeadRecord | None,
    ) -> Folded:
        """Fold new events into the lead's stored basis and write both at once, a transaction's
        worth at a time: the cost does not grow with the lead's history. What cannot be folded
        (see domain/folding.py) is left in `rest` for a store and full rescore."""
        rules = self.rules()
        pending = [StoredEvent(event, expires_at(event, rules)) for event in members]
        claims = [key for key in keys if known.get(key) != lead_id]
        folded = Folded(rest=[])
        attempt = 0
        while pending:
            record = record or self.storage.get_lead(lead_id)
            if record is None or record.merged_into or record.unscored:
                break
            room = self.storage.append_room(len(claims))
            if room < 1:
                break  # more new identities than one transaction holds: the store path claims them in parts
            chunk = pending[:room]
            try:
                change = fold_change(record, [item.event for item in chunk], rules, now)
            except (StaleBasis, OutOfOrder) as exc:
                log.info("rescoring lead %s from its events: %s", lead_id, exc)
                break
            try:
                version = self.storage.append(lead_id, chunk, claims, change)
            except DuplicateEvents as exc:
                seen = set(exc.event_ids)
                folded.duplicates += len(seen)
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
            before = folded.rescored.before if folded.rescored else change.before
            folded.rescored = Rescored(lead_id, version, before, change.card)
            folded.not_scored.update(change.not_scored)
            folded.too_fast += change.too_fast
            folded.stored_events += [item.event for item in chunk]
            record = None
            folded.stored += len(chunk)
            pending, claims = pending[len(chunk) :], []
        folded.rest = [item.event for item in pending]
        return folded

    def _store(
        self,
        members: list[LeadEvent],
        keys: list[str],
        lead_id: str | None,
        merge_from: list[str],
        known: dict[str, str],
    ) -> tuple[str, list[str], int]:
        rules = self.rules()
        stored_events = [StoredEvent(event, expires_at(event, rules)) for event in members]
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.backoff(attempt)
            target = lead_id or new_lead_id()
            for other in merge_from:
                self.storage.merge(other, target, [key for key, owner in known.items() if owner == other])
            claims = [key for key in keys if known.get(key) != target]
            try:
                result = self.storage.store(target, stored_events, claims)
            except LeadMerged:
                lead_id, merge_from = self.rescorer.survivor(target), []
                continue
            except IdentityConflict:
                # Someone claimed one of these keys meanwhile (a concurrent first delivery): join them.
                known = self.storage.resolve(keys)
                owners = sorted(set(known.values()))
                lead_id, merge_from = (owners[0], owners[1:]) if owners else (None, [])
                continue
            return target, list(result.stored), len(result.duplicates)
        raise RuntimeError("identity resolution did not settle")

    def _delete(self, keys: list[str]) -> int:
        known = self.storage.resolve(keys)
        for lead_id in sorted(set(known.values())):
            self.storage.delete_lead(lead_id, keys)
        return len(set(known.values()))

    def would_score(self, events: Sequence[LeadEvent], now: datetime) -> Counter[str]:
        """The tiers these events would give the leads they name, storing nothing (a dry run)."""
        rules = self.rules()
        plans = plan_leads([event.identities.as_keys() for event in events], {})
        tiers: Counter[str] = Counter()
        for plan in plans:
            members = [events[index] for index in plan.signal_indexes]
            change = rescore_change(LeadRecord("dry-run", 0, list(plan.keys), None, events=members), rules, now)
            tiers[change.card.tier] += 1
        return tiers

    def rescore(self, lead_id: str, now: datetime, reason: str = "") -> Rescored:
        return self.rescorer.rescore(lead_id, now, reason)

    def tier_report(self) -> dict[str, Any]:
        from chalicelib.domain.outcome_report import tier_report

        return tier_report(self.storage.report_rows(), self.rules())

    def exceptions_report(self, limit: int = 10) -> dict[str, Any]:
        from chalicelib.domain.exceptions_report import exceptions
        from chalicelib.domain.outcome_report import as_counted

        rows = [as_counted(row) for row in self.storage.report_rows()]
        found = exceptions(rows, self.rules(), limit)
        for section in ("won_scored_low", "lost_scored_high"):
            found[section]["leads"] = [_exception_row(row) for row in found[section]["leads"]]
        return found

    # ---------------------------------------------------------------------------------- lookup
    def find_lead_id(self, key: str) -> str | None:
        identity = parse_key(key)
        if identity is not None:
            return self.storage.resolve([identity]).get(identity)
        return key if is_lead_id(key) else None

    def lead(self, key: str) -> dict[str, Any] | None:
        lead_id = self.find_lead_id(key)
        record = self.storage.get_lead(self.rescorer.survivor(lead_id)) if lead_id else None
        if record is None or record.card is None:
            return None
        card = record.card
        profile = Profile.model_validate_json(record.profile_json or "{}")
        return {
            "lead_id": record.lead_id,
            "identities": record.keys,
            "tier_changes": [
                {**change, "at": iso_z(change["at"])} for change in self.storage.tier_changes(record.lead_id)
            ],
            "write_back": _write_back(record),
            "outcome": (
                {**record.outcome, "at": iso_z(record.outcome["at"])}
                if record.outcome and record.outcome.get("at")
                else record.outcome
            ),
            "profile": profile.model_dump(exclude_defaults=True),
            # The account (Segment group) the lead belongs to: account scores come later.
            "account": {"id": profile.account_id, "name": profile.company} if profile.account_id else None,
            "score": card.score,
            "tier": card.tier,
            "grade": card.grade,
            "fit": card.fit,
            "engagement": card.engagement,
            "reasons": card.reasons(),
            "card": card.model_dump(mode="json"),
        }

    def timeline(self, key: str, now: datetime) -> dict[str, Any] | None:
        """The lead's score a day at a time: the last 90 days recomputed from its stored events with
        the rules in force, the next 90 projected from decay alone."""
        from chalicelib.domain.timeline import score_timeline

        lead_id = self.find_lead_id(key)
        record = self.storage.load(self.rescorer.survivor(lead_id), now) if lead_id else None
        if record is None or record.card is None:
            return None
        rules = self.rules()
        points = score_timeline(record.events, rules, now)
        return {
            "lead_id": record.lead_id,
            "tiers": [{"name": band.name, "min": band.min} for band in rules.tiers.bands],
            "points": [
                {
                    "at": iso_z(point.at),
                    "score": point.score,
                    "fit": point.fit,
                    "engagement": point.engagement,
                    "tier": point.tier,
                    "projected": point.projected,
                }
                for point in points
            ],
        }

    def leads(self, query: LeadsQuery) -> dict[str, Any]:
        """A page of the leads list, or what a search finds (an email, a CRM id, a company's start)."""
        rules = self.rules()
        if not query.q:
            try:
                page = self.storage.leads_page(query.tiers(rules), query.grade, query.limit, query.cursor)
            except ValueError as exc:
                raise BadPayload(str(exc), field="cursor") from exc
            return {"leads": [asdict(row) for row in page.rows], "next_cursor": page.cursor}
        key = query.identity_key()
        if key is not None or is_lead_id(query.q.strip()):
            lead_id = self.find_lead_id(key or query.q.strip())
            rows = self.storage.lead_rows([self.rescorer.survivor(lead_id)]) if lead_id else []
        else:
            try:
                rows = self.storage.leads_by_company(query.q, query.limit)
            except ValueError as exc:
                raise BadPayload(str(exc), field="q") from exc
        tiers = set(query.tiers(rules))
        found = [row for row in rows if row.tier in tiers and (query.grade is None or row.grade == query.grade)]
        return {"leads": [asdict(row) for row in found], "next_cursor": None}


def _write_back(record: LeadRecord) -> dict[str, Any]:
    """The lead's write-back state with labelled fields: what was last written (score, tier, grade),
    when, each CRM's outcome, and since when a newer change waits."""
    pending = record.sync_pending_since
    last = record.crm
    written = None
    if last:
        visible = last.get("visible") or [None, None, None]
        written = {
            "score": visible[0], "tier": visible[1], "grade": visible[2], "version": last.get("version"),
            "at": iso_z(last["at"]) if last.get("at") else None,
            "outcomes": last.get("outcomes", {}), "reasons": last.get("reasons", {}),
        }  # fmt: skip
    attempt = record.crm_attempt
    failed = None
    if attempt:
        failed = {
            "at": iso_z(attempt["at"]), "outcomes": attempt.get("outcomes", {}),
            "reasons": attempt.get("reasons", {}), "retry_in_seconds": attempt.get("retry_in_seconds"),
        }  # fmt: skip
    return {
        "pending_since": iso_z(pending) if pending else None,
        "last": written,
        "last_failed_attempt": failed,
    }


def _per_lead(rescored: list[Rescored]) -> list[Rescored]:
    """One result per lead (folded, then rescored for what could not be folded): the card before
    the delivery and the last one."""
    found: dict[str, Rescored] = {}
    for item in rescored:
        first = found.get(item.lead_id)
        found[item.lead_id] = item if first is None else replace(item, before=first.before)
    return list(found.values())


def _unique(events: list[LeadEvent]) -> list[LeadEvent]:
    seen: dict[tuple[str, str], LeadEvent] = {}
    for event in events:
        seen.setdefault((event.source, event.event_id), event)
    return list(seen.values())


def _exception_row(row: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of a lead: find it with GET /leads/{lead_id}."""
    return {key: row[key] for key in ("lead_id", "state", "score", "tier", "grade", "reasons")}
