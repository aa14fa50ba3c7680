"""Salesforce outbound messages: token + OrganizationId, SOAP Ack, faults, dedup on Notification Id."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import boto3

from tests.conftest import SECRETS, TABLE, admin_get, json_body
from tests.payloads import envelope, notification

PATH = f"/webhooks/salesforce?token={SECRETS['SALESFORCE_WEBHOOK_TOKEN']}"
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


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


def test_a_wrong_token_is_401_with_a_soap_fault(client) -> None:
    """Every way verification fails: tests/unit/sources/test_salesforce.py."""
    body = envelope(notification("1", "00Q1"))
    response = client.http.post("/webhooks/salesforce?token=wrong", body=body, headers=XML_HEADERS)
    assert response.status_code == 401
    assert b"<faultcode>soapenv:Client</faultcode>" in response.body
    assert item_count() == 0


def test_a_malformed_envelope_is_a_4xx_soap_fault(client) -> None:
    """Each malformed envelope: tests/unit/sources/test_salesforce.py."""
    response = client.http.post(PATH, body="<not-xml", headers=XML_HEADERS)
    assert response.status_code == 400
    assert b"soapenv:Fault" in response.body
    assert item_count() == 0
