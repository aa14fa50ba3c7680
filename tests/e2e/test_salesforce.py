"""Salesforce outbound messages: token + OrganizationId, SOAP Ack, faults, dedup on Notification Id."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import boto3
import pytest

from tests.conftest import SECRETS, TABLE, admin_get, json_body

PATH = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def notification(notification_id: str, record_id: str, object_type: str = "Lead", **fields: str) -> str:
    cells = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in {"Id": record_id, **fields}.items())
    return (
        f"<Notification><Id>{notification_id}</Id>"
        f'<sObject xsi:type="sf:{object_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{cells}</sObject>'
        "</Notification>"
    )


def envelope(*notifications: str, org: str | None = None) -> str:
    org_id = org or SECRETS["SALESFORCE_ORG_ID"]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body>"
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId>"
        "<ActionId>04k5g000000XXXXAAA</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/60.0/00D5g000004abcd</EnterpriseUrl>"
        "<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/60.0/00D5g000004abcd</PartnerUrl>"
        f"{''.join(notifications)}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    )


def is_ack(body: str) -> bool:
    root = ET.fromstring(body)
    ack = root.find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body/"
        "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
        "{http://soap.sforce.com/2005/09/outbound}Ack"
    )
    return ack is not None and ack.text == "true"


def item_count() -> int:
    return boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]


def test_lead_and_contact_notifications_are_acked_and_scored(client) -> None:
    body = envelope(
        notification("04l1", "00Q5g00000A1", Email="ann@umbrella.com", Title="Director of IT", NumberOfEmployees="450",
                     Industry="Software", Country="United States", LeadSource="Organic Search"),
        notification("04l2", "0035g00000B2", "Contact", Email="bob@umbrella.com", Title="Engineer"),
    )  # fmt: skip
    response = client.http.post(PATH, body=body, headers=XML_HEADERS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert is_ack(response.body.decode() if isinstance(response.body, bytes) else response.body)
    ann = json_body(admin_get(client, "/leads/salesforce:00Q5g00000A1"))
    assert (ann["fit"], ann["grade"]) == (55, "A")
    assert json_body(admin_get(client, "/leads/email:bob@umbrella.com"))["fit"] == 5


def test_a_redelivered_notification_is_stored_once(client) -> None:
    body = envelope(notification("04l9", "00Q5g00000C3", Email="c@acme.com", Title="CEO"))
    client.http.post(PATH, body=body, headers=XML_HEADERS)
    before = item_count()
    again = client.http.post(PATH, body=body, headers=XML_HEADERS)
    assert again.status_code == 200 and is_ack(again.body.decode())
    assert item_count() == before


def test_the_org_id_is_matched_on_its_first_fifteen_characters(client) -> None:
    body = envelope(notification("04m1", "00Q5g00000D4", Title="CTO"), org=SECRETS["SALESFORCE_ORG_ID"][:15])
    assert client.http.post(PATH, body=body, headers=XML_HEADERS).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/salesforce?token=wrong", envelope(notification("1", "00Q1"))),
        ("/webhooks/salesforce", envelope(notification("1", "00Q1"))),
        (PATH, envelope(notification("1", "00Q1"), org="00D000000000001AAA")),
    ],
    ids=["wrong token", "no token", "other org"],
)
def test_wrong_token_or_org_is_401_with_a_soap_fault(client, path: str, body: str) -> None:
    response = client.http.post(path, body=body, headers=XML_HEADERS)
    assert response.status_code == 401
    assert b"<faultcode>soapenv:Client</faultcode>" in response.body
    assert item_count() == 0


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
def test_a_malformed_envelope_is_a_4xx_soap_fault(client, body: str) -> None:
    response = client.http.post(PATH, body=body, headers=XML_HEADERS)
    assert response.status_code == 400
    assert b"soapenv:Fault" in response.body
    assert item_count() == 0


def test_another_objects_message_is_acknowledged_and_ignored(client) -> None:
    """An outbound message on Account or Opportunity: a fault would have Salesforce resend it for 24 hours."""
    body = envelope(notification("1", "0015g00000A1", "Account"), notification("2", "0065g00000B2", "Opportunity"))
    response = client.http.post(PATH, body=body, headers=XML_HEADERS)
    assert response.status_code == 200 and is_ack(response.body.decode())
    assert item_count() == 0


def test_changes_made_by_our_integration_user_are_ignored(client, monkeypatch) -> None:
    from tests.conftest import use_container

    monkeypatch.setenv("SALESFORCE_INTEGRATION_USER_ID", "0055g00000INTEGR")
    use_container()
    body = envelope(notification("04n1", "00Q5g00000E5", Title="CTO", LastModifiedById="0055g00000INTEGRAAA"))
    response = client.http.post(PATH, body=body, headers=XML_HEADERS)
    assert response.status_code == 200 and is_ack(response.body.decode())
    assert item_count() == 0


def test_a_converted_or_unqualified_lead_updates_its_outcome(client) -> None:
    body = envelope(notification("04o1", "00Q5g00000F6", Title="VP Sales", Status="Unqualified"))
    client.http.post(PATH, body=body, headers=XML_HEADERS)
    lead = json_body(admin_get(client, "/leads/salesforce:00Q5g00000F6"))
    assert lead["profile"]["lead_status"] == "Unqualified"
    assert lead["tier"] == "disqualified"
