"""Salesforce's outbound message parser on its own: the token and OrganizationId, the envelopes it
refuses, the objects and changes it ignores, the captured Lead message in tests/fixtures."""

from __future__ import annotations

import pytest

from tests.conftest import SECRETS
from tests.payloads import envelope, notification
from tests.unit.sources.conftest import fixture, receive, refused, settings, understood

PATH = "/webhooks/salesforce"
TOKEN = {"token": SECRETS["SALESFORCE_WEBHOOK_TOKEN"]}
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def test_lead_and_contact_notifications_are_scored() -> None:
    delivery = receive("salesforce", PATH, envelope(
        notification("04l1", "00Q5g00000A1", Email="ann@umbrella.com", Title="Director of IT", NumberOfEmployees="450",
                     Industry="Software", Country="United States", LeadSource="Organic Search"),
        notification("04l2", "0035g00000B2", "Contact", Email="bob@umbrella.com", Title="Engineer"),
    ), XML, query=TOKEN)  # fmt: skip
    ann = [event for event in delivery.events if "salesforce:00Q5g00000A1" in event.identities.as_keys()]
    bob = [event for event in delivery.events if "email:bob@umbrella.com" in event.identities.as_keys()]
    assert (understood(ann)["fit"], understood(ann)["grade"]) == (55, "A")
    assert understood(bob)["fit"] == 5


def test_the_org_id_is_matched_on_its_first_fifteen_characters() -> None:
    body = envelope(notification("04m1", "00Q5g00000D4", Title="CTO"), org=SECRETS["SALESFORCE_ORG_ID"][:15])
    assert len(receive("salesforce", PATH, body, XML, query=TOKEN).events) == 1


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"token": "wrong"}, envelope(notification("1", "00Q1"))),
        ({}, envelope(notification("1", "00Q1"))),
        (TOKEN, envelope(notification("1", "00Q1"), org="00D000000000001AAA")),
    ],
    ids=["wrong token", "no token", "other org"],
)
def test_a_wrong_token_or_org_is_refused(query: dict[str, str], body: str) -> None:
    assert refused("salesforce", PATH, body, headers=XML, query=query).status == 401


@pytest.mark.parametrize(
    "body",
    [
        "<not-xml",
        "<foo/>",
        envelope(),
        envelope(*[notification(str(n), f"00Q{n}") for n in range(101)]),
        envelope("<Notification><Id>9</Id></Notification>"),
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    ],
    ids=["not xml", "not an envelope", "no notifications", "101 notifications", "no sObject", "dtd"],
)
def test_a_malformed_envelope_is_400(body: str) -> None:
    assert refused("salesforce", PATH, body, headers=XML, query=TOKEN).status == 400


def test_another_objects_message_is_acknowledged_and_ignored() -> None:
    """An outbound message on Account or Opportunity: a fault would have Salesforce resend it for 24 hours."""
    body = envelope(notification("1", "0015g00000A1", "Account"), notification("2", "0065g00000B2", "Opportunity"))
    assert receive("salesforce", PATH, body, XML, query=TOKEN).events == []


def test_changes_made_by_our_integration_user_are_ignored() -> None:
    config = settings(salesforce_integration_user_id="0055g00000INTEGR")
    body = envelope(notification("04n1", "00Q5g00000E5", Title="CTO", LastModifiedById="0055g00000INTEGRAAA"))
    assert receive("salesforce", PATH, body, XML, query=TOKEN, config=config).events == []


def test_a_converted_or_unqualified_lead_updates_its_outcome() -> None:
    body = envelope(notification("04o1", "00Q5g00000F6", Title="VP Sales", Status="Unqualified"))
    lead = understood(receive("salesforce", PATH, body, XML, query=TOKEN).events)
    assert lead["profile"]["lead_status"] == "Unqualified"
    assert lead["tier"] == "disqualified"


def test_the_captured_lead_message() -> None:
    config = settings(salesforce_org_id="00Do0000000e0vQEAQ")
    delivery = receive("salesforce", PATH, fixture("salesforce/lead-outbound-message.xml"), XML, query=TOKEN,
                       config=config)  # fmt: skip
    contact = understood(delivery.events)
    assert contact["identities"] == ["email:kflores@tebca.com", "salesforce:00Q1N00000bS2eOUAS"]
    assert (contact["profile"]["company"], contact["profile"]["lead_status"]) == ("NovoPayment", "Abierto")


def test_a_contact_names_its_account_and_a_lead_its_company() -> None:
    from chalicelib.accounts.public_suffix import registrable_domain
    from chalicelib.domain.accounts import account_of
    from chalicelib.domain.profile import Profile

    delivery = receive("salesforce", PATH, envelope(
        notification("04n1", "00Q5g00000E5", Email="ann@umbrella.com", Company="Umbrella Corp."),
        notification("04n2", "0035g00000F6", "Contact", Email="bob@umbrella.com", AccountId="0015g00000UMB"),
    ), XML, query=TOKEN)  # fmt: skip
    profiles = [Profile.model_validate(event.properties["profile"]) for event in delivery.events
                if event.type == "profile_updated"]  # fmt: skip
    accounts = {profile.email: account_of(profile, set(), registrable_domain) for profile in profiles}
    assert accounts["ann@umbrella.com"].key == "company:umbrella-corp"  # type: ignore[union-attr]
    assert accounts["bob@umbrella.com"].key == "salesforce:0015g00000UMB"  # type: ignore[union-attr]
