"""Structured logs and EMF metrics: ids, sources, results; never an email, a token or a signature."""

from __future__ import annotations

import json

from tests import signing
from tests.conftest import captured_logs, leaked
from tests.e2e.test_forms import typeform_payload
from tests.e2e.test_hubspot import change, post
from tests.e2e.test_salesforce import PATH as SALESFORCE_PATH
from tests.e2e.test_salesforce import XML_HEADERS, envelope, notification


def test_a_full_flow_logs_results_and_no_personal_data(client, capsys) -> None:
    before = len(captured_logs())
    post(client, [change(1, 42, "email", "secret.person@private.example"), change(2, 42, "jobtitle", "CEO")])
    body, headers = signing.typeform(typeform_payload())
    client.http.post("/webhooks/forms/typeform", body=body, headers=headers)
    client.http.post(
        SALESFORCE_PATH,
        body=envelope(notification("n1", "00Q1", Email="sf.person@private.example")),
        headers=XML_HEADERS,
    )
    track = {"userId": "u", "event": "Demo Requested", "context": {"traits": {"email": "seg.person@private.example"}}}
    client.http.post("/v1/track", body=json.dumps(track), headers=signing.basic())
    client.http.post("/v1/track", body=json.dumps(track), headers=signing.basic("wrong-key"))  # rejected
    client.http.post("/v1/track", body='{"userId": "jane@private.example"', headers=signing.basic())  # malformed

    logs = captured_logs()[before:]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    ingested = [line for line in lines if line["message"] == "delivery ingested"]
    rejected = [line for line in lines if line["message"] == "delivery rejected"]
    assert {line["source"] for line in ingested} == {"hubspot", "typeform", "salesforce", "segment"}
    assert all(line["request_id"] and line["lead_ids"] for line in ingested)
    assert {line["result"] for line in rejected} == {"unauthorized", "bad_payload"}
    assert leaked(logs) == []

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = {(metric["source"], metric["result"]): metric["Events"] for metric in metrics if "Events" in metric}
    assert counted[("hubspot", "accepted")] == [2.0]
    assert counted[("segment", "rejected")] == [1.0]
    assert all(metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "leadscore" for metric in metrics)
    assert all(metric["stage"] == "local" and metric["service"] == "leadscore" for metric in metrics)
    assert {metric["tier"] for metric in metrics if "TierChanges" in metric}  # each lead's first tier
    assert leaked(json.dumps(metrics)) == []


def test_the_whole_run_so_far_leaked_nothing() -> None:
    """pytest_sessionfinish checks the complete run too; this catches leaks earlier in the order."""
    assert leaked(captured_logs()) == []


def test_chalice_leaves_our_logger_alone() -> None:
    """Chalice configures the logger named after the app unless told not to, and sets it to ERROR
    when it misses our handler: then no INFO line of the service would ever be written."""
    from app import app
    from chalicelib.observability import logger

    assert app.log is logger._logger  # the one logger, Powertools'
    assert logger._logger.getEffectiveLevel() <= 20
