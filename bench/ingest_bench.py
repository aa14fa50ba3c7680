"""DynamoDB requests per ingested event (moto, counted through botocore's before-call hook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from chalicelib.bootstrap import Container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.settings import Settings
from chalicelib.sources.base import ParsedDelivery
from chalicelib.storage.schema import create_table

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
TABLE = "leadscore-bench"


def _event(event_id: str, user: str, minutes: int) -> LeadEvent:
    return LeadEvent(
        event_id=event_id,
        source="segment",
        type="Email Opened",
        occurred_at=NOW - timedelta(minutes=minutes),
        identities=Identities(user_id=user),
        properties={"message_id": event_id},
    )


def run() -> None:
    fake_aws_credentials()
    with mock_aws():
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), TABLE)
        calls: list[str] = []
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        service = Container(Settings(table_name=TABLE), queue=None).lead_service
        service.ingest(ParsedDelivery(events=[_event("warm-up", "known", 1)]), NOW)

        figures = []
        for label, events in (
            ("single event, new lead", [_event("n1", "new", 1)]),
            ("single event, known lead", [_event("k1", "known", 1)]),
            ("HubSpot-size batch: 100 events, 10 leads", [_event(f"b{n}", f"u{n % 10}", n) for n in range(100)]),
            ("redelivery of that batch (all duplicates)", [_event(f"b{n}", f"u{n % 10}", n) for n in range(100)]),
        ):
            calls.clear()
            service.ingest(ParsedDelivery(events=events), NOW)
            figures.append((label, len(calls), len(calls) / len(events)))
    print("\nDynamoDB requests per ingested event (targets: <= 4 single, <= 2 per event in a batch)")
    for label, total, per_event in figures:
        print(f"  {label:<44} {total:>4} requests  {per_event:>5.2f} per event")
