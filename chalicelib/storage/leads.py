"""The lead item: card, basis, optimistic version, tier history, the write-back outbox, and the
indexes the decay job and operators read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import ScoreCard

from .items import LEAD_SK, LeadRecord, VersionConflict, all_shards, lead_pk, lead_record, n, s, shard_of
from .schema import BY_TIER_INDEX, DUE_INDEX, SYNC_INDEX

META_PK = "META"
BATCH_GET_LIMIT = 100


class LeadStore:
    table_name: str
    client: Any

    def save(
        self,
        lead_id: str,
        expected_version: int,
        card: ScoreCard,
        before: tuple[int, str, str] | None,
        now: datetime,
        *,
        basis: dict[str, Any] | None = None,
        keys: Sequence[str] | None = None,
        profile_json: str | None = None,
        reason: str = "",
        outcome: dict[str, Any] | None = None,
    ) -> int:
        """Store the card if nobody saved the lead since `expected_version`; returns the new version.

        An UpdateItem, so the write-back consumer's attributes survive. A visible change marks the
        lead for write-back (the outbox); a tier change is recorded in the same transaction.
        """
        version = expected_version + 1
        values: dict[str, Any] = {
            "version": n(version),
            "lead_id": s(lead_id),
            "card": s(card.model_dump_json()),
            "tier": s(card.tier),
            "score": n(card.score),
            "grade": s(card.grade),
            "fit": n(card.fit),
            "engagement": n(card.engagement),
            "reasons": {"L": [s(item) for item in card.reasons()]},
            "updated_at": s(card.scored_at.isoformat()),
            "rules_fingerprint": s(card.rules_fingerprint),
        }
        if basis is not None:
            values["basis"] = s(json.dumps(basis, separators=(",", ":")))
        if keys is not None:
            values["keys"] = {"L": [s(key) for key in sorted(set(keys))]}
        if profile_json is not None:
            values["profile"] = s(profile_json)
        if outcome is not None:
            values["outcome"] = s(json.dumps(outcome, separators=(",", ":")))
        removed = []
        if card.next_change_at is not None:
            # Sparse index: only leads with a change ahead are in `due`; the decay job reads just those.
            values["due_shard"] = s(shard_of(lead_id, "due"))
            values["due_at"] = s(card.next_change_at.isoformat())
        else:
            removed += ["due_shard", "due_at"]
        if before is None or before[1] != card.tier:
            values["tier_changed_at"] = s(card.scored_at.isoformat())
        if before != card.visible:
            values["sync_shard"] = s(shard_of(lead_id, "sync"))
            values["sync_at"] = s(now.isoformat())
        names = {f"#a{index}": name for index, name in enumerate([*values, *removed])}
        by_name = {name: alias for alias, name in names.items()}
        expression = "SET " + ", ".join(f"{by_name[name]} = :a{index}" for index, name in enumerate(values))
        if removed:
            expression += " REMOVE " + ", ".join(by_name[name] for name in removed)
        attribute_values = {f":a{index}": value for index, value in enumerate(values.values())}
        if expected_version:
            condition = f"{by_name['version']} = :expected"
            attribute_values[":expected"] = n(expected_version)
        else:
            condition = f"attribute_not_exists({by_name['version']})"
        update = {
            "TableName": self.table_name,
            "Key": {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attribute_values,
        }
        client = self.client
        try:
            if before is None or before[1] != card.tier:
                change = self._tier_change(lead_id, version, before, card, reason)
                client.transact_write_items(TransactItems=[{"Update": update}, {"Put": change}])
            else:
                client.update_item(**update)
        except (
            client.exceptions.ConditionalCheckFailedException,
            client.exceptions.TransactionCanceledException,
        ) as exc:
            reasons = getattr(exc, "response", {}).get("CancellationReasons", [{"Code": "ConditionalCheckFailed"}])
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                raise VersionConflict(lead_id) from exc
            raise
        return version

    def _tier_change(
        self, lead_id: str, version: int, before: tuple[int, str, str] | None, card: ScoreCard, reason: str
    ) -> dict[str, Any]:
        at = card.scored_at.isoformat()
        item = {
            "pk": s(lead_pk(lead_id)),
            "sk": s(f"TIER#{at}#{version:012d}"),
            "lead_id": s(lead_id),
            "to": s(card.tier),
            "at": s(at),
            "score": n(card.score),
            "reason": s(reason or "; ".join(card.reasons())),
        }
        if before is not None:
            item["from"] = s(before[1])
        return {"TableName": self.table_name, "Item": item}

    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": s(lead_pk(lead_id)), ":prefix": s("TIER#")},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            {
                "from": item.get("from", {}).get("S"),
                "to": item["to"]["S"],
                "at": item["at"]["S"],
                "score": int(item["score"]["N"]),
                "reason": item["reason"]["S"],
            }
            for item in response.get("Items", [])
        ]

    def get_lead(self, lead_id: str) -> LeadRecord | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)}, ConsistentRead=True
        )
        item = response.get("Item")
        return lead_record(item)

    def get_leads(self, lead_ids: Sequence[str]) -> dict[str, LeadRecord]:
        """BatchGetItem, 100 leads a request, retrying what DynamoDB leaves unprocessed."""
        wanted = sorted(set(lead_ids))
        found: dict[str, LeadRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            keys = [
                {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)} for lead_id in wanted[start : start + BATCH_GET_LIMIT]
            ]
            request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    record = lead_record(item)
                    if record is not None:
                        found[record.lead_id] = record
                request = response.get("UnprocessedKeys") or {}
        return found

    def list_by_tier(self, tier: str, limit: int) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table_name,
            IndexName=BY_TIER_INDEX,
            KeyConditionExpression="tier = :tier",
            ExpressionAttributeValues={":tier": s(tier)},
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

    # ------------------------------------------------------------------------------- the decay job
    def due_leads(self, now: datetime, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Leads whose next visible change is due, shard by shard, a page at a time. Each item
        carries the projected basis, version and card keys: no second read is needed."""
        for shard in all_shards("due"):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": DUE_INDEX,
                "KeyConditionExpression": "due_shard = :shard AND due_at <= :now",
                "ExpressionAttributeValues": {":shard": s(shard), ":now": s(now.isoformat())},
                "Limit": page_size,
            }
            while True:
                response = self.client.query(**request)
                for item in response.get("Items", []):
                    yield {
                        "lead_id": item["lead_id"]["S"],
                        "version": int(item["version"]["N"]),
                        "basis": json.loads(item["basis"]["S"]) if "basis" in item else None,
                        "visible": (int(item["score"]["N"]), item["tier"]["S"], item["grade"]["S"]),
                    }
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def pending_sync(self, older_than: datetime, limit: int = 1000) -> list[str]:
        """Leads whose visible change has waited longer than it should for a write-back."""
        lead_ids: list[str] = []
        for shard in all_shards("sync"):
            response = self.client.query(
                TableName=self.table_name,
                IndexName=SYNC_INDEX,
                KeyConditionExpression="sync_shard = :shard AND sync_at < :before",
                ExpressionAttributeValues={":shard": s(shard), ":before": s(older_than.isoformat())},
                Limit=limit,
            )
            lead_ids += [item["pk"]["S"].removeprefix("LEAD#") for item in response.get("Items", [])]
        return lead_ids[:limit]

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        """Record the write-back and close the outbox entry, unless the lead changed meanwhile
        (then its newer change is still pending and its own message will follow)."""
        client = self.client
        try:
            client.update_item(
                TableName=self.table_name,
                Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
                UpdateExpression="SET crm = :crm REMOVE sync_shard, sync_at",
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":crm": s(json.dumps(crm)), ":v": n(version)},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ---------------------------------------------------------------- rules changes: full rescore
    def rules_progress(self) -> dict[str, Any]:
        item = self.client.get_item(
            TableName=self.table_name, Key={"pk": s(META_PK), "sk": s("RULES")}, ConsistentRead=True
        ).get("Item")
        return json.loads(item["data"]["S"]) if item else {}

    def save_rules_progress(self, progress: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={"pk": s(META_PK), "sk": s("RULES"), "data": s(json.dumps(progress))},
        )

    def report_rows(self, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every lead's tier, grade, score and outcome: a paged Scan with a projection (a report
        reads every lead once; the webhooks and the decay job never scan)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "sk = :lead AND attribute_exists(#tier)",
            "ExpressionAttributeNames": {"#tier": "tier", "#score": "score", "#grade": "grade", "#outcome": "outcome"},
            "ExpressionAttributeValues": {":lead": s(LEAD_SK)},
            "ProjectionExpression": "lead_id, #tier, #score, #grade, #outcome",
        }
        if page_size:
            request["Limit"] = page_size  # otherwise 1 MB pages, the fewest requests
        while True:
            response = self.client.scan(**request)
            for item in response.get("Items", []):
                yield {
                    "lead_id": item["lead_id"]["S"],
                    "tier": item["tier"]["S"],
                    "grade": item.get("grade", {}).get("S", ""),
                    "score": int(item["score"]["N"]),
                    "outcome": json.loads(item["outcome"]["S"]) if "outcome" in item else None,
                }
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def scan_leads(self, start_key: dict[str, Any] | None, page_size: int = 200) -> tuple[list[str], Any]:
        """One page of lead ids (all leads, whatever their tier); the key to resume from, or None."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "sk = :lead",
            "ExpressionAttributeValues": {":lead": s(LEAD_SK)},
            "ProjectionExpression": "lead_id",
            "Limit": page_size,
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        response = self.client.scan(**request)
        lead_ids = [item["lead_id"]["S"] for item in response.get("Items", [])]
        return lead_ids, response.get("LastEvaluatedKey")
