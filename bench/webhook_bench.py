"""How fast a webhook is acknowledged while the CRM is slow: HubSpot `contact.creation` deliveries
(contacts named without their properties) through the real HTTP path, with a HubSpot stand-in that
takes 2 s to answer. The contact read belongs to the queue consumer, so the webhook never waits
for it (target: p99 < 1 s; HubSpot wants an answer within 5 s and retries slow ones).

Storage is the in-memory port here and SQS is moto: moto's TransactWriteItems deep-copies the whole
table on every call, so on moto the figure would measure moto's table size, not the webhook."""

from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from chalicelib import bootstrap
from chalicelib.queue import create_queues
from chalicelib.settings import Settings
from chalicelib.storage.memory import InMemoryStorage
from local.signing import Signer

DELIVERIES = 60
CRM_DELAY_SECONDS = 2.0
SECRET = "bench-client-secret"


class SlowHubSpot:
    """Answers a contacts batch read after CRM_DELAY_SECONDS, counting the requests."""

    def __init__(self) -> None:
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.requests += 1
                length = int(self.headers.get("Content-Length", 0))
                ids = [item["id"] for item in json.loads(self.rfile.read(length) or b"{}").get("inputs", [])]
                time.sleep(CRM_DELAY_SECONDS)
                results = [{"id": i, "properties": {"email": f"c{i}@initech.com", "jobtitle": "VP"}} for i in ids]
                data = json.dumps({"status": "COMPLETE", "results": results}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()


def run() -> None:
    from chalice.test import Client

    from app import app

    fake_aws_credentials()
    crm = SlowHubSpot()
    with mock_aws():
        boto3.setup_default_session()
        create_queues(boto3.client("sqs"), "wb", "wb-dlq")
        settings = Settings(
            table_name="leadscore-bench",
            writeback_queue="wb",
            writeback_dlq="wb-dlq",
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
        during_webhooks = crm.requests
        bootstrap.install(None)
    crm.stop()
    p50 = statistics.median(samples) * 1000
    p99 = statistics.quantiles(samples, n=100)[98] * 1000
    print(
        f"\nHubSpot webhook: {DELIVERIES} deliveries of 10 new contacts, the CRM answering in {CRM_DELAY_SECONDS:.0f} s"
    )
    print(f"  acknowledged in p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 < 1000 ms)")
    print(f"  CRM requests made inside webhooks: {during_webhooks} (target 0)")
