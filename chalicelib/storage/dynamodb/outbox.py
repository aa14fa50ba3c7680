"""The change outbox on DynamoDB: the lead item's sparse `sync` index holds every visible change
not yet written back (opened by the save, closed by `mark_written`)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.events import as_utc
from chalicelib.storage.items import all_shards, lead_pk, n, s, shard_of
from chalicelib.storage.schema import SYNC_INDEX, TTL_ATTRIBUTE
from chalicelib.storage.table import ConditionFailed, DynamoTable

from .lead_item import update_lead

DIGEST_PREFIX = "DIGEST#"  # a destination's held alerts: pk DIGEST#<destination>, sk <day>#<lead>#<kind>
HELD_FOR = timedelta(days=14)  # a digest that never goes out is let go of


class DynamoOutbox:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        """Leads whose visible change has waited longer than it should for a write-back."""
        lead_ids: list[str] = []
        for shard in all_shards("sync"):
            items, _ = self.table.page(
                "query",
                {
                    "IndexName": SYNC_INDEX,
                    "KeyConditionExpression": "sync_shard = :shard AND sync_at < :before",
                    "ExpressionAttributeValues": {":shard": s(shard), ":before": s(older_than.isoformat())},
                    "Limit": limit,
                },
            )
            lead_ids += [item["pk"]["S"].removeprefix("LEAD#") for item in items]
        return lead_ids[:limit]

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        """Record the write-back and close the outbox entry, unless the lead changed meanwhile
        (then its newer change is still pending and its own message will follow)."""
        return update_lead(
            self.table,
            lead_id,
            "SET crm = :crm REMOVE sync_shard, sync_at, crm_attempt",
            "version = :v",
            {":crm": s(json.dumps(crm)), ":v": n(version)},
        )

    def claim_alert(self, lead_id: str, kind: str, at: datetime, quiet: timedelta, token: str) -> bool:
        """One conditional PutItem of the lead's ALERT#<kind> item (deleted with the lead)."""
        try:
            self.table.call(
                "put_item",
                TableName=self.table.name,
                Item={
                    "pk": s(lead_pk(lead_id)),
                    "sk": s(f"ALERT#{kind}"),
                    "sent_at": s(as_utc(at).isoformat()),
                    "token": s(token),
                },
                ConditionExpression="attribute_not_exists(pk) OR sent_at <= :before OR #token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":before": s(as_utc(at - quiet).isoformat()), ":token": s(token)},
            )
        except ConditionFailed:
            return False
        return True

    def release_alert(self, lead_id: str, kind: str, token: str) -> None:
        # Claimed since by another task: its claim stands (ConditionFailed).
        with contextlib.suppress(ConditionFailed):
            self.table.call(
                "delete_item",
                TableName=self.table.name,
                Key={"pk": s(lead_pk(lead_id)), "sk": s(f"ALERT#{kind}")},
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": s(token)},
            )

    def hold_alert(self, destination: str, day: date, name: str, alert: dict[str, Any]) -> None:
        expires = int((datetime.combine(day, datetime.min.time(), UTC) + HELD_FOR).timestamp())
        self.table.call(
            "put_item",
            TableName=self.table.name,
            Item={
                "pk": s(f"{DIGEST_PREFIX}{destination}"),
                "sk": s(f"{day.isoformat()}#{name}"),
                "alert": s(json.dumps(alert, separators=(",", ":"))),
                TTL_ATTRIBUTE: n(expires),
            },
        )

    def held_alerts(self, destination: str, before: date) -> list[tuple[str, dict[str, Any]]]:
        request = {
            "KeyConditionExpression": "pk = :pk AND sk < :before",
            "ExpressionAttributeValues": {":pk": s(f"{DIGEST_PREFIX}{destination}"), ":before": s(before.isoformat())},
        }
        return [(item["sk"]["S"], json.loads(item["alert"]["S"])) for item in self.table.pages("query", request)]

    def drop_held(self, destination: str, ids: Sequence[str]) -> None:
        pk = s(f"{DIGEST_PREFIX}{destination}")
        self.table.batch_write([{"DeleteRequest": {"Key": {"pk": pk, "sk": s(held)}}} for held in ids])

    def reopen(self, lead_id: str, now: datetime) -> None:
        update_lead(
            self.table,
            lead_id,
            "SET sync_shard = :shard, sync_at = :at",
            "attribute_exists(version)",
            {":shard": s(shard_of(lead_id, "sync")), ":at": s(now.isoformat())},
        )

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        # A lead gone meanwhile (deleted or merged away) has nothing to note.
        update_lead(
            self.table,
            lead_id,
            "SET crm_attempt = :attempt",
            "attribute_exists(version)",
            {":attempt": s(json.dumps(attempt))},
        )
