"""Day-one import figures: HubSpot calls to import 10,000 contacts and write their scores back,
the wall time that implies under HubSpot's rate limit, and DynamoDB requests per imported
contact. The portal is the tests' HubSpot stand-in (a real local HTTP server)."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws
from pytest_httpserver import HTTPServer

from bench.workload import fake_aws_credentials
from chalicelib.bootstrap import Container
from chalicelib.crm.http_client import JsonClient
from chalicelib.crm.hubspot.contacts import HubSpotContacts
from chalicelib.crm.hubspot.writer import HubSpotWriter
from chalicelib.service_layer.messages import ReceivedTask, Task, WriteBack
from chalicelib.settings import Settings
from chalicelib.storage.memory import InMemoryStorage
from chalicelib.storage.schema import create_table
from tests.e2e.test_crm_import import portal_contacts
from tests.integration.crm_fakes import FakeHubSpotPortal

CONTACTS = 10_000
TABLE = "leadscore-import-bench"
LAMBDA_BATCH = 1000  # the write-back consumer's SQS batch


class Outbox:
    """The write-back queue as a list: what the import queues, handed to the consumer in batches."""

    def __init__(self) -> None:
        self.messages: list[Task] = []

    def send(self, messages: Any) -> None:
        self.messages += list(messages)


class NoWait:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _portal(count: int) -> tuple[HTTPServer, FakeHubSpotPortal]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    return server, FakeHubSpotPortal(server, portal_contacts(count, active=count * 3 // 10))


def _container(server: HTTPServer, storage: Any = None, **parts: Any) -> Container:
    settings = Settings(hubspot_access_token="pat-bench", hubspot_api_base=server.url_for(""), table_name=TABLE)
    extra = {"storage": storage} if storage is not None else {}
    return Container(settings, **extra, **parts)


def hubspot_calls(count: int = CONTACTS) -> dict[str, Any]:
    server, portal = _portal(count)
    try:
        outbox = Outbox()
        parts = _container(server, InMemoryStorage(), queue=outbox)
        reader = parts.record_readers["hubspot"]
        assert isinstance(reader, HubSpotContacts)
        paced = NoWait()  # the limiter's clock: the time it would have waited, without waiting
        reader.calls.limit.clock, reader.calls.limit.sleep = paced.clock, paced.sleep
        started = time.perf_counter()
        reader.total(None)
        report = parts.crm_import.run(reader, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        writer = HubSpotWriter(JsonClient(server.url_for(""), "pat-bench"))
        service = _container(server, parts.storage, queue=outbox, writers=[writer]).task_handler
        queued = [message for message in outbox.messages if isinstance(message, WriteBack)]
        for start in range(0, len(outbox.messages), LAMBDA_BATCH):
            batch = [
                ReceivedTask(f"m{start + offset}", "r", message.to_json(), 1)
                for offset, message in enumerate(outbox.messages[start : start + LAMBDA_BATCH])
            ]
            service.handle(batch, datetime.now(UTC))
        calls = Counter(portal.calls)
        return {
            "records": report.records,
            "pages": calls["/crm/v3/objects/contacts"],
            "search": calls["/crm/v3/objects/contacts/search"],
            "updates": calls["/crm/v3/objects/contacts/batch/update"],
            "total": sum(calls.values()),
            "queued": len(queued),
            "elapsed": elapsed,
        }
    finally:
        server.stop()


def dynamodb_requests_per_contact(count: int = 200) -> tuple[float, float]:
    """On moto (its transactions copy the table, so a small portal): first import, then a rerun."""
    server, _ = _portal(count)
    try:
        fake_aws_credentials()
        with mock_aws():
            boto3.setup_default_session()
            create_table(boto3.client("dynamodb"), TABLE)
            calls: list[str] = []
            boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", lambda **_: calls.append("x"))
            parts = _container(server, queue=Outbox())
            reader = parts.record_readers["hubspot"]
            parts.crm_import.run(reader, datetime.now(UTC))
            first = len(calls) / count
            calls.clear()
            parts.crm_import.run(reader, datetime.now(UTC), restart=True)
            return first, len(calls) / count
    finally:
        server.stop()


def run() -> None:
    print("\n== Day-one import (HubSpot)")
    figures = hubspot_calls()
    # A rolling 10-second window: the first `limit` calls go at once, each further `limit` waits 10 s.
    implied = {limit: (math.ceil(figures["total"] / limit) - 1) * 10 for limit in (100, 190)}
    print(
        f"HubSpot calls to import {figures['records']:,} contacts and write them back: {figures['total']} "
        f"({figures['pages']} pages + {figures['search']} count + {figures['updates']} batch updates)  target <= 220"
    )
    print(
        f"  wall time that implies: about {implied[100]} s at 100 requests / 10 s (Free, Starter), "
        f"{implied[190]} s at 190 (Professional), plus the calls themselves; "
        f"here, against a local portal: {figures['elapsed']:.1f} s for the import"
    )
    first, rerun = dynamodb_requests_per_contact()
    print(f"DynamoDB requests per imported contact: {first:.2f} (a rerun: {rerun:.2f})  target <= 2")
