"""make run's data across restarts: the embedded table's items and the tasks waiting on its queues,
saved to one JSON file when it stops and put back when it starts (`make run RESET=1` starts empty).

It goes through the embedded AWS's own API with boto3 (Scan, BatchWriteItem, ReceiveMessage,
SendMessageBatch), not through moto's internals, so the file is plain DynamoDB JSON and outlives a
moto upgrade. The file is written to a temporary name and renamed: a stop interrupted halfway
leaves the previous save, never half of one.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.cli.target import ROOT

DEFAULT_PATH = ROOT / ".make-run-state.json"
FORMAT = 1
_BATCH_WRITE = 25
_BATCH_SEND = 10


class SavedStateError(Exception):
    """A saved-state file that cannot be put back, said in one line."""


@dataclass(frozen=True)
class Counts:
    items: int
    tasks: int

    def __str__(self) -> str:
        return f"{self.items:,} items and {self.tasks:,} waiting tasks"


def state_path(environ: dict[str, str]) -> Path:
    return Path(environ.get("LEADSCORE_LOCAL_DATA") or DEFAULT_PATH)


def save(dynamodb: Any, sqs: Any, table: str, queues: list[str], path: Path, now: datetime) -> Counts:
    """Everything in `table` and every message waiting on `queues` (taken off them: this is the
    last thing a stopping make run does with its embedded AWS)."""
    items = [_portable(item) for item in _scan(dynamodb, table)]
    waiting = {name: _drain(sqs, name) for name in queues}
    document = {"format": FORMAT, "saved_at": now.astimezone(UTC).isoformat(), "table": table,
                "items": items, "queues": waiting}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, separators=(",", ":")))
    os.replace(partial, path)
    return Counts(len(items), sum(len(messages) for messages in waiting.values()))


def restore(dynamodb: Any, sqs: Any, table: str, path: Path) -> Counts | None:
    """Puts back what `save` wrote into an empty table and queues; None without a file."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SavedStateError(f"{path} cannot be read ({exc}); move it away, or start empty with RESET=1") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SavedStateError(f"{path} is not a make run save of format {FORMAT}; start empty with RESET=1")
    items = [_native(item) for item in document.get("items", [])]
    for start in range(0, len(items), _BATCH_WRITE):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH_WRITE]]
        while requests:  # what DynamoDB leaves unprocessed is sent again
            unprocessed = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = unprocessed.get(table, [])
    tasks = 0
    for name, messages in document.get("queues", {}).items():
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        for start in range(0, len(messages), _BATCH_SEND):
            chunk = messages[start : start + _BATCH_SEND]
            entries = [{"Id": str(i), **message} for i, message in enumerate(chunk)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        tasks += len(messages)
    return Counts(len(items), tasks)


def set_aside(path: Path) -> Path | None:
    """RESET=1: the previous save is kept next to it, not deleted (a reset typed by mistake)."""
    if not path.exists():
        return None
    aside = path.with_name(path.name + ".before-reset")
    os.replace(path, aside)
    return aside


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _drain(sqs: Any, name: str) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    kept: list[dict[str, Any]] = []
    while True:
        # Received messages stay hidden for the hour: each is read once, and the queue dies next.
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=3600, MessageAttributeNames=["All"])  # fmt: skip
        messages = received.get("Messages", [])
        if not messages:
            return kept
        for message in messages:
            entry: dict[str, Any] = {"MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            kept.append(entry)


def _portable(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON with binary values in base64 (json cannot hold bytes)."""
    return {name: _convert(value, _to_text) for name, value in item.items()}


def _native(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _convert(value, base64.b64decode) for name, value in item.items()}


def _to_text(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _convert(value: dict[str, Any], binary: Any) -> dict[str, Any]:
    """One attribute value ({type: value}) with its binary parts passed through `binary`."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {kind: binary(inner)}
    if kind == "BS":
        return {kind: [binary(part) for part in inner]}
    if kind == "M":
        return {kind: {name: _convert(part, binary) for name, part in inner.items()}}
    if kind == "L":
        return {kind: [_convert(part, binary) for part in inner]}
    return value
