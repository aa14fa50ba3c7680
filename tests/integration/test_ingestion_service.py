"""The service and the DynamoDB storage adapter against moto: idempotency, optimistic locking,
identity races, TTL on read, DynamoDB's batch limits, and how many requests an event costs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain import Identities, LeadEvent
from chalicelib.rules import rules_loader
from chalicelib.service_layer.commands import Deletion, ParsedDelivery
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.ports import StoredEvent
from tests.conftest import TABLE
from tests.helpers import NOW, track, use_cases


def service() -> Any:
    return use_cases(DynamoStorage(TABLE))


def delivery(*events: LeadEvent) -> ParsedDelivery:
    return ParsedDelivery(events=list(events))


def card_of(svc: Any, key: str):
    lead_id = svc.lead_views.find_lead_id(key)
    assert lead_id, key
    return svc.storage.leads.get_lead(lead_id).card


def test_a_single_event_costs_at_most_four_dynamodb_requests(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(track("e0", "Email Opened", user_id="u1")), NOW)  # the lead exists from here on
    aws.reset()
    outcome = svc.ingestion.ingest(delivery(track("e1", "Demo Requested", user_id="u1")), NOW)
    assert outcome.accepted == 1
    assert aws.count <= 4, aws.calls
    aws.reset()
    svc.ingestion.ingest(delivery(track("e2", "Demo Requested", user_id="brand-new")), NOW)
    # a lead seen for the first time: resolve, then one transaction with its events and first card
    assert aws.calls == ["BatchGetItem", "TransactWriteItems"], aws.calls
    assert card_of(svc, "user:brand-new").engagement == 50


def test_a_batch_of_100_events_for_10_leads_rescores_each_lead_once(aws) -> None:
    svc = service()
    events = [track(f"b{n}", "Email Opened", timedelta(minutes=n), user_id=f"u{n % 10}") for n in range(100)]
    aws.reset()
    outcome = svc.ingestion.ingest(delivery(*events), NOW)
    assert outcome.accepted == 100
    assert sorted(len([r for r in outcome.rescored if r.lead_id == lead]) for lead in outcome.lead_ids) == [1] * 10
    # ten new leads: each scored from the events in hand, never read, and written together in as
    # few transactions as hold them (13 items a lead: 10 events, its claim, its card, its tier)
    assert aws.calls.count("Query") == 0 and aws.calls.count("TransactWriteItems") == 2, aws.calls
    assert aws.count / 100 <= 2, aws.calls
    assert card_of(svc, "user:u3").engagement == 10 * 5


def test_redelivery_is_never_double_counted(aws) -> None:
    svc = service()
    events = [track(f"r{n}", "Demo Requested", user_id="u1") for n in range(3)]
    svc.ingestion.ingest(delivery(*events), NOW)
    aws.reset()
    outcome = svc.ingestion.ingest(delivery(*events, track("r9", "Email Opened", user_id="u1")), NOW)
    assert (outcome.accepted, outcome.duplicates) == (1, 3)
    assert card_of(svc, "user:u1").engagement == 50 + 5


def test_more_than_a_transaction_of_events_for_one_lead(aws) -> None:
    svc = service()
    events = [track(f"t{n}", "Email Opened", timedelta(seconds=n), user_id="big") for n in range(250)]
    outcome = svc.ingestion.ingest(delivery(*events), NOW)
    assert outcome.accepted == 250
    stores = aws.calls[: aws.calls.index("Query")]
    assert stores.count("TransactWriteItems") == 3  # 100 + 100 + 51 (with the identity claim): the limit is 100
    record = svc.storage.leads.load(svc.lead_views.find_lead_id("user:big"), NOW)
    assert len(record.events) == 250


def test_a_duplicate_inside_a_chunk_does_not_block_the_rest(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(track("d5", "Email Opened", user_id="u")), NOW)
    outcome = svc.ingestion.ingest(delivery(*[track(f"d{n}", "Email Opened", user_id="u") for n in range(10)]), NOW)
    assert (outcome.accepted, outcome.duplicates) == (9, 1)


def test_two_concurrent_webhooks_for_one_lead_both_count(aws) -> None:
    """Optimistic locking: the writer that loses the race reads the lead again and folds into it."""
    svc = service()
    svc.ingestion.ingest(delivery(track("c0", "Email Opened", user_id="u")), NOW)
    repository = svc.storage.leads
    original_read = repository.get_leads
    interleaved = []

    def read_then_let_another_webhook_win(lead_ids, memory=()):
        records = original_read(lead_ids, memory)
        if not interleaved:
            interleaved.append(True)
            service().ingestion.ingest(delivery(track("c2", "Quote Requested", user_id="u")), NOW)  # saves first
        return records

    repository.get_leads = read_then_let_another_webhook_win
    svc.ingestion.ingest(delivery(track("c1", "Demo Requested", user_id="u")), NOW)
    assert card_of(svc, "user:u").engagement == 5 + 50 + 30


def test_two_concurrent_webhooks_both_count_when_one_is_rescored_from_the_events(aws) -> None:
    """A late email open cannot be folded (it may be the first open, worth more): the store and
    full rescore it takes instead loses the race the same way and still counts both."""
    svc = service()
    svc.ingestion.ingest(delivery(track("c0", "Email Opened", ago=timedelta(minutes=5), user_id="u")), NOW)
    repository = svc.storage.leads
    original_load = repository.load
    interleaved = []

    def load_then_let_another_webhook_win(lead_id, now):
        record = original_load(lead_id, now)
        if not interleaved:
            interleaved.append(True)
            service().ingestion.ingest(delivery(track("c2", "Quote Requested", user_id="u")), NOW)  # saves first
        return record

    repository.load = load_then_let_another_webhook_win
    svc.ingestion.ingest(delivery(track("c1", "Email Opened", ago=timedelta(hours=2), user_id="u")), NOW)
    assert interleaved, "the late open went through the full rescore"
    assert card_of(svc, "user:u").engagement == 5 + 5 + 30  # two emails opened, a quote requested


def test_an_event_stored_while_its_lead_is_merged_away_follows_the_merge(aws) -> None:
    """moto in-process is not thread-safe, so races are staged as deterministic interleavings."""
    svc = service()
    svc.ingestion.ingest(delivery(track("a1", "Email Opened", anonymous_id="anon-x")), NOW)
    svc.ingestion.ingest(delivery(track("b1", "Email Opened", email="x@acme.io")), NOW)
    anon_lead, email_lead = svc.lead_views.find_lead_id("anon:anon-x"), svc.lead_views.find_lead_id("email:x@acme.io")
    repository = svc.storage.events
    original_append = repository.append
    raced = []

    def merge_first(lead_id, events, claim_keys, change):
        if not raced:
            raced.append(True)  # an identify linking the two leads lands between our read and our write
            service().ingestion.ingest(
                delivery(track("link", "identify", anonymous_id="anon-x", email="x@acme.io")), NOW
            )
        return original_append(lead_id, events, claim_keys, change)

    repository.append = merge_first
    svc.ingestion.ingest(delivery(track("a2", "Demo Requested", anonymous_id="anon-x")), NOW)
    survivor = svc.lead_views.find_lead_id("anon:anon-x")
    assert raced and survivor == email_lead != anon_lead
    assert card_of(svc, "email:x@acme.io").engagement == 5 + 5 + 50


def test_a_key_claimed_by_a_concurrent_first_delivery_joins_that_lead(aws) -> None:
    svc = service()
    repository = svc.storage.events
    original_store = repository.store
    raced = []

    original_create = repository.create

    def someone_else_claims_first() -> None:
        if not raced:
            raced.append(True)
            service().ingestion.ingest(delivery(track("other", "Email Opened", email="new@acme.io")), NOW)

    def store_after_someone_else_claimed(lead_id, events, claim_keys):
        someone_else_claims_first()
        return original_store(lead_id, events, claim_keys)

    def create_after_someone_else_claimed(lead_id, events, claim_keys, change):
        someone_else_claims_first()
        return original_create(lead_id, events, claim_keys, change)

    repository.store = store_after_someone_else_claimed
    repository.create = create_after_someone_else_claimed  # a new lead's first write is create()
    svc.ingestion.ingest(delivery(track("mine", "Demo Requested", email="new@acme.io")), NOW)
    lead_ids = {item["lead_id"]["S"] for item in _items() if item["pk"]["S"].startswith("ID#")}
    assert len(lead_ids) == 1
    assert card_of(svc, "email:new@acme.io").engagement == 55


def test_events_past_their_ttl_are_ignored_on_read(aws) -> None:
    """moto (like DynamoDB for days) keeps expired items: the repository must filter them."""
    svc = service()
    old = track("old", "Email Opened", timedelta(days=400), user_id="u")
    svc.ingestion.ingest(delivery(old, track("new", "Email Opened", user_id="u")), NOW)
    assert len([item for item in _items() if item["sk"]["S"].startswith("EVT#")]) == 2
    record = svc.storage.leads.load(svc.lead_views.find_lead_id("user:u"), NOW)
    assert [event.event_id for event in record.events] == ["new"]


def test_negative_events_and_profiles_never_expire(aws) -> None:
    repository = DynamoStorage(TABLE)
    rules = rules_loader()()
    from chalicelib.domain.retention import expires_at

    unsubscribe = track("u", "Unsubscribed", timedelta(days=400))
    assert expires_at(unsubscribe, rules) is None
    opened = track("o", "Email Opened", timedelta(days=1))
    assert expires_at(opened, rules) == opened.occurred_at + timedelta(days=90 + 30)
    repository.events.store("ld_00000000000000000000", [StoredEvent(unsubscribe, None)], [])
    assert "ttl" not in _items()[0]


def test_deleting_a_lead_with_many_items_respects_batch_limits(aws) -> None:
    svc = service()
    svc.ingestion.ingest(
        delivery(*[track(f"x{n}", "Email Opened", user_id="doomed", email="d@x.io") for n in range(60)]), NOW
    )
    outcome = svc.ingestion.ingest(ParsedDelivery(deletions=[Deletion(Identities(email="d@x.io"), "privacy")]), NOW)
    assert outcome.deleted == 1
    assert _items() == []
    assert aws.calls.count("BatchWriteItem") >= 3  # 60 events + lead + 2 identities in chunks of 25


def test_identify_merges_two_existing_leads(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(track("a1", "Demo Requested", anonymous_id="anon-1")), NOW)
    svc.ingestion.ingest(delivery(track("b1", "Email Opened", email="m@acme.io")), NOW)
    assert svc.lead_views.find_lead_id("anon:anon-1") != svc.lead_views.find_lead_id("email:m@acme.io")
    svc.ingestion.ingest(
        delivery(track("link", "identify", anonymous_id="anon-1", email="m@acme.io", user_id="u-m")), NOW
    )
    survivor = svc.lead_views.find_lead_id("email:m@acme.io")
    assert svc.lead_views.find_lead_id("anon:anon-1") == survivor == svc.lead_views.find_lead_id("user:u-m")
    assert card_of(svc, "user:u-m").engagement == 55
    merged = {item["pk"]["S"]: item for item in _items() if item["pk"]["S"].startswith("LEAD#")}
    (tombstone,) = [item for pk, item in merged.items() if pk != f"LEAD#{survivor}"]
    assert tombstone["sk"]["S"] == "LEAD" and tombstone["merged_into"]["S"] == survivor  # a forwarding address only
    assert json_body_lead(svc, "anon:anon-1") == survivor


def test_storage_failure_is_a_503_so_the_sender_retries(client) -> None:
    """DynamoDB throttles the read (answered through botocore, as AWS answers): the adapter's
    StorageUnavailable becomes a 503 with Retry-After, and nothing is stored."""
    from types import SimpleNamespace

    from tests import signing

    def throttled(**_: object) -> tuple[object, dict]:
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
        return SimpleNamespace(status_code=400, headers={}), {"Error": error, "ResponseMetadata": {}}

    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb.BatchGetItem", throttled)
    body = signing.json_dumps({"userId": "u", "event": "Demo Requested", "messageId": "m"})
    response = client.http.post("/v1/track", body=body, headers=signing.basic())
    boto3.DEFAULT_SESSION.events.unregister("before-call.dynamodb.BatchGetItem", throttled)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert json.loads(response.body)["error"] == "storage_unavailable"
    assert _items() == []


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
def test_a_body_over_one_mebibyte_is_413(client, size: int) -> None:
    from tests import signing

    body = '{"batch": [], "padding": "' + "x" * size + '"}'
    assert client.http.post("/v1/batch", body=body, headers=signing.basic()).status_code == 413
    assert _items() == []


def json_body_lead(svc: Any, key: str) -> str:
    return svc.lead_views.lead(key, NOW)["lead_id"]


def _items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def test_the_report_reads_every_lead_across_scan_pages_and_nothing_else(aws) -> None:
    svc = service()
    svc.ingestion.ingest(delivery(*(track(f"e{n}", "Demo Requested", user_id=f"u{n}") for n in range(5))), NOW)

    rows = list(svc.storage.listing.report_rows(page_size=2))  # several pages, each with events mixed in

    assert len(rows) == 5 and len({row["lead_id"] for row in rows}) == 5
    assert all(row["tier"] and row["outcome"] is None for row in rows)
    assert svc.reports.tier_report()["leads"] == 5


def test_a_delivery_naming_more_new_identities_than_a_transaction_holds_still_counts(aws) -> None:
    """60 anonymous ids joining a known user: too many claims to fold in one transaction, so the
    events are stored (claims in parts) and the lead rescored."""
    svc = service()
    svc.ingestion.ingest(delivery(track("k0", "Demo Requested", user_id="many")), NOW)
    events = [track(f"k{n}", "Email Opened", user_id="many", anonymous_id=f"a-{n}") for n in range(1, 61)]
    outcome = svc.ingestion.ingest(delivery(*events), NOW)
    assert outcome.accepted == 60
    assert svc.lead_views.find_lead_id("anon:a-60") == svc.lead_views.find_lead_id("user:many")
    assert card_of(svc, "user:many").engagement == 50 + 60 * 5


def test_a_redelivery_after_a_failed_rescore_brings_the_card_up_to_date(aws) -> None:
    """An attempt stored events apart from the card (the lead marked for a rescore) and failed
    before its rescore (a lead so busy it kept changing, a timeout): the sender saw an error and
    delivers again. Every event is a duplicate then, and the card must still come to include them."""
    svc = service()
    svc.ingestion.ingest(delivery(track("w0", "Webinar Registered", user_id="busy")), NOW)
    lead_id = svc.lead_views.find_lead_id("user:busy")
    batch = [track(f"w{n}", "Content Downloaded", ago=timedelta(minutes=n), user_id="busy") for n in range(1, 4)]
    svc.storage.events.store(lead_id, [StoredEvent(event, None) for event in batch], [])  # the failed attempt
    assert [item.rule for item in card_of(svc, "user:busy").contributions] == ["webinar_registered"]
    again = svc.ingestion.ingest(delivery(*batch), NOW)
    assert (again.accepted, again.duplicates) == (0, 3)
    counts = {item.rule: item.count for item in card_of(svc, "user:busy").contributions}
    assert counts == {"webinar_registered": 1, "content_download": 3}


def test_a_lead_too_busy_to_rescore_is_a_503_and_the_redelivery_counts_it(client, monkeypatch) -> None:
    """Under contention the delivery's events are stored apart from the card and its rescore gives
    up: a 503 (never a 500), the sender delivers again, and that redelivery brings the card up."""
    import base64

    from chalicelib.bootstrap import container
    from chalicelib.errors import Contended
    from chalicelib.service_layer.lead_writes import Written
    from tests.conftest import SECRETS, admin_get, json_body

    key = base64.b64encode(f"{SECRETS['EVENTS_WRITE_KEY']}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {key}"}
    first = {"type": "track", "userId": "busy", "event": "Webinar Registered", "messageId": "b0"}
    assert client.http.post("/v1/track", headers=headers, body=json.dumps(first)).status_code == 200
    later = {"batch": [{"type": "track", "userId": "busy", "event": "Content Downloaded", "messageId": "b1"}]}
    parts = container()
    rescore = parts.rescorer.rescore

    def contended(*args: Any, **kwargs: Any) -> Any:
        raise Contended("lead kept changing while it was being rescored")

    def unfoldable(lead_id: str, members: list[Any], *rest: Any) -> Any:
        return Written(lead_id), members  # as when the lead changed under every fold attempt

    monkeypatch.setattr(parts.ingestion.writes, "fold", unfoldable)
    monkeypatch.setattr(parts.rescorer, "rescore", contended)
    refused = client.http.post("/v1/batch", headers=headers, body=json.dumps(later))
    assert refused.status_code == 503 and json_body(refused)["code"] == "busy" and refused.headers["Retry-After"]
    monkeypatch.setattr(parts.rescorer, "rescore", rescore)
    again = client.http.post("/v1/batch", headers=headers, body=json.dumps(later))
    assert again.status_code == 200 and json_body(again)["duplicates"] == 1
    rules = {item["rule"] for item in json_body(admin_get(client, "/leads/user:busy"))["card"]["contributions"]}
    assert rules == {"webinar_registered", "content_download"}
