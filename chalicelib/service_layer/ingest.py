"""Ingest a delivery: resolve who its events belong to, write each lead's share (lead_writes.py),
rescore what was stored apart from its card, count what earned nothing, then queue the
write-backs, notifications and record reads that follow. It depends on ports (storage, the task
sink), never on an adapter; the scoring itself is the pure domain's."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.domain.compiled_rules import compile_rules
from chalicelib.domain.events import LeadEvent
from chalicelib.domain.fold_memory import needs_memory
from chalicelib.domain.identity import plan_leads
from chalicelib.domain.rules import Rules
from chalicelib.domain.unscored import UnscoredKey, key_for, tally, unscored_reason
from chalicelib.storage.ports import LeadRecord, Storage, StorageUnavailable

from .account_records import AccountRecords
from .commands import ParsedDelivery, ProfileRef
from .lead_writes import LeadWrites, Written
from .publishing import ChangePublisher
from .record_merges import RecordMerges
from .rescoring import Rescored, Rescorer, jittered_backoff, rescore_change

log = logging.getLogger(__name__)


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


class Ingestion:
    def __init__(
        self,
        storage: Storage,
        rules: Callable[[], Rules],
        readable: Collection[str] = (),
        backoff: Callable[[int], None] = jittered_backoff,
        publisher: ChangePublisher | None = None,
        rescorer: Rescorer | None = None,
    ) -> None:
        """`readable`: the identity kinds whose records can be read from their CRM ("hubspot")."""
        self.storage = storage
        self.rules = rules
        self.readable = frozenset(readable)
        self.publisher = publisher or ChangePublisher(None, rules)
        self.rescorer = rescorer or Rescorer(storage, rules, backoff)
        self.writes = LeadWrites(storage, rules, self.rescorer, backoff)
        self.account_records = AccountRecords(storage, self.publisher, lambda: self.rescorer)
        self.record_merges = RecordMerges(storage, self.writes, self.rescorer)

    def ingest(self, delivery: ParsedDelivery, now: datetime, read_records: bool = True) -> IngestResult:
        """`read_records`: queue a read of the CRM records the delivery names but does not describe
        (False for what was just read from the CRM)."""
        delivery = self._read_or_fall_back(delivery)
        events = _unique(delivery.events)
        known = self.storage.leads.resolve(key for event in events for key in event.identities.as_keys())
        plans = plan_leads([event.identities.as_keys() for event in events], known)
        # The lead items new events fold into, read together (one request per 100 leads), with the
        # fold's memory for those whose events need it.
        compiled = compile_rules(self.rules())
        folding = {
            plan.lead_id: needs_memory([events[i] for i in plan.signal_indexes], compiled)
            for plan in plans
            if plan.lead_id and not plan.merge_from
        }
        records = self.storage.leads.get_leads(list(folding), {lead for lead, needed in folding.items() if needed})
        # New leads first, together: a batch of new visitors is a few writes, not one per visitor.
        fresh = [index for index, plan in enumerate(plans) if plan.lead_id is None and not plan.merge_from]
        created = self.writes.create_many(
            [([events[i] for i in plans[index].signal_indexes], plans[index].keys) for index in fresh], now
        )
        ready = {index: item for index, item in zip(fresh, created, strict=True) if item is not None}
        written: list[Written] = []
        for index, plan in enumerate(plans):
            if index in ready:
                written.append(ready[index])
                continue
            members = [events[i] for i in plan.signal_indexes]
            stored = records.get(plan.lead_id) if plan.lead_id else None
            written.append(self.writes.write(plan, members, known, stored, now, create=False))  # tried above
        rescored = {
            lead: self.rescorer.rescore(lead, now) for lead in dict.fromkeys(w.lead_id for w in written if w.rescore)
        }
        result = self._result(delivery, written, rescored)
        result.duplicates += len(delivery.events) - len(events)  # repeated within this very delivery
        result.ignored += len(delivery.unattributed)
        result.unscored += self._unattributed(delivery)
        if result.unscored:
            self._count_unscored(result.unscored, now)
        for deletion in delivery.deletions:
            result.deleted += self._delete(deletion.identities.as_keys())
        if delivery.merges:  # after the delivery's events: a merge joins what they created
            merged = [self.record_merges.unite(merge, now) for merge in delivery.merges]
            result.rescored = _per_lead([*result.rescored, *merged])
            result.accepted += len(delivery.merges)
            self.publisher.requeue([item.lead_id for item in merged])  # written to the survivor
        self.publisher.publish(result.rescored)
        if delivery.companies:
            self.account_records.apply(delivery.companies, now)
            result.accepted += len(delivery.companies)
        if read_records:
            for directory, record_ids in self._to_read(delivery, events, known).items():
                self.publisher.read_records(directory, record_ids)
        return result

    def _result(self, delivery: ParsedDelivery, written: list[Written], rescored: dict[str, Rescored]) -> IngestResult:
        """The delivery's totals: each lead's share, and for a lead this delivery created through a
        store, what its rescore ignored (every event it read is new)."""
        result = IngestResult(ignored=delivery.ignored)
        scored: list[Rescored] = []
        too_fast: set[tuple[str, str]] = set()
        for item in written:
            result.accepted += len(item.stored)
            result.duplicates += item.duplicates
            result.not_scored.update(item.not_scored)
            too_fast |= item.too_fast
            if item.scored is not None:
                scored.append(item.scored)
            if item.created_by_store:
                ignored = rescored[item.lead_id].ignored
                result.not_scored.update(ignored.by_reason)
                too_fast.update(ignored.too_fast)
        result.rescored = _per_lead(scored + list(rescored.values()))
        new = [(item.lead_id, event) for item in written for event in item.stored]
        result.unscored = self._unscored(new, too_fast)
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

    def _unattributed(self, delivery: ParsedDelivery) -> list[tuple[UnscoredKey, str]]:
        """What named nobody, as report lines with no lead to give as an example."""
        canonical = compile_rules(self.rules()).canonical_type
        reason = f"missing_identity:{delivery.missing}"
        return [(key_for(event, canonical(event.type), reason), "") for event in delivery.unattributed]

    def _count_unscored(self, lines: list[tuple[UnscoredKey, str]], now: datetime) -> None:
        """The report's counts are worth less than the delivery: the events are stored, so a failed
        count is logged and the delivery still acknowledged (a redelivery would not count them:
        they are duplicates then)."""
        try:
            self.storage.counts.count_unscored(tally(lines), now)
        except StorageUnavailable as exc:
            log.warning("unscored events not counted: %s", exc)

    def _read_or_fall_back(self, delivery: ParsedDelivery) -> ParsedDelivery:
        """Events that say less than their record: read the record instead when we can."""
        if not delivery.unless_read:
            return delivery
        readable = [ref for ref, _ in delivery.unless_read if ref.kind in self.readable]
        fallback = [event for ref, event in delivery.unless_read if ref.kind not in self.readable]
        return replace(
            delivery,
            events=[*delivery.events, *fallback],
            profiles_to_fetch=[*delivery.profiles_to_fetch, *readable],
            unless_read=[],
        )

    def _to_read(
        self, delivery: ParsedDelivery, events: list[LeadEvent], known: dict[str, str]
    ) -> dict[str, list[str]]:
        """Per readable kind, the records this delivery names but does not describe: those it asks
        for, and those its events name that we did not know before it."""
        wanted: dict[str, set[str]] = {}
        for ref in delivery.profiles_to_fetch:
            wanted.setdefault(ref.kind, set()).add(ref.record_id)
        for event in events:
            for key in event.identities.as_keys():
                named = ProfileRef.from_key(key)
                if named is not None and named.kind == event.source and key not in known:
                    wanted.setdefault(named.kind, set()).add(named.record_id)
        return {kind: sorted(ids) for kind, ids in sorted(wanted.items()) if kind in self.readable}

    def _delete(self, keys: list[str]) -> int:
        known = self.storage.leads.resolve(keys)
        records = self.storage.leads.get_leads(sorted(set(known.values())))
        # A record merged away in its CRM (a loser, deleted by the merge) takes nothing with it:
        # its history lives on in the lead of the record that remains.
        lead_ids = sorted(
            {lead for key, lead in known.items() if lead not in records or key not in records[lead].retired}
        )
        for lead_id in lead_ids:
            self.storage.leads.delete_lead(lead_id, keys)
        # Their accounts no longer count them: rolled up again without them.
        gone = [records[lead] for lead in lead_ids if lead in records]
        accounts = [record.account for record in gone if record.account]
        if accounts:
            self.publisher.roll_up(accounts)
        return len(lead_ids)

    def would_score(self, events: Sequence[LeadEvent], now: datetime) -> Counter[str]:
        """The tiers these events would give the leads they name, storing nothing (a dry run)."""
        rules = self.rules()
        plans = plan_leads([event.identities.as_keys() for event in events], {})
        tiers: Counter[str] = Counter()
        for plan in plans:
            members = [events[index] for index in plan.signal_indexes]
            change, _ = rescore_change(LeadRecord("dry-run", 0, list(plan.keys), None, events=members), rules, now)
            tiers[change.card.tier] += 1
        return tiers


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
