"""Shadow scoring's extra cost, with the active rules alone and with a shadow beside them: the CPU
of a delivery of one new event for a known lead (the whole use case: identities, the lead read,
the fold into its stored basis, the save, on the in-memory storage so AWS's latency is not
counted), the scoring alone within it, and the lead item's size with the shadow's card and
basis. Target: a delivery costs at most 1.6x the active-only CPU."""

from __future__ import annotations

import statistics
import time
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
RUNS = 300
DEMO = "event: demo_request, points: 50, cap: 50"


def run() -> None:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    active = parse_rules(text)
    shadow = parse_rules(text.replace(DEMO, DEMO.replace("50", "80")).replace("name: seed-model", "name: shadow", 1))
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
        sizes = {label: _item_bytes(change) for label, change in (("active only", alone), ("with a shadow", both))}
        ratio = deliveries["with a shadow"] / deliveries["active only"]
        print(f"{history:>6}-event lead: a delivery {deliveries['active only']:.2f} ms CPU active only, "
              f"{deliveries['with a shadow']:.2f} ms with a shadow = {ratio:.2f}x (target <= {TARGET}x); "
              f"the scoring in it {timings['active only']:.2f} -> {timings['with a shadow']:.2f} ms "
              f"({timings['with a shadow'] / timings['active only']:.2f}x); "
              f"lead item {sizes['active only']:,} -> {sizes['with a shadow']:,} bytes "
              f"({sizes['with a shadow'] / sizes['active only']:.2f}x)")  # fmt: skip


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
