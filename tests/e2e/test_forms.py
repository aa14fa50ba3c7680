"""Form builders end to end: a signed Typeform delivery through /webhooks/forms/{provider} to the
lead, a bad signature stores nothing, an unknown provider is 404. Each vendor's signature and body
shape on its own: tests/unit/sources/test_forms.py."""

from __future__ import annotations

import boto3

from tests import signing
from tests.conftest import TABLE, admin_get, json_body
from tests.payloads import typeform_payload


def item_count() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


def test_typeform_demo_request(client) -> None:
    body, headers = signing.typeform(typeform_payload())
    response = client.http.post("/webhooks/forms/typeform", body=body, headers=headers)
    assert response.status_code == 200, response.body
    lead = json_body(admin_get(client, "/leads/email:lena@hooli.com"))
    assert lead["profile"]["job_title"] == "Head of Growth"
    assert lead["profile"]["company_size"] == 100
    assert lead["fit"] == 20 + 15 + 5
    assert lead["engagement"] == 50  # "Book a demo" is a demo request
    assert lead["tier"] == "hot"
    again = json_body(client.http.post("/webhooks/forms/typeform", body=body, headers=headers))
    assert again["duplicates"] == 2


def test_typeform_bad_signature_is_401(client) -> None:
    body, headers = signing.typeform(typeform_payload(), secret="wrong")
    assert client.http.post("/webhooks/forms/typeform", body=body, headers=headers).status_code == 401
    assert item_count() == 0


def test_an_unknown_provider_is_404(client) -> None:
    assert (
        client.http.post("/webhooks/forms/jotform", body="{}", headers={"Content-Type": "application/json"}).status_code
        == 404
    )


def test_a_form_without_an_email_is_acknowledged_and_reported_not_refused(client) -> None:
    """The Standard Webhooks specification's own example names nobody (a name and a phone, no
    email): 2xx, so the sender does not retry it until it disables the endpoint; nothing stored;
    the unscored report names what it lacked."""
    from pathlib import Path

    spec = (Path(__file__).parents[1] / "fixtures" / "generic" / "standard-webhooks-spec-envelope.json").read_text()
    body, headers = signing.standard_webhook(spec, "msg_nobody")
    reply = client.http.post("/webhooks/forms/generic", body=body, headers=headers)
    assert reply.status_code == 200 and (json_body(reply)["accepted"], json_body(reply)["ignored"]) == (0, 1)
    assert item_count() == 1  # the report's day line, and no lead
    lines = json_body(admin_get(client, "/reports/unscored"))["unscored"]
    assert [(line["source"], line["reason"], line["count"]) for line in lines] == [
        ("generic", "missing_identity:email", 1)
    ]
