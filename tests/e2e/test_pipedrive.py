"""Pipedrive end to end on the HTTP API with a fake Pipedrive API (a real local HTTP server): a v2
person and a done call score a `pipedrive:ID` lead whose score, tier, grade and reasons reach the
person's custom fields; a won deal records the outcome; a v2 merge (delete with `merged_to_id`,
change with `merged_from_id`) unites the leads and writes only to the winner; wrong credentials
are a 401 that stores nothing; `crm setup pipedrive` makes the fields once; `import pipedrive`
scores the persons Pipedrive already has; a 429 is waited out through the queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.bootstrap import container
from tests import signing
from tests.conftest import TABLE, admin_get, json_body
from tests.integration.crm_fakes import Worker
from tests.integration.pipedrive_fake import FakePipedrive, pipedrive_with

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pipedrive"


@pytest.fixture
def pipedrive(client: Any, httpserver: Any, monkeypatch: Any) -> FakePipedrive:
    fake = pipedrive_with(httpserver, monkeypatch)
    from chalicelib.crm.pipedrive.fields import create_fields

    assert [line.split()[0] for line in create_fields(container().pipedrive_calls())] == ["created"] * 4
    assert [line.split()[0] for line in create_fields(container().pipedrive_calls())] == ["exists"] * 4
    fake.add(42, "maria@globex.example", "Maria Lopez")
    fake.add(43, "maria.lopez@gmail.example", "Maria Lopez")
    return fake


def deliver(client: Any, name_or_payload: str | dict[str, Any]) -> Any:
    payload = name_or_payload if isinstance(name_or_payload, dict) else (FIXTURES / name_or_payload).read_text()
    body, headers = signing.pipedrive(payload)
    reply = client.http.post("/webhooks/pipedrive", body=body, headers=headers)
    assert reply.status_code == 200, reply.body
    return json_body(reply)


def test_a_person_and_a_call_score_and_reach_pipedrive(client: Any, pipedrive: FakePipedrive) -> None:
    assert deliver(client, "v2-person-create.json")["accepted"] == 1
    assert deliver(client, "v2-activity-create.json")["accepted"] == 1
    retry = json.loads((FIXTURES / "v2-activity-create.json").read_text())
    retry["meta"]["attempt"] = 2
    assert deliver(client, retry)["duplicates"] == 1  # Pipedrive's retry counts once
    lead = json_body(admin_get(client, "/leads/pipedrive:42"))
    assert lead["engagement"] == 15 and "pipedrive:42" in lead["identities"]
    Worker().drain()
    assert pipedrive.value(42, "Lead score") == lead["score"]
    assert pipedrive.value(42, "Lead tier") == lead["tier"] and pipedrive.value(42, "Lead grade") == lead["grade"]
    assert pipedrive.value(42, "Lead score reasons").startswith("Call 'Discovery call' on Dec 2 +15")

    deliver(client, "v2-deal-create.json")
    deliver(client, "v2-deal-change-won.json")
    won = json_body(admin_get(client, "/leads/pipedrive:42"))
    assert won["outcome"]["state"] == "won" and won["engagement"] == 15 + 30


def test_a_merge_unites_the_leads_and_writes_only_to_the_winner(client: Any, pipedrive: FakePipedrive) -> None:
    deliver(client, "v2-person-create.json")
    loser = json.loads((FIXTURES / "v2-person-create.json").read_text())
    loser["data"].update(id=43, emails=[{"label": "home", "value": "maria.lopez@gmail.example", "primary": True}])
    loser["meta"].update(entity_id="43", id="2f1e0d9c-0000-4000-8000-000000000043")
    deliver(client, loser)
    call = json.loads((FIXTURES / "v2-activity-create.json").read_text())
    call["data"]["person_id"] = 43
    deliver(client, call)
    Worker().drain()
    assert {person for person, _ in pipedrive.updates} == {"42", "43"}
    pipedrive.updates.clear()

    assert deliver(client, "v2-person-delete-merged.json")["accepted"] == 1
    assert deliver(client, "v2-person-change-merged.json")["accepted"] == 1  # the same merge again: a no-op
    one = json_body(admin_get(client, "/leads/pipedrive:43"))
    assert one["lead_id"] == json_body(admin_get(client, "/leads/pipedrive:42"))["lead_id"]
    assert one["engagement"] == 15 and "pipedrive:43" not in one["identities"]
    Worker().drain()
    assert [person for person, _ in pipedrive.updates] == ["42"]


def test_wrong_credentials_store_nothing(client: Any, pipedrive: FakePipedrive) -> None:
    body, headers = signing.pipedrive((FIXTURES / "v2-person-create.json").read_text(), password="guess")
    assert client.http.post("/webhooks/pipedrive", body=body, headers=headers).status_code == 401
    assert boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"] == 0


def test_the_import_scores_existing_persons_and_a_429_waits(client: Any, pipedrive: FakePipedrive) -> None:
    from datetime import UTC, datetime

    for number in range(3):
        pipedrive.add(100 + number, f"p{number}@initech.example", updated=f"2026-12-0{number + 1}T10:00:00Z")
    parts = container()
    report = parts.crm_import.run(parts.record_readers["pipedrive"], datetime.now(UTC))
    assert report.summary()["records"] == 5
    assert json_body(admin_get(client, "/leads/pipedrive:101"))["profile"]["email"] == "p1@initech.example"
    again = parts.crm_import.run(parts.record_readers["pipedrive"], datetime.now(UTC), restart=True)
    assert again.summary()["records"] == 5  # read again: the same events, nothing new
    pipedrive.failures.append((429, {"Retry-After": "7"}))
    worker = Worker()
    worker.poll()
    assert any(seconds >= 7 for _, seconds in worker.delays)
    worker.drain()
    assert pipedrive.value(101, "Lead tier") is not None


def test_an_organization_is_its_persons_account(client: Any, pipedrive: FakePipedrive) -> None:
    deliver(client, "v2-organization-create.json")
    deliver(client, "v2-person-create.json")
    deliver(client, "v2-activity-create.json")
    Worker().drain()
    account = json_body(admin_get(client, "/accounts/pipedrive:7"))
    assert account["name"] == "Globex Iberia" and account["via"] == "Pipedrive organization"
    assert [contact["email"] for contact in account["contacts"]] == ["maria@globex.example"]
    assert account["reasons"] == ["Maria Lopez (+15): Call 'Discovery call' on Dec 2 (+15)"]
