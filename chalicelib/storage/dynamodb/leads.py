"""The lead repository on DynamoDB: identities, the lead item with its live events, merges and
privacy deletion. The lead item's writes are in lead_item.py."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime

from chalicelib.domain.events import LeadEvent, as_utc
from chalicelib.storage.items import (
    KEY_PREFIX,
    LEAD_SK,
    MEMORY_SK,
    RESCORE_MARK,
    identity_pk,
    lead_pk,
    lead_record,
    memory_key,
    partition_keys,
    s,
)
from chalicelib.storage.ports import LeadRecord, LeadSave, VersionConflict
from chalicelib.storage.schema import ACCT, FEED, FEED_AT, MOVED_BY, MOVED_DAY, TTL_ATTRIBUTE
from chalicelib.storage.table import ConditionFailed, DynamoTable, Item, TransactionCancelled

from .lead_item import claim_writes, rescore_mark, save_writes, update_lead


class DynamoLeads:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = [{"pk": s(identity_pk(key)), "sk": s("ID")} for key in sorted(set(keys))]
        items = self.table.batch_get(wanted, {"ProjectionExpression": "pk, lead_id"})
        return {item["pk"]["S"].removeprefix("ID#"): item["lead_id"]["S"] for item in items}

    def remember_identity(self, lead_id: str, key: str) -> None:
        """A key learnt outside a delivery (a Salesforce id found by email): claim it for the lead."""
        if self.table.transact(claim_writes(self.table.name, lead_id, key)) is not None:
            return  # another lead owns it; the next delivery naming both will merge them
        update_lead(
            self.table,
            lead_id,
            "SET #keys = list_append(if_not_exists(#keys, :none), :key)",
            "attribute_exists(pk)",
            {":key": {"L": [s(key)]}, ":none": {"L": []}},
            {"#keys": "keys"},
        )

    def get_lead(self, lead_id: str, memory: bool = False) -> LeadRecord | None:
        if memory:
            return self.get_leads([lead_id], [lead_id]).get(lead_id)
        response = self.table.call(
            "get_item",
            TableName=self.table.name,
            Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            ConsistentRead=True,
        )
        return lead_record(response.get("Item"))

    def get_leads(self, lead_ids: Sequence[str], memory: Collection[str] = ()) -> dict[str, LeadRecord]:
        """The lead items and the memory items asked for, in the same requests (the memory is
        used only beside the basis it was saved with: fold_memory.join)."""
        wanted = sorted(set(lead_ids))
        keys = [{"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)} for lead_id in wanted]
        keys += [memory_key(lead_id) for lead_id in wanted if lead_id in memory]
        leads: list[Item] = []
        memories: dict[str, Item] = {}
        for item in self.table.batch_get(keys):
            if item["sk"]["S"] == MEMORY_SK:
                memories[item["pk"]["S"]] = item
            else:
                leads.append(item)
        records = (lead_record(item, memories.get(item["pk"]["S"])) for item in leads)
        return {record.lead_id: record for record in records if record is not None}

    def save(self, change: LeadSave) -> int:
        """An UpdateItem, so the write-back consumer's attributes survive; with a tier change, a
        transaction that also records it."""
        writes = save_writes(self.table.name, change)
        try:
            if len(writes) > 1:
                self.table.call("transact_write_items", TransactItems=writes)
            else:
                self.table.call("update_item", **writes[0]["Update"])
        except (ConditionFailed, TransactionCancelled) as exc:
            raise VersionConflict(change.lead_id) from exc
        return change.expected_version + 1

    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        """The lead and its live events in one paged Query; TTL-expired events are skipped here
        because DynamoDB deletes them only within days."""
        now_epoch = int(as_utc(now).timestamp())
        record: LeadRecord | None = None
        events: list[LeadEvent] = []
        mark = None
        for item in self._partition(lead_id):
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
                mark = item.get(RESCORE_MARK, {}).get("S")  # also on the remnant of a lead not yet scored
            elif TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_epoch:
                continue
            elif item["sk"]["S"].startswith("EVT#"):  # tier changes share the partition: skip them
                events.append(LeadEvent.model_validate_json(item["data"]["S"]))
        if record is None and not events:
            return None
        if record is None:
            record = LeadRecord(lead_id=lead_id, version=0, keys=[], card=None, rescore_mark=mark)
        record.events = events
        return record

    def _partition(self, lead_id: str) -> Iterator[Item]:
        request = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(lead_pk(lead_id))},
            "ConsistentRead": True,
        }
        return self.table.pages("query", request)

    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        """Fold one lead into another. First the source is marked merged (no event can be stored
        in it from then on), then its events are copied (same keys: dedup still holds), its
        identity keys repointed and its items removed, leaving the mark as a forwarding address.
        Idempotent: an interrupted merge is finished by the next delivery naming both leads."""
        self.table.call(
            "update_item",
            TableName=self.table.name,
            Key={"pk": s(lead_pk(source_lead)), "sk": s(LEAD_SK)},
            # Out of every index a lead is listed by (tier, due, sync, last activity, today's movers,
            # its account's contacts).
            UpdateExpression="SET merged_into = :target REMOVE tier, score, due_shard, due_at, sync_shard, sync_at,"
            f" {FEED}, {FEED_AT}, {MOVED_DAY}, {MOVED_BY}, {ACCT}",
            ExpressionAttributeValues={":target": s(target_lead)},
        )
        mark = rescore_mark(self.table.name, target_lead)
        mark.pop("ConditionExpression")
        self.table.call("update_item", **mark)
        items = list(self._partition(source_lead))
        record = next((lead_record(item) for item in items if item["sk"]["S"] == LEAD_SK), None)
        moved = [
            {**item, "pk": s(lead_pk(target_lead)), **({FEED: s(lead_pk(target_lead))} if FEED in item else {})}
            for item in items
            if item["sk"]["S"].startswith(("EVT#", KEY_PREFIX))
        ]  # an event's feed is its lead's: it moves with it
        self.table.batch_write([{"PutRequest": {"Item": item}} for item in moved])
        all_keys = sorted(set(keys) | set(record.keys if record else []) | partition_keys(items))
        repointed = [{"pk": s(identity_pk(key)), "sk": s("ID"), "lead_id": s(target_lead)} for key in all_keys]
        self.table.batch_write([{"PutRequest": {"Item": item}} for item in repointed])
        removed = [item for item in items if item["sk"]["S"] != LEAD_SK]
        self.table.batch_write([{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in removed])

    def retire_keys(self, lead_id: str, keys: Iterable[str]) -> None:
        retired = sorted(set(keys))
        if retired:
            update_lead(self.table, lead_id, "ADD retired :keys", "attribute_exists(pk)", {":keys": {"SS": retired}})

    def merged_into(self, lead_id: str) -> str | None:
        record = self.get_lead(lead_id)
        return record.merged_into if record else None

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        """Remove every item of the lead and its identity keys (privacy deletion)."""
        items = list(self._partition(lead_id))
        keys = set(extra_keys) | partition_keys(items)
        for item in items:
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
                keys.update(record.keys if record else [])
        requests = [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in items]
        requests += [{"DeleteRequest": {"Key": {"pk": s(identity_pk(key)), "sk": s("ID")}}} for key in sorted(keys)]
        self.table.batch_write(requests)
