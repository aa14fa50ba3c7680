"""The form builders' parsers on their own (Typeform, Tally, Webflow v1 and v2, Standard Webhooks):
each signature scheme, each body shape, answers mapped to the profile, the submission itself an
engagement event named by the form; and the documented and captured payloads in tests/fixtures."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.sources.form_fields import submission_kind
from tests import signing
from tests.payloads import typeform_payload
from tests.unit.sources.conftest import fixture, receive, refused, understood


def form(provider: str, signed: tuple[str, dict[str, str]]) -> Any:
    body, headers = signed
    return receive(provider, f"/webhooks/forms/{provider}", body, headers)


def form_refused(provider: str, signed: tuple[str, dict[str, str]]) -> Any:
    body, headers = signed
    return refused(provider, f"/webhooks/forms/{provider}", body, headers=headers)


def test_typeform_demo_request() -> None:
    lead = understood(form("typeform", signing.typeform(typeform_payload())).events)
    assert lead["profile"]["job_title"] == "Head of Growth"
    assert lead["profile"]["company_size"] == 100
    assert lead["fit"] == 20 + 15 + 5
    assert lead["engagement"] == 50  # "Book a demo" is a demo request
    assert lead["tier"] == "hot"


def test_typeform_signed_with_another_secret_is_refused() -> None:
    assert form_refused("typeform", signing.typeform(typeform_payload(), secret="wrong")).status == 401


def test_a_submission_without_an_email_is_acknowledged_and_attributed_to_nobody() -> None:
    """A 4xx would have Typeform retry it until it disables the webhook: it is kept for the report."""
    payload = typeform_payload()
    payload["form_response"]["answers"] = payload["form_response"]["answers"][1:]
    delivery = form("typeform", signing.typeform(payload))
    assert delivery.events == [] and delivery.missing == "email"
    assert [(event.type, event.identities.as_keys()) for event in delivery.unattributed] == [("demo_request", [])]


def test_tally_pricing_form() -> None:
    payload = {
        "eventId": "a4cb511e-d513-4fa5-baee-b815d718dfd1", "eventType": "FORM_RESPONSE",
        "createdAt": "2026-11-22T10:00:00.000Z",
        "data": {
            "responseId": "2wgx4n", "submissionId": "2wgx4n", "respondentId": "dwQKYm", "formId": "VwbNEw",
            "formName": "Get a quote", "createdAt": "2026-11-22T10:00:00.000Z",
            "fields": [
                {"key": "question_3ErWvP", "label": "Email", "type": "INPUT_EMAIL", "value": "max@stark.io"},
                {"key": "question_w4Xb2r", "label": "Company", "type": "INPUT_TEXT", "value": "Stark"},
                {"key": "question_mVZ3E5", "label": "Industry", "type": "DROPDOWN", "value": ["opt-2"],
                 "options": [{"id": "opt-1", "text": "Retail"}, {"id": "opt-2", "text": "Software"}]},
            ],
        },
    }  # fmt: skip
    lead = understood(form("tally", signing.tally(payload)).events, datetime(2026, 11, 22, 10, 5, tzinfo=UTC))
    assert lead["profile"]["industry"] == "Software"
    assert (lead["fit"], lead["engagement"]) == (10, 30)


def test_webflow_form_submission() -> None:
    payload = {
        "triggerType": "form_submission",
        "payload": {
            "name": "Download the RevOps guide", "siteId": "65427cf400e02b306eaa049c",
            "data": {"First Name": "Ada", "Email": "ada@lovelace.dev", "Role": "Marketing Manager"},
            "submittedAt": "2026-11-22T10:00:00.000Z", "id": "6321a7d5ddd9bc2e0a5c1e2a",
            "formId": "65429eadebe8a9f3a30f62d0",
        },
    }  # fmt: skip
    lead = understood(form("webflow", signing.webflow(payload)).events, datetime(2026, 11, 22, 10, 5, tzinfo=UTC))
    assert (lead["fit"], lead["engagement"]) == (10, 15)


def test_webflow_stale_timestamp_is_refused() -> None:
    payload = {"triggerType": "form_submission", "payload": {"name": "x", "data": {"Email": "a@b.io"}}}
    stale = signing.webflow(payload, timestamp_ms=int(time.time() * 1000) - 600_000)
    assert form_refused("webflow", stale).status == 401


def test_generic_standard_webhooks_form() -> None:
    payload = {
        "form": "Contact us",
        "submitted_at": "2026-11-22T10:00:00Z",
        "fields": [
            {"label": "Email", "value": "kim@wayne.co", "type": "email"},
            {"label": "Job title", "value": "CFO"},
        ],
    }
    lead = understood(form("generic", signing.standard_webhook(payload, "msg_1")).events)
    assert lead["fit"] == 15
    assert lead["engagement"] == 0  # a contact form is recorded, not scored by the bundled rules


def test_generic_form_type_overrides_the_name() -> None:
    payload = {"form": "Website form 7", "form_type": "demo_request", "fields": {"Email": "x@y.io"}}
    assert understood(form("generic", signing.standard_webhook(payload, "msg_override")).events)["engagement"] == 50


def test_generic_stale_or_forged_is_refused() -> None:
    payload = {"form": "Contact", "fields": {"Email": "z@y.io"}}
    old = signing.standard_webhook(payload, "msg_old", when=datetime.now(UTC) - timedelta(minutes=10))
    assert form_refused("generic", old).status == 401
    body, headers = signing.standard_webhook(payload, "msg_forged")
    assert form_refused("generic", (body, {**headers, "webhook-id": "msg_other"})).status == 401


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
    assert submission_kind(form_name)[0] == kind


# ------------------------------------------------------------------------------ tests/fixtures
def test_typeform_documented_example() -> None:
    events = form("typeform", signing.typeform(fixture("typeform/docs-example-payload.json"))).events
    assert len(events) == 2  # the submission ("Webhooks example": a contact form), the profile
    assert understood(events)["profile"]["first_name"] == "Laura"


def test_tally_captured_response_without_an_email_is_attributed_to_nobody() -> None:
    """A survey with no email (or other identity) field cannot be attributed to a lead."""
    delivery = form("tally", signing.tally(fixture("tally/form-response-capture.json")))
    assert delivery.events == [] and len(delivery.unattributed) == 1 and delivery.missing == "email"


@pytest.mark.parametrize("name", ["webflow/v1-form-submission.json", "webflow/v2-form-submission.json"])
def test_webflow_v1_and_v2(name: str) -> None:
    events = form("webflow", signing.webflow(fixture(name))).events
    email = json.loads(fixture(name)).get("payload", json.loads(fixture(name)))["data"]["email"]
    assert len(events) == 2 and understood(events)["identities"] == [f"email:{email}"]
    assert understood(events)["tier"] == "cold"
    assert [event.event_id for event in events if event.type == "profile_updated"] == [
        "6321ca84df3949bfc6752327:profile"
    ]


def test_webflow_v2_names() -> None:
    profile = understood(form("webflow", signing.webflow(fixture("webflow/v2-form-submission.json"))).events)["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Zaphod", "Beeblebrox")


def test_standard_webhooks_spec_envelope_is_read_and_scored_once_it_names_someone() -> None:
    spec = fixture("generic/standard-webhooks-spec-envelope.json")
    nobody = form("generic", signing.standard_webhook(spec, "msg_spec_1"))
    assert nobody.events == [] and len(nobody.unattributed) == 1 and nobody.missing == "email"
    with_email = json.loads(spec)
    with_email["data"]["email"] = "john.smith@acme.example"
    profile = understood(form("generic", signing.standard_webhook(with_email, "msg_spec_2")).events)["profile"]
    assert (profile["first_name"], profile["last_name"], profile["job_title"]) == ("John", "Smith", "Engineer, ACME")
