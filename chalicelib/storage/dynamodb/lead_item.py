"""The lead item as transaction parts: the conditional save (card, basis, indexes, listing
attributes, tier change record), the rescore mark, identity claims and one-attribute updates.
Shared by the roles that write the lead item (leads.py, events.py, outbox.py)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from chalicelib.domain.events import as_utc, to_us
from chalicelib.domain.scorecard import ScoreCard
from chalicelib.storage.items import (
    KEY_PREFIX,
    LEAD_SK,
    RESCORE_MARK,
    identity_pk,
    lead_pk,
    memory_key,
    n,
    packed,
    s,
    shard_of,
    spread,
)
from chalicelib.storage.listing import NAME_ROTATIONS, NAME_SK, SEARCH_MIN, listing_attributes, name_changed, name_keys
from chalicelib.storage.ports import LeadSave
from chalicelib.storage.schema import FEED, FEED_AT, TIER_DAY_PREFIX
from chalicelib.storage.score_moves import add_moves
from chalicelib.storage.table import ConditionFailed, DynamoTable, Item

from .account_item import lead_account_attributes


def save_writes(table_name: str, change: LeadSave) -> list[Item]:
    """The save as transaction items: the conditional update, and the tier change's record."""
    version = change.expected_version + 1
    values = {"version": n(version), "lead_id": s(change.lead_id), **_card_attributes(change.card, change.lead_id)}
    values.update(_optional_attributes(change))
    index_values, removed = _index_attributes(change)
    values.update(index_values)
    listed, unlisted = listing_attributes(change)
    values.update(listed)
    removed += unlisted
    ranked, unranked = lead_account_attributes(change)
    values.update(ranked)
    removed += unranked
    if change.kind == "full":
        removed.append(RESCORE_MARK)
    if change.crm_moves == {}:
        removed.append("crm_moves")
    if change.shadow == {}:
        removed += ["shadow", "shadow_basis"]
    update = conditional_update(table_name, change.lead_id, change.expected_version, values, removed)
    _rescore_condition(update, change)
    add_moves(update, change)
    writes = [{"Update": update}]
    if change.card_change.tier_changed:
        writes.append({"Put": tier_change_put(table_name, change, version)})
    name = name_changed(change)
    if name is not None:
        writes += name_writes(table_name, change.lead_id, name)
    if change.memory is not None:
        writes.append(memory_write(table_name, change.lead_id, change.memory))
    return writes


def memory_write(table_name: str, lead_id: str, memory: dict[str, Any]) -> Item:
    """The fold's memory item put, or deleted when there is nothing left to remember."""
    if not memory:
        return {"Delete": {"TableName": table_name, "Key": memory_key(lead_id)}}
    text = json.dumps(memory, separators=(",", ":"))
    return {"Put": {"TableName": table_name, "Item": {**memory_key(lead_id), "memory": packed(text)}}}


def name_writes(table_name: str, lead_id: str, name: str) -> list[Item]:
    """The lead's name in the search index (by_company, beside companies): a Put per word order it
    is searched by, a Delete of the ones a shorter name no longer has."""
    keys = name_keys(name)
    writes: list[Item] = []
    for position in range(NAME_ROTATIONS):
        key = {"pk": s(lead_pk(lead_id)), "sk": s(f"{NAME_SK}{position}")}
        if position < len(keys):
            item = {**key, "lead_id": s(lead_id), "company_prefix": s(keys[position][:SEARCH_MIN]),
                    "company_key": s(keys[position])}  # fmt: skip
            writes.append({"Put": {"TableName": table_name, "Item": item}})
        else:
            writes.append({"Delete": {"TableName": table_name, "Key": key}})
    return writes


def conditional_update(table_name: str, lead_id: str, expected_version: int, values: Item, removed: list[str]) -> Item:
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
        "TableName": table_name,
        "Key": {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": attribute_values,
    }


def event_feed(lead_id: str, occurred_at: datetime) -> Item:
    """An event's keys in the feed index: its lead's, by when it happened."""
    return {FEED: s(lead_pk(lead_id)), FEED_AT: n(to_us(occurred_at))}


def tier_feed(at: str, lead_id: str) -> Item:
    """A tier change's keys in the feed index: its day's (UTC, the lead's shard), by when it happened."""
    instant = as_utc(datetime.fromisoformat(at))
    day = spread(f"{TIER_DAY_PREFIX}{instant.date().isoformat()}", lead_id, "tier_day")
    return {FEED: s(day), FEED_AT: n(to_us(instant))}


def tier_change_put(table_name: str, change: LeadSave, version: int) -> Item:
    card = change.card
    at = card.scored_at.isoformat()
    item = {
        **tier_feed(at, change.lead_id),
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
    return {"TableName": table_name, "Item": item}


def update_lead(
    table: DynamoTable, lead_id: str, expression: str, condition: str, values: Item, names: dict[str, str] | None = None
) -> bool:
    """One conditional UpdateItem of the lead item; False when its condition does not hold."""
    try:
        table.call(
            "update_item",
            TableName=table.name,
            Key={"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": names} if names else {}),
        )
    except ConditionFailed:
        return False
    return True


def rescore_mark(table_name: str, lead_id: str) -> Item:
    """Set the lead's rescore mark, a fresh token, unless it was merged away (see events.py)."""
    return {
        "TableName": table_name,
        "Key": {"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)},
        "UpdateExpression": f"SET {RESCORE_MARK} = :token",
        "ConditionExpression": "attribute_not_exists(merged_into)",
        "ExpressionAttributeValues": {":token": s(uuid.uuid4().hex[:16])},
    }


def claim_writes(table_name: str, lead_id: str, key: str) -> list[Item]:
    """The identity item (if nobody else owns the key) and its mirror in the lead's partition:
    the lead item lists only some of its keys (domain.identity.listed_keys), and a merge or a
    deletion finds every one of them in the partition."""
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": {"pk": s(identity_pk(key)), "sk": s("ID"), "lead_id": s(lead_id)},
                "ConditionExpression": "attribute_not_exists(pk) OR lead_id = :lead",
                "ExpressionAttributeValues": {":lead": s(lead_id)},
            }
        },
        {"Put": {"TableName": table_name, "Item": {"pk": s(lead_pk(lead_id)), "sk": s(f"{KEY_PREFIX}{key}")}}},
    ]


def _rescore_condition(update: Item, change: LeadSave) -> None:
    """A full rescore saves only if no events were stored since it read them (the rescore mark as
    it saw it); a fold only if none are waiting for a rescore, and never into a merged lead."""
    if change.kind == "card":
        return
    update["ExpressionAttributeNames"]["#unscored"] = RESCORE_MARK
    if change.kind == "fold":
        update["ExpressionAttributeNames"]["#merged"] = "merged_into"
        extra = "attribute_not_exists(#unscored) AND attribute_not_exists(#merged)"
    elif change.seen_rescore_mark is not None:
        extra = "#unscored = :seen"
        update["ExpressionAttributeValues"][":seen"] = s(change.seen_rescore_mark)
    else:
        extra = "attribute_not_exists(#unscored)"
    update["ConditionExpression"] = f"({update['ConditionExpression']}) AND {extra}"


def _card_attributes(card: ScoreCard, lead_id: str) -> Item:
    return {
        "card": packed(card.model_dump_json()),
        "tier": s(spread(card.tier, lead_id, "tier")),  # the leaderboard's shard (read back with unspread)
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
    if change.crm_moves:
        values["crm_moves"] = s(json.dumps(change.crm_moves, separators=(",", ":"), sort_keys=True))
    if change.shadow:
        # Apart: the reports read the small card, and only a change reads the basis.
        shown = {"fingerprint": change.shadow["fingerprint"], "card": change.shadow["card"]}
        values["shadow"] = s(json.dumps(shown, separators=(",", ":")))
        values["shadow_basis"] = packed(json.dumps(change.shadow["basis"], separators=(",", ":")))
    return values


def _index_attributes(change: LeadSave) -> tuple[Item, list[str]]:
    """The sparse indexes' keys (due, sync) and tier_changed_at: set what applies, remove what no longer does."""
    card, lead_id = change.card, change.lead_id
    values: Item = {}
    removed: list[str] = []
    due = card.due_at  # its next change, or a named score's
    if due is not None:
        # Sparse index: only leads with a change ahead are in `due`; the decay job reads just those.
        values["due_shard"] = s(shard_of(lead_id, "due"))
        values["due_at"] = s(due.isoformat())
    else:
        removed += ["due_shard", "due_at"]
    if change.card_change.tier_changed:
        values["tier_changed_at"] = s(card.scored_at.isoformat())
    if change.card_change.visible_changed:
        values["sync_shard"] = s(shard_of(lead_id, "sync"))
        values["sync_at"] = s(change.now.isoformat())
    return values, removed
