"""Form builders: each vendor's signature and body shape, answers mapped to the profile, the
submission itself an engagement event."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests import signing
from tests.conftest import TABLE, admin_get, json_body


def item_count() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


def typeform_payload(token: str = "a3a12ec67a1365927098a606107fac15", title: str = "Book a demo") -> dict:
    return {
        "event_id": "LtWXD3crgy",
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": token,
            "landed_at": "2026-11-22T09:58:00Z",
            "submitted_at": "2026-11-22T10:00:00Z",
            "hidden": {"utm_source": "newsletter"},
            "definition": {
                "id": "lT4Z3j",
                "title": title,
                "fields": [
                    {"id": "f1", "title": "Work email", "type": "email", "ref": "01FKQZ2EE"},
                    {"id": "f2", "title": "What is your job title?", "type": "short_text", "ref": "title"},
                    {"id": "f3", "title": "How many employees?", "type": "multiple_choice", "ref": "size"},
                    {"id": "f4", "title": "Which country are you in?", "type": "dropdown", "ref": "country"},
                ],
            },
            "answers": [
                {
                    "type": "email",
                    "email": "Lena@Hooli.com",
                    "field": {"id": "f1", "type": "email", "ref": "01FKQZ2EE"},
                },
                {"type": "text", "text": "Head of Growth", "field": {"id": "f2", "type": "short_text", "ref": "title"}},
                {"type": "choice", "choice": {"label": "100-500"}, "field": {"id": "f3", "type": "multiple_choice"}},
                {"type": "choice", "choice": {"label": "Germany"}, "field": {"id": "f4", "type": "dropdown"}},
            ],
        },
    }


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


def test_a_submission_without_an_email_is_400(client) -> None:
    payload = typeform_payload()
    payload["form_response"]["answers"] = payload["form_response"]["answers"][1:]
    body, headers = signing.typeform(payload)
    response = client.http.post("/webhooks/forms/typeform", body=body, headers=headers)
    assert response.status_code == 400
    assert json_body(response)["field"] == "email"


def test_tally_pricing_form(client) -> None:
    payload = {
        "eventId": "a4cb511e-d513-4fa5-baee-b815d718dfd1",
        "eventType": "FORM_RESPONSE",
        "createdAt": "2026-11-22T10:00:00.000Z",
        "data": {
            "responseId": "2wgx4n",
            "submissionId": "2wgx4n",
            "respondentId": "dwQKYm",
            "formId": "VwbNEw",
            "formName": "Get a quote",
            "createdAt": "2026-11-22T10:00:00.000Z",
            "fields": [
                {"key": "question_3ErWvP", "label": "Email", "type": "INPUT_EMAIL", "value": "max@stark.io"},
                {"key": "question_w4Xb2r", "label": "Company", "type": "INPUT_TEXT", "value": "Stark"},
                {
                    "key": "question_mVZ3E5",
                    "label": "Industry",
                    "type": "DROPDOWN",
                    "value": ["opt-2"],
                    "options": [{"id": "opt-1", "text": "Retail"}, {"id": "opt-2", "text": "Software"}],
                },
            ],
        },
    }
    body, headers = signing.tally(payload)
    assert client.http.post("/webhooks/forms/tally", body=body, headers=headers).status_code == 200
    lead = json_body(admin_get(client, "/leads/email:max@stark.io"))
    assert lead["profile"]["industry"] == "Software"
    assert (lead["fit"], lead["engagement"]) == (10, 30)


def test_webflow_form_submission(client) -> None:
    payload = {
        "triggerType": "form_submission",
        "payload": {
            "name": "Download the RevOps guide",
            "siteId": "65427cf400e02b306eaa049c",
            "data": {"First Name": "Ada", "Email": "ada@lovelace.dev", "Role": "Marketing Manager"},
            "submittedAt": "2026-11-22T10:00:00.000Z",
            "id": "6321a7d5ddd9bc2e0a5c1e2a",
            "formId": "65429eadebe8a9f3a30f62d0",
        },
    }
    body, headers = signing.webflow(payload)
    assert client.http.post("/webhooks/forms/webflow", body=body, headers=headers).status_code == 200
    lead = json_body(admin_get(client, "/leads/email:ada@lovelace.dev"))
    assert (lead["fit"], lead["engagement"]) == (10, 15)


def test_webflow_stale_timestamp_is_401(client) -> None:
    payload = {"triggerType": "form_submission", "payload": {"name": "x", "data": {"Email": "a@b.io"}}}
    body, headers = signing.webflow(payload, timestamp_ms=int(time.time() * 1000) - 600_000)
    assert client.http.post("/webhooks/forms/webflow", body=body, headers=headers).status_code == 401


def test_generic_standard_webhooks_form(client) -> None:
    payload = {
        "form": "Contact us",
        "submitted_at": "2026-11-22T10:00:00Z",
        "fields": [
            {"label": "Email", "value": "kim@wayne.co", "type": "email"},
            {"label": "Job title", "value": "CFO"},
        ],
    }
    message_id = f"msg_{uuid.uuid4().hex}"
    body, headers = signing.standard_webhook(payload, message_id)
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 200
    lead = json_body(admin_get(client, "/leads/email:kim@wayne.co"))
    assert lead["fit"] == 15
    assert lead["engagement"] == 0  # a contact form is recorded, not scored by the seed model


def test_generic_form_type_overrides_the_name(client) -> None:
    payload = {"form": "Website form 7", "form_type": "demo_request", "fields": {"Email": "x@y.io"}}
    body, headers = signing.standard_webhook(payload, "msg_override")
    client.http.post("/webhooks/forms/generic", body=body, headers=headers)
    assert json_body(admin_get(client, "/leads/email:x@y.io"))["engagement"] == 50


def test_generic_stale_or_forged_is_401(client) -> None:
    payload = {"form": "Contact", "fields": {"Email": "z@y.io"}}
    body, headers = signing.standard_webhook(payload, "msg_old", when=datetime.now(UTC) - timedelta(minutes=10))
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 401
    body, headers = signing.standard_webhook(payload, "msg_forged")
    headers["webhook-id"] = "msg_other"
    assert client.http.post("/webhooks/forms/generic", body=body, headers=headers).status_code == 401
    assert item_count() == 0


def test_an_unknown_provider_is_404(client) -> None:
    assert (
        client.http.post("/webhooks/forms/jotform", body="{}", headers={"Content-Type": "application/json"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("form_name", "kind"),
    [
        ("Request a demo", "demo_request"),
        ("Pricing enquiry", "quote_request"),
        ("Get the 2026 benchmark report", "content_download"),
        ("Customer case study: Acme", "content_download"),
        ("Webinar: scoring 101", "webinar_registered"),
        ("Start your free trial", "trial_started"),
        ("Contact sales", "form_submitted"),
    ],
)
def test_the_form_name_says_what_a_submission_means(form_name: str, kind: str) -> None:
    from chalicelib.sources.form_fields import submission_kind

    assert submission_kind(form_name)[0] == kind
