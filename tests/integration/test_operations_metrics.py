"""The metrics the dashboard and alarms read, emitted by the real triggers: a write-back batch
through the SQS entry point to a HubSpot stand-in over HTTP, and the scheduled jobs' runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import container
from chalicelib.entrypoints.schedule import run_crm_sync, run_upkeep
from chalicelib.entrypoints.sqs import run_tasks
from tests.integration.test_writeback import event, hubspot, ingest  # noqa: F401  (hubspot: a fixture)


def metrics(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def named(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [document for document in documents if name in document]


def test_a_write_back_batch_counts_results_and_times_the_crm(hubspot, capsys, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("LEADSCORE_STAGE", "prod")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "leadscore")
    hubspot.add("301")
    hubspot.add("302")
    hubspot.rejects.add("302")  # every update of 302 fails HubSpot's validation: dead-lettered
    ingest(event("m1", hubspot_id="301"), event("m2", hubspot_id="302"))
    queue = container().queue
    messages = queue.receive(max_messages=10, wait_seconds=0)
    records = [{"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": json.dumps(m.body),
                "attributes": {"ApproximateReceiveCount": "1"}} for m in messages]  # fmt: skip
    capsys.readouterr()

    run_tasks(records)

    found = metrics(capsys)
    results = {(d["crm"], d["status"]): d["WritebackResults"] for d in named(found, "WritebackResults")}
    assert results == {("hubspot", "written"): [1.0], ("hubspot", "permanent"): [1.0]}
    assert named(found, "WritebackDeadLettered")[0]["WritebackDeadLettered"] == [1.0]
    (latency,) = named(found, "CrmLatency")  # one batch call for both contacts
    assert latency["crm"] == "hubspot" and latency["CrmLatency"][0] > 0
    assert all(d["stage"] == "prod" and d["service"] == "leadscore" for d in found)
    assert "@" not in json.dumps(found) and "301" not in json.dumps(found)  # no lead, email or record id


def test_each_scheduled_run_reports_its_figures_and_whether_it_had_a_problem(aws, capsys) -> None:
    ingest(event("d1", user_id="u-1"))
    capsys.readouterr()

    run_upkeep(lambda: 600.0, clock=lambda: datetime(2027, 6, 1, tzinfo=UTC))
    found = metrics(capsys)
    assert named(found, "JobProblems")[0] | {"_aws": None} == {
        "_aws": None,
        "service": "leadscore",
        "stage": "local",
        "job": "upkeep",
        "JobProblems": [0.0],
    }
    assert named(found, "JobDue")[0]["JobDue"] == [1.0] and named(found, "JobChanged")[0]["job"] == "upkeep"

    ingest(event("d2", user_id="u-2"))
    capsys.readouterr()
    far = lambda: datetime(2028, 6, 1, tzinfo=UTC)  # noqa: E731
    run_upkeep(lambda: 10.0, clock=far)  # a lead is due, with less time than the job's margin
    assert named(metrics(capsys), "JobProblems")[0]["JobProblems"] == [1.0]


def test_a_failing_crm_sync_counts_as_a_problem(hubspot, capsys, httpserver) -> None:  # noqa: F811
    from werkzeug import Response

    httpserver.expect_request("/crm/v3/objects/contacts/search").respond_with_response(Response("down", 503))
    capsys.readouterr()
    summary = run_crm_sync(lambda: 600.0)
    assert "error" in summary["hubspot"] or summary["hubspot"]["stopped"]
    assert named(metrics(capsys), "JobProblems")[-1] | {"_aws": None} == {
        "_aws": None,
        "service": "leadscore",
        "stage": "local",
        "job": "crm_sync",
        "JobProblems": [1.0],
    }
