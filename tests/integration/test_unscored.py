"""The unscored-events report against moto: why each event earned nothing, and what counting it
costs (no request for a scored event, at most one write per line of a delivery, a report that reads
one Query per day and never Scans)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain import Identities, LeadEvent
from chalicelib.domain.unscored import unscored_reason
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.memory import InMemoryStorage
from tests.conftest import TABLE
from tests.helpers import NOW, default_rules, event, page, track, use_cases

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)


def service(storage=None) -> Any:
    return use_cases(storage or DynamoStorage(TABLE))


def delivery(*events: LeadEvent) -> ParsedDelivery:
    return ParsedDelivery(events=list(events))


@pytest.mark.parametrize(
    ("made", "reason"),
    [
        (event("Report Exported"), "unmapped_name"),
        (event("Video Playback Paused"), "recorded_only"),
        (event("email_sent", message_id="m1"), "recorded_only"),
        (page("/about"), "no_rule_matched"),
        (page("/pricing", user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)"), "filtered:crawler"),
        (page("/pricing", user_agent=CHROME), None),
        (event("Signed In"), None),  # trial activity: counted towards its distinct days
        (event("profile_updated", profile={"email": "a@b.example"}), None),  # who, not what
        (event("alias"), None),
    ],
)
def test_why_an_event_earns_nothing(made: LeadEvent, reason: str | None) -> None:
    assert unscored_reason(made, default_rules()) == reason


def test_a_type_without_rule_that_is_not_recorded_only_is_no_rule() -> None:
    from tests.helpers import rules_with

    rules = default_rules().model_dump(mode="json", by_alias=True)["engagement"]
    rules["recorded_only"] = [name for name in rules["recorded_only"] if name != "trial_ended"]
    assert unscored_reason(event("Trial Ended"), rules_with(engagement=rules)) == "no_rule"


def test_speed_limited_events_are_reported_by_name() -> None:
    svc = service(InMemoryStorage())
    views = [
        page("/pricing", timedelta(seconds=1 + n % 50), event_id=f"p{n}").model_copy(
            update={"identities": Identities(user_id="fast")}
        )
        for n in range(70)
    ]
    outcome = svc.ingestion.ingest(delivery(*views), NOW)
    reasons = {key.reason: 0 for key, _ in outcome.unscored}
    for key, _ in outcome.unscored:
        reasons[key.reason] += 1
    assert reasons == {"filtered:too_fast": 10}  # 60 a minute count, the rest is no person
    lines = svc.reports.unscored_report(NOW)["unscored"]
    assert [(line["name"], line["reason"], line["count"]) for line in lines] == [("page_view", "filtered:too_fast", 10)]


def test_a_scored_event_costs_no_extra_request(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(track("e0", "Email Opened", user_id="u1")), NOW)
    aws.reset()
    svc.ingestion.ingest(delivery(track("e1", "Demo Requested", user_id="u1")), NOW)
    assert "UpdateItem" not in aws.calls, aws.calls
    aws.reset()
    svc.ingestion.ingest(delivery(track("e2", "Demo Requested", user_id="brand-new")), NOW)
    assert aws.calls == ["BatchGetItem", "TransactWriteItems"], aws.calls


def test_an_unscored_event_costs_one_write_and_a_delivery_one_per_line(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(track("e0", "Email Opened", user_id="u1")), NOW)
    aws.reset()
    svc.ingestion.ingest(delivery(track("e1", "Report Exported", user_id="u1")), NOW)
    scored = service()
    scored.ingestion.ingest(delivery(track("s0", "Email Opened", user_id="u2")), NOW)
    assert aws.calls.count("UpdateItem") == 1, aws.calls
    aws.reset()
    many = [track(f"m{n}", "Report Exported", timedelta(minutes=n), user_id=f"u{n % 7}") for n in range(300)]
    svc.ingestion.ingest(delivery(*many), NOW)
    assert aws.calls.count("UpdateItem") == 1, aws.calls  # 300 events of one name, one line
    line = next(line for line in svc.reports.unscored_report(NOW)["unscored"] if line["name"] == "Report Exported")
    assert line["count"] == 301
    assert line["first_seen"] == line["last_seen"] == "2026-11-22T12:00:00Z"


def test_a_redelivery_is_not_counted_again(aws) -> None:
    svc = service()
    sent = [track(f"r{n}", "Report Exported", user_id="u1") for n in range(3)]
    svc.ingestion.ingest(delivery(*sent), NOW)
    svc.ingestion.ingest(delivery(*sent), NOW + timedelta(minutes=5))
    (line,) = svc.reports.unscored_report(NOW + timedelta(minutes=5))["unscored"]
    assert line["count"] == 3


def test_the_report_reads_one_query_a_shard_a_day_and_never_scans(aws) -> None:
    """The day's counters are spread over shards by lead (storage/dynamodb/counts.py): a name's
    shards add up to one line."""
    from chalicelib.storage.schema import SHARDS

    svc = service()
    for day in range(40):
        at = NOW - timedelta(days=day)
        for user in ("u1", "u2", "u3"):  # three leads: three shards of the same names, most days
            svc.ingestion.ingest(delivery(track(f"d{day}{user}", "Report Exported", timedelta(0), user_id=user)), at)
        svc.ingestion.ingest(delivery(track(f"v{day}", "Video Playback Paused", timedelta(0), user_id="u1")), at)
    aws.reset()
    report = svc.reports.unscored_report(NOW, days=30)
    assert aws.calls == ["Query"] * 30 * SHARDS["unscored"], aws.calls
    counts = {line["name"]: line["count"] for line in report["unscored"]}
    assert counts == {"Report Exported": 90, "Video Playback Paused": 30}
    line = report["unscored"][0]
    assert (line["first_seen"], line["last_seen"]) == ("2026-10-24T12:00:00Z", "2026-11-22T12:00:00Z")
    assert (report["since"], report["until"]) == ("2026-10-24", "2026-11-22")


def test_a_failed_count_does_not_fail_the_delivery(aws) -> None:
    import boto3

    def throttled(**_: object) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb.UpdateItem", throttled)
    try:
        outcome = service().ingestion.ingest(delivery(track("f1", "Report Exported", user_id="u1")), NOW)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.dynamodb.UpdateItem", throttled)
    assert outcome.accepted == 1
    assert service().lead_views.find_lead_id("user:u1") is not None
