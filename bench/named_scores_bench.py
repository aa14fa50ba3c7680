"""Named scores' extra cost: a delivery with the bundled rules, then with two named scores in the
active rules (a site section and a set of event types), measured as shadow_bench measures a
shadow: the CPU of one `track` call through the real HTTP handler (boto3 talking to the embedded
AWS in another process), the use case on in-memory storage, the fold alone, and the lead item.

Target: a delivery costs at most 1.3x with two named scores."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bench.heavy_lead_bench import events_of
from bench.shadow_bench import _delivery_ms, _item_bytes, http_delivery_ms
from bench.workload import NOW
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH
from chalicelib.service_layer.rescoring import fold_change, rescore_change
from chalicelib.storage.ports import LeadRecord

TARGET = 1.3
RUNS = 300
NAMED = """
scores:
  product_docs:
    label: Interest in the docs
    when: {page_path_prefix: /docs}
    properties: {hubspot: lead_score_docs}
  buying:
    label: Buying signals
    when: {event_types: [demo_request, quote_request, trial_started, pricing_request]}
"""


def run() -> None:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    plain = parse_rules(text)
    named_text = text.replace("name: seed-model", "name: named", 1) + NAMED.replace(", pricing_request", "")
    named = parse_rules(named_text)
    print("\n== named scores: the cost of two named scores beside the main one")
    for history in (10, 1_000):
        events = events_of(history, f"named-{history}")
        record = LeadRecord("bench-lead", 1, ["user:bench"], None, events=events)
        changes = {label: rescore_change(record, rules, NOW)[0] for label, rules in (("main", plain), ("named", named))}
        visit = next(event for event in reversed(events) if event.type == "page_view")
        new = visit.model_copy(update={"event_id": "bench-new", "occurred_at": NOW - timedelta(minutes=1),
                                       "properties": {"url": "https://acme.example/blog/b"}})  # fmt: skip
        # One a named score counts (a page of its section): that score is folded too.
        counted = new.model_copy(
            update={"event_id": "bench-docs", "properties": {"url": "https://acme.example/docs/api"}}
        )
        folds = {}
        cases = (
            ("main", plain, new),
            ("named", named, new),
            ("main counted", plain, counted),
            ("counted", named, counted),
        )
        for label, rules, event in cases:
            change = changes["main" if label.startswith("main") else "named"]
            stored = replace(record, events=[], card=change.card, basis=change.basis, profile_json=change.profile_json)
            samples = []
            for _ in range(RUNS):
                started = time.perf_counter()
                fold_change(stored, [event], rules, NOW)
                samples.append(time.perf_counter() - started)
            folds[label] = statistics.median(samples) * 1000
        in_memory = {label: _in_memory_ms(events, new, rules) for label, rules in (("main", plain), ("named", named))}
        over_http = http_delivery_ms(events, lambda parts: parts.releases.deploy(named_text, "bench", "", NOW))
        sizes = {label: _item_bytes(change) for label, change in changes.items()}
        ratio = over_http[1] / over_http[0]
        print(f"{history:>6}-event lead: a delivery through the API {over_http[0]:.2f} ms CPU, "
              f"{over_http[1]:.2f} ms with two named scores = {ratio:.2f}x (target <= {TARGET}x); "
              f"the use case alone {in_memory['main']:.2f} -> {in_memory['named']:.2f} ms "
              f"({in_memory['named'] / in_memory['main']:.2f}x); "
              f"the fold {folds['main']:.2f} -> {folds['named']:.2f} ms ({folds['named'] / folds['main']:.2f}x), "
              f"of an event a named score counts {folds['main counted']:.2f} -> {folds['counted']:.2f} ms "
              f"({folds['counted'] / folds['main counted']:.2f}x); "
              f"lead item {sizes['main']:,} -> {sizes['named']:,} bytes "
              f"({sizes['named'] / sizes['main']:.2f}x)")  # fmt: skip


def _in_memory_ms(events: list[Any], new: Any, rules: Any) -> float:
    return _delivery_ms(events, new, rules, None)


if __name__ == "__main__":
    run()
