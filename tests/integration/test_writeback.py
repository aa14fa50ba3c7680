"""Write-back through the queue to HubSpot and Salesforce stand-ins over real HTTP: batching,
rate limits, server errors, timeouts, partial failures, token refresh, dead letters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from tests.conftest import use_container
from tests.integration.crm_fakes import FakeHubSpot, FakeSalesforce, Worker

NOW = datetime.now(UTC)


def event(event_id: str, kind: str = "Demo Requested", **identities: str) -> LeadEvent:
    return LeadEvent(
        event_id=event_id,
        source="segment",
        type=kind,
        occurred_at=NOW - timedelta(minutes=5),
        identities=Identities(**identities),
    )


DEMO_REASON = f"Requested a demo on {NOW - timedelta(minutes=5):%b} {(NOW - timedelta(minutes=5)).day} +50"


def ingest(*events: LeadEvent) -> None:
    container().ingestion.ingest(ParsedDelivery(events=list(events)), NOW)


@pytest.fixture
def hubspot(aws, httpserver, monkeypatch) -> FakeHubSpot:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container()
    fake = FakeHubSpot(httpserver)
    container().writers[0].client.read_timeout = 0.5
    return fake


def test_a_visible_change_is_written_to_hubspot_through_the_queue(hubspot) -> None:
    hubspot.add("101")
    ingest(event("e1", hubspot_id="101"))
    assert hubspot.calls == []  # nothing inside the webhook request
    report = Worker().poll()
    assert report.written == [container().lead_views.find_lead_id("hubspot:101")]
    assert hubspot.contacts["101"] == {
        "lead_score": "50",
        "lead_score_fit": "0",
        "lead_score_engagement": "50.0",
        "lead_tier": "warm",
        "lead_grade": "D",
        "lead_tier_changed_at": hubspot.contacts["101"]["lead_tier_changed_at"],
        "lead_score_reasons": DEMO_REASON,  # what, and when
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", hubspot.contacts["101"]["lead_tier_changed_at"])
    lead = container().lead_views.lead("hubspot:101", NOW)
    assert lead["write_back"]["pending_since"] is None
    last = lead["write_back"]["last"]
    assert (last["score"], last["tier"], last["grade"], last["statuses"]) == (50, "warm", "D", {"hubspot": "written"})
    assert last["at"].endswith("Z")


def test_with_a_calibration_the_likelihood_travels_in_the_same_batch_call(hubspot) -> None:
    from chalicelib.domain.rules_yaml import parse_rules
    from chalicelib.rules import DEFAULT_RULES_PATH

    calibrated = DEFAULT_RULES_PATH.read_text() + "\ncalibration: {intercept: -2.0, slope: 0.04, fitted_on: 500}\n"
    rules = parse_rules(calibrated, "calibrated.yaml")
    use_container(rules=lambda: rules)
    hubspot.add("111")
    ingest(event("c1", hubspot_id="111"))  # a demo request: 50 points, 1 / (1 + e^-(-2 + 0.04 × 50)) = 0.5

    Worker().poll()

    assert len(hubspot.calls) == 1
    assert hubspot.contacts["111"]["lead_score_likelihood"] == "0.5000"
    assert container().lead_views.lead("hubspot:111", NOW)["card"]["likelihood"] == 0.5


def test_without_a_calibration_no_likelihood_is_written(hubspot) -> None:
    hubspot.add("112")
    ingest(event("c2", hubspot_id="112"))
    Worker().poll()
    assert "lead_score_likelihood" not in hubspot.contacts["112"]  # a portal without the property is fine


def test_a_lead_known_only_by_email_is_written_by_email(hubspot) -> None:
    hubspot.add("202", email="only@email.io")
    ingest(event("e1", email="only@email.io"))
    Worker().poll()
    assert hubspot.calls[0]["inputs"][0] == {
        "id": "only@email.io",
        "idProperty": "email",
        "properties": hubspot.calls[0]["inputs"][0]["properties"],
    }
    assert hubspot.contacts["202"]["lead_score"] == "50"


def test_many_changes_coalesce_per_lead_and_batch_by_100(hubspot) -> None:
    # (moto copies the table on every transaction, so these tests keep lead counts just past a batch)
    for n in range(120):
        hubspot.add(str(1000 + n))
    ingest(*[event(f"a{n}", hubspot_id=str(1000 + n)) for n in range(120)])
    ingest(*[event(f"b{n}", "Email Opened", hubspot_id=str(1000 + n)) for n in range(120)])  # a second change each
    worker = Worker()
    service, queue = worker.service, worker.queue
    messages = []
    while batch := queue.receive(max_messages=10, wait_seconds=0):
        messages += batch
    assert len(messages) == 240
    report = service.handle(messages, NOW)  # one Lambda invocation with a large batch
    assert len(report.written) == 120
    assert [len(call["inputs"]) for call in hubspot.calls] == [100, 20]
    assert all(contact["lead_score"] == "55" for contact in hubspot.contacts.values())


@pytest.mark.parametrize(
    ("failure", "expected_delay"),
    [("429", (10, 10)), ("500", (2.5, 5)), ("timeout", (2.5, 5))],
)
def test_transient_failures_are_retried_later_and_then_written(hubspot, failure, expected_delay) -> None:
    hubspot.add("303")
    hubspot.failures.append(failure)
    ingest(event("e1", hubspot_id="303"))
    worker = Worker()
    report = worker.poll()
    assert report.written == [] and len(report.failed_message_ids) == 1
    ((_, delay),) = worker.delays
    assert expected_delay[0] <= delay <= expected_delay[1]
    assert "lead_score" not in hubspot.contacts["303"]
    state = container().lead_views.lead("hubspot:303", NOW)["write_back"]
    assert state["pending_since"] and state["last"] is None
    attempt = state["last_failed_attempt"]
    assert attempt["statuses"] == {"hubspot": "retry"} and attempt["reasons"]["hubspot"]  # what failed, and why
    worker.release()
    assert worker.poll().written
    assert hubspot.contacts["303"]["lead_score"] == "50"
    state = container().lead_views.lead("hubspot:303", NOW)["write_back"]
    assert state["last_failed_attempt"] is None and state["last"]["statuses"] == {"hubspot": "written"}


def test_backoff_grows_with_each_delivery() -> None:
    from chalicelib.service_layer.task_report import backoff_seconds

    ceilings = [backoff_seconds(count, lambda low, high: high) for count in range(1, 12)]
    assert ceilings[:4] == [5, 10, 20, 40]
    assert ceilings[-1] == 900
    assert backoff_seconds(3, lambda low, high: low) == 10  # jitter stays within [half, full]


def test_the_daily_limit_waits_for_the_reset_and_stops_further_calls(hubspot) -> None:
    for n in range(110):
        hubspot.add(str(400 + n))
    hubspot.failures.append("429-daily")
    ingest(*[event(f"d{n}", hubspot_id=str(400 + n)) for n in range(110)])
    worker = Worker()
    (writer,) = worker.service.write_backs.writers
    writer.clock = lambda: datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # time injected: 10 h before the reset
    messages = []
    while batch := worker.queue.receive(max_messages=10, wait_seconds=0):
        messages += batch
    report = worker.service.handle(messages, NOW)
    assert len(hubspot.calls) == 1  # the second batch is not even attempted
    assert len(report.failed_message_ids) == 110
    assert all(delay == 10 * 3600 + 300 for _, delay in worker.delays)  # next UTC midnight, with a margin


def test_partial_failures_are_settled_record_by_record(hubspot) -> None:
    hubspot.add("501")
    hubspot.add("503")
    ingest(event("e1", hubspot_id="501"), event("e2", hubspot_id="502"), event("e3", hubspot_id="503"))
    hubspot.invalid_properties = {"lead_tier"}
    hubspot.failures.extend(["ok"])
    worker = Worker()
    hubspot.contacts["503"]["broken"] = "yes"
    hubspot.invalid_properties = set()
    report = worker.poll()
    assert len(report.written) == 3  # 501 and 503 written, 502 not in the CRM: nothing to write, not an error
    assert hubspot.contacts["501"]["lead_score"] == "50"
    assert worker.dead_letters() == []


def test_a_permanent_error_goes_to_the_dead_letter_queue_with_its_reason(hubspot) -> None:
    hubspot.add("601")
    hubspot.add("602")
    hubspot.invalid_properties = {"lead_grade"}
    ingest(event("e1", hubspot_id="601"))
    worker = Worker()
    report = worker.poll()
    assert list(report.dead_lettered.values()) == ["VALIDATION_ERROR: "]
    (dead,) = worker.dead_letters()
    assert dead["lead_id"] == container().lead_views.find_lead_id("hubspot:601")
    assert dead["failure"].startswith("VALIDATION_ERROR")
    assert worker.queue_depth() == 0  # acknowledged: never retried for ever
    last = container().lead_views.lead("hubspot:601", NOW)["write_back"]["last"]
    assert last["statuses"] == {"hubspot": "permanent"} and last["reasons"]["hubspot"].startswith("VALIDATION_ERROR")


def test_a_whole_batch_rejected_is_split_to_find_the_bad_record(hubspot) -> None:
    for contact in ("701", "702", "703", "704"):
        hubspot.add(contact)
    ingest(*[event(f"e{n}", hubspot_id=contact) for n, contact in enumerate(("701", "702", "703", "704"))])
    hubspot.failures.extend(["400", "ok", "ok", "ok", "ok", "ok"])
    del hubspot.contacts["703"]  # the bad input: HubSpot rejects the whole batch for it
    report = Worker().poll()
    assert len(report.written) == 4
    assert all(hubspot.contacts[contact]["lead_score"] == "50" for contact in ("701", "702", "704"))


def test_salesforce_composite_with_token_refresh_and_lookup_by_email(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", httpserver.url_for(""))
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", "client-id")
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "expired-token")
    use_container()
    salesforce = FakeSalesforce(httpserver)
    salesforce.add("00Q000000000001AAA", "sf@lead.io")
    salesforce.add("0030000000000002AA", "contact@acme.io")
    salesforce.add("00Q000000000003AAA", "locked@lead.io")
    salesforce.locked.add("00Q000000000003AAA")
    ingest(
        event("e1", salesforce_id="00Q000000000001AAA"),
        event("e2", email="contact@acme.io"),
        event("e3", salesforce_id="00Q000000000003AAA"),
    )
    worker = Worker()
    report = worker.poll()
    assert salesforce.token_requests == 1  # INVALID_SESSION_ID: refreshed once
    assert salesforce.records["00Q000000000001AAA"]["Lead_Score__c"] == 50
    assert salesforce.records["00Q000000000001AAA"]["Lead_Score_Reasons__c"] == DEMO_REASON
    assert salesforce.records["0030000000000002AA"]["Lead_Tier__c"] == "warm"
    record = salesforce.calls[-1]["records"]
    assert {item["attributes"]["type"] for item in record} == {"Lead", "Contact"}
    assert len(report.written) == 2 and len(report.retried) == 1  # UNABLE_TO_LOCK_ROW: later
    lead = container().lead_views.lead("email:contact@acme.io", NOW)
    assert "salesforce:0030000000000002AA" in lead["identities"]  # found by email once, remembered
    salesforce.locked.clear()
    worker.release()
    assert worker.poll().written
    assert salesforce.records["00Q000000000003AAA"]["Lead_Grade__c"] == "D"


def test_tier_changes_are_recorded_and_mql_transitions_notify(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/hooks/slack"))
    use_container()
    httpserver.expect_request("/hooks/slack", method="POST").respond_with_data("ok")
    ingest(event("e1", user_id="u-1"))  # 50: warm
    ingest(event("e2", "Quote Requested", user_id="u-1"))  # 80: hot, enters MQL
    Worker().poll()
    notifications = [request.get_json() for request, _ in httpserver.log]
    assert [(note["lead"]["from_tier"], note["lead"]["tier"], note["event"]) for note in notifications] == [
        ("warm", "hot", "lead.entered_mql")
    ]
    assert notifications[0]["lead"]["score"] == 80 and "Requested a demo" in notifications[0]["reasons"][0]
    changes = container().lead_views.lead("user:u-1", NOW)["tier_changes"]
    assert [(change["from"], change["to"], change["score"]) for change in changes] == [
        ("warm", "hot", 80),
        (None, "warm", 50),
    ]


def test_a_new_lead_entering_mql_is_announced_as_new(aws, httpserver, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URL", httpserver.url_for("/hooks/slack"))
    use_container()
    httpserver.expect_request("/hooks/slack", method="POST").respond_with_data("ok")
    ingest(event("n1", user_id="u-new"), event("n2", "Quote Requested", user_id="u-new"))  # 80 at once: hot
    Worker().poll()
    (note,) = [request.get_json() for request, _ in httpserver.log]
    assert note["lead"]["from_tier"] is None and note["text"].endswith(" is now hot: score 80")
    assert "None" not in note["text"]


def test_without_crm_credentials_write_backs_are_a_dry_run(aws) -> None:
    ingest(event("e1", user_id="u-dry"))
    report = Worker().poll()
    assert len(report.written) == 1
    lead = container().lead_views.lead("user:u-dry", NOW)
    assert lead["write_back"]["last"]["statuses"] == {"dry-run": "written"}


def test_a_named_score_travels_in_the_same_batch_call_as_the_main_score(hubspot) -> None:
    from chalicelib.domain.rules_yaml import parse_rules
    from chalicelib.rules import DEFAULT_RULES_PATH
    from tests.helpers import ANALYTICS_SCORE

    rules = parse_rules(DEFAULT_RULES_PATH.read_text() + ANALYTICS_SCORE, "named.yaml")
    use_container(rules=lambda: rules)
    hubspot.add("121")

    def visit(event_id: str, path: str) -> LeadEvent:
        at, url = NOW - timedelta(minutes=5), f"https://acme.example{path}"
        return LeadEvent(event_id=event_id, source="segment", type="Page Viewed", occurred_at=at,
                         identities=Identities(hubspot_id="121"), properties={"url": url})  # fmt: skip

    ingest(visit("v1", "/analytics/pricing"), event("d2", hubspot_id="121"))
    Worker().poll()
    assert len(hubspot.calls) == 1  # one batch call carries both
    written = hubspot.contacts["121"]
    # The section's pricing page is its own score's (20); the main score's is the demo (50).
    assert written["lead_score_analytics"] == "20" and written["lead_score"] == "50"

    # Only the named score moves (another analytics page): that is a visible change, written.
    ingest(visit("v2", "/analytics/docs/x"))
    Worker().poll()
    assert len(hubspot.calls) == 2 and hubspot.contacts["121"]["lead_score_analytics"] == "45"  # docs: 25 more
    assert hubspot.contacts["121"]["lead_score"] == "50"
    lead = container().lead_views.lead("hubspot:121", NOW)
    assert [(item["name"], item["score"]) for item in lead["card"]["named"]] == [("product_analytics", 45)]
