"""The console's API: a leads page with 10,000 leads stored (what it reads, how long it takes), sorted
by change and by latest activity, a name search, "my leads" (one owner of ten), a 1,000-event lead's
timeline (91 days recomputed, 90 projected) and its activity a page at a time. moto in-process,
DynamoDB's view."""

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
    """With one shard per index key, as `make run` has: moto answers every index Query by reading
    the whole table, so the deployed layout (a Query per shard) would time moto, not DynamoDB; the
    Queries a page takes there are printed beside."""
    import os

    from chalicelib.storage.schema import ONE_SHARD_ENV, SHARDS

    before = os.environ.get(ONE_SHARD_ENV)
    os.environ[ONE_SHARD_ENV] = "1"
    try:
        _run()
    finally:
        if before is None:
            os.environ.pop(ONE_SHARD_ENV, None)
        else:
            os.environ[ONE_SHARD_ENV] = before
    print(f"  deployed, a leads page Queries each shard of the tiers it reaches ({SHARDS['tier']} a tier, in "
          f"parallel), by change {SHARDS['moved']} more, by activity {SHARDS['active']} a month")  # fmt: skip


def _run() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.bootstrap import Container
    from chalicelib.domain import Identities, LeadEvent, Profile, score
    from chalicelib.domain.events import to_us
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
            profile = Profile(first_name="Lead", last_name=str(number), company=f"Company {number % 700}",
                              hubspot_owner_id=str(number % 10))  # fmt: skip
            # Half saved yesterday and again today (risers and fallers), half new today.
            lead_id, active = f"ld_bench{number:06d}", {"last_active_us": to_us(NOW - timedelta(minutes=number))}
            before = None
            if number % 2:
                yesterday = score(profile, events[:-1], rules, NOW - timedelta(days=1))
                storage.leads.save(LeadSave(lead_id, 0, yesterday, None, NOW - timedelta(days=1), basis=active,
                                            profile_json=profile.model_dump_json()))  # fmt: skip
                before = yesterday.visible
            card = score(profile, events, rules, NOW)
            change = LeadSave(lead_id, 1 if number % 2 else 0, card, before, NOW, basis=active,
                              profile_json=profile.model_dump_json())  # fmt: skip
            storage.leads.save(change)
        query = LeadsQuery(limit=50)
        with counted(client) as calls:
            page = service.lead_views.leads(query, NOW)
        page_ms = _best_ms(lambda: service.lead_views.leads(query, NOW))
        second = LeadsQuery(limit=50, cursor=page["next_cursor"])
        second_ms = _best_ms(lambda: service.lead_views.leads(second, NOW))
        search = LeadsQuery(q="company 12")
        search_ms = _best_ms(lambda: service.lead_views.leads(search, NOW))
        print(f"  leads page of 50: {page_ms:.0f} ms, the next page {second_ms:.0f} ms, a company search "
              f"{search_ms:.0f} ms (target < 300 ms)")  # fmt: skip
        print(f"  DynamoDB requests for a page: {calls.requests} ({', '.join(calls.operations)}); "
              f"leads read {len(page['leads'])} of {LEADS:,} (no Scan)")  # fmt: skip
        for order in ("change", "last_active"):
            sorted_query = LeadsQuery(limit=50, sort=order)
            with counted(client) as sorted_calls:
                sorted_page = service.lead_views.leads(sorted_query, NOW)
            sorted_ms = _best_ms(lambda query=sorted_query: service.lead_views.leads(query, NOW))
            operations = ", ".join(sorted(set(sorted_calls.operations)))
            print(f"  sort={order}, a page of {len(sorted_page['leads'])}: {sorted_ms:.0f} ms, "
                  f"{sorted_calls.requests} DynamoDB requests ({operations}) (target < 300 ms)")  # fmt: skip
        named = LeadsQuery(q="lead 123")
        named_ms = _best_ms(lambda: service.lead_views.leads(named, NOW))
        print(f"  a name search ('lead 123', {len(service.lead_views.leads(named, NOW)['leads'])} found): "
              f"{named_ms:.0f} ms (target < 300 ms)")  # fmt: skip

        mine = LeadsQuery(limit=50, owner="hubspot:3")
        with counted(client) as owner_calls:
            owned = service.lead_views.leads(mine, NOW)
        owner_ms = _best_ms(lambda: service.lead_views.leads(mine, NOW))
        operations = ", ".join(sorted(set(owner_calls.operations)))
        print(f"  my leads (one owner of ten), a page of {len(owned['leads'])}: {owner_ms:.0f} ms, "
              f"{owner_calls.requests} DynamoDB requests ({operations}) (target < 300 ms)")  # fmt: skip

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
        _activity(service, client, events)


def _activity(service: Any, client: Any, events: list[Any]) -> None:
    """A page of activity costs the same on page 1 and page 30, for 10 events or 1,000."""
    from chalicelib.domain import Identities
    from chalicelib.service_layer.commands import ParsedDelivery
    from chalicelib.service_layer.lead_views import ActivityQuery

    small = [event.model_copy(update={"identities": Identities(user_id="small-lead")}) for event in events[:10]]
    service.ingestion.ingest(ParsedDelivery(events=small), NOW)
    first = ActivityQuery(limit=25)
    with counted(client) as calls:
        service.lead_views.activity("user:timeline-lead", first, NOW)
    first_ms = _best_ms(lambda: service.lead_views.activity("user:timeline-lead", first, NOW))
    cursor = None
    for _ in range(29):
        page = service.lead_views.activity("user:timeline-lead", ActivityQuery(limit=25, cursor=cursor), NOW)
        cursor = page["next_cursor"]
    deep = ActivityQuery(limit=25, cursor=cursor)
    deep_ms = _best_ms(lambda: service.lead_views.activity("user:timeline-lead", deep, NOW))
    small_ms = _best_ms(lambda: service.lead_views.activity("user:small-lead", first, NOW))
    print(f"  activity, a page of 25: {first_ms:.0f} ms (1,000-event lead), page 30 {deep_ms:.0f} ms, "
          f"{small_ms:.0f} ms (10-event lead) (target < 300 ms, flat); DynamoDB requests a page: {calls.requests} "
          f"({', '.join(calls.operations)})")  # fmt: skip


if __name__ == "__main__":
    run()
