"""HubSpot webhooks end to end: HubSpot's own SDK signs, moto stores, a local HTTP server is HubSpot's API."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from local.signing import Signer
from tests import signing
from tests.conftest import SECRETS, TABLE, admin_get, json_body, use_container

PATH = "/webhooks/hubspot"


def hubspot_event(event_id: int, kind: str, contact: int, **extra) -> dict:
    return {
        "eventId": event_id,
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(time.time() * 1000) - 60_000,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": contact,
        "changeSource": "CRM",
        **extra,
    }


def change(event_id: int, contact: int, name: str, value: str) -> dict:
    return hubspot_event(event_id, "contact.propertyChange", contact, propertyName=name, propertyValue=value)


def post(client, payload, **kwargs):
    body, headers = signing.hubspot_v3(PATH, payload, **kwargs)
    return client.http.post(PATH, body=body, headers=headers)


def signed_for(public_base: str, payload):
    """Signed for another public URL than the test client's, as HubSpot signs what it called."""
    return Signer(SECRETS, public_base).hubspot_v3(PATH, payload)


def item_count() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


def test_property_changes_build_the_profile_and_score(client) -> None:
    payload = [
        hubspot_event(1, "contact.creation", 501),
        change(2, 501, "email", "Jane@Acme.com"),
        change(3, 501, "jobtitle", "VP Marketing"),
        change(4, 501, "numemployees", "100-500"),
        change(5, 501, "industry", "Computer Software"),
    ]
    response = post(client, payload)
    assert response.status_code == 200, response.body
    assert json_body(response)["accepted"] == 5

    lead = json_body(admin_get(client, "/leads/hubspot:501"))
    assert lead["profile"]["job_title"] == "VP Marketing"
    assert (lead["fit"], lead["grade"]) == (45, "A")
    assert "email:jane@acme.com" in lead["identities"]
    assert json_body(admin_get(client, "/leads/email:jane%40acme.com"))["lead_id"] == lead["lead_id"]


def test_a_bad_signature_is_401_and_stores_nothing(client) -> None:
    """Every way a signature fails: tests/unit/sources/test_hubspot.py."""
    body, headers = signing.hubspot_v3(PATH, [change(8, 10, "jobtitle", "CTO")])
    body = body.replace("CTO", "CEO")
    response = client.http.post(PATH, body=body, headers=headers)
    assert response.status_code == 401
    assert json_body(response)["error"] == "unauthorized"
    assert item_count() == 0


def test_a_redelivered_event_is_stored_once_and_counted_once(client) -> None:
    payload = [hubspot_event(20, "contact.creation", 601), change(21, 601, "jobtitle", "Director of Ops")]
    first = json_body(post(client, payload))
    again = json_body(post(client, payload))  # HubSpot retries with the same eventIds
    assert (first["accepted"], first["duplicates"]) == (2, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    lead = json_body(admin_get(client, "/leads/hubspot:601"))
    assert lead["fit"] == 15


def test_an_older_change_redelivered_late_does_not_overwrite_a_newer_one(client) -> None:
    newer = change(41, 800, "jobtitle", "CEO")
    older = {**change(40, 800, "jobtitle", "Intern"), "occurredAt": newer["occurredAt"] - 3_600_000}
    post(client, [newer])
    post(client, [older])
    assert json_body(admin_get(client, "/leads/hubspot:800"))["profile"]["job_title"] == "CEO"


@pytest.mark.parametrize("kind", ["contact.privacyDeletion", "contact.deletion"])
def test_deletion_removes_the_leads_data(client, kind: str) -> None:
    post(client, [change(50, 900, "email", "gone@acme.com"), change(51, 900, "jobtitle", "VP")])
    assert admin_get(client, "/leads/hubspot:900").status_code == 200
    response = json_body(post(client, [hubspot_event(52, kind, 900)]))
    assert response["success"] is True
    assert admin_get(client, "/leads/hubspot:900").status_code == 404
    assert admin_get(client, "/leads/email:gone@acme.com").status_code == 404
    assert item_count() == 0


def test_workflow_send_a_webhook_body(client) -> None:
    body = {
        "objectId": 1001,
        "properties": {"email": "ops@globex.com", "jobtitle": "Head of RevOps", "numemployees": "250"},
    }
    assert post(client, body).status_code == 200
    lead = json_body(admin_get(client, "/leads/hubspot:1001"))
    assert lead["fit"] == 35
    again = json_body(post(client, body))
    assert again["duplicates"] == 1


def test_a_malformed_body_is_400_naming_the_problem_and_stores_nothing(client) -> None:
    """Each malformed shape and the field it names: tests/unit/sources/test_hubspot.py."""
    payload, field = [{"eventId": 1}], "[0].subscriptionType"
    response = post(client, payload)
    assert response.status_code == 400
    error = json_body(response)
    assert error["error"] == "bad_payload"
    if field:
        assert error["field"] == field
    assert item_count() == 0


def test_public_base_url_overrides_the_signed_uri(client, monkeypatch) -> None:
    from tests.conftest import use_container

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hooks.acme.com/scoring")
    use_container()
    payload = [change(60, 61, "jobtitle", "CTO")]
    body, headers = signing.hubspot_v3(PATH, payload)  # signed for http://localhost: now wrong
    assert client.http.post(PATH, body=body, headers=headers).status_code == 401
    body, headers = signed_for("https://hooks.acme.com/scoring", payload)
    assert client.http.post(PATH, body=body, headers=headers).status_code == 200


def test_behind_api_gateway_the_forwarded_scheme_and_host_are_signed(client) -> None:
    body, headers = signed_for(
        "https://abc123.execute-api.us-east-1.amazonaws.com", [change(70, 71, "jobtitle", "CTO")]
    )
    headers = {**headers, "Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"}
    assert client.http.post(PATH, body=body, headers=headers).status_code == 200


def _hubspot_api(httpserver, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test-token")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container()


def _consume_queue(httpserver) -> Any:
    """Run the queue consumer until the queue is empty (scores written back to the stand-in)."""
    from chalicelib.service_layer.task_report import TaskReport
    from tests.integration.crm_fakes import Worker

    httpserver.expect_request("/crm/v3/objects/contacts/batch/update").respond_with_json({"status": "COMPLETE"})
    total, worker = TaskReport(), Worker()
    for _ in range(5):
        report = worker.poll()
        total.records_read += report.records_read
        total.failed_message_ids += report.failed_message_ids
    return total


def test_contacts_without_properties_are_read_from_hubspot_off_the_webhook(client, httpserver, monkeypatch) -> None:
    """The webhook answers without calling HubSpot; the queue consumer reads the ten contacts in
    one batch and the leads are rescored with what HubSpot knows."""
    _hubspot_api(httpserver, monkeypatch)
    contacts = [
        {
            "id": str(1200 + n),
            "properties": {"email": f"p{n}@initech.com", "jobtitle": "VP Sales", "numemployees": "120"},
            "updatedAt": "2026-11-22T10:00:00Z",
        }
        for n in range(10)
    ]
    payload = [hubspot_event(1300 + n, "contact.creation", 1200 + n) for n in range(10)]
    assert post(client, payload).status_code == 200
    assert httpserver.log == []  # nothing outbound inside the webhook request
    httpserver.expect_oneshot_request(
        "/crm/v3/objects/contacts/batch/read", method="POST", headers={"Authorization": "Bearer pat-test-token"}
    ).respond_with_json({"status": "COMPLETE", "results": contacts})
    report = _consume_queue(httpserver)
    assert report.records_read == 10 and report.failed_message_ids == []
    httpserver.check_assertions()
    (read,) = [request for request, _ in httpserver.log if request.path.endswith("/batch/read")]
    requested = json.loads(read.data)
    assert sorted(item["id"] for item in requested["inputs"]) == [str(1200 + n) for n in range(10)]
    assert "jobtitle" in requested["properties"]
    lead = json_body(admin_get(client, "/leads/email:p3@initech.com"))
    assert lead["fit"] == 35 and lead["identities"] == ["email:p3@initech.com", "hubspot:1203"]


@pytest.mark.parametrize(("status", "headers"), [(502, {}), (429, {"Retry-After": "10"})], ids=["down", "limited"])
def test_hubspot_api_down_delays_the_profile_never_the_webhook(
    client, httpserver, monkeypatch, status, headers
) -> None:
    from chalicelib.bootstrap import container

    _hubspot_api(httpserver, monkeypatch)
    assert post(client, [hubspot_event(1400, "contact.creation", 1401)]).status_code == 200
    httpserver.expect_oneshot_request("/crm/v3/objects/contacts/batch/read").respond_with_data(
        "busy", status=status, headers=headers
    )
    report = _consume_queue(httpserver)
    assert report.records_read == 0 and len(report.failed_message_ids) == 1  # back on the queue, with backoff
    assert json_body(admin_get(client, "/leads/hubspot:1401"))["fit"] == 0  # stored and scored meanwhile
    contacts = container().hubspot_contacts
    assert contacts is not None and contacts.calls.limit.waited == 0  # the queue waits, not the Lambda


def test_secrets_are_required_not_optional(client, monkeypatch) -> None:
    from tests.conftest import use_container

    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "")
    use_container()
    body, headers = signing.hubspot_v3(PATH, [change(80, 81, "jobtitle", "CTO")], secret="")
    assert client.http.post(PATH, body=body, headers=headers).status_code == 401
    assert SECRETS["HUBSPOT_CLIENT_SECRET"]  # the fixture's real secret is untouched


def test_the_card_names_the_buyer_persona_the_lead_matches(client, monkeypatch) -> None:
    from pathlib import Path

    from tests.conftest import use_container

    rules = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "three-personas.yaml"
    monkeypatch.setenv("SCORING_RULES", str(rules))
    use_container()
    post(client, [change(1, 951, "email", "pro@work.example"), change(2, 951, "jobtitle", "Working Professional")])

    card = json_body(admin_get(client, "/leads/hubspot:951"))["card"]

    assert card["persona"] == "career_builder"
    assert any(c["rule"] == "working_professional" for c in card["contributions"])


def test_a_contact_merge_delivery_unites_the_leads(client) -> None:
    """HubSpot's merge event: `primaryObjectId` remains, `mergedObjectIds` are merged into it (the
    generic format names the object by `objectTypeId` 0-1)."""
    payload = [change(31, 801, "email", "ana@initech.io"), change(32, 802, "email", "ana.b@initech.io"),
               change(33, 802, "jobtitle", "VP Sales")]  # fmt: skip
    assert post(client, payload).status_code == 200
    first = json_body(admin_get(client, "/leads/hubspot:801"))["lead_id"]
    assert json_body(admin_get(client, "/leads/hubspot:802"))["lead_id"] != first
    merge = hubspot_event(34, "object.merge", 801, objectTypeId="0-1", primaryObjectId=801, mergedObjectIds=[802])
    reply = post(client, [merge])
    assert reply.status_code == 200 and json_body(reply)["accepted"] == 1
    merged = json_body(admin_get(client, "/leads/hubspot:802"))
    assert merged["lead_id"] == first and merged["profile"]["job_title"] == "VP Sales"  # both records' profile
    assert "hubspot:801" in merged["identities"] and "hubspot:802" not in merged["identities"]
    assert post(client, [merge]).status_code == 200  # delivered again: nothing changes
    assert json_body(admin_get(client, "/leads/hubspot:801"))["score"] == merged["score"]
