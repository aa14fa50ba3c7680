"""The leads list: the lead item's listing attributes (name, email, company, last activity), the
by_company search key, and rows read without the card or basis (a page reads only its leads)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from chalicelib.domain.events import from_us, iso_z

from .items import LEAD_SK, lead_pk, s
from .port import LeadPage, LeadRow, LeadSave
from .schema import BY_COMPANY_INDEX, BY_TIER_INDEX
from .table import DynamoTable, Item

SEARCH_MIN = 2  # characters of a company search: its first two are the index's partition
LISTED = [
    "lead_id", "name", "email", "company", "last_active_at", "due_at", "score", "fit", "engagement", "tier",
    "grade", "reasons", "updated_at",
]  # fmt: skip
PROFILE_LISTED = ("name", "email", "company", "company_prefix", "company_key")


def company_key(company: str) -> str:
    """A company name as search compares it: no case, accents, punctuation or repeated spaces."""
    folded = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def search_key(text: str) -> str:
    """The company key a search looks up; ValueError when too short to use the index."""
    key = company_key(text)
    if len(key) < SEARCH_MIN:
        raise ValueError(f"a company search needs at least {SEARCH_MIN} letters or digits")
    return key


def display_name(profile: dict[str, Any]) -> str:
    return " ".join(part for part in (profile.get("first_name"), profile.get("last_name")) if part)


def optional_z(text: str | None) -> str | None:
    return iso_z(text) if text else None


def listing_attributes(change: LeadSave) -> tuple[Item, list[str]]:
    """The listing attributes a save sets and removes: the profile's when it is saved (a full
    rescore or a fold), the last activity when the basis is."""
    values: Item = {}
    removed: list[str] = []
    if change.profile_json is not None:
        profile = json.loads(change.profile_json)
        found = {
            "name": display_name(profile),
            "email": profile.get("email") or "",
            "company": profile.get("company") or "",
        }
        key = company_key(found["company"])
        if len(key) >= SEARCH_MIN:
            found.update(company_prefix=key[:SEARCH_MIN], company_key=key)
        for attribute in PROFILE_LISTED:
            if found.get(attribute):
                values[attribute] = s(found[attribute])
            else:
                removed.append(attribute)
    if change.basis is not None and change.basis.get("last_active_us") is not None:
        values["last_active_at"] = s(iso_z(from_us(int(change.basis["last_active_us"]))))
    return values, removed


def row_of(item: Item) -> LeadRow:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value else None

    return LeadRow(
        lead_id=item["lead_id"]["S"],
        score=int(item["score"]["N"]),
        fit=int(item["fit"]["N"]),
        engagement=float(item["engagement"]["N"]),
        tier=item["tier"]["S"],
        grade=item["grade"]["S"],
        reasons=[reason["S"] for reason in item.get("reasons", {}).get("L", [])],
        updated_at=optional_z(text("updated_at")),
        name=text("name"),
        email=text("email"),
        company=text("company"),
        last_active_at=optional_z(text("last_active_at")),
        next_change_at=optional_z(text("due_at")),
    )


class LeadListing:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def rows(self, lead_ids: Sequence[str]) -> list[LeadRow]:
        """The lead items' listing attributes, in the order asked (one BatchGetItem per 100)."""
        keys = [{"pk": s(lead_pk(lead_id)), "sk": s(LEAD_SK)} for lead_id in dict.fromkeys(lead_ids)]
        names = {f"#l{index}": name for index, name in enumerate(LISTED)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        found = {item["lead_id"]["S"]: item for item in self.table.batch_get(keys, projection) if "score" in item}
        return [row_of(found[lead_id]) for lead_id in dict.fromkeys(lead_ids) if lead_id in found]

    def page(self, tiers: Sequence[str], grade: str | None, limit: int, cursor: str | None) -> LeadPage:
        """Tier by tier, highest score first: one Query per tier it reaches, one BatchGetItem."""
        position, start_key = _decode(cursor, len(tiers))
        lead_ids: list[str] = []
        while position < len(tiers) and len(lead_ids) < limit:
            request: dict[str, Any] = {
                "IndexName": BY_TIER_INDEX,
                "KeyConditionExpression": "tier = :tier",
                "ExpressionAttributeValues": {":tier": s(tiers[position])},
                "ScanIndexForward": False,
                "Limit": limit - len(lead_ids),
            }
            if grade:
                request["FilterExpression"] = "grade = :grade"
                request["ExpressionAttributeValues"][":grade"] = s(grade)
            items, start_key = self.table.page("query", request, start_key)
            lead_ids += [item["lead_id"]["S"] for item in items]
            if start_key is None:
                position += 1
        more = position < len(tiers)
        return LeadPage(self.rows(lead_ids), _encode(position, start_key) if more else None)

    def count(self, tiers: Sequence[str]) -> int:
        total = 0
        for tier in tiers:
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

    def by_company(self, text: str, limit: int) -> list[LeadRow]:
        key = search_key(text)
        items, _ = self.table.page(
            "query",
            {
                "IndexName": BY_COMPANY_INDEX,
                "KeyConditionExpression": "company_prefix = :prefix AND begins_with(company_key, :key)",
                "ExpressionAttributeValues": {":prefix": s(key[:SEARCH_MIN]), ":key": s(key)},
                "Limit": limit,
            },
        )
        rows = self.rows([item["lead_id"]["S"] for item in items])
        return sorted(rows, key=lambda row: (-row.score, row.lead_id))


def _encode(position: int, start_key: Any) -> str:
    raw = json.dumps({"t": position, "k": start_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None, tiers: int) -> tuple[int, Any]:
    if not cursor:
        return 0, None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, start_key = int(data["t"]), data["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a cursor this list handed out") from exc
    if not 0 <= position < tiers or not (start_key is None or _is_index_key(start_key)):
        raise ValueError("not a cursor this list handed out")
    return position, start_key


def _is_index_key(value: Any) -> bool:
    """A by_tier LastEvaluatedKey: what DynamoDB would refuse is refused here, as a 400."""
    return (
        isinstance(value, dict)
        and set(value) == {"pk", "sk", "tier", "score"}
        and all(isinstance(part, dict) and len(part) == 1 for part in value.values())
        and all(isinstance(inner, str) for part in value.values() for inner in part.values())
        and set(value["score"]) == {"N"}
    )
