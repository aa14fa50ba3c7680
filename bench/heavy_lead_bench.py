"""Heavy leads: what one more event costs as a lead's history grows, how big its item gets, and what
a million events cost in AWS. DynamoDB is moto in-process, with the embedded store's item-level
transactions (local/embedded_aws.py) so that building a 20,000-event lead takes seconds; the
requests, bytes and item sizes are what DynamoDB would see.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.workload import NOW, fake_aws_credentials
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery

TABLE = "bench-heavy"
HISTORY_DAYS = 90
_PATHS = ["/", "/blog/a", "/blog/b", "/pricing", "/docs/api", "/case-studies/x", "/compare/y", "/about"]
# What a busy lead does besides email, by share of events; email follows what was sent to it.
_OTHER = [
    ("page_view", 75), ("Social Engagement", 8), ("Trial Active", 8), ("Content Downloaded", 4),
    ("Webinar Registered", 2), ("Demo Requested", 1), ("Quote Requested", 1), ("Meeting Booked", 1),
]  # fmt: skip
SENDS_PER_WEEK = 3  # marketing and sales emails to one lead; some opened, a few clicked, fewer answered

# AWS on-demand list prices, us-east-1, as published on aws.amazon.com/{dynamodb,lambda,api-gateway}/pricing
# (DynamoDB's since its 1 November 2024 cut; Lambda x86 and API Gateway REST unchanged since 2020).
PRICES = {
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "api_gateway_rest_request": 3.50 / 1e6,
}
PRICES_AS_OF = "prices as published on 2026-12-01 (DynamoDB on-demand since 2024-11-01)"
LAMBDA_MEMORY_GB = 0.5  # the webhook functions' lambda_memory_size in .chalice/config.json
LAMBDA_SECONDS_PER_DELIVERY = 0.06  # a warm webhook's duration (make bench's webhook figures: p50 58 ms)


def events_of(count: int, user: str, seed: int = 11, kind: str | None = None) -> list[LeadEvent]:
    """`count` events of one lead over 90 days, in time order at a person's pace: of one `kind`,
    or the realistic mix (about 3 emails a week, each opened with a 60% chance, clicked 20%,
    answered 3%, and the rest page views, social, trial activity, content and forms)."""
    rng = random.Random(seed)
    span = HISTORY_DAYS * 86_400
    start = NOW - timedelta(seconds=span)
    timed: list[tuple[float, str, dict[str, Any]]] = []
    if kind is None:
        sends = min(SENDS_PER_WEEK * HISTORY_DAYS // 7, max(1, count // 8))
        for number in range(sends):
            sent = span * number / sends
            message = {"message_id": f"msg-{number}", "campaign_type": rng.choice(["nurture", "cold_outreach"])}
            timed.append((sent, "email_sent", message))
            if rng.random() < 0.6:
                for _ in range(rng.randint(1, 3)):
                    timed.append((sent + rng.uniform(60, 86_400 * 3), "Email Opened", message))
                if rng.random() < 0.2:
                    timed.append((sent + rng.uniform(120, 86_400 * 3), "Email Link Clicked", message))
                if rng.random() < 0.03:
                    timed.append((sent + rng.uniform(600, 86_400 * 5), "Email Replied", message))
    names, weights = zip(*_OTHER, strict=True)
    for index in range(max(0, count - len(timed))):
        chosen = kind or rng.choices(names, weights)[0]
        props: dict[str, Any] = {}
        if chosen == "page_view":
            props = {"url": "https://acme.example" + rng.choice(_PATHS)}
        elif chosen == "Content Downloaded":
            props = {"content_type": rng.choice(["whitepaper", "case_study", "guide"])}
        elif chosen == "Social Engagement":
            props = {"action": rng.choice(["like", "share", "comment"])}
        elif chosen.startswith("Email"):
            props = {"message_id": f"msg-{index % 40}"}
        timed.append((span * index / max(1, count), chosen, props))
    timed.sort(key=lambda item: item[0])
    identities = Identities(user_id=user)
    return [
        LeadEvent(
            event_id=f"{user}-{index}",
            source="segment",
            type=chosen,
            identities=identities,
            properties=props,
            occurred_at=start + timedelta(seconds=min(at, span - 1)),
        )
        for index, (at, chosen, props) in enumerate(timed[:count])
    ]


@dataclass
class Calls:
    requests: int = 0
    sent: int = 0
    received: int = 0
    operations: list[str] = field(default_factory=list)

    def __call__(self, request: Any = None, **_: Any) -> None:
        self.requests += 1
        self.sent += len(request.body or b"")


@contextmanager
def counted(client: Any) -> Iterator[Calls]:
    calls = Calls()

    def after(http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
        calls.received += len(http_response.content or b"") if http_response is not None else 0
        calls.operations.append(model.name if model is not None else "?")

    client.meta.events.register("before-send.dynamodb", calls)
    client.meta.events.register("after-call.dynamodb", after)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-send.dynamodb", calls)
        client.meta.events.unregister("after-call.dynamodb", after)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers ~1 byte per 2 digits)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind in ("S", "B"):
        return len(inner.encode()) if kind == "S" else len(inner)
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + _value_size(element) for name, element in inner.items())
    return len(json.dumps(inner))


def _service(client: Any) -> Any:
    from chalicelib.bootstrap import Container
    from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file
    from chalicelib.settings import Settings
    from chalicelib.storage.dynamodb import DynamoStorage

    rules = load_rules_file(DEFAULT_RULES_PATH)
    storage = DynamoStorage(TABLE, client)
    return Container(Settings(), storage=storage, rules=lambda: rules, backoff=lambda attempt: None, queue=None)


def _activity_pages(client: Any, service: Any, key: str) -> None:
    """The heavy lead's activity a page at a time: the same cost on page 1 and page 200."""
    import time

    from chalicelib.service_layer.lead_views import ActivityQuery

    def page(cursor: str | None) -> tuple[dict[str, Any], float, Calls]:
        with counted(client) as calls:
            started = time.perf_counter()
            found = service.lead_views.activity(key, ActivityQuery(limit=25, cursor=cursor), NOW)
        return found, (time.perf_counter() - started) * 1000, calls

    first, first_ms, first_calls = page(None)
    cursor = first["next_cursor"]
    for _ in range(198):
        cursor = page(cursor)[0]["next_cursor"]
    deep, deep_ms, deep_calls = page(cursor)
    print(f"  its activity, a page of 25: page 1 {first_ms:.0f} ms ({first_calls.requests} requests, "
          f"{first_calls.received:,} bytes), page 200 {deep_ms:.0f} ms ({deep_calls.requests} requests, "
          f"{deep_calls.received:,} bytes) (target: flat)")  # fmt: skip
    assert len(deep["activity"]) == 25


def _ingest(service: Any, events: list[LeadEvent], batch: int = 100) -> None:
    for start in range(0, len(events), batch):
        service.ingestion.ingest(ParsedDelivery(events=events[start : start + batch]), NOW)


def _lead_item(client: Any, service: Any, user: str) -> dict[str, Any]:
    lead_id = service.lead_views.find_lead_id(f"user:{user}")
    reply = client.get_item(TableName=TABLE, Key={"pk": {"S": f"LEAD#{lead_id}"}, "sk": {"S": "LEAD"}})
    item: dict[str, Any] = reply["Item"]
    return item


def _largest_item(client: Any) -> int:
    largest = 0
    for page in client.get_paginator("scan").paginate(TableName=TABLE):
        largest = max([largest, *(item_size(item) for item in page["Items"])])
    return largest


def _one_more_event(client: Any, service: Any, user: str, number: int) -> tuple[Calls, int]:
    at = NOW + timedelta(seconds=number)
    extra = LeadEvent(
        event_id=f"{user}-next-{number}", source="segment", type="page_view", occurred_at=at,
        identities=Identities(user_id=user), properties={"url": "https://acme.example/pricing"},
    )  # fmt: skip
    with counted(client) as calls:
        service.ingestion.ingest(ParsedDelivery(events=[extra]), NOW + timedelta(seconds=number))
    return calls, item_size(_lead_item(client, service, user))


def _capacity(client: Any, lead_item: dict[str, Any], remembering: float) -> tuple[float, float]:
    """(write, read) request units of one single-event delivery for this lead item: the identity and
    lead reads (strongly consistent, 4 KB units), the transaction (2x: the event item and the whole
    updated lead item, 1 KB units) and the index rows the update rewrites (a changed index key is a
    delete and a put: counted as two); for the share of events that need the fold's memory
    (`remembering`: emails), its item read and written too."""
    from chalicelib.storage.items import MEMORY_SK
    from chalicelib.storage.schema import BY_TIER_INDEX, DUE_PROJECTION, TABLE_DEFINITION

    events = client.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :evt)", Limit=1,
        ExpressionAttributeValues={":pk": lead_item["pk"], ":evt": {"S": "EVT#"}},
    )["Items"]  # fmt: skip
    event_bytes = item_size(events[0]) if events else 500
    lead_bytes = item_size(lead_item)
    by_tier = next(i for i in TABLE_DEFINITION["GlobalSecondaryIndexes"] if i["IndexName"] == BY_TIER_INDEX)
    keys = ["pk", "sk"]
    due_row = item_size({k: v for k, v in lead_item.items() if k in {*keys, "due_shard", "due_at", *DUE_PROJECTION}})
    tier_names = {*keys, "tier", "score", *by_tier["Projection"]["NonKeyAttributes"]}
    tier_row = item_size({k: v for k, v in lead_item.items() if k in tier_names})
    reads = 1 + math.ceil(lead_bytes / 4096)
    writes = 2 * (math.ceil(event_bytes / 1024) + math.ceil(lead_bytes / 1024))
    writes += 2 * math.ceil(due_row / 1024) + 2 * math.ceil(tier_row / 1024) + 1  # due, by_tier, sync
    memory = client.get_item(TableName=TABLE, Key={"pk": lead_item["pk"], "sk": {"S": MEMORY_SK}}).get("Item")
    memory_bytes = item_size(memory) if memory else 0
    return (
        writes + remembering * 2 * math.ceil(memory_bytes / 1024),
        reads + remembering * math.ceil(memory_bytes / 4096),
    )


def _remembering(events: list[LeadEvent]) -> float:
    """The share of these events whose fold reads and writes the fold's memory."""
    from chalicelib.domain.compiled_rules import compile_rules
    from chalicelib.domain.fold_memory import needs_memory
    from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file

    compiled = compile_rules(load_rules_file(DEFAULT_RULES_PATH))
    return sum(needs_memory([event], compiled) for event in events) / len(events)


def run() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.storage.schema import create_table
    from local.embedded_aws import install_item_level_transactions

    fake_aws_credentials()
    print("\nheavy leads: one more event as the history grows (realistic mix, 90 days; moto, DynamoDB's view)")
    with mock_aws():
        install_item_level_transactions()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        service = _service(client)
        rows = {}
        for size in (10, 1_000, 10_000):
            user = f"mix-{size}"
            _ingest(service, events_of(size, user))
            calls, lead_bytes = _one_more_event(client, service, user, 1)
            rows[size] = (calls, lead_bytes)
        remembering = _remembering(events_of(1_000, "mix-1000"))
        per_event_writes, per_event_reads = _capacity(client, _lead_item(client, service, "mix-1000"), remembering)
        print(f"{'live events':>12} {'requests':>9} {'bytes sent':>11} {'bytes received':>15} {'lead item':>10}")
        for size, (calls, lead_bytes) in rows.items():
            print(f"{size:>12,} {calls.requests:>9} {calls.sent:>11,} {calls.received:>15,} {lead_bytes:>9,} B")
        small, large = rows[10], rows[10_000]
        ratio = (large[0].sent + large[0].received) / (small[0].sent + small[0].received)
        print(f"  10,000 vs 10 live events: {large[0].requests / small[0].requests:.1f}x the requests, "
              f"{ratio:.1f}x the bytes (target <= 2x)   [{', '.join(large[0].operations)}]")  # fmt: skip

        print("\nlargest item after 20,000 live events (target <= 64 KB; DynamoDB refuses 400 KB)")
        for label, kind in (
            ("one kind (page views)", "page_view"),
            ("one kind (email opens)", "Email Opened"),
            ("the realistic mix", None),
        ):
            user = f"heavy-{kind or 'mix'}"
            _ingest(service, events_of(20_000, user, kind=kind))
            lead_bytes = item_size(_lead_item(client, service, user))
            print(f"  {label:<24} lead item {lead_bytes / 1024:6.1f} KB")
        print(f"  largest item in the table {_largest_item(client) / 1024:6.1f} KB")
        _activity_pages(client, service, "user:heavy-mix")
    dynamodb = (per_event_writes * PRICES["dynamodb_write_request_unit"]
                + per_event_reads * PRICES["dynamodb_read_request_unit"]) * 1e6  # fmt: skip
    per_request = (PRICES["lambda_request"] + PRICES["api_gateway_rest_request"]
                   + LAMBDA_MEMORY_GB * LAMBDA_SECONDS_PER_DELIVERY * PRICES["lambda_gb_second"]) * 1e6  # fmt: skip
    print("\nestimated AWS cost per million ingested events (realistic mix, a lead with 1,000 live events)")
    print(f"  DynamoDB: {per_event_writes:.1f} write + {per_event_reads:.1f} read request units an event "
          f"= ${dynamodb:.2f}")  # fmt: skip
    print(f"  one event per delivery: + API Gateway and Lambda ${per_request:.2f} = ${dynamodb + per_request:.2f}")
    print(f"  Segment batches of 100: + ${per_request / 100:.2f} = ${dynamodb + per_request / 100:.2f}")
    print(f"  ({PRICES_AS_OF}: DynamoDB $0.625/M write, $0.125/M read units; Lambda $0.20/M requests and "
          f"$0.0000166667/GB-s at {LAMBDA_MEMORY_GB} GB x {LAMBDA_SECONDS_PER_DELIVERY * 1000:.0f} ms; "
          "API Gateway REST $3.50/M)")  # fmt: skip


if __name__ == "__main__":
    run()
