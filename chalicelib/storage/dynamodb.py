"""The DynamoDB implementation of the storage port: identities, events, merges and deletion here,
the lead item and its indexes in `lead_items.py`, both over one `DynamoTable`.

Attribute values are written as plain DynamoDB JSON ({"S": ...}); event bodies, profiles and
cards are stored as JSON strings so no float ever goes through DynamoDB's Decimal type.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.events import LeadEvent, as_utc
from chalicelib.domain.unscored import UnscoredCount

from .items import LEAD_SK, event_sk, identity_pk, lead_pk, lead_record, n, s
from .lead_items import LeadItems
from .listing import LeadListing
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
from .schema import TTL_ATTRIBUTE
from .table import TRANSACTION_LIMIT, DynamoTable, Item
from .unscored_items import UnscoredItems

__all__ = ["DynamoStorage"]
KEY_PREFIX = "KEY#"


def _partition_keys(items: Iterable[Item]) -> set[str]:
    return {item["sk"]["S"].removeprefix(KEY_PREFIX) for item in items if item["sk"]["S"].startswith(KEY_PREFIX)}


class DynamoStorage:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = DynamoTable(table_name, client)
        self.leads = LeadItems(self.table)
        self.listing = LeadListing(self.table)
        self.unscored = UnscoredItems(self.table)

    @property
    def table_name(self) -> str:
        return self.table.name

    # ------------------------------------------------------------------------------ identities
    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = [{"pk": s(identity_pk(key)), "sk": s("ID")} for key in sorted(set(keys))]
        items = self.table.batch_get(wanted, {"ProjectionExpression": "pk, lead_id"})
        return {item["pk"]["S"].removeprefix("ID#"): item["lead_id"]["S"] for item in items}

    def remember_identity(self, lead_id: str, key: str) -> None:
        """A key learnt outside a delivery (a Salesforce id found by email): claim it for the lead."""
        if self.table.transact(self._claim(lead_id, key)) is not None:
            return  # another lead owns it; the next delivery naming both will merge them
        self.leads.update(
            lead_id,
            "SET #keys = list_append(if_not_exists(#keys, :none), :key)",
            "attribute_exists(pk)",
            {":key": {"L": [s(key)]}, ":none": {"L": []}},
            {"#keys": "keys"},
        )

    # ---------------------------------------------------------------------------------- events
    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        """Write new events and claim identity keys for the lead, atomically per chunk.

        The conditional put is the deduplication: an event already stored fails its condition, is
        reported as a duplicate and the rest of the chunk is written again without it.
        """
        claims = [write for key in claim_keys for write in self._claim(lead_id, key)]
        # Every chunk also checks that the lead was not merged away meanwhile (an event written into
        # a merged lead's partition after the merge copied it would be lost), and marks the lead
        # `unscored` until a full rescore has seen these events: should that rescore never happen
        # (a crash), the next delivery rescores instead of folding into a basis that lacks them.
        not_merged = {"Update": self._mark_unscored(lead_id)}
        pending = list(events)
        stored: list[str] = []
        duplicates: list[str] = []
        # Claims go first, as many a chunk as fit (two items each: the identity and its mirror).
        claim_room = (TRANSACTION_LIMIT - 1) // 2 * 2
        while pending or claims:
            head = [not_merged, *claims[:claim_room]]
            room = TRANSACTION_LIMIT - len(head)
            chunk, rest = pending[:room], pending[room:]
            failed = self.table.transact(head + [self._event_put(lead_id, item) for item in chunk])
            if failed is None:
                stored.extend(item.event.event_id for item in chunk)
                pending, claims = rest, claims[claim_room:]
                continue
            if 0 in failed:
                raise LeadMerged(lead_id)
            offset = len(head)
            if any(index < offset for index in failed):
                raise IdentityConflict(lead_id)
            dropped = {index - offset for index in failed}
            duplicates.extend(chunk[index].event.event_id for index in sorted(dropped))
            pending = [item for index, item in enumerate(chunk) if index not in dropped] + rest
        return StoreResult(stored, duplicates)

    def create(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> int | None:
        """A lead seen for the first time: its identity claims, events and first card in one
        transaction (one request for a new lead instead of four). None when that does not fit in
        one transaction: store and rescore it the usual way. Raises IdentityConflict (nothing
        written) when a key was claimed meanwhile."""
        claims = [write for key in claim_keys for write in self._claim(lead_id, key)]
        writes = [*claims, *(self._event_put(lead_id, item) for item in events), *self.leads.writes(change)]
        if len(writes) > TRANSACTION_LIMIT:
            return None
        failed = self.table.transact(writes)
        if failed is None:
            return change.expected_version + 1
        if any(index < len(claims) for index in failed):
            raise IdentityConflict(lead_id)
        return None  # a fresh lead id cannot hold events or a card: let the usual path sort it out

    def append(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave) -> int:
        """Events, claims and the folded card in one transaction (see the port). The lead item's
        conditional update comes first, so its failure is index 0."""
        lead_writes = self.leads.writes(change)
        claims = [write for key in claim_keys for write in self._claim(lead_id, key)]
        puts = [self._event_put(lead_id, item) for item in events]
        writes = [*lead_writes, *claims, *puts]
        if len(writes) > TRANSACTION_LIMIT:
            raise ValueError(f"an append holds at most {self.append_room(len(claim_keys))} events")
        failed = self.table.transact(writes)
        if failed is None:
            return change.expected_version + 1
        first_claim, first_put = len(lead_writes), len(lead_writes) + len(claims)
        if any(first_claim <= index < first_put for index in failed):
            raise IdentityConflict(lead_id)
        if 0 in failed:
            raise VersionConflict(lead_id)
        raise DuplicateEvents([events[index - first_put].event.event_id for index in failed if index >= first_put])

    def append_room(self, claims: int) -> int:
        return TRANSACTION_LIMIT - 2 - 2 * claims  # the lead's update and tier change, the claims

    def _mark_unscored(self, lead_id: str) -> Item:
        return {
            "TableName": self.table.name,
            "Key": {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            "UpdateExpression": "SET unscored = :token",
            "ConditionExpression": "attribute_not_exists(merged_into)",
            "ExpressionAttributeValues": {":token": s(uuid.uuid4().hex[:16])},
        }

    def _claim(self, lead_id: str, key: str) -> list[Item]:
        """The identity item (if nobody else owns the key) and its mirror in the lead's partition:
        the lead item lists only some of its keys (domain.identity.listed_keys), and a merge or a
        deletion finds every one of them in the partition."""
        return [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": {"pk": s(identity_pk(key)), "sk": s("ID"), "lead_id": s(lead_id)},
                    "ConditionExpression": "attribute_not_exists(pk) OR lead_id = :lead",
                    "ExpressionAttributeValues": {":lead": s(lead_id)},
                }
            },
            {"Put": {"TableName": self.table.name, "Item": {"pk": s(lead_pk(lead_id)), "sk": s(f"{KEY_PREFIX}{key}")}}},
        ]

    def _event_put(self, lead_id: str, item: StoredEvent) -> Item:
        attributes = {"pk": s(lead_pk(lead_id)), "sk": s(event_sk(item.event)), "data": s(item.event.model_dump_json())}
        if item.expires_at is not None:
            attributes[TTL_ATTRIBUTE] = n(int(item.expires_at.timestamp()))
        return {
            "Put": {"TableName": self.table.name, "Item": attributes, "ConditionExpression": "attribute_not_exists(pk)"}
        }

    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        """The lead and its live events in one paged Query; TTL-expired events are skipped here
        because DynamoDB deletes them only within days."""
        now_epoch = int(as_utc(now).timestamp())
        record: LeadRecord | None = None
        events: list[LeadEvent] = []
        unscored = None
        for item in self._partition(lead_id):
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
                unscored = item.get("unscored", {}).get("S")  # also on the remnant of a lead not yet scored
            elif TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_epoch:
                continue
            elif item["sk"]["S"].startswith("EVT#"):  # tier changes share the partition: skip them
                events.append(LeadEvent.model_validate_json(item["data"]["S"]))
        if record is None and not events:
            return None
        if record is None:
            record = LeadRecord(lead_id=lead_id, version=0, keys=[], card=None, unscored=unscored)
        record.events = events
        return record

    def _partition(self, lead_id: str) -> Iterator[Item]:
        request = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(lead_pk(lead_id))},
            "ConsistentRead": True,
        }
        return self.table.pages("query", request)

    # --------------------------------------------------------------------- merges and deletion
    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        """Fold one lead into another. First the source is marked merged (no event can be stored
        in it from then on), then its events are copied (same keys: dedup still holds), its
        identity keys repointed and its items removed, leaving the mark as a forwarding address.
        Idempotent: an interrupted merge is finished by the next delivery naming both leads."""
        self.table.call(
            "update_item",
            TableName=self.table.name,
            Key={"pk": s(lead_pk(source_lead)), "sk": s(LEAD_SK)},
            UpdateExpression="SET merged_into = :target REMOVE tier, score, due_shard, due_at, sync_shard, sync_at",
            ExpressionAttributeValues={":target": s(target_lead)},
        )
        mark = self._mark_unscored(target_lead)
        mark.pop("ConditionExpression")
        self.table.call("update_item", **mark)
        items = list(self._partition(source_lead))
        record = next((lead_record(item) for item in items if item["sk"]["S"] == LEAD_SK), None)
        moved = [
            {**item, "pk": s(lead_pk(target_lead))}
            for item in items
            if item["sk"]["S"].startswith(("EVT#", KEY_PREFIX))
        ]
        self.table.batch_write([{"PutRequest": {"Item": item}} for item in moved])
        all_keys = sorted(set(keys) | set(record.keys if record else []) | _partition_keys(items))
        repointed = [{"pk": s(identity_pk(key)), "sk": s("ID"), "lead_id": s(target_lead)} for key in all_keys]
        self.table.batch_write([{"PutRequest": {"Item": item}} for item in repointed])
        removed = [item for item in items if item["sk"]["S"] != LEAD_SK]
        self.table.batch_write([{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in removed])

    def merged_into(self, lead_id: str) -> str | None:
        record = self.get_lead(lead_id)
        return record.merged_into if record else None

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        """Remove every item of the lead and its identity keys (privacy deletion)."""
        items = list(self._partition(lead_id))
        keys = set(extra_keys) | _partition_keys(items)
        for item in items:
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
                keys.update(record.keys if record else [])
        requests = [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in items]
        requests += [{"DeleteRequest": {"Key": {"pk": s(identity_pk(key)), "sk": s("ID")}}} for key in sorted(keys)]
        self.table.batch_write(requests)

    # ------------------------------------------------------------------ the lead item: lead_items.py
    def save(self, change: LeadSave) -> int:
        return self.leads.save(change)

    def get_lead(self, lead_id: str) -> LeadRecord | None:
        return self.leads.get(lead_id)

    def get_leads(self, lead_ids: Sequence[str]) -> dict[str, LeadRecord]:
        return self.leads.get_many(lead_ids)

    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]:
        return self.leads.tier_changes(lead_id, limit)

    def leads_page(self, tiers: Sequence[str], grade: str | None, limit: int, cursor: str | None) -> LeadPage:
        return self.listing.page(tiers, grade, limit, cursor)

    def leads_by_company(self, text: str, limit: int) -> list[LeadRow]:
        return self.listing.by_company(text, limit)

    def lead_rows(self, lead_ids: Sequence[str]) -> list[LeadRow]:
        return self.listing.rows(lead_ids)

    def count_leads(self, tiers: Sequence[str]) -> int:
        return self.listing.count(tiers)

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        return self.leads.mark_written(lead_id, version, crm)

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        self.leads.note_write_attempt(lead_id, attempt)

    def due_leads(self, now: datetime) -> Iterator[DueLead]:
        return self.leads.due(now)

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        return self.leads.pending_sync(older_than, limit)

    def rules_progress(self) -> dict[str, Any]:
        return self.leads.rules_progress()

    def save_rules_progress(self, progress: dict[str, Any]) -> None:
        self.leads.save_rules_progress(progress)

    def job_state(self, name: str) -> dict[str, Any]:
        return self.leads.job_state(name)

    def save_job_state(self, name: str, state: dict[str, Any]) -> None:
        self.leads.save_job_state(name, state)

    def scan_leads(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]:
        return self.leads.scan_ids(start_key, page_size)

    def report_rows(self, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        return self.leads.report_rows(page_size)

    def count_unscored(self, lines: Sequence[UnscoredCount], now: datetime) -> None:
        self.unscored.add(lines, now)

    def unscored_lines(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        return self.unscored.read(days)
