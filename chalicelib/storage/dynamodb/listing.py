"""The leads list and the reports on DynamoDB: pages in each order from its index partitions
(listing_order.py), search by company or name from `by_company`, rows read without the card or
basis (a page reads only its leads, with their week's day starts for the change), a lead's tier
history, and the report rows (a projected Scan: a report reads every lead once)."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from chalicelib.domain.events import from_us
from chalicelib.storage.items import LEAD_SK, lead_pk, s, spreads, unspread
from chalicelib.storage.listing import SEARCH_MIN, listed_names, row_of, search_key
from chalicelib.storage.listing_order import Partition, partitions
from chalicelib.storage.ports import READ_BOUND, LeadPage, LeadRow, Order
from chalicelib.storage.schema import BY_COMPANY_INDEX, BY_TIER_INDEX, FEED, FEED_AT, FEED_INDEX, TIER_DAY_PREFIX
from chalicelib.storage.table import DynamoTable

from .shard_reads import Resume, shard_page, valid_position


class DynamoListing:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def lead_rows(self, lead_ids: Sequence[str], today: date | None = None) -> list[LeadRow]:
        """The lead items' listing attributes, in the order asked (one BatchGetItem per 100); with
        `today`, the score's change since yesterday and over the week."""
        keys = [{"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)} for lead_id in dict.fromkeys(lead_ids)]
        names = {f"#l{index}": name for index, name in enumerate(listed_names(today))}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        found = {item["lead_id"]["S"]: item for item in self.table.batch_get(keys, projection) if "score" in item}
        return [row_of(found[lead_id], today) for lead_id in dict.fromkeys(lead_ids) if lead_id in found]

    def leads_page(
        self,
        tiers: Sequence[str],
        grade: str | None,
        limit: int,
        cursor: str | None,
        keep: Callable[[LeadRow], bool] | None = None,
        order: Order = "score",
        today: date | None = None,
    ) -> LeadPage:
        """The leads of these tiers in `order`, a page at a time: one Query per index partition it
        reaches (listing_order.py) and one BatchGetItem; with a filter, rounds of up to 100 leads (a
        Query and a BatchGetItem each) until the page is full or READ_BOUND x `limit` leads were
        read, resuming after the last lead it looked at."""
        parts = partitions(order, tiers, grade, today)
        position, start_key = _decode(cursor, order, parts)
        if keep is None and not any(part.keep for part in parts):
            lead_ids: list[str] = []
            while position < len(parts) and len(lead_ids) < limit:
                items, resume = self._part_page(parts[position], limit - len(lead_ids), start_key)
                lead_ids += [item["lead_id"]["S"] for item in items]
                start_key = resume(len(items))
                if start_key is None:
                    position += 1
            more = position < len(parts)
            return LeadPage(self.lead_rows(lead_ids, today), _encode(order, position, start_key) if more else None)
        rows: list[LeadRow] = []
        read, bound = 0, READ_BOUND * limit
        while position < len(parts) and len(rows) < limit and read < bound:
            part = parts[position]
            # The first round reads just a page (most leads pass most filters); later ones read more.
            size = limit - len(rows) if read == 0 else min(100, bound - read)
            items, resume = self._part_page(part, size, start_key)
            found = {row.lead_id: row for row in self.lead_rows([item["lead_id"]["S"] for item in items], today)}
            next_key = resume(len(items))
            for taken, item in enumerate(items, start=1):
                read += 1
                row = found.get(item["lead_id"]["S"])
                if row is not None and (part.keep is None or part.keep(row)) and (keep is None or keep(row)):
                    rows.append(row)
                if len(rows) == limit or read == bound:
                    next_key = resume(taken)
                    break  # go on after it
            start_key = next_key
            if start_key is None:
                position += 1
        more = position < len(parts)
        return LeadPage(rows, _encode(order, position, start_key) if more else None)

    def _part_page(self, part: Partition, limit: int, start_key: Any) -> tuple[list[Any], Resume]:
        key_names = ("pk", "sk", part.hash_name, part.range_name)
        return shard_page(self.table, part.requests(), key_names, part.range_key, limit, start_key)

    def count_leads(self, tiers: Sequence[str]) -> int:
        total = 0
        for tier in [shard for wanted in tiers for shard in spreads(wanted, "tier")]:
            request = {
                "IndexName": BY_TIER_INDEX,
                "KeyConditionExpression": "tier = :tier",
                "ExpressionAttributeValues": {":tier": s(tier)},
                "Select": "COUNT",
            }
            start_key = None
            while True:
                response = self.table.call(
                    "query",
                    TableName=self.table.name,
                    **request,
                    **({"ExclusiveStartKey": start_key} if start_key else {}),
                )
                total += int(response.get("Count", 0))
                start_key = response.get("LastEvaluatedKey")
                if not start_key:
                    break
        return total

    def search(self, text: str, limit: int, today: date | None = None) -> list[LeadRow]:
        """One Query of by_company, which holds lead items by company and NAME items by name."""
        key = search_key(text)
        items, _ = self.table.page(
            "query",
            {
                "IndexName": BY_COMPANY_INDEX,
                "KeyConditionExpression": "company_prefix = :prefix AND begins_with(company_key, :key)",
                "ExpressionAttributeValues": {":prefix": s(key[:SEARCH_MIN]), ":key": s(key)},
                "Limit": limit * 2,  # a lead found by its company and by its name is one row
            },
        )
        rows = self.lead_rows([item["lead_id"]["S"] for item in items], today)
        return sorted(rows, key=lambda row: (-row.score, row.lead_id))[:limit]

    def tier_changes_on(self, day: date, limit: int = 1000) -> list[dict[str, Any]]:
        """The day's partition of the feed index, each of its shards (paged), newest first."""
        found: list[dict[str, Any]] = []
        for shard in spreads(f"{TIER_DAY_PREFIX}{day.isoformat()}", "tier_day"):
            request: dict[str, Any] = {
                "IndexName": FEED_INDEX,
                "KeyConditionExpression": "#feed = :day",
                "ExpressionAttributeNames": {"#feed": FEED, "#from": "from", "#to": "to", "#at": FEED_AT},
                "ExpressionAttributeValues": {":day": s(shard)},
                "ProjectionExpression": "lead_id, #from, #to, #at, score",  # what the index projects
                "ScanIndexForward": False,
            }
            for number, item in enumerate(self.table.pages("query", request)):
                if number >= limit:
                    break  # newer ones of this shard are already in
                found.append({
                    "lead_id": item["lead_id"]["S"], "from": item.get("from", {}).get("S"), "to": item["to"]["S"],
                    "at": from_us(int(item[FEED_AT]["N"])).isoformat(), "score": int(item["score"]["N"]),
                })  # fmt: skip
        return sorted(found, key=lambda change: change["at"], reverse=True)[:limit]

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
                "tier": unspread(item["tier"]["S"]),
                "grade": item.get("grade", {}).get("S", ""),
                "score": int(item["score"]["N"]),
                "outcome": json.loads(item["outcome"]["S"]) if "outcome" in item else None,
                "reasons": [reason["S"] for reason in item.get("reasons", {}).get("L", [])],
                "name": item.get("name", {}).get("S"),
                "email": item.get("email", {}).get("S"),
                "first_seen_at": item.get("first_seen_at", {}).get("S"),
                "rules_fingerprint": item.get("rules_fingerprint", {}).get("S"),
                "shadow": json.loads(item["shadow"]["S"]) if "shadow" in item else None,
            }


# Aliased: some are reserved words.
REPORT_ATTRIBUTES = ("#tier", "#score", "#grade", "#outcome", "#reasons", "#name", "#email", "#shadow",
                     "#first_seen_at", "#rules_fingerprint")  # fmt: skip


def _encode(order: str, position: int, start_key: Any) -> str:
    raw = json.dumps({"o": order, "t": position, "k": start_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None, order: str, parts: Sequence[Partition]) -> tuple[int, Any]:
    if not cursor:
        return 0, None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, start_key = int(data["t"]), data["k"]
        same_order = data.get("o", "score") == order
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError("not a cursor this list handed out") from exc
    if not same_order or not 0 <= position < len(parts):
        raise ValueError("not a cursor this list handed out")
    part = parts[position]
    if not valid_position(start_key, part.values(), lambda value, shard: _is_start_key(value, part, shard)):
        raise ValueError("not a cursor this list handed out")
    return position, start_key


def _is_start_key(value: Any, part: Partition, shard: str) -> bool:
    """A LastEvaluatedKey of the partition's index: what DynamoDB would refuse is refused here, as a 400."""
    types = {"pk": "S", "sk": "S", part.hash_name: "S", part.range_name: part.range_type}
    return (
        isinstance(value, dict)
        and set(value) == set(types)
        and all(isinstance(v, dict) and set(v) == {types[k]} and isinstance(v[types[k]], str) for k, v in value.items())
        and value[part.hash_name]["S"] == shard
        and (part.range_type != "N" or _is_number(value[part.range_name]["N"]))
    )


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
