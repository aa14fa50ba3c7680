"""The scheduled jobs' state on DynamoDB: the sparse `due` index (leads whose visible score
changes next, each with its basis projected), a paged scan of every lead for a rules change, and
each job's progress in one META item."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib.domain.scorecard import Visible
from chalicelib.storage.items import LEAD_SK, all_shards, s, unpacked, unspread
from chalicelib.storage.ports import DueLead
from chalicelib.storage.schema import DUE_INDEX
from chalicelib.storage.table import DynamoTable

META_PK = "META"


class DynamoJobs:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def due_leads(self, now: datetime, page_size: int = 100) -> Iterator[DueLead]:
        """Leads whose next visible change is due, shard by shard, a page at a time. Each item
        carries the projected basis, version and card keys: no second read is needed."""
        for shard in all_shards("due"):
            request = {
                "IndexName": DUE_INDEX,
                "KeyConditionExpression": "due_shard = :shard AND due_at <= :now",
                "ExpressionAttributeValues": {":shard": s(shard), ":now": s(now.isoformat())},
                "Limit": page_size,
            }
            for item in self.table.pages("query", request):
                yield DueLead(
                    lead_id=item["lead_id"]["S"],
                    version=int(item["version"]["N"]),
                    basis=json.loads(basis_json) if (basis_json := unpacked(item.get("basis"))) else None,
                    visible=Visible(int(item["score"]["N"]), unspread(item["tier"]["S"]), item["grade"]["S"]),
                )

    def rules_progress(self) -> dict[str, Any]:
        response = self.table.call(
            "get_item", TableName=self.table.name, Key={"pk": s(META_PK), "sk": s("RULES")}, ConsistentRead=True
        )
        item = response.get("Item")
        return json.loads(item["data"]["S"]) if item else {}

    def save_rules_progress(self, progress: dict[str, Any]) -> None:
        item = {"pk": s(META_PK), "sk": s("RULES"), "data": s(json.dumps(progress))}
        self.table.call("put_item", TableName=self.table.name, Item=item)

    def job_state(self, name: str) -> dict[str, Any]:
        response = self.table.call(
            "get_item", TableName=self.table.name, Key={"pk": s(META_PK), "sk": s(f"JOB#{name}")}, ConsistentRead=True
        )
        item = response.get("Item")
        return json.loads(item["data"]["S"]) if item else {}

    def save_job_state(self, name: str, state: dict[str, Any]) -> None:
        item = {"pk": s(META_PK), "sk": s(f"JOB#{name}"), "data": s(json.dumps(state))}
        self.table.call("put_item", TableName=self.table.name, Item=item)

    def scan_leads(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]:
        """One page of lead ids (all leads, whatever their tier); the key to resume from, or None."""
        request = {
            "FilterExpression": "sk = :lead",
            "ExpressionAttributeValues": {":lead": s(LEAD_SK)},
            "ProjectionExpression": "lead_id",
            "Limit": page_size,
        }
        items, next_key = self.table.page("scan", request, start_key)
        return [item["lead_id"]["S"] for item in items], next_key
