"""Accounts: what one contact's event costs in DynamoDB requests and bytes, for accounts of 10,
1,000 and 5,000 contacts, against the same event for a lead in no account (target: at most 2
extra requests, and bytes that do not grow with the account)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from bench.writeback_bench import TABLE, bench_container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.entrypoints.sqs import poll_once
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.dynamodb.account_item import account_pk
from chalicelib.storage.schema import create_table
from chalicelib.task_queue import create_queues

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ACCOUNT = "group:bench"
SIZES = (10, 1_000, 5_000)


def _seed_contacts(storage: DynamoStorage, count: int) -> None:
    """`count` other contacts of the account as the index sees them (lead items with their rank)."""
    rng = random.Random(count)
    requests = []
    for index in range(count):
        engagement = round(rng.uniform(0, 120), 2)
        item = {"pk": {"S": f"LEAD#seed{index}"}, "sk": {"S": "LEAD"}, "lead_id": {"S": f"seed{index}"},
                "acct": {"S": account_pk(ACCOUNT)}, "acct_rank": {"N": str(engagement)}, "version": {"N": "1"},
                "name": {"S": f"Contact {index}"}, "score": {"N": str(int(engagement))}, "tier": {"S": "warm"},
                "reasons": {"L": [{"S": "Attended a webinar on Dec 1 (+25)"}]}}  # fmt: skip
        requests.append({"PutRequest": {"Item": item}})
    storage.table.batch_write(requests)


def _drain(parts: Any, at: datetime) -> None:
    queue = parts.queue
    for _ in range(20):
        poll_once(queue, parts.task_handler, at, wait_seconds=0)
        depth = queue.client.get_queue_attributes(QueueUrl=queue.url(queue.queue_name),
                                                  AttributeNames=["ApproximateNumberOfMessages"])  # fmt: skip
        if depth["Attributes"]["ApproximateNumberOfMessages"] == "0":
            return


def one_event(contacts: int | None) -> tuple[Counter[str], int, int]:
    """DynamoDB requests by operation and response bytes for one event of a known contact, from
    the webhook to the queue drained; and the account item's size. `contacts` None: no account."""
    with mock_aws():
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), TABLE)
        create_queues(boto3.client("sqs"), "wb", "wb-dlq")
        parts = bench_container()
        storage = parts.storage
        assert isinstance(storage, DynamoStorage)
        if contacts is not None:
            _seed_contacts(storage, contacts)
        profile = {"email": "driver@gmail.com", **({"account_id": "bench"} if contacts is not None else {})}
        first = LeadEvent(event_id="p1", source="segment", type="profile_updated", occurred_at=NOW - timedelta(hours=2),
                          identities=Identities(user_id="driver"), properties={"profile": profile})  # fmt: skip
        parts.ingestion.ingest(ParsedDelivery(events=[first]), NOW - timedelta(hours=1))
        _drain(parts, NOW - timedelta(hours=1))
        calls: Counter[str] = Counter()
        size = {"bytes": 0}

        def count(http_response: Any, model: Any, **_: Any) -> None:
            calls[model.name] += 1
            size["bytes"] += len(http_response.content or b"")

        events = storage.table.client.meta.events
        events.register("after-call.dynamodb", count)
        demo = LeadEvent(event_id="d1", source="segment", type="Webinar Attended", occurred_at=NOW,
                         identities=Identities(user_id="driver"))  # fmt: skip
        parts.ingestion.ingest(ParsedDelivery(events=[demo]), NOW)
        _drain(parts, NOW)
        events.unregister("after-call.dynamodb", count)
        item = storage.table.call("get_item", TableName=TABLE, Key={"pk": {"S": account_pk(ACCOUNT)},
                                                                     "sk": {"S": "ACCT"}}).get("Item")  # fmt: skip
        return calls, size["bytes"], len(item["account"]["S"]) if item else 0


def run() -> None:
    fake_aws_credentials()
    base, base_bytes, _ = one_event(None)
    print("\nAccounts: one contact's event, webhook to queue drained (target: <= 2 extra DynamoDB requests,")
    print("bytes bounded whatever the account's size)")
    print(f"  no account:          {sum(base.values())} requests, {base_bytes:,} bytes read  {dict(base)}")
    for contacts in SIZES:
        calls, read, item = one_event(contacts)
        extra = sum(calls.values()) - sum(base.values())
        print(f"  {contacts:>5,} contacts:     {sum(calls.values())} requests ({extra:+d}), {read:,} bytes read "
              f"({read - base_bytes:+,}), account item {item:,} bytes  {dict(calls - base)}")  # fmt: skip


if __name__ == "__main__":
    run()
