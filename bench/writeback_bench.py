"""Write-back and decay figures: CRM calls per 1,000 changed leads, DynamoDB items read by a decay
run over 10,000 leads of which 100 are due, and event-to-write-back time in local mode."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from moto import mock_aws

from bench.workload import fake_aws_credentials
from chalicelib.bootstrap import Container
from chalicelib.crm.http_client import JsonClient
from chalicelib.crm.hubspot.writer import HubSpotWriter
from chalicelib.crm.ports import CrmWriter
from chalicelib.crm.salesforce.writer import SalesforceAuth, SalesforceSession, SalesforceWriter
from chalicelib.domain import Identities, LeadEvent, Profile, card_from_basis, score_basis
from chalicelib.entrypoints.sqs import poll_once
from chalicelib.rules import active_rules
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.messages import ReceivedTask, WriteBack
from chalicelib.service_layer.upkeep import ACTIVITY_BACKFILL, SCORE_HEALTH
from chalicelib.settings import Settings
from chalicelib.storage.dynamodb import DynamoStorage
from chalicelib.storage.ports import LeadSave, Storage
from chalicelib.storage.schema import create_table
from chalicelib.task_queue import create_queues

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
TABLE = "leadscore-bench"
SETTINGS = Settings(table_name=TABLE, task_queue="wb", task_dlq="wb-dlq")


def bench_container(writers: list[CrmWriter] | None = None, with_queue: bool = True) -> Container:
    """The production wiring (bootstrap) on moto, with the bench's CRM writers."""
    if with_queue:
        return Container(SETTINGS, writers=writers or [])
    return Container(SETTINGS, writers=writers or [], queue=None)


def crm_reply(path: str, body: Any) -> Any:
    """HubSpot batch updates and Salesforce composite calls, all successful."""
    if "composite" in path:
        return [{"id": record["id"], "success": True, "errors": []} for record in body["records"]]
    return {"status": "COMPLETE", "results": []}


class CrmServer:
    """A local HTTP server standing in for the CRM: `reply(path, body)` after `delay` seconds."""

    def __init__(self, reply: Callable[[str, Any], Any] = crm_reply, delay: float = 0.0) -> None:
        self.calls: list[tuple[float, str]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                calls.append((time.perf_counter(), self.path))
                time.sleep(delay)
                data = json.dumps(reply(self.path, body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()


def _seed(storage: Storage, count: int, due: int) -> None:
    """Leads as the service stores them; `due` of them have an open whose decay is due by NOW."""
    rules = active_rules()
    for index in range(count):
        lead_id = f"ld_{index:020x}"
        events = []
        if index < due:
            events = [LeadEvent(event_id=f"e{index}", source="segment", type="Email Opened",
                                occurred_at=NOW - timedelta(days=31), properties={"message_id": "m"})]  # fmt: skip
        profile = Profile(job_title="VP", company_size=100 + index)
        basis = score_basis(profile, events, rules)
        scored_at = NOW - timedelta(days=2) if index < due else NOW
        card = card_from_basis(basis, rules, scored_at)
        keys = [f"hubspot:{1000 + index}", f"salesforce:00Q{index:015d}"]
        storage.leads.save(LeadSave(lead_id, 0, card, card.visible, scored_at, basis=basis.to_json(), keys=keys))


def crm_calls_per_1000() -> tuple[int, int]:
    crm = CrmServer()
    results = []
    for writer in (
        HubSpotWriter(JsonClient(crm.url, "token")),
        SalesforceWriter(
            SalesforceSession(SalesforceAuth(crm.url, "token")), {"score": "S__c", "tier": "T__c", "grade": "G__c"}
        ),
    ):
        with mock_aws():  # a fresh account each: a lead already written is (rightly) not written again
            boto3.setup_default_session()
            create_table(boto3.client("dynamodb"), TABLE)
            create_queues(boto3.client("sqs"), "wb", "wb-dlq")
            parts = bench_container([writer])
            _seed(parts.storage, 1000, 0)
            messages = [ReceivedTask(f"m{index}", "r", WriteBack(f"ld_{index:020x}").to_json(), 1)
                        for index in range(1000)]  # fmt: skip
            crm.calls.clear()
            parts.task_handler.handle(messages, NOW)
            results.append(len(crm.calls))
    crm.stop()
    return results[0], results[1]


def decay_items_read() -> tuple[int, int, int, int]:
    """Items the decay run reads, and (apart) what the once-a-day health check reads: it runs in
    the day's first upkeep run, a paged Scan of the leads like any report."""
    with mock_aws():
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), TABLE)
        parts = bench_container(with_queue=False)  # no write-back queue here: decay only
        _seed(parts.storage, 10_000, 100)
        read = {"items": 0}

        def count(parsed: dict[str, Any], **_: Any) -> None:
            read["items"] += len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0)

        storage = parts.storage
        assert isinstance(storage, DynamoStorage)
        storage.table.client.meta.events.register("after-call.dynamodb", count)
        storage.jobs.save_rules_progress({"fingerprint": parts.rules().fingerprint, "start_key": None, "done": True,
                                     "rescored": 0})  # fmt: skip
        parts.reports.health_report()
        health_items, read["items"] = read["items"], 0
        storage.jobs.save_job_state(SCORE_HEALTH, {"day": NOW.date().isoformat(), "inflating": False})
        # A one-off migration for tables from before the activity feed: done long ago, not decay's cost.
        storage.jobs.save_job_state(ACTIVITY_BACKFILL, {"start_key": None, "done": True, "items": 0})
        report = parts.upkeep.run(NOW)
        return read["items"], report.due, len(report.changed), health_items


def event_to_writeback_ms() -> float:
    crm = CrmServer()
    with mock_aws():
        boto3.setup_default_session()
        create_table(boto3.client("dynamodb"), TABLE)
        create_queues(boto3.client("sqs"), "wb", "wb-dlq")
        parts = bench_container([HubSpotWriter(JsonClient(crm.url, "token"))])
        queue, ingestion, writeback = parts.queue, parts.ingestion, parts.task_handler
        stop = threading.Event()

        def worker() -> None:  # what local mode runs in the background
            while not stop.is_set():
                poll_once(queue, writeback, datetime.now(UTC), wait_seconds=1)

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        samples = []
        for index in range(5):
            started = time.perf_counter()
            event = LeadEvent(event_id=f"lat{index}", source="segment", type="Demo Requested",
                              occurred_at=datetime.now(UTC), identities=Identities(hubspot_id=str(index)))  # fmt: skip
            ingestion.ingest(ParsedDelivery(events=[event]), datetime.now(UTC))
            while len(crm.calls) <= index:
                time.sleep(0.005)
            samples.append((crm.calls[index][0] - started) * 1000)
        stop.set()
        thread.join(timeout=5)
    crm.stop()
    return sorted(samples)[len(samples) // 2]


def run() -> None:
    fake_aws_credentials()
    hubspot_calls, salesforce_calls = crm_calls_per_1000()
    print("\nCRM write-back calls per 1,000 changed leads (targets: HubSpot 10, Salesforce 5)")
    print(f"  HubSpot batch/update: {hubspot_calls}   Salesforce composite/sobjects: {salesforce_calls}")
    items, due, changed, health = decay_items_read()
    print("\nDecay run over 10,000 leads with 100 due (target <= 120 items read, a scan reads 10,000+)")
    print(f"  DynamoDB items read: {items}   due: {due}   visible changes: {changed}")
    print(f"  and once a day, the score health check (a report's paged Scan): {health} items read")
    print(f"\nEvent to write-back request in local mode (median of 5): {event_to_writeback_ms():.0f} ms")
