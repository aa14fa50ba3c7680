"""Item keys and shapes of the table (see schema.py): DynamoDB items to and from the port's records."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from chalicelib.domain.events import LeadEvent
from chalicelib.domain.scorecard import ScoreCard

from .ports import LeadRecord
from .schema import shard_count

LEAD_SK = "LEAD"
MEMORY_SK = "MEMORY"  # the fold's memory, beside the lead item (domain/fold_memory.py)
# The attribute that marks events stored apart from the card, waiting for a rescore. Named
# "unscored" in tables written so far: the name is kept, so a mark set before an upgrade holds.
RESCORE_MARK = "unscored"
KEY_PREFIX = "KEY#"  # an identity key's mirror in its lead's partition
DAY_START_PREFIX = "day_start#"  # the score a day started at (storage/score_moves.py)


def day_start_name(day: date) -> str:
    return f"{DAY_START_PREFIX}{day.isoformat()}"


def starts_of(item: dict[str, Any]) -> dict[date, int]:
    return {
        date.fromisoformat(name.removeprefix(DAY_START_PREFIX)): int(value["N"])
        for name, value in item.items()
        if name.startswith(DAY_START_PREFIX)
    }


def lead_pk(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def event_sk(event: LeadEvent) -> str:
    return f"EVT#{event.source}#{event.event_id}"


def identity_pk(key: str) -> str:
    return f"ID#{key}"


def shard_of(lead_id: str, prefix: str) -> str:
    """Sparse indexes are sharded so no single partition takes every lead's writes (`due`, `sync`)."""
    return f"{prefix}#{zlib.crc32(lead_id.encode()) % shard_count(prefix)}"


def all_shards(prefix: str) -> list[str]:
    return [f"{prefix}#{number}" for number in range(shard_count(prefix))]


SHARD_MARK = "~"  # `<key>~<n>`: shard n of an index key (shard 0 is the key itself, as before sharding)


def spread(key: str, owner: str, kind: str) -> str:
    """The shard of index key `key` that `owner` (a lead id, an account key) writes to."""
    number = zlib.crc32(owner.encode()) % shard_count(kind)
    return key if number == 0 else f"{key}{SHARD_MARK}{number}"


def spreads(key: str, kind: str) -> list[str]:
    """Every shard of `key`: what a reader queries."""
    return [key, *(f"{key}{SHARD_MARK}{number}" for number in range(1, shard_count(kind)))]


def unspread(value: str) -> str:
    """The index key a shard value is of (`hot~3` -> `hot`)."""
    return value.partition(SHARD_MARK)[0]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


def packed(text: str) -> dict[str, bytes]:
    """A large JSON attribute (card, basis) as compressed binary: AWS's advice for big values
    (DynamoDB developer guide, "Best practices for storing large items"). A heavy lead's basis is
    a third of its JSON size, and every event reads and writes it once."""
    return {"B": zlib.compress(text.encode(), 6)}


def unpacked(value: dict[str, Any] | None) -> str | None:
    """The JSON text of a packed attribute; an item written before packing holds it as a string."""
    if not value:
        return None
    if "B" in value:
        return zlib.decompress(value["B"]).decode()
    text: str = value["S"]
    return text


def lead_record(item: dict[str, Any] | None, memory: dict[str, Any] | None = None) -> LeadRecord | None:
    """None for no item, and for a key-only remnant (moto leaves one when a transaction's
    conditional update of a deleted item fails; DynamoDB does not, but either way it is no lead).
    `memory`: the fold's memory item, when it was read too."""
    if not item or ("version" not in item and "merged_into" not in item):
        return None
    card_json = unpacked(item.get("card"))
    basis_json = unpacked(item.get("basis"))
    memory_json = unpacked(memory.get("memory")) if memory else None
    crm_json = item.get("crm", {}).get("S")
    return LeadRecord(
        lead_id=item["pk"]["S"].removeprefix("LEAD#"),
        version=int(item["version"]["N"]) if "version" in item else 0,
        keys=[key["S"] for key in item.get("keys", {}).get("L", [])],
        card=ScoreCard.model_validate(json.loads(card_json)) if card_json else None,
        profile_json=item.get("profile", {}).get("S"),
        basis=json.loads(basis_json) if basis_json else None,
        crm=json.loads(crm_json) if crm_json else None,
        crm_attempt=json.loads(item["crm_attempt"]["S"]) if "crm_attempt" in item else None,
        sync_pending_since=item.get("sync_at", {}).get("S"),
        tier_changed_at=item.get("tier_changed_at", {}).get("S"),
        merged_into=item.get("merged_into", {}).get("S"),
        outcome=json.loads(item["outcome"]["S"]) if "outcome" in item else None,
        rescore_mark=item.get(RESCORE_MARK, {}).get("S"),
        day_starts=starts_of(item),
        crm_moves=json.loads(item["crm_moves"]["S"]) if "crm_moves" in item else {},
        shadow=shadow_of(item),
        account=item["acct"]["S"].removeprefix("ACCT#") if "acct" in item else None,
        retired=set(item.get("retired", {}).get("SS", [])),
        memory=json.loads(memory_json) if memory_json else None,
    )


def memory_key(lead_id: str) -> dict[str, Any]:
    return {"pk": s(lead_pk(lead_id)), "sk": s(MEMORY_SK)}


def shadow_of(item: dict[str, Any]) -> dict[str, Any] | None:
    """The lead's shadow score: its card, and its basis when the item was read with it."""
    if "shadow" not in item:
        return None
    shadow: dict[str, Any] = json.loads(item["shadow"]["S"])
    basis_json = unpacked(item.get("shadow_basis"))
    if basis_json:
        shadow["basis"] = json.loads(basis_json)
    return shadow


def partition_keys(items: Iterable[dict[str, Any]]) -> set[str]:
    """The identity keys mirrored in a lead's partition."""
    return {item["sk"]["S"].removeprefix(KEY_PREFIX) for item in items if item["sk"]["S"].startswith(KEY_PREFIX)}
