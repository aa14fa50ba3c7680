"""Shadow scoring's extra cost, with the active rules alone and with a shadow beside them:

- a delivery's CPU, as the API function spends it: one Segment `track` call for a known lead
  through the real HTTP handler (write key, parsing, the lead read, the fold into its stored
  basis, the transaction, the write-back's queue message) with boto3 talking to the embedded
  AWS in another process, so this process's CPU time is the function's own, not moto's;
- the same use case on the in-memory storage (no AWS client at all), and the scoring within it;
- the lead item's size with the shadow's card and basis.

Target: a delivery costs at most 1.6x the active-only CPU."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bench.heavy_lead_bench import events_of, item_size
from bench.workload import NOW
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.ingest import Ingestion
from chalicelib.service_layer.rescoring import Rescorer, fold_change, rescore_change
from chalicelib.storage.dynamodb.lead_item import save_writes
from chalicelib.storage.memory import InMemoryStorage
from chalicelib.storage.ports import LeadRecord

TARGET = 1.6
AWS_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                   "AWS_SESSION_TOKEN")  # fmt: skip
RUNS = 300
DEMO = "event: demo_request, points: 50, cap: 50"


def run() -> None:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    active = parse_rules(text)
    shadow_text = text.replace(DEMO, DEMO.replace("50", "80")).replace("name: seed-model", "name: shadow", 1)
    shadow = parse_rules(shadow_text)
    print("\n== shadow scoring: the cost of scoring each event with a second rules version")
    for history in (10, 1_000):
        events = events_of(history, f"shadow-{history}")
        record = LeadRecord("bench-lead", 1, ["user:bench"], None, events=events)
        alone, _ = rescore_change(record, active, NOW)
        both, _ = rescore_change(record, active, NOW, shadow=shadow)
        stored = replace(record, events=[], card=alone.card, basis=alone.basis, profile_json=alone.profile_json)
        shadowed = replace(stored, shadow=both.shadow)
        visit = next(event for event in reversed(events) if event.type == "page_view")  # folds in at any time
        new = visit.model_copy(update={"event_id": "bench-new", "occurred_at": NOW - timedelta(minutes=1)})
        timings = {}
        for label, lead, rules in (("active only", stored, None), ("with a shadow", shadowed, shadow)):
            samples = []
            for _ in range(RUNS):
                started = time.perf_counter()
                fold_change(lead, [new], active, NOW, rules)
                samples.append(time.perf_counter() - started)
            timings[label] = statistics.median(samples) * 1000
        deliveries = {label: _delivery_ms(events, new, active, rules) for label, rules in
                      (("active only", None), ("with a shadow", shadow))}  # fmt: skip
        over_http = http_delivery_ms(events, lambda parts: parts.releases.deploy(shadow_text, "bench", "", NOW,
                                                                                 shadow=True))  # fmt: skip
        sizes = {label: _item_bytes(change) for label, change in (("active only", alone), ("with a shadow", both))}
        ratio = over_http[1] / over_http[0]
        print(f"{history:>6}-event lead: a delivery through the API {over_http[0]:.2f} ms CPU active only, "
              f"{over_http[1]:.2f} ms with a shadow = {ratio:.2f}x (target <= {TARGET}x); "
              f"the use case alone (in-memory storage) {deliveries['active only']:.2f} -> "
              f"{deliveries['with a shadow']:.2f} ms ({deliveries['with a shadow'] / deliveries['active only']:.2f}x); "
              f"the scoring in it {timings['active only']:.2f} -> {timings['with a shadow']:.2f} ms "
              f"({timings['with a shadow'] / timings['active only']:.2f}x); "
              f"lead item {sizes['active only']:,} -> {sizes['with a shadow']:,} bytes "
              f"({sizes['with a shadow'] / sizes['active only']:.2f}x)")  # fmt: skip


def http_delivery_ms(events: list[Any], change: Callable[[Any], object]) -> tuple[float, float]:
    """The median CPU of one `track` delivery through the API for a lead holding `events`, with
    the bundled rules, then after `change(container)` (a shadow deployed, other rules active) and
    the lead rescored with them."""
    import os
    import subprocess
    import sys

    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from chalicelib.settings import Settings
    from chalicelib.storage.schema import create_table
    from chalicelib.task_queue import create_queues
    from local.signing import Signer

    saved = {name: os.environ.get(name) for name in AWS_ENVIRONMENT}  # the benches after this one use moto
    server = subprocess.Popen(
        [sys.executable, "-c", "from local.embedded_aws import EmbeddedAws; import sys, time; aws = EmbeddedAws("
         "'127.0.0.1', 0); aws.start(); print(aws.endpoint(), flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    from chalicelib.observability import logger

    logger.setLevel("WARNING")  # a line per delivery would bury the figures
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                          AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
        os.environ.pop("AWS_SESSION_TOKEN", None)
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), "bench-shadow")
        create_queues(boto3.client("sqs"), "bench-shadow-tasks", "bench-shadow-dlq")
        settings = Settings(table_name="bench-shadow", task_queue="bench-shadow-tasks", task_dlq="bench-shadow-dlq",
                            events_write_key="bench-key")  # fmt: skip
        parts = bootstrap.install(bootstrap.Container(settings))
        assert parts is not None
        parts.ingestion.ingest(ParsedDelivery(events=list(events)), NOW)
        user = events[0].identities.user_id
        headers = {"Content-Type": "application/json", **Signer({"EVENTS_WRITE_KEY": "bench-key"}, "").basic()}
        measured = []
        with Client(app, stage_name="local") as client:
            for phase in ("before", "after"):
                if phase == "after":
                    change(parts)
                    parts.rules.refresh()  # type: ignore[attr-defined]
                    lead_id = parts.storage.leads.resolve([f"user:{user}"])[f"user:{user}"]
                    parts.rescorer.rescore(lead_id, NOW)  # the sweep: the lead gets its new basis
                samples = []
                for number in range(60):
                    body = {"type": "track", "userId": user, "event": "Pricing Viewed",
                            "messageId": f"{phase}-{number}", "timestamp": NOW.isoformat()}  # fmt: skip
                    started = time.process_time()
                    reply = client.http.post("/v1/track", headers=headers, body=json.dumps(body))
                    samples.append(time.process_time() - started)
                    assert reply.status_code == 200, reply.body
                measured.append(statistics.median(samples[10:]) * 1000)
        return measured[0], measured[1]
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(timeout=30)
        bootstrap.install(None)
        logger.setLevel("INFO")
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.setup_default_session()


def _delivery_ms(events: list[Any], new: Any, active: Any, shadow: Any) -> float:
    """The median CPU of ingesting one new event for a lead holding `events`."""
    storage = InMemoryStorage()
    rescorer = Rescorer(storage, lambda: active, lambda attempt: None, lambda: shadow)
    ingestion = Ingestion(storage, lambda: active, rescorer=rescorer)
    ingestion.ingest(ParsedDelivery(events=list(events)), NOW)
    samples = []
    for number in range(RUNS):
        event = new.model_copy(update={"event_id": f"bench-{number}"})
        started = time.process_time()
        ingestion.ingest(ParsedDelivery(events=[event]), NOW)
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1000


def _item_bytes(change: object) -> int:
    """The lead item the save writes, as DynamoDB sizes it."""
    update = save_writes("bench", change)[0]["Update"]  # type: ignore[arg-type]
    values = update["ExpressionAttributeValues"]
    names = update["ExpressionAttributeNames"]
    by_alias = {alias.replace(":a", "#a"): value for alias, value in values.items() if alias.startswith(":a")}
    return item_size({names[alias]: value for alias, value in by_alias.items() if alias in names})
