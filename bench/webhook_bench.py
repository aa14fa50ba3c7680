"""How fast a webhook is acknowledged while the CRM is slow: HubSpot `contact.creation` deliveries
(contacts named without their properties) through the real HTTP path, with a HubSpot stand-in that
takes 2 s to answer. The contact read belongs to the queue consumer, so the webhook never waits
for it (target: p99 < 1 s; HubSpot wants an answer within 5 s and retries slow ones).

Storage is the in-memory port here and SQS is moto: moto's TransactWriteItems deep-copies the whole
table on every call, so on moto the figure would measure moto's table size, not the webhook."""

from __future__ import annotations

import statistics
import time
from typing import Any

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from bench.writeback_bench import CrmServer
from chalicelib import bootstrap
from chalicelib.settings import Settings
from chalicelib.storage.memory import InMemoryStorage
from chalicelib.task_queue import create_queues
from local.signing import Signer

DELIVERIES = 60
CRM_DELAY_SECONDS = 2.0
SECRET = "bench-client-secret"


def contacts_read(path: str, body: Any) -> Any:
    """A HubSpot contacts batch read: each id asked for comes back with an email and a title."""
    ids = [item["id"] for item in body.get("inputs", [])]
    return {"status": "COMPLETE", "results": [{"id": i, "properties": {"email": f"c{i}@initech.com"}} for i in ids]}


def run() -> None:
    from chalice.test import Client

    from app import app

    fake_aws_credentials()
    crm = CrmServer(contacts_read, delay=CRM_DELAY_SECONDS)
    with mock_aws():
        boto3.setup_default_session()
        create_queues(boto3.client("sqs"), "wb", "wb-dlq")
        settings = Settings(
            table_name="leadscore-bench",
            task_queue="wb",
            task_dlq="wb-dlq",
            hubspot_client_secret=SECRET,
            hubspot_access_token="bench-token",
            hubspot_api_base=crm.url,
        )
        parts = bootstrap.install(bootstrap.Container(settings, storage=InMemoryStorage()))
        assert parts is not None
        signer = Signer({"HUBSPOT_CLIENT_SECRET": SECRET}, "http://localhost")
        samples = []
        with Client(app, stage_name="local") as client:
            for number in range(DELIVERIES):
                events = [
                    {"eventId": number * 10 + n, "subscriptionType": "contact.creation", "portalId": 1,
                     "objectId": 5000 + number * 10 + n, "occurredAt": int(time.time() * 1000)}
                    for n in range(10)
                ]  # fmt: skip
                body, headers = signer.hubspot_v3("/webhooks/hubspot", events)
                started = time.perf_counter()
                response = client.http.post("/webhooks/hubspot", body=body, headers=headers)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.body
        during_webhooks = len(crm.calls)
        bootstrap.install(None)
    crm.stop()
    p50 = statistics.median(samples) * 1000
    p99 = statistics.quantiles(samples, n=100)[98] * 1000
    print(
        f"\nHubSpot webhook: {DELIVERIES} deliveries of 10 new contacts, the CRM answering in {CRM_DELAY_SECONDS:.0f} s"
    )
    print(f"  acknowledged in p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 < 1000 ms)")
    print(f"  CRM requests made inside webhooks: {during_webhooks} (target 0)")
