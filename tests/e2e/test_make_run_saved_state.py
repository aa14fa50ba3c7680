"""make run keeps its data across a restart: the table and the waiting tasks are saved when it stops
and put back when it starts; `--reset` (`make run RESET=1`) starts empty and keeps the last save
aside. Through the embedded AWS's own API, as make run does it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from segment.analytics.client import Client as SegmentClient

from chalicelib.storage.schema import create_table
from chalicelib.task_queue import create_queues
from local.child import make_run
from local.defaults import LOCAL_HOST, LOCAL_SECRETS
from local.embedded_aws import EmbeddedAws
from local.saved_state import SavedStateError, restore, save, set_aside

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
TABLE, QUEUE, DLQ = "saved-table", "saved-tasks", "saved-tasks-dlq"
ADMIN = {"Authorization": f"Bearer {LOCAL_SECRETS['ADMIN_API_KEY']}"}


@pytest.fixture
def embedded() -> Iterator[tuple[Any, Any]]:
    """A fresh embedded AWS with make run's table and queues; its DynamoDB and SQS clients."""
    aws = EmbeddedAws(LOCAL_HOST)
    aws.start()
    options = {"endpoint_url": aws.endpoint(), "region_name": "us-east-1", "aws_access_key_id": "local",
               "aws_secret_access_key": "local"}  # fmt: skip
    dynamodb, sqs = boto3.client("dynamodb", **options), boto3.client("sqs", **options)
    create_table(dynamodb, TABLE)
    create_queues(sqs, QUEUE, DLQ)
    yield dynamodb, sqs
    aws.stop()


def _items(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=TABLE)["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _messages(sqs: Any, name: str) -> list[tuple[str, dict[str, Any]]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return sorted((m["Body"], m.get("MessageAttributes", {})) for m in got.get("Messages", []))


def test_items_with_binary_values_and_waiting_tasks_survive_a_save_and_a_restore(
    embedded: tuple[Any, Any], tmp_path: Path
) -> None:
    dynamodb, sqs = embedded
    # Binary at the top (the compressed basis), inside maps and lists, in sets; paged scans (>1 MB).
    big = "x" * 60_000
    for n in range(30):
        dynamodb.put_item(TableName=TABLE, Item={
            "pk": {"S": f"LEAD#{n}"}, "sk": {"S": "LEAD"}, "basis": {"B": bytes([n, 0, 255])},
            "nested": {"M": {"B": {"L": [{"B": b"\x00\x01"}, {"S": "text"}]}, "BS": {"BS": [b"a", b"b"]}}},
            "note": {"S": big}, "version": {"N": str(n)},
        })  # fmt: skip
    task_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=task_url, MessageBody=json.dumps({"kind": "write_back", "lead_id": "7", "version": 7}))
    dlq_url = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    reason = {"reason": {"DataType": "String", "StringValue": "HubSpot 400"}}
    sqs.send_message(QueueUrl=dlq_url, MessageBody='{"kind": "notify"}', MessageAttributes=reason)
    before_items = _items(dynamodb)

    path = tmp_path / "state.json"
    counts = save(dynamodb, sqs, TABLE, [QUEUE, DLQ], path, NOW)
    assert (counts.items, counts.tasks) == (30, 2)
    assert json.loads(path.read_text())["saved_at"] == "2026-12-05T10:00:00+00:00"
    assert not list(tmp_path.glob("*.partial"))

    # A new embedded AWS, as the next make run starts one.
    aws = EmbeddedAws(LOCAL_HOST)
    aws.start()
    try:
        options = {"endpoint_url": aws.endpoint(), "region_name": "us-east-1", "aws_access_key_id": "local",
                   "aws_secret_access_key": "local"}  # fmt: skip
        fresh_db, fresh_sqs = boto3.client("dynamodb", **options), boto3.client("sqs", **options)
        create_table(fresh_db, TABLE)
        create_queues(fresh_sqs, QUEUE, DLQ)
        restored = restore(fresh_db, fresh_sqs, TABLE, path)
        assert restored is not None and (restored.items, restored.tasks) == (30, 2)
        assert _items(fresh_db) == before_items
        assert _messages(fresh_sqs, QUEUE) == [('{"kind": "write_back", "lead_id": "7", "version": 7}', {})]
        [(body, attributes)] = _messages(fresh_sqs, DLQ)
        assert body == '{"kind": "notify"}' and attributes["reason"]["StringValue"] == "HubSpot 400"
    finally:
        aws.stop()


def test_no_file_is_an_empty_start_and_a_damaged_file_is_one_line_not_a_silent_loss(
    embedded: tuple[Any, Any], tmp_path: Path
) -> None:
    dynamodb, sqs = embedded
    assert restore(dynamodb, sqs, TABLE, tmp_path / "none.json") is None
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"format": 1, "items": [')
    with pytest.raises(SavedStateError, match=r"damaged\.json cannot be read .*RESET=1"):
        restore(dynamodb, sqs, TABLE, damaged)
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"format": 99}')
    with pytest.raises(SavedStateError, match="not a make run save of format 1"):
        restore(dynamodb, sqs, TABLE, foreign)
    assert damaged.exists() and foreign.exists()  # left for the developer to look at
    aside = set_aside(damaged)
    assert aside == tmp_path / "damaged.json.before-reset" and aside.exists() and not damaged.exists()
    assert set_aside(damaged) is None


def _send_identify(url: str, user_id: str) -> None:
    segment = SegmentClient(LOCAL_SECRETS["EVENTS_WRITE_KEY"], host=url, sync_mode=True, max_retries=0)
    segment.identify(user_id, {"email": f"{user_id}@northwind.example", "company": "Northwind", "title": "VP Sales"})
    segment.track(user_id, "Demo Requested")


def test_make_run_keeps_leads_across_a_restart_and_reset_starts_empty(tmp_path: Path) -> None:
    data = tmp_path / "make-run-state.json"
    seen: list[str] = []
    with make_run(seen, LEADSCORE_LOCAL_DATA=str(data)) as url:
        _send_identify(url, "kept-lead")
        first = requests.get(f"{url}/leads/user:kept-lead", headers=ADMIN, timeout=30)
        assert first.status_code == 200, first.text
    assert data.exists()
    assert any("saved " in line and str(data) in line and "RESET=1" in line for line in seen), "".join(seen)

    seen.clear()
    with make_run(seen, LEADSCORE_LOCAL_DATA=str(data)) as url:
        again = requests.get(f"{url}/leads/user:kept-lead", headers=ADMIN, timeout=30)
        assert again.status_code == 200, again.text
        assert again.json()["score"] == first.json()["score"] and again.json()["profile"] == first.json()["profile"]
        listed = requests.get(f"{url}/leads", headers=ADMIN, timeout=30).json()
        assert [lead["lead_id"] for lead in listed["leads"]] == [first.json()["lead_id"]]
    assert any(line.startswith("embedded AWS") and "restored" in line for line in seen), "".join(seen)

    seen.clear()
    with make_run(seen, "--reset", LEADSCORE_LOCAL_DATA=str(data)) as url:
        gone = requests.get(f"{url}/leads/user:kept-lead", headers=ADMIN, timeout=30)
        assert gone.status_code == 404
    assert any("starting empty (RESET" in line for line in seen), "".join(seen)
    kept_aside = json.loads(data.with_name(data.name + ".before-reset").read_text())
    assert any(item["pk"]["S"] == f"LEAD#{first.json()['lead_id']}" for item in kept_aside["items"])


def test_a_damaged_save_stops_make_run_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    data = tmp_path / "make-run-state.json"
    data.write_text("not json")
    env = {**os.environ, "PORT": "0", "LEADSCORE_LOCAL_DATA": str(data),
           "LEADSCORE_LOCAL_STATE": str(tmp_path / "make-run.json")}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "local.run"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"make run: {data} cannot be read")
    assert "Traceback" not in done.stderr and data.read_text() == "not json"
