"""The rules versions on DynamoDB: one item per version (pk `RULES`, sk `V#<number>`, the file's
text packed), written with a conditional put so two deploys of the same number cannot both land,
and one pointer item (sk `POINTER`) naming the active and shadow versions, moved conditionally on
its revision."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.storage.items import n, packed, s, unpacked
from chalicelib.storage.ports import PointerMoved, RulesPointer, RulesVersion, VersionTaken
from chalicelib.storage.table import ConditionFailed, DynamoTable

RULES_PK = "RULES"
POINTER_SK = "POINTER"
VERSION_PREFIX = "V#"
LISTED = "#number, fingerprint, #name, deployed_by, deployed_at, message"


def version_sk(number: int) -> str:
    return f"{VERSION_PREFIX}{number:08d}"


class DynamoRulesVersions:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def add(self, version: RulesVersion) -> None:
        item = {
            "pk": s(RULES_PK),
            "sk": s(version_sk(version.number)),
            "number": n(version.number),
            "text": packed(version.text),
            "fingerprint": s(version.fingerprint),
            "name": s(version.name),
            "deployed_by": s(version.deployed_by),
            "deployed_at": s(version.deployed_at.isoformat()),
            "message": s(version.message),
        }
        try:
            self.table.call(
                "put_item", TableName=self.table.name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ConditionFailed:
            raise VersionTaken(f"version {version.number} was stored first by another deploy") from None

    def get(self, number: int) -> RulesVersion | None:
        response = self.table.call(
            "get_item", TableName=self.table.name, Key={"pk": s(RULES_PK), "sk": s(version_sk(number))}
        )
        item = response.get("Item")
        return _version(item, unpacked(item.get("text")) or "") if item else None

    def listed(self) -> list[RulesVersion]:
        request = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": s(RULES_PK), ":prefix": s(VERSION_PREFIX)},
            "ExpressionAttributeNames": {"#number": "number", "#name": "name"},
            "ProjectionExpression": LISTED,
            "ConsistentRead": True,
        }
        return [_version(item, "") for item in self.table.pages("query", request)]

    def pointer(self, consistent: bool = False) -> RulesPointer:
        response = self.table.call(
            "get_item",
            TableName=self.table.name,
            Key={"pk": s(RULES_PK), "sk": s(POINTER_SK)},
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        if not item:
            return RulesPointer()
        data = json.loads(item["data"]["S"])
        return RulesPointer(
            active=data.get("active"),
            shadow=data.get("shadow"),
            shadow_since=_when(data.get("shadow_since")),
            activated_at=_when(data.get("activated_at")),
            activations=tuple(data.get("activations", ())),
            log=tuple(data.get("log", ())),
            revision=int(item["revision"]["N"]),
        )

    def move_pointer(self, pointer: RulesPointer) -> None:
        data = {
            "active": pointer.active,
            "shadow": pointer.shadow,
            "shadow_since": pointer.shadow_since.isoformat() if pointer.shadow_since else None,
            "activated_at": pointer.activated_at.isoformat() if pointer.activated_at else None,
            "activations": list(pointer.activations),
            "log": list(pointer.log),
        }
        item = {"pk": s(RULES_PK), "sk": s(POINTER_SK), "data": s(json.dumps(data)), "revision": n(pointer.revision)}
        request: dict[str, Any] = {"TableName": self.table.name, "Item": item}
        if pointer.revision <= 1:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "revision = :read"
            request["ExpressionAttributeValues"] = {":read": n(pointer.revision - 1)}
        try:
            self.table.call("put_item", **request)
        except ConditionFailed:
            raise PointerMoved("the active rules were changed meanwhile by another command") from None


def _version(item: dict[str, Any], text: str) -> RulesVersion:
    return RulesVersion(
        number=int(item["number"]["N"]),
        text=text,
        fingerprint=item["fingerprint"]["S"],
        name=item["name"]["S"],
        deployed_by=item["deployed_by"]["S"],
        deployed_at=datetime.fromisoformat(item["deployed_at"]["S"]),
        message=item.get("message", {}).get("S", ""),
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
