"""The lead item: card, basis, optimistic version, tier history, the write-back outbox, and the
indexes the decay job and operators read. Part of `DynamoStorage`, over its `DynamoTable`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.scorecard import ScoreCard, Visible

from .items import LEAD_SK, all_shards, lead_pk, lead_record, n, packed, s, shard_of, unpacked
from .listing import listing_attributes
from .port import DueLead, LeadRecord, LeadSave, VersionConflict
from .schema import DUE_INDEX, SYNC_INDEX
from .table import ConditionFailed, DynamoTable, Item, TransactionCancelled

META_PK = "META"


class LeadItems:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    # ------------------------------------------------------------------------------------ save
    def save(self, change: LeadSave) -> int:
        """An UpdateItem, so the write-back consumer's attributes survive; with a tier change, a
        transaction that also records it."""
        writes = self.writes(change)
        try:
            if len(writes) > 1:
                self.table.call("transact_write_items", TransactItems=writes)
            else:
                self.table.call("update_item", **writes[0]["Update"])
        except (ConditionFailed, TransactionCancelled) as exc:
            raise VersionConflict(change.lead_id) from exc
        return change.expected_version + 1

    def writes(self, change: LeadSave) -> list[Item]:
        """The save as transaction items: the conditional update, and the tier change's record."""
        version = change.expected_version + 1
        values = {"version": n(version), "lead_id": s(change.lead_id), **_card_attributes(change.card)}
        values.update(_optional_attributes(change))
        index_values, removed = _index_attributes(change)
        values.update(index_values)
        listed, unlisted = listing_attributes(change)
        values.update(listed)
        removed += unlisted
        if change.kind == "full":
            removed.append("unscored")
        update = self._conditional_update(change.lead_id, change.expected_version, values, removed)
        _unscored_condition(update, change)
        writes = [{"Update": update}]
        if change.change.tier_changed:
            writes.append({"Put": self._tier_change_put(change, version)})
        return writes

    def _conditional_update(self, lead_id: str, expected_version: int, values: Item, removed: list[str]) -> Item:
        """SET `values`, REMOVE `removed`, if the item is still at `expected_version` (0: new)."""
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
        return {
            "TableName": self.table.name,
            "Key": {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attribute_values,
        }

    def _tier_change_put(self, change: LeadSave, version: int) -> Item:
        card = change.card
        at = card.scored_at.isoformat()
        item = {
            "pk": s(lead_pk(change.lead_id)),
            "sk": s(f"TIER#{at}#{version:012d}"),
            "lead_id": s(change.lead_id),
            "to": s(card.tier),
            "at": s(at),
            "score": n(card.score),
            "reason": s(change.reason or "; ".join(card.reasons())),
        }
        if change.before is not None:
            item["from"] = s(change.before.tier)
        return {"TableName": self.table.name, "Item": item}

    # ------------------------------------------------------------------------------------ read
    def tier_changes(self, lead_id: str, limit: int = 20) -> list[dict[str, Any]]:
        items, _ = self.table.page(
            "query",
            {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": s(lead_pk(lead_id)), ":prefix": s("TIER#")},
                "ScanIndexForward": False,
                "Limit": limit,
            },
        )
        return [
            {
                "from": item.get("from", {}).get("S"),
                "to": item["to"]["S"],
                "at": item["at"]["S"],
                "score": int(item["score"]["N"]),
                "reason": item["reason"]["S"],
            }
            for item in items
        ]

    def get(self, lead_id: str) -> LeadRecord | None:
        response = self.table.call(
            "get_item",
            TableName=self.table.name,
            Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            ConsistentRead=True,
        )
        return lead_record(response.get("Item"))

    def get_many(self, lead_ids: Sequence[str]) -> dict[str, LeadRecord]:
        keys = [{"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)} for lead_id in sorted(set(lead_ids))]
        records = (lead_record(item) for item in self.table.batch_get(keys))
        return {record.lead_id: record for record in records if record is not None}

    # ------------------------------------------------------------------------- the decay job
    def due(self, now: datetime, page_size: int = 100) -> Iterator[DueLead]:
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
                    visible=Visible(int(item["score"]["N"]), item["tier"]["S"], item["grade"]["S"]),
                )

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

    def update(
        self, lead_id: str, expression: str, condition: str, values: Item, names: dict[str, str] | None = None
    ) -> bool:
        """One conditional UpdateItem of the lead item; False when its condition does not hold."""
        try:
            self.table.call(
                "update_item",
                TableName=self.table.name,
                Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ConditionFailed:
            return False
        return True

    def mark_written(self, lead_id: str, version: int, crm: dict[str, Any]) -> bool:
        """Record the write-back and close the outbox entry, unless the lead changed meanwhile
        (then its newer change is still pending and its own message will follow)."""
        return self.update(
            lead_id,
            "SET crm = :crm REMOVE sync_shard, sync_at, crm_attempt",
            "version = :v",
            {":crm": s(json.dumps(crm)), ":v": n(version)},
        )

    def note_write_attempt(self, lead_id: str, attempt: dict[str, Any]) -> None:
        # A lead gone meanwhile (deleted or merged away) has nothing to note.
        self.update(
            lead_id, "SET crm_attempt = :attempt", "attribute_exists(version)", {":attempt": s(json.dumps(attempt))}
        )

    # ---------------------------------------------------------------- rules changes: full rescore
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

    def scan_ids(self, start_key: Any, page_size: int = 200) -> tuple[list[str], Any]:
        """One page of lead ids (all leads, whatever their tier); the key to resume from, or None."""
        request = {
            "FilterExpression": "sk = :lead",
            "ExpressionAttributeValues": {":lead": s(LEAD_SK)},
            "ProjectionExpression": "lead_id",
            "Limit": page_size,
        }
        items, next_key = self.table.page("scan", request, start_key)
        return [item["lead_id"]["S"] for item in items], next_key

    def report_rows(self, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every lead's tier, grade, score and outcome: a paged Scan with a projection (a report
        reads every lead once; the webhooks and the decay job never scan)."""
        request: dict[str, Any] = {
            "FilterExpression": "sk = :lead AND attribute_exists(#tier)",
            "ExpressionAttributeNames": {name: name.lstrip("#") for name in REPORT_ATTRIBUTES},
            "ExpressionAttributeValues": {":lead": s(LEAD_SK)},
            "ProjectionExpression": ", ".join(("lead_id", *REPORT_ATTRIBUTES)),
        }
        if page_size:
            request["Limit"] = page_size  # otherwise 1 MB pages, the fewest requests
        for item in self.table.pages("scan", request):
            yield {
                "lead_id": item["lead_id"]["S"],
                "tier": item["tier"]["S"],
                "grade": item.get("grade", {}).get("S", ""),
                "score": int(item["score"]["N"]),
                "outcome": json.loads(item["outcome"]["S"]) if "outcome" in item else None,
                "reasons": [reason["S"] for reason in item.get("reasons", {}).get("L", [])],
            }


REPORT_ATTRIBUTES = ("#tier", "#score", "#grade", "#outcome", "#reasons")  # names: some are reserved words


# -------------------------------------------------------------------------- the save, in steps
def _unscored_condition(update: Item, change: LeadSave) -> None:
    """A full rescore saves only if no events were stored since it read them (`unscored` as it
    saw it); a fold only if none are waiting for a rescore, and never into a merged lead."""
    if change.kind == "card":
        return
    update["ExpressionAttributeNames"]["#unscored"] = "unscored"
    if change.kind == "fold":
        update["ExpressionAttributeNames"]["#merged"] = "merged_into"
        extra = "attribute_not_exists(#unscored) AND attribute_not_exists(#merged)"
    elif change.seen_unscored is not None:
        extra = "#unscored = :seen"
        update["ExpressionAttributeValues"][":seen"] = s(change.seen_unscored)
    else:
        extra = "attribute_not_exists(#unscored)"
    update["ConditionExpression"] = f"({update['ConditionExpression']}) AND {extra}"


def _card_attributes(card: ScoreCard) -> Item:
    return {
        "card": packed(card.model_dump_json()),
        "tier": s(card.tier),
        "score": n(card.score),
        "grade": s(card.grade),
        "fit": n(card.fit),
        "engagement": n(card.engagement),
        "reasons": {"L": [s(item) for item in card.reasons()]},
        "updated_at": s(card.scored_at.isoformat()),
        "rules_fingerprint": s(card.rules_fingerprint),
    }


def _optional_attributes(change: LeadSave) -> Item:
    """What a full rescore knows and a decay from the basis does not: left alone when absent."""
    values: Item = {}
    if change.basis is not None:
        values["basis"] = packed(json.dumps(change.basis, separators=(",", ":")))
    if change.keys is not None:
        values["keys"] = {"L": [s(key) for key in sorted(set(change.keys))]}
    if change.profile_json is not None:
        values["profile"] = s(change.profile_json)
    if change.sales_outcome is not None:
        values["outcome"] = s(json.dumps(change.sales_outcome, separators=(",", ":")))
    return values


def _index_attributes(change: LeadSave) -> tuple[Item, list[str]]:
    """The sparse indexes' keys (due, sync) and tier_changed_at: set what applies, remove what no longer does."""
    card, lead_id = change.card, change.lead_id
    values: Item = {}
    removed: list[str] = []
    if card.next_change_at is not None:
        # Sparse index: only leads with a change ahead are in `due`; the decay job reads just those.
        values["due_shard"] = s(shard_of(lead_id, "due"))
        values["due_at"] = s(card.next_change_at.isoformat())
    else:
        removed += ["due_shard", "due_at"]
    if change.change.tier_changed:
        values["tier_changed_at"] = s(card.scored_at.isoformat())
    if change.change.visible_changed:
        values["sync_shard"] = s(shard_of(lead_id, "sync"))
        values["sync_at"] = s(change.now.isoformat())
    return values, removed
