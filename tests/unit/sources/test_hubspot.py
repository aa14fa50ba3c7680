"""HubSpot's webhook parser on its own: signatures (v3, the legacy v1 and v2, HubSpot's published
v1 test vector), the documented and captured payloads in tests/fixtures/hubspot, the workflow
"Send a webhook" body, and the 400s that name the bad field."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.service_layer.errors import Unauthorized
from chalicelib.sources.base import IncomingRequest
from chalicelib.sources.hubspot import verify
from tests import signing
from tests.unit.sources.conftest import fixture, of_lead, receive, refused, understood

PATH = "/webhooks/hubspot"


def hubspot_event(event_id: int, kind: str, contact: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": event_id, "subscriptionId": 12345, "portalId": 62515, "appId": 54321,
        "occurredAt": int(time.time() * 1000) - 60_000, "subscriptionType": kind, "attemptNumber": 0,
        "objectId": contact, "changeSource": "CRM", **extra,
    }  # fmt: skip


def change(event_id: int, contact: int, name: str, value: str) -> dict[str, Any]:
    return hubspot_event(event_id, "contact.propertyChange", contact, propertyName=name, propertyValue=value)


def parse(payload: Any, **signed: Any) -> Any:
    body, headers = signing.hubspot_v3(PATH, payload, **signed)
    return receive("hubspot", PATH, body, headers)


def test_official_v1_test_vector_verifies() -> None:
    body = (
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":'
        '"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    request = IncomingRequest(
        method="POST",
        url="https://example.com/webhooks/hubspot",
        headers={"x-hubspot-signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"},
        body=body.encode(),
        query={},
        received_at=datetime.now(UTC),
    )
    verify(request, "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", datetime.now(UTC))
    with pytest.raises(Unauthorized):
        verify(request, "another-secret", datetime.now(UTC))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_legacy_signatures_are_accepted_when_announced(version: str) -> None:
    body, headers = signing.hubspot_legacy(PATH, [change(7, 9, "jobtitle", "CTO")], version)
    assert len(receive("hubspot", PATH, body, headers).events) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace("CTO", "CEO"), headers),
        lambda body, headers: (body, {**headers, "X-HubSpot-Signature-v3": "bm90IGEgc2lnbmF0dXJl"}),
        lambda body, headers: (body, {k: v for k, v in headers.items() if k != "X-HubSpot-Signature-v3"}),
        lambda body, headers: (body, {k: v for k, v in headers.items() if k != "X-HubSpot-Request-Timestamp"}),
    ],
    ids=["body changed", "wrong signature", "no signature", "no timestamp"],
)
def test_a_bad_signature_is_refused(tamper: Any) -> None:
    body, headers = tamper(*signing.hubspot_v3(PATH, [change(8, 10, "jobtitle", "CTO")]))
    assert refused("hubspot", PATH, body, headers=headers).code == "unauthorized"


def test_a_delivery_older_than_five_minutes_or_signed_with_another_secret_is_refused() -> None:
    stale = int(time.time() * 1000) - 301_000
    body, headers = signing.hubspot_v3(PATH, [change(9, 11, "jobtitle", "CTO")], timestamp_ms=stale)
    assert refused("hubspot", PATH, body, headers=headers).status == 401
    body, headers = signing.hubspot_v3(PATH, [change(9, 11, "jobtitle", "CTO")], secret="someone-else")
    assert refused("hubspot", PATH, body, headers=headers).status == 401


def test_property_changes_build_the_profile() -> None:
    delivery = parse([
        hubspot_event(1, "contact.creation", 501),
        change(2, 501, "email", "Jane@Acme.com"),
        change(3, 501, "jobtitle", "VP Marketing"),
        change(4, 501, "numemployees", "100-500"),
        change(5, 501, "industry", "Computer Software"),
    ])  # fmt: skip
    lead = understood(delivery.events)
    assert len(delivery.events) == 5 and lead["profile"]["job_title"] == "VP Marketing"
    assert (lead["fit"], lead["grade"]) == (45, "A")
    assert "email:jane@acme.com" in lead["identities"]


def test_changes_to_our_own_lead_properties_are_ignored() -> None:
    delivery = parse([
        change(30, 700, "lead_score", "88"), change(31, 700, "lead_tier", "hot"),
        change(32, 700, "lead_score_reasons", "Requested a demo +50"),
    ])  # fmt: skip
    assert (len(delivery.events), delivery.ignored) == (0, 3)


@pytest.mark.parametrize("kind", ["contact.privacyDeletion", "contact.deletion"])
def test_deletions_name_the_contact(kind: str) -> None:
    (deletion,) = parse([hubspot_event(52, kind, 900)]).deletions
    assert deletion.identities.as_keys() == ["hubspot:900"]


def test_workflow_send_a_webhook_body() -> None:
    body = {"objectId": 1001, "properties": {"email": "ops@globex.com", "jobtitle": "Head of RevOps",
                                             "numemployees": "250"}}  # fmt: skip
    lead = understood(parse(body).events)
    assert lead["fit"] == 35 and "hubspot:1001" in lead["identities"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("not json", None),
        ([], None),
        ([{"eventId": 1}], "[0].subscriptionType"),
        ([{**change(1, 2, "x", "y"), "occurredAt": "yesterday"}], "[0].occurredAt"),
        ({"properties": "nope"}, "properties"),
        ({"properties": {"email": "a@b.co"}}, "objectId"),
    ],
)
def test_malformed_bodies_are_400_naming_the_problem(payload: Any, field: str | None) -> None:
    body, headers = signing.hubspot_v3(PATH, payload)
    error = refused("hubspot", PATH, body, headers=headers)
    assert (error.status, error.code) == (400, "bad_payload")
    if field:
        assert error.field == field


# ------------------------------------------------------------------- tests/fixtures/hubspot
def fixture_delivery(name: str) -> Any:
    body, headers = signing.hubspot_v3(PATH, fixture(name))
    return receive("hubspot", PATH, body, headers)


def test_docs_example_with_event_type() -> None:
    events = fixture_delivery("hubspot/webhooks-docs-example.json").events
    assert len(events) == 2
    assert understood(of_lead(events, "hubspot:1246965"))["profile"]["lifecycle_stage"] == "subscriber"
    assert understood(of_lead(events, "hubspot:1246978"))["identities"] == ["hubspot:1246978"]  # the creation


def test_generic_format_contact_email_change() -> None:
    events = fixture_delivery("hubspot/generic-object-propertychange.json").events
    assert understood(events)["identities"] == ["email:bhalli@hubspot.com", "hubspot:546500061938"]


def test_generic_format_other_objects_are_acknowledged_and_ignored() -> None:
    delivery = fixture_delivery("hubspot/generic-custom-object.json")
    assert (len(delivery.events), delivery.ignored) == (0, 1)


def test_captured_contact_creation_is_read_from_hubspot_when_it_can_be() -> None:
    delivery = fixture_delivery("hubspot/contact-creation-capture.json")
    assert [event.identities.as_keys() for event in delivery.events] == [["hubspot:65059681032"]]
    assert understood(delivery.events)["tier"] == "cold"


def test_workflow_v1_contact_json() -> None:
    """Epoch milliseconds as a string, the email in identity-profiles, company facts in associated-company."""
    contact = understood(fixture_delivery("hubspot/workflow-v1-contact.json").events)
    assert contact["identities"] == ["email:bh@hubspot.com", "hubspot:51"]
    profile = contact["profile"]
    assert (profile["first_name"], profile["last_name"]) == ("Brian", "Halligan (Sample Contact)")
    assert (profile["company"], profile["company_size"], profile["country"]) == ("HubSpot, Inc.", 5000, "United States")
    assert profile["industry"] == "COMPUTER_SOFTWARE"
    assert profile["hubspot_company_id"] == "4294592507"  # its account: the associated company
    assert "lifecycle_stage" not in profile  # the company's stage is not the contact's


def test_a_contact_read_names_its_company_as_its_account() -> None:
    from chalicelib.accounts.public_suffix import registrable_domain
    from chalicelib.domain.accounts import account_of
    from chalicelib.domain.crm_activity import CrmActivity
    from chalicelib.domain.profile import Profile
    from chalicelib.sources.hubspot import contact_events

    properties = {"email": "ada@initech.com", "company": "Initech", "associatedcompanyid": "9001"}
    read = {"id": "651", "updatedAt": "2026-12-01T10:00:00Z", "properties": properties}
    (profile_event, *_) = contact_events(read, CrmActivity())
    profile = Profile.model_validate(profile_event.properties["profile"])
    found = account_of(profile, set(), registrable_domain)
    assert found is not None and (found.key, found.name) == ("hubspot:9001", "Initech")
