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
