"""The operator's CLI finds its target (`--stage NAME` from the stage config, reached through boto3
in moto here) and says what is missing in one line: no traceback for credentials, a region, a
table or a queue that is not there. Its dead-letter tooling lists, explains and redrives."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.cli import main as cli
from chalicelib.service_layer.messages import WriteBack
from chalicelib.storage.schema import create_table
from chalicelib.task_queue import SqsTaskQueue, create_queues
from infra.stages import stage_environment

STAGE = "dev"
ENV = stage_environment(STAGE)


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """An operator's shell with no AWS configuration at all; what the CLI applies is undone after."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_") or name in ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def account(shell: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials and a region, and a moto account with nothing deployed yet."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "operator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield


def deployed() -> SqsTaskQueue:
    create_table(boto3.client("dynamodb"), ENV["TABLE_NAME"])
    create_queues(boto3.client("sqs"), ENV["TASK_QUEUE"], ENV["TASK_DLQ"])
    return SqsTaskQueue(ENV["TASK_QUEUE"], ENV["TASK_DLQ"], boto3.client("sqs"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_without_a_target_it_asks_for_one(shell: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "upkeep", "--dry-run")
    assert code == 2
    assert (
        one_line(err) == "leadscore: no target: pass --stage NAME (a deployed stage) or --local (the running make run)"
    )


def test_an_unknown_stage_names_the_ones_there_are(shell: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "dlq", "list", "--stage", "qa")
    assert code == 2
    assert one_line(err) == "leadscore: no stage 'qa' in .chalice/config.json (stages: dev, prod)"


def test_no_region_then_no_credentials_each_one_line(
    shell: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "upkeep", "--stage", STAGE, "--dry-run")
    assert code == 2 and "no AWS region" in one_line(err)
    code, _, err = run(capsys, "upkeep", "--stage", STAGE, "--region", "eu-west-1", "--dry-run")
    assert code == 2 and "no AWS credentials" in one_line(err)


def test_a_stage_that_is_not_deployed_says_so(account: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "upkeep", "--stage", STAGE, "--dry-run")
    assert code == 2
    assert one_line(err) == (
        "leadscore: stage dev has no table leadscore-dev in eu-west-1 (deploy it: make deploy STAGE=dev)"
    )
    code, _, err = run(capsys, "dlq", "list", "--stage", STAGE)
    assert code == 2
    assert one_line(err) == ("leadscore: stage dev has no task queue in eu-west-1 (deploy it: make deploy STAGE=dev)")


def test_decay_against_a_stage_prints_json(account: None, capsys: pytest.CaptureFixture[str]) -> None:
    deployed()
    code, out, err = run(capsys, "upkeep", "--stage", STAGE, "--now", "2026-12-31T00:00:00Z", "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["due"] == 0 and report["changed"] == [] and report["stopped_early"] is False
    code, out, _ = run(capsys, "upkeep", "--stage", STAGE, "--dry-run")
    assert code == 0 and out.startswith("due leads: 0") and "{" not in out


def test_dead_letters_are_listed_explained_and_chosen_ones_redriven(
    account: None, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = deployed()
    queue.dead_letter(WriteBack("lead-1", 3).to_json(), "HubSpot: property lead_score does not exist")
    # One that SQS moved after MAX_RECEIVES deliveries: it carries no reason of ours.
    boto3.client("sqs").send_message(QueueUrl=queue.url(ENV["TASK_DLQ"]), MessageBody=json.dumps(
        WriteBack("lead-2", 1).to_json()))  # fmt: skip

    code, out, err = run(capsys, "dlq", "list", "--stage", STAGE, "--json")
    assert code == 0, err
    letters = json.loads(out)
    by_lead = {letter["lead_id"]: letter for letter in letters}
    assert by_lead["lead-1"]["reason"] == "HubSpot: property lead_score does not exist"
    assert "10 deliveries" in by_lead["lead-2"]["reason"]
    assert all(letter["sent_at"].endswith("Z") and letter["kind"] == "write_back" for letter in letters)
    assert datetime.fromisoformat(letters[0]["sent_at"]) <= datetime.now(UTC)

    code, out, _ = run(capsys, "dlq", "list", "--stage", STAGE)  # listing left them where they were
    assert code == 0 and "2 dead letters" in out and "lead_score does not exist" in out

    first = by_lead["lead-1"]["message_id"]
    code, out, _ = run(capsys, "dlq", "show", first, "--stage", STAGE, "--json")
    (shown,) = json.loads(out)
    assert code == 0 and shown["message"] == {"kind": "write_back", "lead_id": "lead-1", "version": 3}
    assert shown["lead"] is None  # no such lead in this table: said, not guessed

    code, out, err = run(capsys, "dlq", "redrive", first, "--stage", STAGE)
    assert code == 0 and out.strip() == "sent 1 dead letters back to the task queue", err
    (back,) = queue.receive(wait_seconds=0)
    assert back.body == {"kind": "write_back", "lead_id": "lead-1", "version": 3}  # as first sent, no failure
    code, out, _ = run(capsys, "dlq", "list", "--stage", STAGE, "--json")
    assert [letter["lead_id"] for letter in json.loads(out)] == ["lead-2"]

    code, _, err = run(capsys, "dlq", "redrive", "no-such-id", "--stage", STAGE)
    assert code == 1 and one_line(err) == "leadscore: no dead letter no-such-id"
    code, out, _ = run(capsys, "dlq", "redrive", "--all", "--stage", STAGE, "--json")
    assert code == 0 and json.loads(out)["redriven"] == [by_lead["lead-2"]["message_id"]]
    code, out, _ = run(capsys, "dlq", "list", "--stage", STAGE)
    assert out.strip() == "the dead-letter queue is empty"


def test_unscored_against_a_stage_prints_the_report(account: None, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.domain import Identities, LeadEvent
    from chalicelib.service_layer.commands import ParsedDelivery
    from chalicelib.storage.dynamodb import DynamoStorage
    from tests.helpers import use_cases

    deployed()
    now = datetime.now(UTC)
    sent = [
        LeadEvent(event_id=f"x{n}", source="segment", type="Report Exported", occurred_at=now,
                  identities=Identities(user_id="u1"))
        for n in range(3)
    ]  # fmt: skip
    use_cases(DynamoStorage(ENV["TABLE_NAME"])).ingestion.ingest(ParsedDelivery(events=sent), now)
    capsys.readouterr()  # the ingestion's metric lines (EMF, on stdout as in Lambda)
    code, out, err = run(capsys, "unscored", "--stage", STAGE, "--json")
    assert code == 0, err
    (line,) = json.loads(out)["unscored"]
    assert (line["name"], line["reason"], line["count"]) == ("Report Exported", "unmapped_name", 3)
    code, out, _ = run(capsys, "unscored", "--stage", STAGE, "--days", "7")
    rows = out.splitlines()
    assert code == 0 and rows[0].startswith("Events that earned nothing")
    assert "Report Exported" in rows[2] and "no event type has this name" in rows[2] and rows[2].split()[0] == "3"
