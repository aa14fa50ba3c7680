"""DynamoDB repository: events, leads, identities. The only module that speaks DynamoDB.

Attribute values are written as plain DynamoDB JSON ({"S": ...}); event bodies, profiles and
cards are stored as JSON strings so no float ever goes through DynamoDB's Decimal type.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import LeadEvent
from chalicelib.domain.events import as_utc

from .items import (
    LEAD_SK,
    IdentityConflict,
    LeadMerged,
    LeadRecord,
    StoredEvent,
    StoreResult,
    VersionConflict,
    event_sk,
    identity_pk,
    lead_pk,
    lead_record,
)
from .items import n as _n
from .items import s as _s
from .leads import LeadStore
from .schema import TTL_ATTRIBUTE

TRANSACTION_LIMIT = 100
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25

__all__ = [
    "IdentityConflict",
    "LeadMerged",
    "LeadRecord",
    "LeadRepository",
    "StoreResult",
    "StoredEvent",
    "VersionConflict",
]


class LeadRepository(LeadStore):
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        # Created on first use, once per container: importing the app costs no boto3 setup.
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5)
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    # ------------------------------------------------------------------------------ identities
    def resolve(self, keys: Iterable[str]) -> dict[str, str]:
        """identity key -> lead id, for the keys that are known."""
        wanted = sorted(set(keys))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request = {
                self.table_name: {
                    "Keys": [
                        {"pk": _s(identity_pk(key)), "sk": _s("ID")} for key in wanted[start : start + BATCH_GET_LIMIT]
                    ],
                    "ProjectionExpression": "pk, lead_id",
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["pk"]["S"].removeprefix("ID#")] = item["lead_id"]["S"]
                request = response.get("UnprocessedKeys") or {}
        return found

    # ---------------------------------------------------------------------------------- events
    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        """Write new events (each once, ever) and claim identity keys for the lead, atomically per chunk.

        The conditional put is the deduplication: an event already stored fails its condition, is
        reported as a duplicate and the rest of the chunk is written again without it.
        """
        claims = [self._claim(lead_id, key) for key in claim_keys]
        # Every chunk also checks that the lead was not merged away meanwhile: an event written into
        # a merged lead's partition after the merge copied it would be lost.
        not_merged = {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": {"pk": _s(lead_pk(lead_id)), "sk": _s(LEAD_SK)},
                "ConditionExpression": "attribute_not_exists(merged_into)",
            }
        }
        pending = list(events)
        stored: list[str] = []
        duplicates: list[str] = []
        first = True
        while pending or (first and claims):
            head = [not_merged, *(claims if first else [])]
            room = TRANSACTION_LIMIT - len(head)
            chunk, rest = pending[:room], pending[room:]
            failed = self._transact(head + [self._event_put(lead_id, item) for item in chunk])
            if failed is None:
                stored.extend(item.event.event_id for item in chunk)
                pending, first = rest, False
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

    def _transact(self, actions: list[dict[str, Any]]) -> list[int] | None:
        """None when written; else the indexes whose condition failed."""
        if not actions:
            return None
        client = self.client
        try:
            client.transact_write_items(TransactItems=actions)
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failed = [index for index, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise
            return failed
        return None

    def _claim(self, lead_id: str, key: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {"pk": _s(identity_pk(key)), "sk": _s("ID"), "lead_id": _s(lead_id)},
                "ConditionExpression": "attribute_not_exists(pk) OR lead_id = :lead",
                "ExpressionAttributeValues": {":lead": _s(lead_id)},
            }
        }

    def _event_put(self, lead_id: str, item: StoredEvent) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": self._event_item(lead_id, item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _event_item(self, lead_id: str, item: StoredEvent) -> dict[str, Any]:
        event = item.event
        attributes = {
            "pk": _s(lead_pk(lead_id)),
            "sk": _s(event_sk(event)),
            "data": _s(event.model_dump_json()),
        }
        if item.expires_at is not None:
            attributes[TTL_ATTRIBUTE] = _n(int(item.expires_at.timestamp()))
        return attributes

    # ----------------------------------------------------------------------------------- leads
    def load(self, lead_id: str, now: datetime) -> LeadRecord | None:
        """The lead and its live events in one paged Query; TTL-expired events are skipped here
        because DynamoDB deletes them only within days."""
        now_epoch = int(as_utc(now).timestamp())
        record: LeadRecord | None = None
        events: list[LeadEvent] = []
        for item in self._partition(lead_pk(lead_id)):
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
            elif TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_epoch:
                continue
            elif item["sk"]["S"].startswith("EVT#"):  # tier changes share the partition: skip them
                events.append(LeadEvent.model_validate_json(item["data"]["S"]))
        if record is None and not events:
            return None
        if record is None:
            record = LeadRecord(lead_id=lead_id, version=0, keys=[], card=None)
        record.events = events
        return record

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(pk)},
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**request)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def remember_identity(self, lead_id: str, key: str) -> None:
        """A key learnt outside a delivery (a Salesforce id found by email): claim it for the lead."""
        client = self.client
        try:
            client.put_item(**self._claim(lead_id, key)["Put"])
        except client.exceptions.ConditionalCheckFailedException:
            return  # another lead owns it; the next delivery naming both will merge them
        client.update_item(
            TableName=self.table_name,
            Key={"pk": _s(lead_pk(lead_id)), "sk": _s(LEAD_SK)},
            UpdateExpression="SET #keys = list_append(if_not_exists(#keys, :none), :key)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#keys": "keys"},
            ExpressionAttributeValues={":key": {"L": [_s(key)]}, ":none": {"L": []}},
        )

    # --------------------------------------------------------------------- merges and deletion
    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        """Fold one lead into another. First the source is marked merged (no event can be stored
        in it from then on), then its events are copied (same keys: dedup still holds), its
        identity keys repointed and its items removed, leaving the mark as a forwarding address.
        Idempotent: an interrupted merge is finished by the next delivery naming both leads."""
        self.client.update_item(
            TableName=self.table_name,
            Key={"pk": _s(lead_pk(source_lead)), "sk": _s(LEAD_SK)},
            UpdateExpression="SET merged_into = :target REMOVE tier, score, due_shard, due_at, sync_shard, sync_at",
            ExpressionAttributeValues={":target": _s(target_lead)},
        )
        items = list(self._partition(lead_pk(source_lead)))
        record = next((lead_record(item) for item in items if item["sk"]["S"] == LEAD_SK), None)
        moved = [{**item, "pk": _s(lead_pk(target_lead))} for item in items if item["sk"]["S"].startswith("EVT#")]
        self._batch_write([{"PutRequest": {"Item": item}} for item in moved])
        all_keys = sorted(set(keys) | set(record.keys if record else []))
        repointed = [{"pk": _s(identity_pk(key)), "sk": _s("ID"), "lead_id": _s(target_lead)} for key in all_keys]
        self._batch_write([{"PutRequest": {"Item": item}} for item in repointed])
        removed = [item for item in items if item["sk"]["S"] != LEAD_SK]
        self._batch_write([{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in removed])

    def merged_into(self, lead_id: str) -> str | None:
        record = self.get_lead(lead_id)
        return record.merged_into if record else None

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        """Remove every item of the lead and its identity keys (privacy deletion)."""
        items = list(self._partition(lead_pk(lead_id)))
        keys = set(extra_keys)
        for item in items:
            if item["sk"]["S"] == LEAD_SK:
                record = lead_record(item)
                keys.update(record.keys if record else [])
        requests = [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in items]
        requests += [{"DeleteRequest": {"Key": {"pk": _s(identity_pk(key)), "sk": _s("ID")}}} for key in sorted(keys)]
        self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25, retrying UnprocessedItems (DynamoDB returns them under load)."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = {self.table_name: requests[start : start + BATCH_WRITE_LIMIT]}
            for attempt in range(8):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(random.uniform(0, 0.05 * 2**attempt))  # DynamoDB asks us to slow down
            if pending:
                raise RuntimeError("DynamoDB left items unprocessed after retries")
