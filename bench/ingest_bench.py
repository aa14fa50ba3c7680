"""DynamoDB requests per ingested event (moto, counted through botocore's before-call hook)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from chalicelib.bootstrap import Container
from chalicelib.domain import Identities, LeadEvent
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.settings import Settings
from chalicelib.storage.schema import create_table

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
TABLE = "leadscore-bench"


def _event(event_id: str, user: str, minutes: int, kind: str = "Email Opened") -> LeadEvent:
    return LeadEvent(
        event_id=event_id,
        source="segment",
        type=kind,
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
        service = Container(Settings(table_name=TABLE), queue=None)
        service.ingestion.ingest(ParsedDelivery(events=[_event("warm-up", "known", 1)]), NOW)

        figures = []
        for label, events in (
            ("single event, new lead", [_event("n1", "new", 1)]),
            ("single event, known lead", [_event("k1", "known", 0)]),  # newer than the warm-up: folded
            ("HubSpot-size batch: 100 events, 10 leads", [_event(f"b{n}", f"u{n % 10}", n) for n in range(100)]),
            ("redelivery of that batch (all duplicates)", [_event(f"b{n}", f"u{n % 10}", n) for n in range(100)]),
        ):
            calls.clear()
            service.ingestion.ingest(ParsedDelivery(events=events), NOW)
            figures.append((label, len(calls), len(calls) / len(events)))
        unscored = _unscored_costs(service, calls)
    print("\nDynamoDB requests per ingested event (targets: <= 4 single, <= 2 per event in a batch)")
    for label, total, per_event in figures:
        print(f"  {label:<44} {total:>4} requests  {per_event:>5.2f} per event")
    print("\nUnscored-events report (targets: 0 extra requests for a scored event, <= 1 write per unscored one")
    print("and 1 per name in a delivery; the report: one Query a day, O(names x days) items, no Scan)")
    for label, figure in unscored:
        print(f"  {label:<58} {figure}")


def _unscored_costs(service: Any, calls: list[str]) -> list[tuple[str, str]]:
    figures = []
    for label, events in (
        ("scored event, known lead: extra writes", [_event("s1", "known", 1, "Demo Requested")]),
        ("unscored event, known lead: extra writes", [_event("x1", "known", 1, "Report Exported")]),
        (
            "batch of 300 unscored events, 3 names, 10 leads: writes",
            [_event(f"x{n}", f"u{n % 10}", n, f"Report {n % 3}") for n in range(300)],
        ),
    ):
        calls.clear()
        service.ingestion.ingest(ParsedDelivery(events=events), NOW)
        figures.append((label, f"{calls.count('UpdateItem')} UpdateItem"))
    names = 50
    for day in range(30):
        at = NOW - timedelta(days=day)
        batch = [_event(f"d{day}-{n}", f"u{n % 10}", 0, f"Custom Event {n}") for n in range(names)]
        service.ingestion.ingest(ParsedDelivery(events=batch), at)
    calls.clear()
    started = time.perf_counter()
    report = service.reports.unscored_report(NOW, 30)
    elapsed = (time.perf_counter() - started) * 1000
    figures.append(
        (
            f"report, 30 days, {len(report['unscored'])} names",
            f"{calls.count('Query')} Query, {calls.count('Scan')} Scan, {elapsed:.0f} ms (moto)",
        )
    )
    return figures
