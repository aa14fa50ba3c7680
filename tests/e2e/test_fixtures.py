"""Payloads from the real world (tests/fixtures, sources in its README), replayed byte for byte
through the HTTP path, signed as each vendor signs, asserting what was understood."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests import signing
from tests.conftest import SECRETS, admin_get, json_body, use_container

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def lead(client: Any, key: str) -> dict[str, Any]:
    response = admin_get(client, f"/leads/{key}")
    assert response.status_code == 200, (key, response.body)
    return dict(json_body(response))


def events(key: str) -> list[tuple[str, str]]:
    """(event type, event id) of everything stored for the lead: what the delivery was understood as."""
    from datetime import UTC, datetime

    from chalicelib.bootstrap import container

    lead_id = container().lead_views.find_lead_id(key)
    record = container().storage.load(str(lead_id), datetime.now(UTC))
    assert record is not None, key
    return sorted((event.type, event.event_id) for event in record.events)


def hubspot(client: Any, name: str) -> Any:
    body, headers = signing.hubspot_v3("/webhooks/hubspot", fixture(name))
    return client.http.post("/webhooks/hubspot", body=body, headers=headers)


def test_hubspot_docs_example_with_event_type(client) -> None:
    response = hubspot(client, "hubspot/webhooks-docs-example.json")
    assert response.status_code == 200
    assert json_body(response)["accepted"] == 2
    changed = lead(client, "hubspot:1246965")
    assert changed["profile"]["lifecycle_stage"] == "subscriber"
    assert changed["card"]["scored_at"]
    assert lead(client, "hubspot:1246978")["identities"] == ["hubspot:1246978"]  # the creation


def test_hubspot_generic_format_contact_email_change(client) -> None:
    response = hubspot(client, "hubspot/generic-object-propertychange.json")
    assert json_body(response)["accepted"] == 1
    contact = lead(client, "email:bhalli@hubspot.com")
    assert contact["identities"] == ["email:bhalli@hubspot.com", "hubspot:546500061938"]


def test_hubspot_generic_format_other_objects_are_acknowledged_and_ignored(client) -> None:
    response = hubspot(client, "hubspot/generic-custom-object.json")
    assert response.status_code == 200
    assert (json_body(response)["accepted"], json_body(response)["ignored"]) == (0, 1)
    assert admin_get(client, "/leads/hubspot:180584432881").status_code == 404


def test_hubspot_captured_contact_creation(client) -> None:
    response = hubspot(client, "hubspot/contact-creation-capture.json")
    assert json_body(response)["accepted"] == 1
    assert lead(client, "hubspot:65059681032")["tier"] == "cold"


def test_hubspot_workflow_v1_contact_json(client) -> None:
    """Epoch milliseconds as a string, the email in identity-profiles, company facts in associated-company."""
    response = hubspot(client, "hubspot/workflow-v1-contact.json")
    assert response.status_code == 200, response.body
    contact = lead(client, "email:bh@hubspot.com")
    assert contact["identities"] == ["email:bh@hubspot.com", "hubspot:51"]
    profile = contact["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Brian", "Halligan (Sample Contact)")
    assert (profile["company"], profile["company_size"], profile["country"]) == ("HubSpot, Inc.", 5000, "United States")
    assert profile["industry"] == "COMPUTER_SOFTWARE"
    assert "lifecycle_stage" not in profile  # the company's stage is not the contact's


def test_salesforce_captured_lead_message(client, monkeypatch) -> None:
    monkeypatch.setenv("SALESFORCE_ORG_ID", "00Do0000000e0vQEAQ")
    use_container()
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    path = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
    response = client.http.post(path, body=fixture("salesforce/lead-outbound-message.xml"), headers=headers)
    assert response.status_code == 200 and b"<Ack>true</Ack>" in response.body
    contact = lead(client, "salesforce:00Q1N00000bS2eOUAS")
    assert contact["identities"] == ["email:kflores@tebca.com", "salesforce:00Q1N00000bS2eOUAS"]
    assert (contact["profile"]["company"], contact["profile"]["lead_status"]) == ("NovoPayment", "Abierto")


def test_typeform_documented_example(client) -> None:
    body, headers = signing.typeform(fixture("typeform/docs-example-payload.json"))
    response = client.http.post("/webhooks/forms/typeform", body=body, headers=headers)
    assert response.status_code == 200, response.body
    assert json_body(response)["accepted"] == 2  # the submission ("Webhooks example": a contact form), the profile
    contact = lead(client, "email:laura@example.com")
    assert contact["profile"]["first_name"] == "Laura"
    # A 2018 submission is past the retention of engagement; the profile it stated is kept.
    assert events("email:laura@example.com") == [("profile_updated", "a3a12ec67a1365927098a606107fac15:profile")]


def test_tally_captured_response_without_an_email_is_refused_naming_it(client) -> None:
    """A survey with no email (or other identity) field cannot be attributed to a lead."""
    body, headers = signing.tally(fixture("tally/form-response-capture.json"))
    response = client.http.post("/webhooks/forms/tally", body=body, headers=headers)
    assert response.status_code == 400 and json_body(response)["field"] == "email"


@pytest.mark.parametrize("name", ["webflow/v1-form-submission.json", "webflow/v2-form-submission.json"])
def test_webflow_v1_and_v2(client, name: str) -> None:
    body, headers = signing.webflow(fixture(name))
    response = client.http.post("/webhooks/forms/webflow", body=body, headers=headers)
    assert response.status_code == 200, response.body
    email = json.loads(fixture(name)).get("payload", json.loads(fixture(name)))["data"]["email"]
    assert json_body(response)["accepted"] == 2
    assert lead(client, f"email:{email}")["tier"] == "cold"
    assert events(f"email:{email}") == [("profile_updated", "6321ca84df3949bfc6752327:profile")]


def test_webflow_v2_names(client) -> None:
    body, headers = signing.webflow(fixture("webflow/v2-form-submission.json"))
    client.http.post("/webhooks/forms/webflow", body=body, headers=headers)
    profile = lead(client, "email:zaphod@heartofgold.ai")["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Zaphod", "Beeblebrox")


def test_standard_webhooks_spec_envelope_is_read_and_needs_an_identity(client) -> None:
    body, headers = signing.standard_webhook(fixture("generic/standard-webhooks-spec-envelope.json"), "msg_spec_1")
    response = client.http.post("/webhooks/forms/generic", body=body, headers=headers)
    assert response.status_code == 400 and json_body(response)["field"] == "email"
    with_email = json.loads(fixture("generic/standard-webhooks-spec-envelope.json"))
    with_email["data"]["email"] = "john.smith@acme.example"
    body, headers = signing.standard_webhook(with_email, "msg_spec_2")
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 200
    profile = lead(client, "email:john.smith@acme.example")["profile"]
    assert (profile["first_name"], profile["last_name"], profile["job_title"]) == ("John", "Smith", "Engineer, ACME")


def test_segment_http_api_batch_with_write_key_in_body(client, monkeypatch) -> None:
    """Segment's own example: the write key in the body, two of four timestamps not ISO 8601."""
    monkeypatch.setenv("EVENTS_WRITE_KEY", "YOUR_WRITE_KEY")
    use_container()
    response = client.http.post("/v1/batch", body=fixture("segment/http-api-batch.json"), headers={})
    assert response.status_code == 200, response.body
    body = json_body(response)
    assert body["accepted"] == 2
    assert [item["field"] for item in body["rejected"]] == ["batch[2].timestamp", "batch[3].timestamp"]
    jake = lead(client, "user:019mr8mf4r")
    assert jake["identities"] == ["email:jake@yahoo.com", "user:019mr8mf4r"]
    assert (jake["profile"]["first_name"], jake["profile"]["last_name"]) == ("Jake", "Peterson")


def test_segment_spec_group_and_screen_as_single_calls(client) -> None:
    group = client.http.post("/v1/group", body=fixture("segment/spec-group.json"), headers=signing.basic())
    screen = client.http.post("/v1/screen", body=fixture("segment/spec-screen.json"), headers=signing.basic())
    assert group.status_code == screen.status_code == 200
    account = lead(client, "user:97980cfea0067")
    assert (account["profile"]["company"], account["profile"]["company_size"]) == ("Initech", 329)
    assert any(c["rule"].startswith("page") or c["count"] for c in account["card"]["contributions"])


def test_rudderstack_identify_gzipped(client) -> None:
    raw = fixture("rudderstack/identify-minimal.json").encode()
    headers = {**signing.basic(), "Content-Encoding": "gzip"}
    response = client.http.post("/v1/identify", body=gzip.compress(raw), headers=headers)
    assert response.status_code == 200, response.body
    profile = lead(client, "email:peter@example.com")["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Peter", "Gibbons")
