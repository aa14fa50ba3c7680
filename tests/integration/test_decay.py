"""The scheduled job: only due leads are read, decay from the stored basis equals a full rescore,
rules changes rescore everyone (resumably), and the Lambda entry points are wired."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from chalicelib.bootstrap import container
from chalicelib.cli import main as cli
from chalicelib.domain import Identities, LeadEvent
from chalicelib.rules import DEFAULT_RULES_PATH
from chalicelib.service_layer.commands import ParsedDelivery
from chalicelib.service_layer.rescoring import score_lead
from tests.conftest import use_container

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
DAY = timedelta(days=1)


class ItemsRead:
    """Items DynamoDB returned to reads (Query, Scan, GetItem, BatchGetItem), via botocore's after-call hook."""

    def __init__(self) -> None:
        self.items = 0
        boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", self)

    def __call__(self, parsed: dict, **_: object) -> None:
        if "Items" in parsed:
            self.items += len(parsed["Items"])
        elif "Item" in parsed:
            self.items += 1
        for items in parsed.get("Responses", {}).values() if isinstance(parsed.get("Responses"), dict) else []:
            self.items += len(items)


def seed(service, leads: int, due: int) -> None:
    """`due` leads opened an email 29 days ago (it halves tomorrow); the rest only have fit."""
    for index in range(leads):
        kind, age = ("Email Opened", 29 * DAY) if index < due else ("identify", DAY)
        event = LeadEvent(
            event_id=f"e{index}",
            source="segment",
            type=kind,
            occurred_at=NOW - age,
            identities=Identities(user_id=f"u{index}"),
            properties={"message_id": f"m{index}"},
        )
        service.ingestion.ingest(ParsedDelivery(events=[event]), NOW)


def test_decay_reads_only_the_due_leads_and_matches_a_full_rescore(aws) -> None:
    parts = container()
    service, job = parts, parts.upkeep
    seed(service, leads=30, due=5)
    later = NOW + 2 * DAY
    counter = ItemsRead()
    report = job.run(later)
    assert report.due == 5 and report.full_rescores == 0
    assert len(report.changed) == 5
    assert counter.items <= 5 + 2  # the due index items (with their projected basis), the rules meta item
    for item in report.changed:
        record = parts.storage.leads.load(item.lead_id, later)
        _, _, full = score_lead(record, parts.rules(), later)
        stored = parts.storage.leads.get_lead(item.lead_id).card
        assert stored == full
        assert stored.score == 3 and stored.next_change_at == NOW - 29 * DAY + 90 * DAY
    assert job.run(later).due == 0  # nothing is due twice


def test_dry_run_changes_nothing(aws) -> None:
    seed(container(), leads=3, due=2)
    job = container().upkeep
    report = job.run(NOW + 2 * DAY, dry_run=True)
    assert len(report.changed) == 2
    assert job.run(NOW + 2 * DAY).due == 2  # still due: the dry run saved nothing


def test_cli_decay_prints_what_changed(aws, capsys) -> None:
    seed(container(), leads=2, due=1)
    assert cli(["upkeep", "--now", (NOW + 2 * DAY).isoformat(), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "visible changes: 1" in out and "5 cold D -> 3 cold D" in out


def test_a_rules_change_rescores_every_lead_and_resumes(aws, tmp_path: Path, monkeypatch) -> None:
    seed(container(), leads=12, due=0)
    container().upkeep.run(NOW)  # the sweep for the current rules: nothing changes
    edited = tmp_path / "rules.yaml"
    text = DEFAULT_RULES_PATH.read_text()
    edited.write_text(text.replace("    email_sent:", "    identify: []\n    email_sent:").replace(
        "  rules:\n", "  rules:\n    - {name: identified, event: identify, points: 7}\n", 1))  # fmt: skip
    monkeypatch.setenv("SCORING_RULES", str(edited))
    parts = use_container()  # a new deployment with the edited rules
    service = parts
    monkeypatch.setattr(parts.storage.jobs, "scan_leads", _small_pages(parts.storage.jobs.scan_leads))
    clock = iter([1000, 1000, 1000, 10, 10, 10, 10] + [1000] * 100)
    first = parts.upkeep.run(NOW, time_left=lambda: next(clock))
    assert first.stopped_early and not first.rules_sweep["done"]
    second = parts.upkeep.run(NOW)
    assert second.rules_sweep["done"]
    assert all(service.lead_views.lead(f"user:u{index}", NOW)["engagement"] == 7 for index in range(12))


def test_the_lambda_entry_points(client) -> None:
    from chalicelib.service_layer.messages import WriteBack

    service = container()
    seed(service, leads=1, due=1)
    lead_id = service.lead_views.find_lead_id("user:u0")
    body = json.dumps(WriteBack(lead_id, 1).to_json())
    event = client.events.generate_sqs_event(message_bodies=[body], queue_name="q")
    response = client.lambda_.invoke("tasks", event)
    assert response.payload == {"batchItemFailures": []}
    assert service.lead_views.lead("user:u0", NOW)["write_back"]["last"]["statuses"] == {"dry-run": "written"}
    decay = client.lambda_.invoke("upkeep", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))  # fmt: skip
    assert decay.payload["due"] == 0


def _small_pages(scan):
    def scan_in_pages(start_key, page_size=200):
        return scan(start_key, page_size=4)

    return scan_in_pages
