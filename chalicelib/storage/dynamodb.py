"""DynamoDB repository: events, leads, identities. The only module that speaks DynamoDB.

Attribute values are written as plain DynamoDB JSON ({"S": ...}); event bodies, profiles and
cards are stored as JSON strings so no float ever goes through DynamoDB's Decimal type.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import LeadEvent, ScoreCard
from chalicelib.domain.events import as_utc

from .schema import BY_TIER_INDEX, DUE_SHARDS, TTL_ATTRIBUTE

TRANSACTION_LIMIT = 100
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
LEAD_SK = "LEAD"


class VersionConflict(Exception):
    """Another writer saved the lead since we read it: read again and rescore."""


class IdentityConflict(Exception):
    """An identity key was claimed by another lead between resolution and write: resolve again."""


@dataclass(frozen=True)
class StoredEvent:
    event: LeadEvent
    expires_at: datetime | None


@dataclass
class LeadRecord:
    lead_id: str
    version: int
    keys: list[str]
    card: ScoreCard | None
    events: list[LeadEvent] = field(default_factory=list)
    profile_json: str | None = None


@dataclass(frozen=True)
class StoreResult:
    stored: list[str]
    duplicates: list[str]


def lead_pk(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def event_sk(event: LeadEvent) -> str:
    return f"EVT#{event.source}#{event.event_id}"


def identity_pk(key: str) -> str:
    return f"ID#{key}"


def due_shard(lead_id: str) -> str:
    return f"due#{zlib.crc32(lead_id.encode()) % DUE_SHARDS}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


class LeadRepository:
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
        pending = list(events)
        stored: list[str] = []
        duplicates: list[str] = []
        first = True
        while pending or (first and claims):
            room = TRANSACTION_LIMIT - (len(claims) if first else 0)
            chunk, rest = pending[:room], pending[room:]
            actions = (claims if first else []) + [self._event_put(lead_id, item) for item in chunk]
            failed = self._transact(actions)
            if failed is None:
                stored.extend(item.event.event_id for item in chunk)
                pending, first = rest, False
                continue
            offset = len(claims) if first else 0
            if first and any(index < offset for index in failed):
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
                record = _lead_record(item)
            elif TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_epoch:
                continue
            elif item["sk"]["S"].startswith("EVT#"):
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

    def save(self, lead_id: str, expected_version: int, keys: Sequence[str], profile_json: str, card: ScoreCard) -> int:
        """Store the lead's card if nobody saved it since `expected_version`; returns the new version."""
        version = expected_version + 1
        item = {
            "pk": _s(lead_pk(lead_id)),
            "sk": _s(LEAD_SK),
            "lead_id": _s(lead_id),
            "version": _n(version),
            "keys": {"L": [_s(key) for key in sorted(set(keys))]},
            "profile": _s(profile_json),
            "card": _s(card.model_dump_json()),
            "tier": _s(card.tier),
            "score": _n(card.score),
            "grade": _s(card.grade),
            "fit": _n(card.fit),
            "engagement": _n(card.engagement),
            "reasons": {"L": [_s(reason) for reason in card.reasons()]},
            "updated_at": _s(card.scored_at.isoformat()),
        }
        if card.next_change_at is not None:
            # Sparse index: only leads with a change ahead are in `due`; the decay job reads just those.
            item["due_shard"] = _s(due_shard(lead_id))
            item["due_at"] = _s(card.next_change_at.isoformat())
        if expected_version:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": _n(expected_version)},
            }
        else:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        client = self.client
        try:
            client.put_item(TableName=self.table_name, Item=item, **condition)
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise VersionConflict(lead_id) from exc
        return version

    def get_lead(self, lead_id: str) -> LeadRecord | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": _s(lead_pk(lead_id)), "sk": _s(LEAD_SK)}, ConsistentRead=True
        )
        item = response.get("Item")
        return _lead_record(item) if item else None

    def list_by_tier(self, tier: str, limit: int) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table_name,
            IndexName=BY_TIER_INDEX,
            KeyConditionExpression="tier = :tier",
            ExpressionAttributeValues={":tier": _s(tier)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            {
                "lead_id": item["lead_id"]["S"],
                "score": int(item["score"]["N"]),
                "tier": tier,
                "grade": item["grade"]["S"],
                "fit": int(item["fit"]["N"]),
                "engagement": float(item["engagement"]["N"]),
                "reasons": [reason["S"] for reason in item.get("reasons", {}).get("L", [])],
                "updated_at": item["updated_at"]["S"],
            }
            for item in response.get("Items", [])
        ]

    # --------------------------------------------------------------------- merges and deletion
    def merge(self, source_lead: str, target_lead: str, keys: Iterable[str] = ()) -> None:
        """Fold one lead into another: its events move (same keys, so dedup still holds), its
        identity keys point at the target, and the source partition is removed. Idempotent: an
        interrupted merge is finished by the next delivery that resolves to both leads."""
        items = list(self._partition(lead_pk(source_lead)))
        record = next((_lead_record(item) for item in items if item["sk"]["S"] == LEAD_SK), None)
        moved = [{**item, "pk": _s(lead_pk(target_lead))} for item in items if item["sk"]["S"].startswith("EVT#")]
        self._batch_write([{"PutRequest": {"Item": item}} for item in moved])
        all_keys = sorted(set(keys) | set(record.keys if record else []))
        repointed = [{"pk": _s(identity_pk(key)), "sk": _s("ID"), "lead_id": _s(target_lead)} for key in all_keys]
        self._batch_write([{"PutRequest": {"Item": item}} for item in repointed])
        self._batch_write([{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in items])

    def delete_lead(self, lead_id: str, extra_keys: Iterable[str] = ()) -> None:
        """Remove every item of the lead and its identity keys (privacy deletion)."""
        items = list(self._partition(lead_pk(lead_id)))
        keys = set(extra_keys)
        for item in items:
            if item["sk"]["S"] == LEAD_SK:
                keys.update(_lead_record(item).keys)
        requests = [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in items]
        requests += [{"DeleteRequest": {"Key": {"pk": _s(identity_pk(key)), "sk": _s("ID")}}} for key in sorted(keys)]
        self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25, retrying UnprocessedItems (DynamoDB returns them under load)."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = {self.table_name: requests[start : start + BATCH_WRITE_LIMIT]}
            for _ in range(8):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                raise RuntimeError("DynamoDB left items unprocessed after retries")


def _lead_record(item: dict[str, Any]) -> LeadRecord:
    card_json = item.get("card", {}).get("S")
    return LeadRecord(
        lead_id=item["lead_id"]["S"],
        version=int(item["version"]["N"]),
        keys=[key["S"] for key in item.get("keys", {}).get("L", [])],
        card=ScoreCard.model_validate(json.loads(card_json)) if card_json else None,
        profile_json=item.get("profile", {}).get("S"),
    )
