"""The console's API: a leads page with 10,000 leads stored (what it reads, how long it takes) and
a 1,000-event lead's timeline (91 days recomputed, 90 projected). moto in-process, DynamoDB's view."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bench.heavy_lead_bench import counted
from bench.workload import NOW, fake_aws_credentials, lead_history

TABLE = "bench-console"
LEADS = 10_000


def _best_ms(call: Any, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.bootstrap import Container
    from chalicelib.domain import Identities, LeadEvent, Profile, score
    from chalicelib.rules import DEFAULT_RULES_PATH, load_rules_file
    from chalicelib.service_layer.commands import ParsedDelivery
    from chalicelib.service_layer.leads_query import LeadsQuery
    from chalicelib.settings import Settings
    from chalicelib.storage.dynamodb import DynamoStorage
    from chalicelib.storage.ports import LeadSave
    from chalicelib.storage.schema import create_table
    from local.embedded_aws import install_item_level_transactions

    fake_aws_credentials()
    rules = load_rules_file(DEFAULT_RULES_PATH)
    print(f"\nconsole API ({LEADS:,} leads stored; moto in-process)")
    with mock_aws():
        install_item_level_transactions()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        storage = DynamoStorage(TABLE, client)
        service = Container(Settings(), storage=storage, rules=lambda: rules, backoff=lambda attempt: None, queue=None)
        kinds = ["Demo Requested", "Quote Requested", "Webinar Registered", "Content Downloaded", "Trial Started"]
        for number in range(LEADS):
            events = [
                LeadEvent(event_id=f"b{number}-{k}", source="segment", type=kind, occurred_at=NOW - timedelta(days=k),
                          identities=Identities(user_id=f"u{number}"))
                for k, kind in enumerate(kinds[: number % 6])
            ]  # fmt: skip
            profile = Profile(first_name="Lead", last_name=str(number), company=f"Company {number % 700}")
            card = score(profile, events, rules, NOW)
            change = LeadSave(f"ld_bench{number:06d}", 0, card, None, NOW, basis={"last_active_us": 1},
                              profile_json=profile.model_dump_json())  # fmt: skip
            storage.leads.save(change)
        query = LeadsQuery(limit=50)
        with counted(client) as calls:
            page = service.lead_views.leads(query)
        page_ms = _best_ms(lambda: service.lead_views.leads(query))
        second = LeadsQuery(limit=50, cursor=page["next_cursor"])
        second_ms = _best_ms(lambda: service.lead_views.leads(second))
        search = LeadsQuery(q="company 12")
        search_ms = _best_ms(lambda: service.lead_views.leads(search))
        print(f"  leads page of 50: {page_ms:.0f} ms, the next page {second_ms:.0f} ms, a company search "
              f"{search_ms:.0f} ms (target < 300 ms)")  # fmt: skip
        print(f"  DynamoDB requests for a page: {calls.requests} ({', '.join(calls.operations)}); "
              f"leads read {len(page['leads'])} of {LEADS:,} (no Scan)")  # fmt: skip

        history = lead_history(1_000, horizon_days=120)
        user = Identities(user_id="timeline-lead")
        events = [event.model_copy(update={"identities": user}) for event in history]
        for start in range(0, len(events), 100):
            service.ingestion.ingest(ParsedDelivery(events=events[start : start + 100]), NOW)
        from chalicelib.domain.timeline import score_timeline

        timeline_ms = _best_ms(lambda: service.lead_views.timeline("user:timeline-lead", NOW), rounds=3)
        compute_ms = _best_ms(lambda: score_timeline(events, rules, NOW), rounds=3)
        points = service.lead_views.timeline("user:timeline-lead", NOW)
        assert points is not None
        print(f"  timeline of a 1,000-event lead ({len(points['points'])} points): computed in {compute_ms:.0f} ms "
              f"(target < 300 ms); {timeline_ms:.0f} ms with its 1,000 events read from moto")  # fmt: skip


if __name__ == "__main__":
    run()
